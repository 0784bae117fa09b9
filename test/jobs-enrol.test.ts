/**
 * Enrolment jobs end to end on a real Redis: archive upload → chunks → in-process worker →
 * gallery store → the API's periodic refresh → attributable through /v1/attribute.
 */
import t from 'tap';
import { dfg } from './helpers/cli.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { files, multipart } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { jobHarness, REDIS_URL, waitFor, zip } from './helpers/jobs.js';
import { tempDir } from './helpers/app.js';
import type { JobView } from '../src/jobs/view.js';

const CORRUPT_PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('this is not a PNG body at all, just text')]);

t.test('enrolment job: archive in, samples out, attributable through the API within about a second', async (t) => {
  const h = await jobHarness(t, { name: 'enrol', env: { DFG_THRESHOLD: '0.3' } });
  const { app } = h;
  const register = async (name: string) => (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name, forgeryType: 'EFS', architecture: 'GAN' } })).json() as { id: string };
  const target = await register('nearest-x2');
  const other = await register('bilinear-x4');
  const otherImgs = await Promise.all([11, 12, 13, 14, 15].map((s) => generatorImage('bilinear4', s)));
  t.equal((await app.inject({ method: 'POST', url: `/v1/algorithms/${other.id}/samples`, ...files(...otherImgs.map((b, i) => [`b${i}.png`, b] as [string, Buffer])) })).statusCode, 201);

  const probe = await generatorImage('nearest2', 900);
  const before = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();
  t.not(before.algorithm?.id, target.id, 'not attributable to the target before the job');

  const imgs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => generatorImage('nearest2', s)));
  const archive = zip([
    ...imgs.map((data, i) => ({ name: `set/img-${i}.png`, data })),
    { name: 'set/corrupt.png', data: CORRUPT_PNG },
    { name: 'set/notes.txt', data: Buffer.from('not an image') },
    { name: 'set/img-0-again.png', data: imgs[0]! },
  ]);
  const form = multipart([{ name: 'algorithmId', data: target.id }, { name: 'archive', filename: 'batch.zip', contentType: 'application/zip', data: archive }]);
  const res = await app.inject({ method: 'POST', url: '/v1/jobs/enrolments', ...form });
  t.equal(res.statusCode, 202, res.body);
  const accepted = res.json();
  t.match(accepted, { jobId: /^job_/, kind: 'enrol', state: 'waiting', total: 13, location: `/v1/jobs/${accepted.jobId}` });
  t.equal(res.headers.location, `/v1/jobs/${accepted.jobId}`);

  const job = await h.finished(accepted.jobId);
  t.equal(job.state, 'completed');
  t.same(job.counts, { created: 10, duplicate: 1, error: 2 });
  t.match(job.progress, { total: 13, done: 13, failed: 2, percent: 100, chunks: { total: 4, done: 4, failed: 0 } });
  t.equal(job.algorithmId, target.id);
  t.match(job.source, { type: 'archive', name: 'batch.zip' });
  t.ok(job.timings.startedAt && job.timings.finishedAt && job.timings.runMs !== null && job.timings.imagesPerSecond! > 0, 'timings');
  const byName = Object.fromEntries(job.errors!.items.map((e) => [e.name, e.code]));
  t.same(byName, { 'set/corrupt.png': 'DFG_ERR_IMAGE_CORRUPT', 'set/notes.txt': 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT' }, 'bad items are recorded per item; the batch still completes');

  const alg = (await app.inject({ method: 'GET', url: `/v1/algorithms/${target.id}` })).json();
  t.equal(alg.sampleCount, 10);
  const trail = (await app.inject({ method: 'GET', url: '/v1/audit?limit=1000' })).json().items as Array<{ action: string; subject: string; detail: { created: number; context?: { job?: string } } }>;
  const byJob = trail.filter((r) => r.action === 'samples.enrol' && r.detail.context?.job === accepted.jobId);
  t.ok(byJob.length > 0 && byJob.every((r) => r.subject === target.id), 'the worker\'s enrolments are audited as the job\'s');
  t.equal(byJob.reduce((n, r) => n + r.detail.created, 0), 10, 'every sample the job created');
  // Job enrolment keeps the image bytes too (DFG_KEEP_IMAGES defaults to true), for re-embedding.
  for (const img of imgs) {
    const sha = crypto.createHash('sha256').update(img).digest('hex');
    t.same(fs.readFileSync(path.join(h.config.DFG_GALLERY_DIR, 'blobs', sha.slice(0, 2), sha)), img);
  }

  // The API never talked to the worker: it sees the samples through its once-a-second refresh.
  const after = await waitFor(async () => {
    const r = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();
    return r.algorithm?.id === target.id ? r : null;
  }, 'the enrolled samples to become attributable', 3000, 100);
  t.equal(after.decision, 'attributed');

  const rows = (await app.inject({ method: 'GET', url: `/v1/jobs/${accepted.jobId}/results` })).body.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(rows.length, 13);
  t.match(rows[0], { name: 'set/img-0.png', outcome: 'created', sampleId: /^smp_/, sha256: /^[0-9a-f]{64}$/, error: null });
  t.match(rows[12], { name: 'set/img-0-again.png', outcome: 'duplicate', sampleId: rows[0].sampleId });

  // Submitting the same archive again enrols nothing twice.
  const again = await app.inject({ method: 'POST', url: '/v1/jobs/enrolments', ...form });
  const rerun = await h.finished(again.json().jobId);
  t.same(rerun.counts, { created: 0, duplicate: 11, error: 2 });
  t.equal((await app.inject({ method: 'GET', url: `/v1/algorithms/${target.id}` })).json().sampleCount, 10);

  // Image payloads leave Redis once their chunk is recorded.
  const redis = new Redis(REDIS_URL);
  t.teardown(() => redis.disconnect());
  t.same(await redis.keys(`${h.prefix}:job:*:payload:*`), [], 'no payload left in Redis');

  const list = (await app.inject({ method: 'GET', url: '/v1/jobs?limit=10' })).json();
  t.same(list.items.map((j: JobView) => j.id), [again.json().jobId, accepted.jobId], 'newest first');

  // The algorithm is deleted while its job waits: every image is recorded with the code, nothing retries.
  const doomed = await register('doomed');
  const bw = h.worker!.worker.worker;
  await bw.pause();
  const queued = await app.inject({ method: 'POST', url: '/v1/jobs/enrolments', ...multipart([{ name: 'algorithmId', data: doomed.id }, { name: 'archive', filename: 'd.zip', data: zip(imgs.slice(0, 6).map((data, i) => ({ name: `d${i}.png`, data }))) }]) });
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${doomed.id}` })).statusCode, 204);
  bw.resume();
  const orphan = await h.finished(queued.json().jobId);
  t.match(orphan, { state: 'completed', counts: { created: 0, duplicate: 0, error: 6 }, progress: { chunks: { total: 2, done: 2, failed: 0 } } });
  t.ok(orphan.errors!.items.every((e) => e.code === 'DFG_ERR_ALGORITHM_NOT_FOUND'), 'recorded per item with the catalogue code');
});

t.test('enrolment job requests: unknown algorithm, missing fields, bad sources', async (t) => {
  const h = await jobHarness(t, { name: 'enrol-bad', worker: false, env: { DFG_IMPORT_ROOTS: '/nonexistent-import-root', DFG_JOB_ARCHIVE_MAX_BYTES: String(1024 * 1024) } });
  const { app } = h;
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'a', forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const archive = zip([{ name: 'a.png', data: await generatorImage('camera', 1) }]);
  const post = (parts: Parameters<typeof multipart>[0]) => app.inject({ method: 'POST', url: '/v1/jobs/enrolments', ...multipart(parts) });

  t.match((await post([{ name: 'algorithmId', data: 'alg_nope' }, { name: 'archive', filename: 'a.zip', data: archive }])).json(), { statusCode: 404, code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  t.match((await post([{ name: 'archive', filename: 'a.zip', data: archive }])).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID', message: /algorithmId/ });
  t.match((await post([{ name: 'algorithmId', data: alg.id }])).json(), { statusCode: 400, code: 'DFG_ERR_UPLOAD_NO_FILE' });
  t.match((await post([{ name: 'algorithmId', data: alg.id }, { name: 'files', filename: 'a.zip', data: archive }])).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID', message: /archive/ });
  const tooBig = zip([{ name: 'big.png', data: crypto.randomBytes(1536 * 1024), store: true }]);
  t.match((await post([{ name: 'algorithmId', data: alg.id }, { name: 'archive', filename: 'big.zip', data: tooBig }])).json(), { statusCode: 413, code: 'DFG_ERR_UPLOAD_FILE_TOO_LARGE' }, 'DFG_JOB_ARCHIVE_MAX_BYTES');
  const json = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/jobs/enrolments', payload: payload as object });
  t.match((await json({ algorithmId: alg.id })).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' });
  t.match((await json({ algorithmId: alg.id, source: { type: 'ftp', path: '/x' } })).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' });
  t.match((await json({ algorithmId: alg.id, source: { type: 'directory', path: '/etc' } })).json(), { statusCode: 403, code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' });
  t.match((await json({ algorithmId: alg.id, source: { type: 'urls', urls: ['https://example.com/a.png'] } })).json(), { statusCode: 403, code: 'DFG_ERR_URL_FORBIDDEN', message: /DFG_URL_ALLOWLIST/ });
  t.match((await app.inject({ method: 'GET', url: '/v1/jobs/job_doesnotexist' })).json(), { statusCode: 404, code: 'DFG_ERR_JOB_NOT_FOUND' });
  t.match((await app.inject({ method: 'GET', url: '/v1/jobs/not-even-an-id' })).json(), { statusCode: 404, code: 'DFG_ERR_JOB_NOT_FOUND' });
  t.same((await app.inject({ method: 'GET', url: '/v1/jobs' })).json().items, [], 'refused requests queue nothing');
});

t.test('dfg jobs enrol / audit: files, folders and archives submitted from the command line, followed to the end', async (t) => {
  const h = await jobHarness(t, { name: 'cli', env: { DFG_THRESHOLD: '0.3' } });
  const { app } = h;
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'cli-alg', forgeryType: 'EFS', architecture: 'GAN' } })).json();

  const dir = tempDir('dfg-cli-');
  fs.mkdirSync(path.join(dir, 'folder/sub'), { recursive: true });
  for (const s of [1, 2, 3]) fs.writeFileSync(path.join(dir, `folder/sub/f${s}.png`), await generatorImage('nearest2', 300 + s));
  fs.writeFileSync(path.join(dir, 'folder/readme.txt'), 'skipped by the folder walk');
  fs.writeFileSync(path.join(dir, 'loose.png'), await generatorImage('nearest2', 310));
  fs.writeFileSync(path.join(dir, 'more.zip'), zip([{ name: 'z1.png', data: await generatorImage('nearest2', 320) }, { name: 'z2.png', data: await generatorImage('nearest2', 321) }]));

  const enrol = await dfg(['jobs', 'enrol', alg.id, path.join(dir, 'folder'), path.join(dir, 'loose.png'), path.join(dir, 'more.zip'), '--url', url]);
  t.equal(enrol.code, 0, enrol.out);
  t.match(enrol.out, /completed: 2 created, 0 duplicate, 0 error/, 'the archive as its own job');
  t.match(enrol.out, /completed: 4 created, 0 duplicate, 0 error/, 'folder and loose file packed into one tar job');
  t.equal((await app.inject({ method: 'GET', url: `/v1/algorithms/${alg.id}` })).json().sampleCount, 6);

  const csv = path.join(dir, 'audit.csv');
  const audit = await dfg(['jobs', 'audit', path.join(dir, 'folder'), '--url', url, '--results', csv]);
  t.equal(audit.code, 0, audit.out);
  t.match(audit.out, /completed: .*3 attributed/);
  const lines = fs.readFileSync(csv, 'utf8').trim().split('\r\n');
  t.equal(lines[0], 'name,sha256,decision,algorithm,algorithmId,score,threshold,error,message');
  t.same(lines.slice(1).map((l) => l.split(',')[0]), ['folder/sub/f1.png', 'folder/sub/f2.png', 'folder/sub/f3.png']);
  t.ok(lines.slice(1).every((l) => l.includes(`,attributed,cli-alg,${alg.id},`)));

  const bad = await dfg(['jobs', 'enrol', 'alg_missing', path.join(dir, 'loose.png'), '--url', url]);
  t.equal(bad.code, 1);
  t.match(bad.out, /DFG_ERR_ALGORITHM_NOT_FOUND/);
  const down = await dfg(['jobs', 'list', '--url', 'http://127.0.0.1:1']);
  t.equal(down.code, 1);
  t.match(down.out, /cannot reach the service at http:\/\/127\.0\.0\.1:1/);
});
