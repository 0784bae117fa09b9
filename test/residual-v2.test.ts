/**
 * residual-v2 (the base of the default residual-v3): a fresh build equals the committed models/residual-v2 files
 * byte for byte, and in onnxruntime the graph does what its definitions say: the first group
 * is residual-v1's vector at unit length, each DCT group is a unit-length profile whose peak
 * sits at the frequency a pattern has, in the channel that carries it, and flat crops give zeros.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Value } from '@sinclair/typebox/value';
import { ManifestSchema, type Manifest } from '../src/embedding/manifest-schema.js';
import { buildModels, MODEL_BUILDERS } from '../src/model-build/models/index.js';
import { DCT_BLOCK, dctBasisTransposed, FEATURE_GROUPS_V2, RESIDUAL_V2_DIM } from '../src/model-build/models/residual-v2.js';
import { RESIDUAL_V1_DIM } from '../src/model-build/models/residual-v1.js';
import { seededRandom } from '../src/math/random.js';

// Compiled to dist/test/, so the repository root is two levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMMITTED = path.join(ROOT, 'models', 'residual-v2');
const V1 = path.join(ROOT, 'models', 'residual-v1');

t.test('a fresh build equals the committed model byte for byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-models-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [built] = await buildModels(dir, ['residual-v2']);
  const onnx = fs.readFileSync(built!.onnxPath);
  t.ok(onnx.equals(fs.readFileSync(path.join(COMMITTED, 'model.onnx'))), 'model.onnx is stale: run `dfg models build residual-v2` and commit models/residual-v2');
  t.equal(fs.readFileSync(built!.manifestPath, 'utf8'), fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8'), 'model.json is stale');
  const a = MODEL_BUILDERS['residual-v2']!();
  const b = MODEL_BUILDERS['residual-v2']!();
  t.same(Buffer.from(a.onnx), Buffer.from(b.onnx), 'two builds give the same bytes');

  const manifest = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8')) as Manifest;
  t.same([...Value.Errors(ManifestSchema, manifest)].map((e) => `${e.path} ${e.message}`), []);
  t.equal(manifest.output.dim, RESIDUAL_V2_DIM);
  t.equal(RESIDUAL_V2_DIM, RESIDUAL_V1_DIM + 6 * (DCT_BLOCK * DCT_BLOCK - 1));
  const last = FEATURE_GROUPS_V2[FEATURE_GROUPS_V2.length - 1]!;
  t.equal(last.offset + last.length, RESIDUAL_V2_DIM, 'the feature layout covers the vector');
  t.equal(manifest.crop.multiple, DCT_BLOCK, 'crops split into whole DCT blocks');
  t.equal(manifest.crop.size % manifest.crop.multiple, 0);
  t.equal(manifest.crop.minSize % manifest.crop.multiple, 0);
  t.equal(manifest.provenance.onnxSha256, createHash('sha256').update(fs.readFileSync(path.join(COMMITTED, 'model.onnx'))).digest('hex'));
});

t.test('the DCT basis is orthonormal', async (t) => {
  const n = DCT_BLOCK;
  const m = dctBasisTransposed(n); // [j, k]
  let worst = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += m[j * n + a]! * m[j * n + b]!;
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  t.ok(worst < 1e-12, `largest deviation from the identity ${worst}`);
});

/** [H][W][3] grey levels → [1, 3, H, W] (the manifest's preprocessing is the identity). */
function tensor(pixels: (x: number, y: number, c: number) => number, width: number, height: number): ort.Tensor {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[c * plane + y * width + x] = pixels(x, y, c);
  }
  return new ort.Tensor('float32', data, [1, 3, height, width]);
}

const group = (name: string) => FEATURE_GROUPS_V2.find((g) => g.name === name)!;
const slice = (v: Float32Array, name: string) => v.subarray(group(name).offset, group(name).offset + group(name).length);
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

t.test('golden behaviour in onnxruntime', async (t) => {
  const session = await ort.InferenceSession.create(path.join(COMMITTED, 'model.onnx'), { intraOpNumThreads: 1 });
  const v1 = await ort.InferenceSession.create(path.join(V1, 'model.onnx'), { intraOpNumThreads: 1 });
  const run = async (s: ort.InferenceSession, input: ort.Tensor) => (await s.run({ image: input }))['embedding']!;
  const S = 128;
  const rnd = seededRandom(5);
  const noise = Float32Array.from({ length: S * S * 3 }, () => 40 * (rnd() - 0.5));
  const noisy = (x: number, y: number, c: number) => noise[(y * S + x) * 3 + c]!;

  await t.test('a flat crop gives zeros, a noisy one seven unit-length groups', async (t) => {
    for (const grey of [0, 128, 255]) {
      const out = await run(session, tensor(() => grey, S, S));
      t.same(out.dims, [1, RESIDUAL_V2_DIM]);
      const worst = (out.data as Float32Array).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      t.ok(worst < 0.05, `grey ${grey}: max |feature| ${worst}`);
      // The DCT groups of a flat crop are exactly zero (residual-v1's are up to float rounding).
      t.ok((out.data as Float32Array).subarray(RESIDUAL_V1_DIM).every((x) => x === 0), `grey ${grey}: DCT groups exactly zero`);
    }
    // Black is exactly zero everywhere, so the runtime refuses it as DFG_ERR_IMAGE_NO_SIGNAL.
    t.ok(((await run(session, tensor(() => 0, S, S))).data as Float32Array).every((x) => x === 0), 'black: exactly zero');
    // A grey (R = G = B) textured crop has no chroma: its Cb and Cr groups are zero, not rounding noise.
    const greyNoise = (await run(session, tensor((x, y) => 128 + noisy(x, y, 0), S, S))).data as Float32Array;
    for (const name of ['dct-Cb', 'dct-Cr', 'small-Cb', 'small-Cr']) t.ok(slice(greyNoise, name).every((x) => Math.abs(x) < 1e-3), `grey noise: ${name} is zero`);
    t.ok(Math.abs(norm(slice(greyNoise, 'dct-Y')) - 1) < 1e-3, 'grey noise: dct-Y has unit length');
    const v = (await run(session, tensor((x, y, c) => 128 + noisy(x, y, c), S, S))).data as Float32Array;
    t.ok(v.every(Number.isFinite));
    for (const g of FEATURE_GROUPS_V2) t.ok(Math.abs(norm(slice(v, g.name)) - 1) < 1e-3, `${g.name} has unit length`);
  });

  await t.test('the first group is residual-v1 at unit length', async (t) => {
    const input = tensor((x, y, c) => 100 + 0.3 * x + noisy(x, y, c), S, S);
    const a = (await run(session, input)).data as Float32Array;
    const b = (await run(v1, input)).data as Float32Array;
    const n = norm(b);
    let worst = 0;
    for (let i = 0; i < RESIDUAL_V1_DIM; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]! / n));
    t.ok(worst < 1e-3, `largest difference ${worst}`);
  });

  await t.test('a periodic pattern peaks at its DCT frequency, in its channel', async (t) => {
    // A grey pattern along x equal to DCT basis function u=5 in every 16-px block: Y only.
    const basis = dctBasisTransposed();
    const u = 5;
    const pattern = (x: number) => 60 * basis[(x % DCT_BLOCK) * DCT_BLOCK + u]!;
    const small = (x: number, y: number, c: number) => 0.1 * noisy(x, y, c);
    const grey = (await run(session, tensor((x, y, c) => 128 + pattern(x) + small(x, y, c), S, S))).data as Float32Array;
    // Order 16v + u with DC dropped: (v = 0, u) is index u - 1.
    t.equal(argmax(slice(grey, 'dct-Y')), u - 1, 'Y peaks at (0, u)');
    t.ok(Math.max(...slice(grey, 'dct-Y')) > 3 * Math.max(...slice(grey, 'dct-Cb')), 'the chroma profiles stay below the luma peak');
    // The same pattern in the blue channel only, along y: Cb (weight 0.5 on B) carries it at (u, 0).
    const blue = (await run(session, tensor((x, y, c) => 128 + (c === 2 ? pattern(y) : 0) + small(x, y, c), S, S))).data as Float32Array;
    t.equal(argmax(slice(blue, 'dct-Cb')), u * DCT_BLOCK - 1, 'Cb peaks at (v = u, 0)');
  });

  await t.test('dynamic H and W: a 64x96 crop', async (t) => {
    const out = await run(session, tensor((x, y, c) => 128 + noise[(y * S + x) * 3 + c]!, 96, 64));
    t.same(out.dims, [1, RESIDUAL_V2_DIM]);
    t.ok((out.data as Float32Array).every(Number.isFinite));
  });
});
