/**
 * End to end with the real default model (models/residual-v3): ONNX session checks, the
 * in-process pipeline, and the worker pool (readiness, error revival, load shedding, close).
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createEmbedder, embedInProcess, loadModel, type Embedder, type OverloadedError } from '../src/embedding/index.js';
import { createSession } from '../src/embedding/onnx-session.js';
import { isDfgError } from '../src/errors.js';

// Compiled to dist/test/, so the repository root is two levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODELS = path.join(ROOT, 'models');
const MODEL_ID = 'residual-v3';
const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

/** Seeded noise over gradients: natural-ish content, different for every seed. */
function content(width: number, height: number, seed: number): Buffer {
  let s = seed * 2654435761 >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const buf = Buffer.alloc(width * height * 3);
  const phase = rnd() * 6;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = 128 + 60 * Math.sin(x / 37 + phase) * Math.cos(y / 53 - phase);
      for (let c = 0; c < 3; c++) buf[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, g + c * 15 + (rnd() - 0.5) * 40));
    }
  }
  return buf;
}

const jpeg = (w: number, h: number, seed: number, quality = 90) =>
  sharp(content(w, h, seed), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality }).toBuffer();
const png = (w: number, h: number, seed: number) =>
  sharp(content(w, h, seed), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();

const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const osThreads = () => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edits write deliberately wrong manifests, field by field
function tempModels(t: { teardown(fn: () => void): void }, id: string, edit: (m: Record<string, any>) => void, onnx?: Buffer): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-embed-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, id);
  fs.mkdirSync(dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, MODEL_ID, 'model.json'), 'utf8'));
  manifest.id = id;
  edit(manifest);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(dir, 'model.onnx'), onnx ?? fs.readFileSync(path.join(MODELS, MODEL_ID, 'model.onnx')));
  return root;
}

t.test('onnx session: names are checked against the model', async (t) => {
  const onnxPath = path.join(MODELS, MODEL_ID, 'model.onnx');
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, MODEL_ID, 'model.json'), 'utf8'));
  const ok = await createSession(onnxPath, { intraOpThreads: 1, inputName: manifest.input.name, outputName: manifest.output.name });
  t.equal(ok.inputName, manifest.input.name);
  const size = manifest.crop.size;
  const out = await ok.run(new Float32Array(2 * 3 * size * size), [2, 3, size, size]);
  t.same(out.dims, [2, manifest.output.dim], 'one embedding per crop');
  t.ok(out.data instanceof Float32Array);
  await ok.release();

  await t.rejects(createSession(onnxPath, { intraOpThreads: 1, inputName: 'pixels', outputName: manifest.output.name }),
    { code: 'DFG_ERR_MODEL_LOAD_FAILED', message: /manifest input\.name "pixels" is not a model input/ });
  await t.rejects(createSession(onnxPath, { intraOpThreads: 1, inputName: manifest.input.name, outputName: 'features' }),
    { code: 'DFG_ERR_MODEL_LOAD_FAILED', message: /manifest output\.name "features" is not a model output/ });
  const junk = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-onnx-')), 'model.onnx');
  fs.writeFileSync(junk, 'this is not a protobuf');
  t.teardown(() => fs.rmSync(path.dirname(junk), { recursive: true, force: true }));
  await t.rejects(createSession(junk, { intraOpThreads: 1, inputName: 'image', outputName: 'embedding' }), { code: 'DFG_ERR_MODEL_LOAD_FAILED' });
});

t.test('in-process pipeline', async (t) => {
  const loaded = await loadModel({ modelsDir: MODELS, modelId: MODEL_ID, limits: LIMITS, intraOpThreads: 1 });
  t.teardown(() => loaded.release());
  const { manifest } = loaded;
  const bytes = await jpeg(400, 300, 1);
  const a = await embedInProcess(bytes, loaded);
  t.equal(a.vector.length, manifest.output.dim);
  t.same([a.width, a.height, a.format], [400, 300, 'jpeg']);
  t.ok(a.crops >= 1 && a.crops <= manifest.crop.count, `${a.crops} crops`);
  t.ok(a.decodeMs >= 0 && a.embedMs > 0);
  t.ok(a.vector.every(Number.isFinite), 'finite');
  if (manifest.output.normalise === 'l2') t.ok(Math.abs(norm(a.vector) - 1) < 1e-5, `unit norm (${norm(a.vector)})`);
  const b = await embedInProcess(bytes, loaded);
  t.same(Array.from(b.vector), Array.from(a.vector), 'deterministic');
  await t.rejects(embedInProcess(Buffer.from('<svg/>'), loaded), { code: 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT' });
  const flat = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000000' } }).png().toBuffer();
  await t.rejects(embedInProcess(flat, loaded), { code: 'DFG_ERR_IMAGE_NO_SIGNAL', statusCode: 422 }, 'a perfectly flat image has no residual signal');
  const tiny = await png(Math.max(1, manifest.crop.minSize - 1), 64, 2);
  await t.rejects(embedInProcess(tiny, loaded), { code: 'DFG_ERR_IMAGE_TOO_SMALL' });
});

t.test('worker pool embeds with the real model', async (t) => {
  const before = osThreads();
  const embedder: Embedder = await createEmbedder({ modelsDir: MODELS, modelId: MODEL_ID, threads: 2, maxQueue: 16, limits: LIMITS });
  const dim = embedder.manifest.output.dim;
  t.same(embedder.model, { id: MODEL_ID, version: embedder.manifest.version, dim });
  t.same(embedder.stats(), { threads: 2, queued: 0, running: 0, completed: 0, avgTaskMs: 0 }, 'ready and idle');

  const [img1, img2, img3] = await Promise.all([jpeg(512, 384, 11), jpeg(512, 384, 12), png(300, 500, 13)]);
  const [a, b, c, a2] = await Promise.all([embedder.embed(img1), embedder.embed(img2), embedder.embed(img3), embedder.embed(img1)]);
  t.same(Array.from(a2.vector), Array.from(a.vector), 'same bytes give an identical vector (on either worker)');
  for (const r of [a, b, c]) {
    t.ok(r.vector instanceof Float32Array && r.vector.length === dim, 'vector of the model dimension');
    t.ok(Math.abs(norm(r.vector) - 1) < 1e-5, `L2 norm 1 (${norm(r.vector)})`);
  }
  t.notSame(Array.from(b.vector), Array.from(a.vector), 'different images give different vectors');
  t.notSame(Array.from(c.vector), Array.from(a.vector));
  t.same([c.width, c.height, c.format], [300, 500, 'png']);

  const loaded = await loadModel({ modelsDir: MODELS, modelId: MODEL_ID, limits: LIMITS, intraOpThreads: 1 });
  const inProcess = await embedInProcess(img1, loaded);
  await loaded.release();
  t.same(Array.from(inProcess.vector), Array.from(a.vector), 'pool and in-process pipeline agree bit for bit');

  // Catalogue errors cross the thread boundary with their code and status.
  const errs = await Promise.all([new Uint8Array(0), Buffer.from('%PDF-1.7\n'), img1.subarray(0, img1.length >> 1)]
    .map((bytes) => embedder.embed(bytes).then(() => null, (e: unknown) => e)));
  t.same(errs.map((e) => (e as { code?: string }).code), ['DFG_ERR_IMAGE_EMPTY', 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', 'DFG_ERR_IMAGE_CORRUPT']);
  t.ok(errs.every((e) => isDfgError(e)), 'revived as catalogue errors');
  t.same(errs.map((e) => (e as { statusCode?: number }).statusCode), [400, 415, 422]);
  const big = await createEmbedder({ modelsDir: MODELS, modelId: MODEL_ID, threads: 1, maxQueue: 4, limits: { maxBytes: 1000, maxPixels: 100 } });
  await t.rejects(big.embed(img1), { code: 'DFG_ERR_IMAGE_TOO_LARGE' }, 'limits reach the workers');
  await big.close();

  t.equal(embedder.stats().completed, 7);
  const whileOpen = osThreads();
  await embedder.close();
  // OS threads are joined asynchronously after the workers exit.
  for (let i = 0; i < 40 && osThreads() > whileOpen - 2; i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(osThreads() <= whileOpen - 2, `close() ends the worker threads (${before} before, ${whileOpen} open, ${osThreads()} after)`);
  await t.rejects(embedder.embed(img1), { code: 'DFG_ERR_SERVER_NOT_READY' }, 'no work after close');
  await embedder.close();
  t.pass('close is idempotent');
});

t.test('load shedding: a full queue rejects at once with Retry-After', async (t) => {
  const embedder = await createEmbedder({ modelsDir: MODELS, modelId: MODEL_ID, threads: 1, maxQueue: 1, limits: LIMITS });
  t.teardown(() => embedder.close());
  const bytes = await jpeg(1024, 1024, 21);
  await embedder.embed(bytes); // a task time for the Retry-After estimate

  const calls = Array.from({ length: 8 }, () => embedder.embed(bytes));
  t.match(embedder.stats(), { threads: 1, queued: 1, running: 1, completed: 1 }, 'one running, one queued');
  const settled = await Promise.allSettled(calls);
  const ok = settled.filter((s) => s.status === 'fulfilled');
  const shed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  t.equal(ok.length, 2, 'the running and the queued image complete');
  t.equal(shed.length, 6, 'the rest is shed');
  for (const s of shed) {
    const err = s.reason as OverloadedError;
    t.equal(err.code, 'DFG_ERR_SERVER_OVERLOADED');
    t.equal(err.statusCode, 503);
    t.ok(Number.isInteger(err.retryAfter) && err.retryAfter >= 1 && err.retryAfter <= 120, `retryAfter ${err.retryAfter}`);
  }
  const again = await embedder.embed(bytes);
  t.equal(again.vector.length, embedder.model.dim, 'accepts work again once drained');
});

t.test('start-up failures are reported and leave no workers', async (t) => {
  const before = osThreads();
  await t.rejects(createEmbedder({ modelsDir: MODELS, modelId: 'no-such-model', threads: 1, maxQueue: 1, limits: LIMITS }),
    { code: 'DFG_ERR_MODEL_NOT_FOUND' });
  const wrongInput = tempModels(t, 'wrong-input', (m) => { m.input.name = 'pixels'; });
  await t.rejects(createEmbedder({ modelsDir: wrongInput, modelId: 'wrong-input', threads: 2, maxQueue: 1, limits: LIMITS }),
    { code: 'DFG_ERR_MODEL_LOAD_FAILED', message: /pixels/ });
  const wrongDim = tempModels(t, 'wrong-dim', (m) => { m.output.dim += 1; });
  await t.rejects(createEmbedder({ modelsDir: wrongDim, modelId: 'wrong-dim', threads: 1, maxQueue: 1, limits: LIMITS }),
    { code: 'DFG_ERR_MODEL_LOAD_FAILED', message: /output\.dim/ });
  const junk = tempModels(t, 'junk', () => undefined, Buffer.from('not onnx at all'));
  await t.rejects(createEmbedder({ modelsDir: junk, modelId: 'junk', threads: 1, maxQueue: 1, limits: LIMITS }),
    { code: 'DFG_ERR_MODEL_LOAD_FAILED' });
  const invalid = tempModels(t, 'invalid', (m) => { m.input.mean = [1, 2]; });
  await t.rejects(createEmbedder({ modelsDir: invalid, modelId: 'invalid', threads: 1, maxQueue: 1, limits: LIMITS }),
    { code: 'DFG_ERR_MODEL_MANIFEST_INVALID' });
  for (let i = 0; i < 40 && osThreads() > before + 1; i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(osThreads() <= before + 1, `no worker threads left behind (${before} before, ${osThreads()} after)`);
});
