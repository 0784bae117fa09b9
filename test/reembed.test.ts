/**
 * Re-embedding a gallery for a new model while the service keeps serving with the old one, then
 * switching by restarting with the new DFG_MODEL: the kept image bytes are embedded again, the
 * vectors join the same samples (evidence ids unchanged), samples without kept bytes are
 * reported, and the prepared index and calibration load at once.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildTestApp, ROOT, tempDir } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const run = promisify(execFile);
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

t.test('dfg gallery reembed --switch: new vectors beside the old, served after a restart', async (t) => {
  const models = tempDir('dfg-models-');
  fs.cpSync(path.join(ROOT, 'models', 'residual-v1'), path.join(models, 'residual-v1'), { recursive: true });
  writeTinyModel(models, 'tiny-clip');
  const gallery = tempDir();
  const env = { DFG_MODELS_DIR: models, DFG_GALLERY_DIR: gallery, DFG_THRESHOLD: '0', DFG_MODEL: 'residual-v1' };

  const old = await buildTestApp(t, { env });
  const register = async (name: string) => (await old.app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name, forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const x = await register('X');
  const y = await register('Y');
  const xs = await Promise.all([1, 2, 3].map((s) => generatorImage('nearest2', s)));
  const ys = await Promise.all([11, 12].map((s) => generatorImage('bilinear4', s)));
  const ex = (await old.app.inject({ method: 'POST', url: `/v1/algorithms/${x.id}/samples`, ...files(...xs.map((b, i) => [`x${i}.png`, b] as [string, Buffer])) })).json();
  const ey = (await old.app.inject({ method: 'POST', url: `/v1/algorithms/${y.id}/samples`, ...files(...ys.map((b, i) => [`y${i}.png`, b] as [string, Buffer])) })).json();
  // One sample whose bytes are not kept (as if enrolled with DFG_KEEP_IMAGES=false).
  const lost = crypto.createHash('sha256').update(ys[1]!).digest('hex');
  fs.rmSync(path.join(gallery, 'blobs', lost.slice(0, 2), lost));

  const probe = await generatorImage('nearest2', 50);
  const before = (await old.app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();

  const cli = await run(process.execPath, [CLI, 'gallery', 'reembed', '--model', 'tiny-clip', '--switch', 'residual-v1,tiny-clip:0.5', '--json'], {
    env: { ...process.env, ...env, DFG_THREADS: '1', LOG_LEVEL: 'silent' },
  }).catch((err: { code: number; stdout: string; stderr: string }) => err);
  const out = JSON.parse(cli.stdout);
  t.equal((cli as { code?: number }).code, 2, 'exit code 2: a sample could not be re-embedded');
  t.match(out, { modelId: 'tiny-clip', total: 5, done: 5, stored: 4, notKept: 1, failed: 0, notKeptSamples: [ey.results[1].sampleId] });
  t.match(out.switch, { model: 'residual-v1,tiny-clip:0.5', indexId: 'residual-v1:1+tiny-clip:0.5', indexed: 4, needsReembedding: 1 });

  // The running service still serves residual-v1 alone, with the same answer, and now reports the new vectors' model nowhere.
  await old.services.need().gallery.refresh();
  const during = (await old.app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();
  t.equal(during.model.id, 'residual-v1');
  t.same(during.candidates, before.candidates, 'unchanged answers while re-embedding');
  t.match((await old.app.inject({ method: 'GET', url: '/v1/gallery' })).json().counts, { samples: 5, needsReembedding: 0 });
  await old.app.close();
  await old.services.close();

  // Running it again does nothing new (idempotent) and still reports the sample without bytes.
  const again = await run(process.execPath, [CLI, 'gallery', 'reembed', '--model', 'tiny-clip', '--json'], {
    env: { ...process.env, ...env, DFG_THREADS: '1', LOG_LEVEL: 'silent' },
  }).catch((err: { code: number; stdout: string }) => err);
  t.match(JSON.parse(again.stdout), { total: 1, stored: 0, notKept: 1 });

  // Switch: restart with the new model list; the prepared snapshot and calibration are used.
  const next = await buildTestApp(t, { env: { ...env, DFG_MODEL: 'residual-v1,tiny-clip:0.5' } });
  const info = (await next.app.inject({ method: 'GET', url: '/v1/gallery' })).json();
  t.match(info, { model: { id: 'residual-v1:1+tiny-clip:0.5' }, counts: { samples: 4, stored: 5, needsReembedding: 1 }, index: { builtFrom: 'snapshot' } });
  t.not(info.calibration, null, 'calibrated for the new index id');
  const after = (await next.app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', xs[0]!]) })).json();
  t.equal(after.algorithm.id, x.id);
  t.ok(after.candidates[0].evidence.includes(ex.results[0].sampleId), 'the same sample ids are the evidence, without re-enrolling');

  const bad = await run(process.execPath, [CLI, 'gallery', 'reembed', '--model', 'no-such-model'], { env: { ...process.env, ...env, DFG_THREADS: '1' } }).catch((err: { code: number; stderr: string }) => err);
  t.equal((bad as { code?: number }).code, 1);
  t.match((bad as { stderr: string }).stderr, /DFG_ERR_MODEL_NOT_FOUND/);
});
