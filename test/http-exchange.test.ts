/**
 * GET /v1/exports and POST /v1/imports: a bundle signed with the server's key, imported by a
 * server of another model (embedded from the bundle's images); refusals are coded and write nothing.
 */
import t from 'tap';
import fs from 'node:fs';
import { signingFiles } from './helpers/signing.js';
import { buildTestApp, tempDir } from './helpers/app.js';
import { generatorImage } from './helpers/images.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { enrolImages } from '../src/use-cases/enrol.js';
import { Redis } from 'ioredis';
import { createJobStore } from '../src/jobs/store.js';
import { newJobId } from '../src/jobs/queue.js';
import { REDIS_URL } from './helpers/jobs.js';

t.test('export from one server, import into another', async (t) => {
  const dir = tempDir('dfg-http-exchange-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { keyFile, trusted } = signingFiles(dir, 'org-a');
  const admin = generateKey('ops', ['admin']);
  const reg = generateKey('reg', ['register']);
  const keys = [admin.entry, reg.entry];
  const as = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });

  const a = await buildTestApp(t, { keys, env: { DFG_MODEL: 'residual-v2', DFG_SIGNING_KEY_FILE: keyFile } });
  const ids = await a.services.use(async (parts) => {
    const x = await parts.gallery.createAlgorithm({ name: 'Nearest', forgeryType: 'EFS', architecture: 'GAN' });
    const y = await parts.gallery.createAlgorithm({ name: 'Bilinear' });
    await enrolImages(parts, x.id, await Promise.all([1, 2].map(async (s) => ({ filename: `x${s}.png`, bytes: await generatorImage('nearest2', s) }))));
    await enrolImages(parts, y.id, await Promise.all([1, 2].map(async (s) => ({ filename: `y${s}.png`, bytes: await generatorImage('bilinear4', s + 10) }))));
    return [x.id, y.id];
  });

  const url = `/v1/exports?algorithms=${ids.join(',')}&images=true`;
  t.equal((await a.app.inject({ method: 'GET', url, headers: as(reg) })).json().code, 'DFG_ERR_AUTH_FORBIDDEN', 'admin scope');
  const exported = await a.app.inject({ method: 'GET', url, headers: as(admin) });
  t.equal(exported.statusCode, 200, exported.body.slice(0, 200));
  t.equal(exported.headers['content-type'], 'application/octet-stream');
  t.match(exported.headers['content-disposition'], /^attachment; filename="org-a-\d{4}-\d{2}-\d{2}\.dfgb"$/);
  const bundle = exported.rawPayload;
  t.match((await a.app.inject({ method: 'GET', url: '/v1/exports?algorithms=nope', headers: as(admin) })).json(), { statusCode: 404, code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });

  const b = await buildTestApp(t, { keys, env: { DFG_MODEL: 'residual-v3', DFG_TRUSTED_PUBLISHERS: trusted, DFG_MAX_BUNDLE_BYTES: String(bundle.length + 10) } });
  const post = (payload: Buffer, type = 'application/octet-stream', query = '') =>
    b.app.inject({ method: 'POST', url: `/v1/imports${query}`, headers: { ...as(admin), 'content-type': type }, payload });
  const count = async () => (await b.app.inject({ method: 'GET', url: '/v1/algorithms', headers: as(admin) })).json().total;

  t.match((await b.app.inject({ method: 'GET', url, headers: as(admin) })).json(), { statusCode: 409, code: 'DFG_ERR_BUNDLE_SIGNING_NOT_CONFIGURED' }, 'no signing key, no export');
  const tampered = Buffer.from(bundle);
  tampered[1200] = tampered[1200]! ^ 1;
  t.match((await post(tampered)).json(), { statusCode: 400, code: /^DFG_ERR_BUNDLE_(TAMPERED|MALFORMED)$/ });
  t.match((await post(bundle.subarray(0, 3000))).json(), { statusCode: 400, code: 'DFG_ERR_BUNDLE_TRUNCATED' });
  t.match((await post(Buffer.concat([bundle, Buffer.alloc(1024)]))).json(), { statusCode: 413, code: 'DFG_ERR_BUNDLE_TOO_LARGE' });
  t.match((await post(bundle, 'application/json')).json(), { statusCode: 400 }, 'not JSON');
  t.match((await post(bundle, 'text/plain')).json(), { statusCode: 415, code: 'DFG_ERR_REQUEST_UNSUPPORTED_MEDIA' });
  t.match((await post(bundle, undefined, '?onConflict=replace')).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' });
  t.equal(await count(), 0, 'nothing written by a refused bundle');

  const imported = await post(bundle);
  t.equal(imported.statusCode, 200, imported.body);
  t.match(imported.json(), { publisher: 'org-a', created: 4, models: { 'residual-v3': 'embedded' }, algorithms: [{ name: 'Nearest', action: 'created' }, { name: 'Bilinear', action: 'created' }] });
  const listed = await b.app.inject({ method: 'GET', url: '/v1/algorithms', headers: as(admin) });
  t.equal(listed.json().total, 2, listed.body.slice(0, 500));
  const probe = await generatorImage('nearest2', 30);
  const att = await b.app.inject({ method: 'POST', url: '/v1/attribute', headers: { ...as(admin), 'content-type': 'multipart/form-data; boundary=x' }, payload: Buffer.concat([Buffer.from('--x\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n'), probe, Buffer.from('\r\n--x--\r\n')]) });
  t.equal(att.json().candidates?.[0]?.algorithm?.name, 'Nearest', 'attribution finds the imported algorithm');
  const best = att.json().candidates[0] as { evidence: string[]; provenance?: Record<string, { publisher: string; bundleSha256: string; sourceId: string }> };
  t.ok(best.evidence.length > 0 && best.evidence.every((id) => best.provenance?.[id]?.publisher === 'org-a' && best.provenance[id]!.bundleSha256 === imported.json().bundleSha256),
    'each evidence sample carries its provenance');
  const nearestId = imported.json().algorithms[0].id as string;
  const algBody = (await b.app.inject({ method: 'GET', url: `/v1/algorithms/${nearestId}`, headers: as(admin) })).json();
  t.match(algBody.provenance, { publisher: 'org-a', sourceId: ids[0] }, 'the algorithm read shows where it came from');
  const samplesBody = (await b.app.inject({ method: 'GET', url: `/v1/algorithms/${nearestId}/samples`, headers: as(admin) })).json();
  t.ok(samplesBody.items.length === 2 && samplesBody.items.every((x: { provenance: { publisher: string } | null }) => x.provenance?.publisher === 'org-a'), 'sample reads show it');
  const own = (await a.app.inject({ method: 'GET', url: `/v1/algorithms/${ids[0]}/samples`, headers: as(admin) })).json();
  t.same(own.items.map((x: { provenance: unknown }) => x.provenance), [null, null], 'enrolled samples: null');

  // Import as a job (a bundle larger than DFG_IMPORT_SYNC_MAX_SAMPLES), into a gallery of the exporter's model.
  const spool = tempDir('dfg-http-import-tmp-');
  const oldTmp = process.env.TMPDIR;
  process.env.TMPDIR = spool;
  t.teardown(() => {
    if (oldTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = oldTmp;
    fs.rmSync(spool, { recursive: true, force: true });
  });
  const c = await buildTestApp(t, {
    keys,
    jobs: true,
    env: { DFG_MODEL: 'residual-v2', DFG_TRUSTED_PUBLISHERS: trusted, DFG_MAX_BUNDLE_BYTES: String(bundle.length + 10), DFG_IMPORT_SYNC_MAX_SAMPLES: '3', DFG_JOB_PREFIX: `dfgtest-import-${process.pid}` },
  });
  const spooled = () => fs.readdirSync(spool).filter((n) => n.startsWith('dfg-bundle-'));
  const postC = (payload: Buffer, query = '') => c.app.inject({ method: 'POST', url: `/v1/imports${query}`, headers: { ...as(admin), 'content-type': 'application/octet-stream' }, payload });
  const algorithmsC = async () => (await c.app.inject({ method: 'GET', url: '/v1/algorithms', headers: as(admin) })).json().total as number;
  t.match((await postC(tampered)).json(), { statusCode: 400, code: /^DFG_ERR_BUNDLE_/ }, 'a bad bundle is refused before any job');
  t.same(spooled(), [], 'and its temporary file is gone');
  t.match((await postC(Buffer.concat([bundle, Buffer.alloc(1024)]))).json(), { statusCode: 413, code: 'DFG_ERR_BUNDLE_TOO_LARGE' });
  t.same(spooled(), [], 'so is that of an upload over the limit');
  t.equal(await algorithmsC(), 0, 'nothing written');

  const accepted = await postC(bundle);
  t.equal(accepted.statusCode, 202, accepted.body);
  const job = accepted.json() as { jobId: string; kind: string; total: number; location: string };
  t.match(job, { kind: 'import', total: 4, location: `/v1/jobs/${job.jobId}` });
  t.equal(accepted.headers.location, job.location);
  const follow = async () => {
    for (let i = 0; i < 200; i++) {
      const v = (await c.app.inject({ method: 'GET', url: job.location, headers: as(admin) })).json();
      if (['completed', 'failed', 'cancelled'].includes(v.state)) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the import job did not finish: ${(await c.app.inject({ method: 'GET', url: job.location, headers: as(admin) })).body}`);
  };
  const view = await follow();
  t.match(view, { kind: 'import', state: 'completed', source: { type: 'bundle' }, progress: { total: 4, done: 4, percent: 100 }, counts: { created: 4, duplicate: 0, skipped: 0, reembedded: 0, error: 0 } });
  t.match(view.import, { publisher: 'org-a', created: 4, total: 4, models: { 'residual-v2': 'bundle' }, bundleId: /^bnd_/ }, 'the result as a synchronous import answers it');
  t.same(spooled(), [], 'the job removed the bundle file');
  t.equal(await algorithmsC(), 2);
  const rows = (await c.app.inject({ method: 'GET', url: `${job.location}/results`, headers: as(admin) })).body.trim().split('\n').map((l) => JSON.parse(l));
  t.same(rows.map((r: { name: string; action: string; created: number }) => [r.name, r.action, r.created]), [['Nearest', 'created', 2], ['Bilinear', 'created', 2]], 'results: one row per algorithm');
  t.equal((await c.app.inject({ method: 'GET', url: job.location, headers: as(reg) })).json().code, 'DFG_ERR_AUTH_FORBIDDEN', 'import jobs are for admin keys');

  // The same bundle merged, as a job on request: every sample a duplicate.
  const again = await postC(bundle, '?onConflict=merge&async=true');
  t.equal(again.statusCode, 202);
  job.location = again.json().location;
  t.match(await follow(), { state: 'completed', progress: { done: 4 }, counts: { created: 0, duplicate: 4 } });
  // And in the request on request: 200.
  t.match((await postC(bundle, '?onConflict=skip&async=false')).json(), { skipped: 4, created: 0 });
  t.same(spooled(), []);

  // An import job whose process died (its bundle file went with it) reads as failed once its owner
  // key lapses; that of a live runner is there.
  const prefix = `dfgtest-import-${process.pid}`;
  const redis = new Redis(REDIS_URL);
  t.teardown(() => redis.quit());
  t.equal((await redis.keys(`${prefix}:import-owner:*`)).length, 1, 'the live runner renews its owner key');
  const jobs = createJobStore(redis, { prefix, keepSeconds: 60, keepCount: 100 });
  const orphan = newJobId();
  await jobs.create({ id: orphan, kind: 'import', source: { type: 'bundle', name: 'lost.dfgb' }, total: 4, chunks: 1 });
  await jobs.progress(orphan, { owner: 'imports.gone.1.deadbeef' });
  const lost = (await c.app.inject({ method: 'GET', url: `/v1/jobs/${orphan}`, headers: as(admin) })).json();
  t.match(lost, { state: 'failed', counts: { error: 1 }, errors: { total: 1, items: [{ name: 'lost.dfgb', code: 'DFG_ERR_IMPORT_INTERRUPTED' }] } }, 'a dead owner\'s import job fails instead of waiting forever');
});
