/**
 * The project-built default model: a fresh build equals the committed models/residual-v1 files
 * byte for byte (so a stale commit fails), and the graph behaves as its definitions say when
 * run in onnxruntime: flat crops give zero features, period-2 and period-8 upsampling light up
 * their own phase statistics, phase features ignore where the crop starts, any H x W works.
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
import { FEATURE_LAYOUT, MAPS, phaseFrequencies, RESIDUAL_V1_DIM } from '../src/model-build/models/residual-v1.js';
import { isDfgError } from '../src/errors.js';

// Compiled to dist/test/, so the repository root is two levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMMITTED = path.join(ROOT, 'models', 'residual-v1');

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * RGB noise in grey levels, nearest-neighbour upsampled by `block` (1 = plain noise) and
 * shifted by `offset` pixels against the block grid. Returned as [height][width][3] values.
 */
function blockNoise(width: number, height: number, block: number, seed: number, offset = 0): Float32Array {
  const rnd = mulberry32(seed);
  const cols = Math.ceil((width + offset) / block);
  const rows = Math.ceil((height + offset) / block);
  const cells = Float32Array.from({ length: cols * rows * 3 }, () => Math.round(30 + 190 * rnd()));
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y + offset) / block) * cols + Math.floor((x + offset) / block);
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = cells[cell * 3 + c]!;
    }
  }
  return out;
}

/** Interleaved grey-level pixels → the model input of the manifest (NCHW, normalised). */
function toInput(m: Manifest, pixels: Float32Array, width: number, height: number): ort.Tensor {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[c * plane + i] = (pixels[i * 3 + c]! * m.input.scale - m.input.mean[c]!) / m.input.std[c]!;
  }
  return new ort.Tensor('float32', data, [1, 3, height, width]);
}

const group = (name: string) => FEATURE_LAYOUT.find((g) => g.name === name)!;
const freqs = phaseFrequencies();
/** Phase feature indices of the Y maps at frequencies whose (u, v) select the given period. */
function phaseIndices(select: (u: number, v: number) => boolean): number[] {
  const out: number[] = [];
  MAPS.forEach(([colour], m) => {
    if (colour !== 'Y') return;
    freqs.forEach(([u, v], f) => {
      if (select(u, v)) out.push(group('phase').offset + m * freqs.length + f);
    });
  });
  return out;
}
/** Frequencies of period 2 (u, v in {0, 4}) and those only period 8 has (u or v odd). */
const PERIOD2 = phaseIndices((u, v) => u % 4 === 0 && v % 4 === 0);
const PERIOD8_ONLY = phaseIndices((u, v) => u % 2 === 1 || v % 2 === 1);
/** The assertions `embed` makes on whichever (sub)test calls it. */
type Asserts = Pick<typeof t, 'ok' | 'same'>;
const mean = (v: Float32Array, idx: number[]) => idx.reduce((s, i) => s + v[i]!, 0) / idx.length;

t.test('a fresh build equals the committed model byte for byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-models-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [built] = await buildModels(dir, ['residual-v1']);
  t.equal(built!.id, 'residual-v1');
  const onnx = fs.readFileSync(built!.onnxPath);
  const committedOnnx = fs.readFileSync(path.join(COMMITTED, 'model.onnx'));
  t.ok(onnx.equals(committedOnnx), 'model.onnx is stale: run `dfg models build` and commit models/residual-v1');
  t.equal(fs.readFileSync(built!.manifestPath, 'utf8'), fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8'), 'model.json is stale');
  t.equal(built!.sha256, createHash('sha256').update(onnx).digest('hex'));
});

t.test('builders are deterministic and the manifest is valid and consistent', async (t) => {
  const a = MODEL_BUILDERS['residual-v1']!();
  const b = MODEL_BUILDERS['residual-v1']!();
  t.same(Buffer.from(a.onnx), Buffer.from(b.onnx), 'two builds give the same bytes');
  const manifest = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8')) as Manifest;
  t.same([...Value.Errors(ManifestSchema, manifest)].map((e) => `${e.path} ${e.message}`), []);
  t.equal(manifest.output.dim, RESIDUAL_V1_DIM);
  const last = FEATURE_LAYOUT[FEATURE_LAYOUT.length - 1]!;
  t.equal(last.offset + last.length, RESIDUAL_V1_DIM, 'the feature layout covers the vector');
  t.equal(manifest.provenance.onnxSha256, createHash('sha256').update(fs.readFileSync(path.join(COMMITTED, 'model.onnx'))).digest('hex'));
  t.equal(manifest.crop.dynamic, true);
  t.equal(manifest.crop.size % manifest.crop.multiple, 0);
});

t.test('unknown model ids are refused before anything is written', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-models-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const err = await buildModels(dir, ['residual-v1', 'no-such-model']).then(() => null, (e: unknown) => e);
  t.ok(isDfgError(err, 'DFG_ERR_MODEL_NOT_FOUND'), `refused with the catalogue code: ${String(err)}`);
  t.same(fs.readdirSync(dir), []);
});

t.test('golden behaviour in onnxruntime', async (t) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8')) as Manifest;
  const session = await ort.InferenceSession.create(path.join(COMMITTED, 'model.onnx'), { intraOpNumThreads: 1 });
  const embed = async (t: Asserts, pixels: Float32Array, width: number, height: number) => {
    const out = await session.run({ [manifest.input.name]: toInput(manifest, pixels, width, height) });
    const tensor = out[manifest.output.name]!;
    t.same(tensor.dims, [1, manifest.output.dim], `output is [1, dim] for ${width}x${height}`);
    const v = tensor.data as Float32Array;
    t.ok(v.every(Number.isFinite), `all features finite for ${width}x${height}`);
    return v;
  };
  const S = manifest.crop.size;

  await t.test('crops of one image batch into [N, dim]', async (t) => {
    const plane = S * S;
    const data = new Float32Array(2 * 3 * plane).fill(100);
    const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', data, [2, 3, S, S]) });
    t.same(out[manifest.output.name]!.dims, [2, manifest.output.dim]);
  });

  await t.test('a flat crop has (near-)zero features', async (t) => {
    // Not exactly zero: the folded colour-and-filter kernels cancel only up to float rounding.
    for (const [grey, w, h] of [[128, S, S], [255, S, S], [0, 96, 64], [77, 96, 64]] as const) {
      const v = await embed(t, new Float32Array(w * h * 3).fill(grey), w, h);
      const worst = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      t.ok(worst < 0.02, `grey ${grey} ${w}x${h}: max |feature| ${worst}`);
    }
  });

  await t.test('periodic upsampling lights up its own phase statistics', async (t) => {
    const noise = await embed(t, blockNoise(S, S, 1, 11), S, S);
    const nn2 = await embed(t, blockNoise(S, S, 2, 12), S, S);
    const nn8 = await embed(t, blockNoise(S, S, 8, 13), S, S);
    t.ok(mean(noise, PERIOD2) < 0.3 && mean(noise, PERIOD8_ONLY) < 0.3, 'plain noise: no periodic energy');
    t.ok(mean(nn2, PERIOD2) > mean(noise, PERIOD2) + 1, `period 2: ${mean(nn2, PERIOD2)} vs noise ${mean(noise, PERIOD2)}`);
    t.ok(mean(nn2, PERIOD8_ONLY) < 0.3, 'period 2 leaves the period-8-only frequencies quiet');
    t.ok(mean(nn8, PERIOD8_ONLY) > mean(noise, PERIOD8_ONLY) + 1, `period 8: ${mean(nn8, PERIOD8_ONLY)} vs noise ${mean(noise, PERIOD8_ONLY)}`);
    const level = group('level').offset;
    t.ok(noise[level]! > 2, 'noise has a high residual level');
  });

  await t.test('phase features do not depend on where the crop starts', async (t) => {
    const a = await embed(t, blockNoise(S, S, 8, 21, 0), S, S);
    const b = await embed(t, blockNoise(S, S, 8, 21, 3), S, S);
    const { offset, length } = group('phase');
    let worst = 0;
    for (let i = offset; i < offset + length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    // Same kind of content, different cells: statistical, not exact, agreement.
    t.ok(worst < 0.5, `largest phase difference ${worst}`);
  });

  await t.test('dynamic H and W: a small 64x96 crop', async (t) => {
    const v = await embed(t, blockNoise(96, 64, 2, 31), 96, 64);
    t.ok(mean(v, PERIOD2) > 0.8, `period 2 still visible on a small crop: ${mean(v, PERIOD2)}`);
  });
});

t.test('residual-lda-v1: committed model equals the builder output and is residual-v1 plus its projection', async (t) => {
  const LDA = path.join(ROOT, 'models', 'residual-lda-v1');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-models-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [built] = await buildModels(dir, ['residual-lda-v1']);
  t.ok(fs.readFileSync(built!.onnxPath).equals(fs.readFileSync(path.join(LDA, 'model.onnx'))), 'model.onnx is stale: run `dfg models build` and commit models/residual-lda-v1');
  t.equal(fs.readFileSync(built!.manifestPath, 'utf8'), fs.readFileSync(path.join(LDA, 'model.json'), 'utf8'), 'model.json is stale');
  const a = MODEL_BUILDERS['residual-lda-v1']!();
  const b = MODEL_BUILDERS['residual-lda-v1']!();
  t.same(Buffer.from(a.onnx), Buffer.from(b.onnx), 'two builds give the same bytes');

  const manifest = JSON.parse(fs.readFileSync(path.join(LDA, 'model.json'), 'utf8')) as Manifest;
  t.same([...Value.Errors(ManifestSchema, manifest)].map((e) => `${e.path} ${e.message}`), []);
  const projection = JSON.parse(fs.readFileSync(path.join(LDA, 'projection.json'), 'utf8')) as {
    inputDim: number; outputDim: number; mean: number[]; matrix: number[]; baseOnnxSha256: string; fit: { genome: { tool: string } };
  };
  t.equal(manifest.output.dim, projection.outputDim);
  t.equal(projection.inputDim, RESIDUAL_V1_DIM);
  t.equal(projection.fit.genome.tool, 'dfg genome synth', 'fitted on a simulated genome');
  t.equal(projection.baseOnnxSha256, createHash('sha256').update(fs.readFileSync(path.join(COMMITTED, 'model.onnx'))).digest('hex'), 'fitted on the committed residual-v1');
  t.match(manifest.version, /^1\.0\.0\+p[0-9a-f]{12}$/, 'the version names the projection');

  // In onnxruntime: the LDA output equals (residual-v1 features - mean) · matrix.
  const base = await ort.InferenceSession.create(path.join(COMMITTED, 'model.onnx'), { intraOpNumThreads: 1 });
  const lda = await ort.InferenceSession.create(path.join(LDA, 'model.onnx'), { intraOpNumThreads: 1 });
  const S = 128;
  const input = toInput(manifest, blockNoise(S, S, 2, 41), S, S);
  const x = (await base.run({ image: input })).embedding!.data as Float32Array;
  const y = (await lda.run({ image: input })).embedding!;
  t.same(y.dims, [1, projection.outputDim]);
  let worst = 0;
  let scale = 0;
  for (let c = 0; c < projection.outputDim; c++) {
    let s = 0;
    for (let i = 0; i < projection.inputDim; i++) s += (x[i]! - projection.mean[i]!) * projection.matrix[i * projection.outputDim + c]!;
    worst = Math.max(worst, Math.abs(s - (y.data as Float32Array)[c]!));
    scale = Math.max(scale, Math.abs(s));
  }
  t.ok(worst <= 1e-3 * Math.max(1, scale), `projection matches the JSON (max error ${worst}, scale ${scale})`);
});
