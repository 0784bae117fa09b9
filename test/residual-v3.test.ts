/**
 * residual-v3: a fresh build equals the committed models/residual-v3 files byte for byte, its
 * projection was fitted (by PCA, uncentred) on the committed residual-v2 and on no validation
 * data, and in onnxruntime the graph is residual-v2 followed by that projection: per crop,
 * output = residual-v2 · matrix, so a black crop still gives an exactly zero vector.
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
import { RESIDUAL_V2_DIM } from '../src/model-build/models/residual-v2.js';
import { buildResidualV3 } from '../src/model-build/models/residual-v3.js';
import { projectionErrors, type ProjectionFile } from '../src/genome/projection-file.js';
import { isDfgError } from '../src/errors.js';
import { seededRandom } from '../src/math/random.js';

// Compiled to dist/test/, so the repository root is two levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMMITTED = path.join(ROOT, 'models', 'residual-v3');
const V2 = path.join(ROOT, 'models', 'residual-v2');
const projection = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'projection.json'), 'utf8')) as ProjectionFile;

t.test('a fresh build equals the committed model byte for byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-models-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const committed = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8')) as { cohort?: { version: string } };
  // Built where nothing was: the definition alone, without the cohort `dfg models cohort` adds.
  const [fresh] = await buildModels(dir, ['residual-v3']);
  t.ok(fs.readFileSync(fresh!.onnxPath).equals(fs.readFileSync(path.join(COMMITTED, 'model.onnx'))), 'model.onnx is stale: run `dfg models build residual-v3` and commit models/residual-v3');
  const { cohort, ...definition } = committed;
  t.same(JSON.parse(fs.readFileSync(fresh!.manifestPath, 'utf8')), definition, 'model.json is stale');
  t.ok(cohort, 'the committed model ships its cohort');
  // Rebuilt over the committed manifest: the cohort of this very version is kept, byte for byte.
  fs.copyFileSync(path.join(COMMITTED, 'model.json'), fresh!.manifestPath);
  const [built] = await buildModels(dir, ['residual-v3']);
  t.equal(fs.readFileSync(built!.manifestPath, 'utf8'), fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8'), 'a rebuild keeps the cohort of its version');
  const a = MODEL_BUILDERS['residual-v3']!();
  const b = MODEL_BUILDERS['residual-v3']!();
  t.same(Buffer.from(a.onnx), Buffer.from(b.onnx), 'two builds give the same bytes');

  const manifest = JSON.parse(fs.readFileSync(path.join(COMMITTED, 'model.json'), 'utf8')) as Manifest;
  const v2 = JSON.parse(fs.readFileSync(path.join(V2, 'model.json'), 'utf8')) as Manifest;
  t.same([...Value.Errors(ManifestSchema, manifest)].map((e) => `${e.path} ${e.message}`), []);
  t.equal(manifest.output.dim, 256, '256 dimensions');
  t.equal(manifest.output.normalise, 'l2');
  t.same(manifest.crop, v2.crop, "residual-v2's crops");
  t.same(manifest.input, v2.input, "residual-v2's preprocessing");
  t.same(manifest.decision, v2.decision, "residual-v2's decision defaults");
  t.match(manifest.version, /^3\.0\.0\+p[0-9a-f]{12}$/, 'the version names the projection');
  t.equal(manifest.provenance.onnxSha256, createHash('sha256').update(fs.readFileSync(path.join(COMMITTED, 'model.onnx'))).digest('hex'));
});

t.test('the projection: PCA on a simulated genome and real patches, fitted on the committed residual-v2', async (t) => {
  t.same(projectionErrors(projection), []);
  t.equal(projection.baseModel, 'residual-v2');
  t.equal(projection.inputDim, RESIDUAL_V2_DIM);
  t.equal(projection.outputDim, 256);
  t.equal(projection.baseOnnxSha256, createHash('sha256').update(fs.readFileSync(path.join(V2, 'model.onnx'))).digest('hex'), 'fitted on the committed residual-v2');
  t.match(projection.method, /^pca: /);
  t.equal(projection.fit.genome.tool, 'dfg genome synth', 'fitted on a simulated genome');
  t.equal(projection.fit.real?.tool, 'dfg genome photos', 'and on real-photo patches');
  t.ok(projection.mean.every((v) => v === 0), 'uncentred');
  // Columns are (float32-rounded) orthonormal axes.
  const D = projection.inputDim, K = projection.outputDim, m = projection.matrix;
  let worst = 0;
  for (const [a, b] of [[0, 0], [0, 1], [1, 1], [17, 200], [255, 255]] as const) {
    let s = 0;
    for (let j = 0; j < D; j++) s += m[j * K + a]! * m[j * K + b]!;
    worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
  }
  t.ok(worst < 1e-5, `orthonormal axes (largest deviation ${worst})`);
  t.ok(projection.fit.explained! > 0.9, `the axes keep most of the variance (${projection.fit.explained})`);
});

t.test('a projection for another residual-v2 build is refused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-proj-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'p.json');
  fs.writeFileSync(file, JSON.stringify({ ...projection, baseOnnxSha256: '0'.repeat(64) }));
  const refusal = (f: string) => {
    try {
      buildResidualV3(f);
    } catch (e) {
      return isDfgError(e) ? `${e.code} ${e.message}` : `not coded: ${String(e)}`;
    }
    return 'built';
  };
  t.match(refusal(file), /^DFG_ERR_MODEL_MANIFEST_INVALID .*another build of residual-v2/, 'fitted on another residual-v2 build');
  fs.writeFileSync(file, JSON.stringify({ ...projection, matrix: projection.matrix.slice(1) }));
  t.match(refusal(file), /^DFG_ERR_MODEL_MANIFEST_INVALID .*\/matrix has/, 'a matrix of the wrong size');
  t.match(refusal(path.join(dir, 'missing.json')), /^DFG_ERR_MODEL_NOT_FOUND /, 'no projection file');
});

t.test('in onnxruntime: residual-v2 per crop, then the projection; black stays zero', async (t) => {
  const v2 = await ort.InferenceSession.create(path.join(V2, 'model.onnx'), { intraOpNumThreads: 1 });
  const v3 = await ort.InferenceSession.create(path.join(COMMITTED, 'model.onnx'), { intraOpNumThreads: 1 });
  const S = 128, N = 2;
  const rnd = seededRandom(9);
  const data = Float32Array.from({ length: N * 3 * S * S }, (_, i) => (i < 3 * S * S ? 128 + 50 * (rnd() - 0.5) : 255 * rnd()));
  const input = new ort.Tensor('float32', data, [N, 3, S, S]);
  const x = (await v2.run({ image: input }))['embedding']!.data as Float32Array;
  const y = (await v3.run({ image: input }))['embedding']!;
  t.same(y.dims, [N, 256], 'one 256-d row per crop');
  const D = projection.inputDim, K = projection.outputDim;
  let worst = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < K; c++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += x[n * D + j]! * projection.matrix[j * K + c]!;
      worst = Math.max(worst, Math.abs(s - (y.data as Float32Array)[n * K + c]!));
    }
  }
  t.ok(worst < 1e-4, `output = residual-v2 · matrix (largest error ${worst})`);
  const black = (await v3.run({ image: new ort.Tensor('float32', new Float32Array(3 * S * S), [1, 3, S, S]) }))['embedding']!;
  t.ok((black.data as Float32Array).every((v) => v === 0), 'a black crop gives an exactly zero vector (refused as DFG_ERR_IMAGE_NO_SIGNAL)');
});
