/**
 * Processes sharing a gallery (API replicas, `dfg worker`s) follow each other's model switches.
 * A service without DFG_MODEL serves the list another process switched to; an enrolment that
 * raced a switch is refused at its commit and retried on the new models; a switch this process
 * cannot load refuses its enrolments (503 DFG_ERR_MODEL_SWITCHED, nothing stored) while
 * attribution goes on; a service pinned by DFG_MODEL neither follows nor is fenced. A `dfg worker`
 * follows too, so an enrolment job run after a switch stores the new models' vectors.
 */
import t from 'tap';
import path from 'node:path';
import Database from 'better-sqlite3';
import { files, multipart } from './helpers/multipart.js';
import { tempDir } from './helpers/app.js';
import { jobHarness, zip } from './helpers/jobs.js';
import { generatorImage } from './helpers/images.js';
import { reembed, servedGallery, serviceBeside, switchModelsDir } from './helpers/model-switch.js';
import { readLastSwitch, writeSwitchRecord } from '../src/gallery/gallery.js';

type Peer = Awaited<ReturnType<typeof serviceBeside>>;

/** Enrols one image under `algorithmId` through `p`'s API. */
async function enrolOne(p: Peer, algorithmId: string, image: Buffer) {
  return p.app.inject({ method: 'POST', url: `/v1/algorithms/${algorithmId}/samples`, ...files(['new.png', image]) });
}

/** Resolves once `cond()` holds, or fails the test after `ms`. */
async function soon(t: { fail(message: string): void }, cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.fail(`not within ${ms} ms: ${what}`);
}

/** The model ids holding a vector of each sample of `algorithmId`, by sha256 (read from the store through another connection). */
function vectorModels(dir: string, algorithmId: string): Map<string, string[]> {
  const db = new Database(path.join(dir, 'gallery.sqlite'), { fileMustExist: true });
  try {
    const rows = db.prepare('SELECT s.sha256 AS sha, v.model_id AS model FROM samples s LEFT JOIN vectors v ON v.sample_id = s.id WHERE s.algorithm_id = ? ORDER BY s.seq, v.model_id')
      .all(algorithmId) as Array<{ sha: string; model: string | null }>;
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.sha, [...(out.get(r.sha) ?? []), ...(r.model ? [r.model] : [])]);
    return out;
  } finally {
    db.close();
  }
}

t.test('a service without DFG_MODEL follows the switch another process records; a pinned one does not', async (t) => {
  const s = await servedGallery(t);
  const dir = s.config.DFG_GALLERY_DIR;
  t.equal((await s.put({ model: 'residual-v1' })).statusCode, 200, 'recorded, so unpinned services serve it');
  const a = await serviceBeside(t, s, { DFG_MODEL: '' }, { refreshMs: 50 });
  const b = await serviceBeside(t, s, { DFG_MODEL: '' }, { refreshMs: 50 });
  t.equal(await b.served(), 'residual-v1');

  await reembed(s.config, 'tiny-clip');
  t.equal((await a.put({ model: 'tiny-clip' })).statusCode, 200);
  await soon(t, async () => (await b.served()) === 'tiny-clip', 'b serves tiny-clip');
  t.match((await b.gallery()).model, { list: 'tiny-clip', source: 'switch', configured: null, lastSwitch: (await readLastSwitch(dir)) });
  await soon(t, () => b.logs.lines.some((l) => l.msg === 'model switch recorded by another process: followed'), 'the follow logged');
  t.match(b.logs.lines.find((l) => l.msg === 'model switch recorded by another process: followed'), { from: 'residual-v1', to: 'tiny-clip', switched: true, needsReembedding: 0 });
  t.equal((await b.attribute()).model.id, 'tiny-clip');

  // What b enrols now carries the vectors a serves.
  const image = await generatorImage('nearest2', 77);
  t.equal((await enrolOne(b, s.x.id, image)).statusCode, 201);
  const models = vectorModels(dir, s.x.id);
  t.equal(models.size, 4);
  t.ok([...models.values()].every((m) => m.includes('tiny-clip')), 'every sample of X has a tiny-clip vector');

  // The pinned service (DFG_MODEL=residual-v1) stays on its list and enrols unfenced.
  await new Promise((r) => setTimeout(r, 200));
  t.equal(await s.served(), 'residual-v1');
  t.equal((await s.enrol(s.y.id, [await generatorImage('bilinear4', 78)])).created, 1);
  t.equal((await a.gallery()).model.list, 'tiny-clip');
});

t.test('an enrolment that raced a switch is retried on the new models', async (t) => {
  const s = await servedGallery(t);
  const dir = s.config.DFG_GALLERY_DIR;
  t.equal((await s.put({ model: 'residual-v1' })).statusCode, 200);
  // No periodic check: b only learns of the switch when its commit is refused.
  const a = await serviceBeside(t, s, { DFG_MODEL: '' });
  const b = await serviceBeside(t, s, { DFG_MODEL: '' });
  await reembed(s.config, 'tiny-clip');
  t.equal((await a.put({ model: 'tiny-clip' })).statusCode, 200);
  t.equal(await b.served(), 'residual-v1', 'b has not noticed yet');

  const image = await generatorImage('nearest2', 91);
  const res = await enrolOne(b, s.x.id, image);
  t.equal(res.statusCode, 201);
  t.equal(res.json().created, 1);
  t.equal(await b.served(), 'tiny-clip');
  t.ok(b.logs.lines.some((l) => l.msg === 'enrolment raced a model switch: retried on the new models'));
  const models = vectorModels(dir, s.x.id);
  t.ok([...models.values()].every((m) => m.includes('tiny-clip')), 'the new sample has a tiny-clip vector');
  t.equal(models.size, 4);
});

t.test('a switch this process cannot load refuses its enrolments until one it can load', async (t) => {
  const s = await servedGallery(t);
  const dir = s.config.DFG_GALLERY_DIR;
  t.equal((await s.put({ model: 'residual-v1' })).statusCode, 200);
  const b = await serviceBeside(t, s, { DFG_MODEL: '' }, { refreshMs: 50 });
  // Another machine switched to a model this one lacks.
  await writeSwitchRecord(dir, 'not-here', true);
  await soon(t, () => b.logs.lines.some((l) => l.level === 50 && /cannot follow the model switch/.test(l.msg)), 'the failed follow logged as an error');

  const before = (vectorModels(dir, s.x.id)).size;
  const res = await enrolOne(b, s.x.id, await generatorImage('nearest2', 93));
  t.equal(res.statusCode, 503);
  t.equal(res.json().code, 'DFG_ERR_MODEL_SWITCHED');
  t.match(res.json().message, /not-here/);
  t.ok(Number(res.headers['retry-after']) >= 1);
  t.equal((vectorModels(dir, s.x.id)).size, before, 'nothing stored');
  t.equal((await b.attribute()).model.id, 'residual-v1', 'attribution goes on');

  // A record it can serve is followed at once (the failed one waits for its retry delay only).
  await writeSwitchRecord(dir, 'residual-v1', false);
  let status = 0;
  await soon(t, async () => (status = (await enrolOne(b, s.x.id, await generatorImage('nearest2', 93))).statusCode) === 201, 'enrolment accepted again');
  t.equal(status, 201);
  t.equal((await b.gallery()).model.lastSwitch.list, 'residual-v1');
});

t.test('a dfg worker follows a switch made through the API: an enrolment job stores the new models\' vectors', async (t) => {
  const dir = tempDir();
  await writeSwitchRecord(dir, 'residual-v1', false);
  const h = await jobHarness(t, { name: 'follow', env: { DFG_MODELS_DIR: switchModelsDir(), DFG_GALLERY_DIR: dir, DFG_MODEL: '', DFG_THRESHOLD: '0' } });
  const x = (await h.app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'X', forgeryType: 'EFS', architecture: 'GAN' } })).json() as { id: string };
  const first = await Promise.all([1, 2].map((n) => generatorImage('nearest2', n)));
  t.equal((await h.app.inject({ method: 'POST', url: `/v1/algorithms/${x.id}/samples`, ...files(...first.map((b, i) => [`a${i}.png`, b] as [string, Buffer])) })).statusCode, 201);
  await reembed(h.config, 'tiny-clip');
  t.equal((await h.app.inject({ method: 'PUT', url: '/v1/model', payload: { model: 'tiny-clip' } })).statusCode, 200);

  const imgs = await Promise.all([3, 4, 5, 6, 7].map((n) => generatorImage('nearest2', n)));
  const form = multipart([{ name: 'algorithmId', data: x.id }, { name: 'archive', filename: 'b.zip', contentType: 'application/zip', data: zip(imgs.map((data, i) => ({ name: `b/${i}.png`, data }))) }]);
  const res = await h.app.inject({ method: 'POST', url: '/v1/jobs/enrolments', ...form });
  t.equal(res.statusCode, 202, res.body);
  const job = await h.finished(res.json().jobId);
  t.match(job, { state: 'completed', counts: { created: 5 } });
  const models = vectorModels(dir, x.id);
  t.equal(models.size, 7);
  t.ok([...models.values()].every((m) => m.includes('tiny-clip')), 'every sample has a tiny-clip vector');
});
