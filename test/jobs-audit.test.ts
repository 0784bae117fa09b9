/**
 * Audit jobs on a real Redis: every image attributed exactly as /v1/attribute answers it, results
 * as NDJSON and CSV, directory and URL sources, hostile archives refused, cancellation.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { files, multipart } from './helpers/multipart.js';
import { generatorImage, type Family } from './helpers/images.js';
import { tempDir } from './helpers/app.js';
import { jobHarness, tarball, waitFor, zip, type JobHarness } from './helpers/jobs.js';
import type { JobView } from '../src/jobs/view.js';

const CORRUPT_PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage instead of chunks')]);

async function enrolled(h: JobHarness) {
  const ids: Record<string, string> = {};
  const specs: Array<[string, Family, string, number[]]> = [
    ['nearest-x2', 'nearest2', 'EFS', [1, 2, 3, 4, 5]],
    ['bilinear-x4', 'bilinear4', 'EFS', [11, 12, 13, 14, 15]],
    ['camera', 'camera', 'authentic', [21, 22, 23, 24, 25]],
  ];
  for (const [name, family, forgeryType, seeds] of specs) {
    const alg = (await h.app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name, forgeryType, architecture: forgeryType === 'authentic' ? 'authentic' : 'GAN' } })).json();
    const imgs = await Promise.all(seeds.map((s) => generatorImage(family, s)));
    await h.app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(...imgs.map((b, i) => [`${name}-${i}.png`, b] as [string, Buffer])) });
    ids[name] = alg.id;
  }
  return ids;
}

t.test('audit job: results equal /v1/attribute, as NDJSON and CSV, with counts per decision and algorithm', async (t) => {
  const h = await jobHarness(t, { name: 'audit', env: { DFG_THRESHOLD: '0.3' } });
  const { app } = h;
  const ids = await enrolled(h);
  const probes: Array<[string, Buffer]> = [
    ['n1.png', await generatorImage('nearest2', 901)],
    ['n2.png', await generatorImage('nearest2', 902)],
    ['b1, with comma.png', await generatorImage('bilinear4', 911)],
    ['=cmd|calc.png', await generatorImage('bilinear4', 912)],
    ['c1.png', await generatorImage('camera', 921)],
    ['broken.png', CORRUPT_PNG],
  ];
  const archive = await tarball(probes.map(([name, data]) => ({ name, data })), true);
  const res = await app.inject({ method: 'POST', url: '/v1/jobs/audits', ...multipart([{ name: 'archive', filename: 'probes.tar.gz', data: archive }]) });
  t.equal(res.statusCode, 202, res.body);
  const job = await h.finished(res.json().jobId);
  t.equal(job.kind, 'audit');
  t.equal(job.state, 'completed');
  t.equal(job.algorithmId, null);
  t.equal(job.progress.done, 6);

  const ndjson = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results` });
  t.equal(ndjson.statusCode, 200);
  t.match(ndjson.headers['content-type'], /application\/x-ndjson/);
  t.equal(ndjson.headers['x-job-state'], 'completed');
  const rows = ndjson.body.trim().split('\n').map((l) => JSON.parse(l));
  t.same(rows.map((r) => r.name), probes.map(([n]) => n), 'one row per image, in archive order');
  t.same(Object.keys(rows[0]), ['name', 'sha256', 'decision', 'algorithm', 'algorithmId', 'score', 'threshold', 'error', 'message']);

  // Each row is what /v1/attribute answers for the same bytes.
  for (const [i, [name, data]] of probes.entries()) {
    const row = rows[i];
    if (name === 'broken.png') {
      t.match(row, { decision: 'error', error: 'DFG_ERR_IMAGE_CORRUPT', algorithm: null, score: null });
      continue;
    }
    const direct = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files([name, data]) })).json();
    t.equal(row.decision, direct.decision, `${name} decision`);
    t.equal(row.algorithmId, direct.algorithm?.id ?? null, `${name} algorithm`);
    t.ok(Math.abs(row.score - direct.score) < 1e-6, `${name} score`);
    t.equal(row.threshold, direct.threshold);
    t.equal(row.sha256, direct.image.sha256);
  }
  t.equal(rows[0].algorithmId, ids['nearest-x2']);
  t.equal(rows[2].algorithmId, ids['bilinear-x4']);

  const decisions: Record<string, number> = { attributed: 0, unknown: 0, authentic: 0, error: 0 };
  for (const r of rows) decisions[r.decision]!++;
  t.same(job.counts, decisions, 'counts per decision');
  const perAlg: Record<string, number> = {};
  for (const r of rows) if (r.algorithmId && r.decision !== 'unknown') perAlg[r.algorithmId] = (perAlg[r.algorithmId] ?? 0) + 1;
  t.same(Object.fromEntries(job.algorithms!.map((a) => [a.id, a.count])), perAlg, 'counts per algorithm');
  t.equal(job.algorithms!.find((a) => a.id === ids['nearest-x2'])?.name, 'nearest-x2');
  t.same(job.errors!.items, [{ name: 'broken.png', code: 'DFG_ERR_IMAGE_CORRUPT', message: job.errors!.items[0]!.message }]);

  const csv = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?format=csv` });
  t.match(csv.headers['content-type'], /text\/csv/);
  t.match(csv.headers['content-disposition'], new RegExp(`${job.id}\\.csv`));
  const lines = csv.body.split('\r\n');
  t.equal(lines[0], 'name,sha256,decision,algorithm,algorithmId,score,threshold,error,message');
  t.equal(lines.length, 8, 'header, six rows, final CRLF');
  t.ok(lines[3]!.startsWith('"b1, with comma.png",'), 'comma quoted');
  t.ok(lines[4]!.startsWith("'=cmd|calc.png,"), 'formula neutralised');
  t.match(lines[1], new RegExp(`^n1\\.png,${rows[0].sha256},${rows[0].decision},nearest-x2,${ids['nearest-x2']},${rows[0].score},`));
  t.match(lines[6], /^broken\.png,[0-9a-f]{64},error,,,,,DFG_ERR_IMAGE_CORRUPT,/);
  t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?format=xml` })).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' });
});

t.test('audit sources: import directory and allowlisted URLs; hostile archives refused; cancel', async (t) => {
  const root = tempDir('dfg-import-');
  fs.mkdirSync(path.join(root, 'batch/deeper'), { recursive: true });
  fs.writeFileSync(path.join(root, 'batch/a.png'), await generatorImage('nearest2', 931));
  fs.writeFileSync(path.join(root, 'batch/deeper/b.png'), await generatorImage('bilinear4', 932));
  fs.writeFileSync(path.join(root, 'batch/readme.txt'), 'not an image');
  const img = await generatorImage('camera', 941);
  const hits: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    hits[req.url!] = (hits[req.url!] ?? 0) + 1;
    if (req.url === '/a.png') return res.end(img);
    if (req.url === '/flaky.png' && hits[req.url] === 1) { res.writeHead(503); return res.end(); }
    if (req.url === '/flaky.png') return res.end(img);
    if (req.url === '/down.png') { res.writeHead(502); return res.end(); }
    if (req.url === '/hop') { res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/a.png` }); return res.end(); }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const h = await jobHarness(t, { name: 'audit-src', env: { DFG_IMPORT_ROOTS: root, DFG_URL_ALLOWLIST: '127.0.0.1', DFG_URL_ALLOW_PRIVATE: 'true', DFG_JOB_ATTEMPTS: '3' } });
  const { app } = h;
  await enrolled(h);
  const json = (payload: object) => app.inject({ method: 'POST', url: '/v1/jobs/audits', payload });
  const rowsOf = async (id: string) => (await app.inject({ method: 'GET', url: `/v1/jobs/${id}/results` })).body.trim().split('\n').map((l) => JSON.parse(l));

  const dirRes = await json({ source: { type: 'directory', path: path.join(root, 'batch') } });
  t.equal(dirRes.statusCode, 202, dirRes.body);
  const dirJob = await h.finished(dirRes.json().jobId);
  t.match(dirJob, { state: 'completed', source: { type: 'directory', name: path.join(root, 'batch') }, progress: { total: 3, done: 3, failed: 1 } });
  t.same((await rowsOf(dirJob.id)).map((r) => [r.name, r.error]), [['a.png', null], ['deeper/b.png', null], ['readme.txt', 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT']]);
  t.match((await json({ source: { type: 'directory', path: tempDir('dfg-elsewhere-') } })).json(), { statusCode: 403, code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' });

  const urlRes = await json({ source: { type: 'urls', urls: [`${base}/a.png`, `${base}/missing.png`, `${base}/hop`] } });
  t.equal(urlRes.statusCode, 202, urlRes.body);
  const urlJob = await h.finished(urlRes.json().jobId);
  t.same((await rowsOf(urlJob.id)).map((r) => [r.name, r.error]), [[`${base}/a.png`, null], [`${base}/missing.png`, 'DFG_ERR_URL_FETCH_FAILED'], [`${base}/hop`, 'DFG_ERR_URL_FORBIDDEN']], 'a redirect to another host is refused per item');
  // A 503 is transient: the chunk is retried (with backoff) and the second download works. A host that
  // keeps failing is recorded on the last attempt.
  const flakyJob = await h.finished((await json({ source: { type: 'urls', urls: [`${base}/flaky.png`, `${base}/down.png`] } })).json().jobId);
  t.same((await rowsOf(flakyJob.id)).map((r) => [r.name, r.error]), [[`${base}/flaky.png`, null], [`${base}/down.png`, 'DFG_ERR_URL_FETCH_FAILED']]);
  t.equal(hits['/down.png'], 3, 'three attempts (DFG_JOB_ATTEMPTS)');
  t.ok(hits['/flaky.png']! >= 2, 'the flaky URL was fetched again');
  const outside = await json({ source: { type: 'urls', urls: [`${base}/a.png`, `http://localhost:${(server.address() as AddressInfo).port}/a.png`] } });
  t.match(outside.json(), { statusCode: 403, code: 'DFG_ERR_URL_FORBIDDEN', message: /DFG_URL_ALLOWLIST/ }, 'one URL outside the allowlist refuses the request');

  const countBefore = (await app.inject({ method: 'GET', url: '/v1/jobs' })).json().total;
  const upload = (data: Buffer, filename = 'x.zip') => app.inject({ method: 'POST', url: '/v1/jobs/audits', ...multipart([{ name: 'archive', filename, data }]) });
  t.match((await upload(Buffer.from('PK\u0003\u0004 truncated garbage'))).json(), { statusCode: 400, code: 'DFG_ERR_ARCHIVE_INVALID', message: /corrupt/ }, 'corrupt archive');
  t.match((await upload(Buffer.from('plain text, no archive'))).json(), { statusCode: 400, code: 'DFG_ERR_ARCHIVE_INVALID' });
  t.match((await upload(zip([{ name: 'fine.png', data: img }, { name: '../../etc/cron.d/evil.png', data: img }]))).json(), { statusCode: 400, code: 'DFG_ERR_ARCHIVE_INVALID', message: /traversal/ }, 'traversal archive');
  t.match((await upload(zip([{ name: 'bomb.png', data: Buffer.alloc(30 * 1024 * 1024) }]))).json(), { statusCode: 400, code: 'DFG_ERR_ARCHIVE_INVALID', message: /ratio/ }, 'zip bomb');
  t.match((await upload(zip([{ name: 'notes.txt', data: Buffer.from('x') }]))).json(), { statusCode: 400, code: 'DFG_ERR_ARCHIVE_INVALID', message: /no image/ });
  t.equal((await app.inject({ method: 'GET', url: '/v1/jobs' })).json().total, countBefore, 'refused archives queue nothing');

  // Cancel: the worker takes exactly one chunk, then the job is cancelled while others wait.
  const bw = h.worker!.worker.worker;
  await bw.pause();
  const many = await Promise.all(Array.from({ length: 12 }, (_, i) => generatorImage('camera', 1000 + i)));
  const cres = await app.inject({ method: 'POST', url: '/v1/jobs/audits', ...multipart([{ name: 'archive', filename: 'many.zip', data: zip(many.map((data, i) => ({ name: `m${i}.png`, data }))) }]) });
  const id = cres.json().jobId as string;
  const oneChunk = new Promise<void>((resolve) => bw.once('active', () => { void bw.pause().then(resolve); }));
  bw.resume();
  await oneChunk;
  const running = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json() as JobView;
  t.match(running, { state: 'active', progress: { done: 4, total: 12 } });
  const cancelled = (await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` })).json() as JobView;
  t.match(cancelled, { state: 'cancelled', progress: { done: 4 } });
  t.ok(cancelled.timings.finishedAt);
  bw.resume();
  await new Promise((r) => setTimeout(r, 800));
  const later = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json() as JobView;
  t.match(later, { state: 'cancelled', progress: { done: 4, chunks: { done: 1, total: 3 } } }, 'no chunk ran after the cancel');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` })).json().state, 'cancelled', 'cancelling again is harmless');
  t.equal((await app.inject({ method: 'GET', url: `/v1/jobs/${id}/results` })).headers['x-job-state'], 'cancelled');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/jobs/${dirJob.id}` })).json().state, 'completed', 'a finished job is returned unchanged');

  // A new job after the cancel still runs: the worker is healthy.
  const after = await h.finished((await json({ source: { type: 'urls', urls: [`${base}/a.png`] } })).json().jobId);
  t.equal(after.state, 'completed');
  await waitFor(async () => true, 'noop', 10);
});
