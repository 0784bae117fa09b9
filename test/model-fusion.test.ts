/**
 * Drop-in models and fusion through the service: a model added with a manifest alone (built
 * here with the project's ONNX writer, resized CLIP-style input) is listed in DFG_MODEL with a
 * weight; enrolment stores a vector per model and /v1/attribute scores with the fusion that
 * `dfg eval` uses. Bad model lists and broken model folders fail with coded errors.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { buildTestApp, ROOT, tempDir, testConfig } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { TINY_DIM, tinyOnnx, writeTinyModel } from './helpers/tiny-model.js';
import { embedInProcess, loadModel } from '../src/embedding/index.js';
import { fuseVectors } from '../src/math/fusion.js';
import { loadConfig } from '../src/config/index.js';
import { startServices } from '../src/serving/services.js';

const LIMITS = { maxBytes: 10_000_000, maxPixels: 10_000_000 };

/** A models folder with the shipped residual-v1 and the tiny drop-in model. */
function modelsDir(): string {
  const dir = tempDir('dfg-models-');
  fs.cpSync(path.join(ROOT, 'models', 'residual-v1'), path.join(dir, 'residual-v1'), { recursive: true });
  writeTinyModel(dir, 'tiny-clip');
  return dir;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

t.test('a drop-in model fused with residual-v1: scores equal fuseVectors of the per-model embeddings', async (t) => {
  const models = modelsDir();
  const { app } = await buildTestApp(t, { env: { DFG_MODELS_DIR: models, DFG_MODEL: 'residual-v1, tiny-clip:0.5', DFG_TOP_M: '1', DFG_THRESHOLD: '0' } });

  const info = (await app.inject({ method: 'GET', url: '/v1/gallery' })).json();
  t.match(info.model, {
    id: 'residual-v1:1+tiny-clip:0.5',
    members: [{ id: 'residual-v1', weight: 1, missingSamples: 0 }, { id: 'tiny-clip', weight: 0.5, dimension: TINY_DIM, missingSamples: 0 }],
  });
  t.equal(info.model.dimension, info.model.members[0].dimension + TINY_DIM);

  // One sample per algorithm and top-M 1: each candidate's score is its sample's fused similarity.
  const enrolled = [await generatorImage('nearest2', 31), await generatorImage('bilinear4', 32), await generatorImage('jpeg50', 33)];
  const algs: string[] = [];
  for (const [i, img] of enrolled.entries()) {
    const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: `alg-${i}`, forgeryType: 'EFS', architecture: 'GAN' } })).json();
    const r = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files([`s${i}.png`, img]) });
    t.equal(r.statusCode, 201);
    algs.push(alg.id);
  }
  const listed = (await app.inject({ method: 'GET', url: `/v1/algorithms/${algs[0]}/samples` })).json();
  t.same(listed.items[0].models, ['residual-v1', 'tiny-clip'], 'a vector per listed model');

  const probe = await generatorImage('nearest2', 77);
  const res = await app.inject({ method: 'POST', url: '/v1/attribute?k=3', ...files(['p.png', probe]) });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.same(body.model.members, [{ id: 'residual-v1', version: body.model.members[0].version, weight: 1 }, { id: 'tiny-clip', version: '0.1.0', weight: 0.5 }]);
  t.equal(body.model.id, 'residual-v1:1+tiny-clip:0.5');

  const residual = await loadModel({ modelsDir: models, modelId: 'residual-v1', limits: LIMITS, intraOpThreads: 1 });
  const tiny = await loadModel({ modelsDir: models, modelId: 'tiny-clip', limits: LIMITS, intraOpThreads: 1 });
  t.teardown(async () => {
    await residual.release();
    await tiny.release();
  });
  const fused = async (bytes: Buffer) => fuseVectors([(await embedInProcess(bytes, residual)).vector, (await embedInProcess(bytes, tiny)).vector], [1, 0.5]);
  const q = await fused(probe);
  t.equal(body.candidates.length, 3);
  for (const c of body.candidates) {
    const expected = dot(q, await fused(enrolled[algs.indexOf(c.algorithm.id)]!));
    t.ok(Math.abs(c.score - expected) < 1e-4, `fused score ${c.score} = ${expected}`);
  }
  // The tiny model's share matters: the fused score is not residual-v1's alone.
  const residualOnly = dot((await embedInProcess(probe, residual)).vector, (await embedInProcess(enrolled[algs.indexOf(body.candidates[0].algorithm.id)]!, residual)).vector);
  t.ok(Math.abs(body.candidates[0].score - residualOnly) > 1e-4);

  const batch = (await app.inject({ method: 'POST', url: '/v1/attribute/batch', ...files(['a.png', probe], ['b.png', enrolled[1]!]) })).json();
  t.equal(batch.results[0].result.candidates[0].score, body.candidates[0].score, 'the batch form fuses the same way');
  t.equal(batch.results[1].result.algorithm.id, algs[1]);
});

t.test('a gallery enrolled with one model: samples lacking the new model are reported, then completed by re-enrolment', async (t) => {
  const models = modelsDir();
  const gallery = tempDir();
  const img = await generatorImage('camera', 5);
  {
    const { app, services } = await buildTestApp(t, { env: { DFG_MODELS_DIR: models, DFG_GALLERY_DIR: gallery, DFG_MODEL: 'residual-v1' } });
    const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'A', forgeryType: 'EFS', architecture: 'GAN' } })).json();
    t.equal((await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['a.png', img]) })).statusCode, 201);
    await app.close();
    await services.close();
  }
  const { app } = await buildTestApp(t, { env: { DFG_MODELS_DIR: models, DFG_GALLERY_DIR: gallery, DFG_MODEL: 'residual-v1,tiny-clip' } });
  const info = (await app.inject({ method: 'GET', url: '/v1/gallery' })).json();
  t.match(info.counts, { samples: 0, stored: 1, needsReembedding: 1 });
  t.match(info.model.members, [{ id: 'residual-v1', missingSamples: 0 }, { id: 'tiny-clip', missingSamples: 1 }]);
  t.equal((await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', img]) })).json().decision, 'unknown', 'incomplete samples are not searched');
  const alg = (await app.inject({ method: 'GET', url: '/v1/algorithms' })).json().items[0];
  const again = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['a.png', img]) });
  t.equal(again.statusCode, 200);
  t.equal(again.json().results[0].status, 'duplicate');
  t.match((await app.inject({ method: 'GET', url: '/v1/gallery' })).json().counts, { samples: 1, stored: 1, needsReembedding: 0 });
});

t.test('a fusion takes its models\' default decision margin only when they all state the same one', async (t) => {
  const models = modelsDir();
  writeTinyModel(models, 'tiny-a', { decision: { margin: 0.05 } }, tinyOnnx(2));
  writeTinyModel(models, 'tiny-b', { decision: { margin: 0.05 } }, tinyOnnx(3));
  const same = await buildTestApp(t, { env: { DFG_MODELS_DIR: models, DFG_MODEL: 'tiny-a,tiny-b:2' } });
  t.equal((await same.app.inject({ method: 'GET', url: '/v1/gallery' })).json().decision.margin, 0.05);
  const mixed = await buildTestApp(t, { env: { DFG_MODELS_DIR: models, DFG_MODEL: 'residual-v1,tiny-a' } });
  t.equal((await mixed.app.inject({ method: 'GET', url: '/v1/gallery' })).json().decision.margin, 0.02, 'residual-v1 states none: the global default');
});

t.test('hostile model lists and model folders give coded errors', async (t) => {
  for (const spec of ['residual-v1,residual-v1', 'residual-v1:0', 'residual-v1:-1', 'residual-v1:abc', 'residual-v1:Infinity', '../x', 'a,,b', ' , ']) {
    t.throws(() => loadConfig({ DFG_MODEL: spec }), { code: 'DFG_ERR_CONFIG_INVALID', message: /DFG_MODEL/ }, spec);
  }
  t.match(loadConfig({ DFG_MODEL: 'residual-v1:2,x.y-z:0.25' }).DFG_MODEL, 'residual-v1:2,x.y-z:0.25');

  const models = modelsDir();
  writeTinyModel(models, 'no-onnx', {}, null);
  writeTinyModel(models, 'bad-crop', { resize: { shortestEdge: 16, filter: 'bicubic' } });
  writeTinyModel(models, 'bad-filter', { resize: { shortestEdge: 32, filter: 'lanczos9' } });
  writeTinyModel(models, 'wrong-dim', { output: { name: 'image_embeds', dim: 5, normalise: 'l2' } });
  const cases: Array<[string, string]> = [
    ['residual-v1,missing-model', 'DFG_ERR_MODEL_NOT_FOUND'],
    ['residual-v1,no-onnx:0.5', 'DFG_ERR_MODEL_LOAD_FAILED'],
    ['bad-crop', 'DFG_ERR_MODEL_MANIFEST_INVALID'],
    ['bad-filter', 'DFG_ERR_MODEL_MANIFEST_INVALID'],
    ['residual-v1,wrong-dim', 'DFG_ERR_MODEL_LOAD_FAILED'],
  ];
  for (const [spec, code] of cases) {
    const services = startServices(testConfig({ DFG_MODELS_DIR: models, DFG_MODEL: spec }), pino({ level: 'silent' }), { refreshMs: 0 });
    await t.rejects(services.whenReady, { code }, spec);
    t.throws(() => services.need(), { code: 'DFG_ERR_SERVER_NOT_READY' });
    await services.close();
  }
});
