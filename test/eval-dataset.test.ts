import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileGroupPattern, DEFAULT_GROUP_PATTERN, groupOf, scanDataset } from '../src/evaluation/dataset.js';
import { createEmbeddingCache, modelKey, sha256Hex } from '../src/evaluation/cache.js';
import { fusionWeights } from '../src/evaluation/fusion.js';
import { fuseVectors } from '../src/math/fusion.js';
import { thumbnailVector } from '../src/evaluation/content-baseline.js';
import { cosineSimilarity } from '../src/math/vector.js';
import { isDfgError } from '../src/errors.js';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'no error';
  } catch (err) {
    return isDfgError(err) ? err.code : String(err);
  }
}

async function tree(files: Record<string, string>): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-eval-ds-'));
  for (const [rel, content] of Object.entries(files)) {
    if (rel.endsWith('/')) {
      await fs.mkdir(path.join(root, rel), { recursive: true });
      continue;
    }
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), content);
  }
  return root;
}

t.test('group pattern', async (t) => {
  const re = compileGroupPattern(DEFAULT_GROUP_PATTERN);
  t.equal(groupOf('stargan__jpg_result_celeba1__t07.png', '', re), 'stargan__jpg_result_celeba1', 'tiles of one grid share a source');
  t.equal(groupOf('Kolors__ipadapter_asset_5.jpg', '', re), 'Kolors__ipadapter_asset_5', 'no tile suffix: the file stem');
  t.equal(groupOf('x__t01.png', 'seed1', re), 'seed1/x', 'sub-folder keeps sources apart');
  t.equal(await codeOf(() => compileGroupPattern('(')), 'DFG_ERR_EVAL_PROTOCOL_INVALID', 'invalid regex');
  t.equal(await codeOf(() => compileGroupPattern('^a.*$')), 'DFG_ERR_EVAL_PROTOCOL_INVALID', 'no capture group');
  t.equal(groupOf('img_0003.png', '', compileGroupPattern('^img_(\\d)')), '0', 'custom pattern');
});

t.test('scanDataset reads folders, genome.json and lists what it skips', async (t) => {
  const root = await tree({
    'genome.json': JSON.stringify({ algorithms: { gan: { forgeryType: 'EFS', architecture: 'GAN', family: 'GAN' }, real: { forgeryType: 'authentic', architecture: 'authentic' }, ghost: { forgeryType: 'FS' } } }),
    'README.md': 'notes',
    'stray.png': 'x',
    'gan/a__t00.png': 'x',
    'gan/a__t01.PNG': 'x',
    'gan/sub/b.jpeg': 'x',
    'gan/notes.txt': 'x',
    'gan/.DS_Store': 'x',
    'real/r1.webp': 'x',
    'extra/e.jpg': 'x',
    'empty/': '',
  });
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const ds = await scanDataset(root);
  t.same(ds.algorithms.map((a) => a.name), ['extra', 'gan', 'real'], 'sorted, empty folder left out');
  const gan = ds.algorithms.find((a) => a.name === 'gan')!;
  t.same(gan.files.map((f) => [f.rel, f.group]), [['gan/a__t00.png', 'a'], ['gan/a__t01.PNG', 'a'], ['gan/sub/b.jpeg', 'sub/b']]);
  t.equal(gan.forgeryType, 'EFS');
  t.equal(gan.architecture, 'GAN');
  t.ok(ds.algorithms.find((a) => a.name === 'real')!.authentic, 'forgeryType authentic marks a reference class');
  t.equal(ds.algorithms.find((a) => a.name === 'extra')!.forgeryType, 'unspecified');
  t.same(ds.skipped.map((s) => s.file).sort(), ['gan/notes.txt', 'stray.png']);
  t.match(ds.warnings.join('\n'), /empty: no images/);
  t.match(ds.warnings.join('\n'), /extra: not described in genome\.json/);
  t.match(ds.warnings.join('\n'), /genome\.json describes ghost, which has no folder/);
});

t.test('bad datasets give clear errors', async (t) => {
  t.equal(await codeOf(scanDataset('/nonexistent/dfg-eval')), 'DFG_ERR_EVAL_DATASET_INVALID');
  const file = await tree({ 'f.png': 'x' });
  t.teardown(() => fs.rm(file, { recursive: true, force: true }));
  t.equal(await codeOf(scanDataset(path.join(file, 'f.png'))), 'DFG_ERR_EVAL_DATASET_INVALID', 'a file is not a dataset');
  t.equal(await codeOf(scanDataset(file)), 'DFG_ERR_EVAL_DATASET_INVALID', 'no algorithm folder with images');
  const badJson = await tree({ 'genome.json': '{ nope', 'a/x.png': 'x' });
  t.teardown(() => fs.rm(badJson, { recursive: true, force: true }));
  await t.rejects(scanDataset(badJson), { code: 'DFG_ERR_EVAL_DATASET_INVALID', message: /genome\.json is not valid JSON/ });
  const badShape = await tree({ 'genome.json': JSON.stringify({ algorithms: { a: { forgeryType: 3 } } }), 'a/x.png': 'x' });
  t.teardown(() => fs.rm(badShape, { recursive: true, force: true }));
  await t.rejects(scanDataset(badShape), { code: 'DFG_ERR_EVAL_DATASET_INVALID', message: /does not match/ });
  const empty = await tree({ 'a/': '', 'b/readme.txt': 'x' });
  t.teardown(() => fs.rm(empty, { recursive: true, force: true }));
  await t.rejects(scanDataset(empty), { code: 'DFG_ERR_EVAL_DATASET_INVALID', message: /no images under/ });
});

t.test('embedding cache', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-eval-cache-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const cache = createEmbeddingCache({ root, modelId: 'm', modelVersion: '1', dim: 3 });
  const sha = sha256Hex(new Uint8Array([1, 2, 3]));
  t.equal(await cache.get(sha), undefined, 'miss');
  await cache.set(sha, new Float32Array([0.5, -1, 2]));
  t.same([...(await cache.get(sha))!], [0.5, -1, 2], 'round trip');
  const other = createEmbeddingCache({ root, modelId: 'm', modelVersion: '2', dim: 3 });
  t.equal(await other.get(sha), undefined, 'another model version never sees the entry');
  t.not(modelKey('m', 'a/b'), modelKey('m', 'a_b'), 'versions that read alike stay apart');
  await fs.writeFile(path.join(cache.dir, sha.slice(0, 2), `${sha}.f32`), new Uint8Array(5));
  t.equal(await cache.get(sha), undefined, 'a torn entry is a miss');
  await fs.writeFile(path.join(cache.dir, sha.slice(0, 2), `${sha}.f32`), new Uint8Array(new Float32Array([NaN, 0, 0]).buffer));
  t.equal(await cache.get(sha), undefined, 'a non-finite entry is a miss');
  await t.rejects(cache.get('../../etc/passwd'), TypeError, 'only sha256 keys reach the file system');
  await t.rejects(cache.set(sha, new Float32Array(4)), TypeError, 'wrong dimension refused');
});

t.test('fusion: cosine of fused vectors is the weighted mean of the cosines', async (t) => {
  const a1 = new Float32Array([1, 0, 0]);
  const b1 = new Float32Array([0.6, 0.8, 0]);
  const a2 = new Float32Array([3, 4]);
  const b2 = new Float32Array([-4, 3]);
  const w = fusionWeights(2, [3, 1]);
  const fa = fuseVectors([a1, a2], w);
  const fb = fuseVectors([b1, b2], w);
  t.equal(fa.length, 5);
  const want = (3 * cosineSimilarity(a1, b1) + 1 * cosineSimilarity(a2, b2)) / 4;
  t.ok(Math.abs(cosineSimilarity(fa, fb) - want) < 1e-6, `${cosineSimilarity(fa, fb)} vs ${want}`);
  t.ok(Math.abs(fa.reduce((s, x) => s + x * x, 0) - 1) < 1e-6, 'unit norm');
  t.same(fusionWeights(3), [1, 1, 1], 'equal weights by default');
  t.equal(await codeOf(() => fusionWeights(2, [1])), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(await codeOf(() => fusionWeights(2, [1, 0])), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
});

t.test('content thumbnail: area average, centred, unit norm', async (t) => {
  // 32x32: left half black, right half white -> each 16x16 cell averages 2x2 pixels of one side.
  const w = 32;
  const rgb = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y += 1) for (let x = 16; x < w; x += 1) rgb.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const v = thumbnailVector(rgb, w, w);
  t.equal(v.length, 768);
  t.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-5, 'unit norm');
  t.ok(Math.abs(v.reduce((s, x) => s + x, 0)) < 1e-4, 'zero mean');
  t.ok(v[0] < 0 && v[(0 * 16 + 15) * 3] > 0, 'left cells dark, right cells bright');
  // 3 pixels wide, odd split: the middle pixel is shared between cells by overlap.
  const tiny = thumbnailVector(new Uint8Array([0, 0, 0, 90, 90, 90, 255, 255, 255]), 3, 1, 2);
  // cells cover [0,1.5) and [1.5,3): means (0 + 0.5*90)/1.5 = 30 and (0.5*90 + 255)/1.5 = 200, then centred
  t.ok(Math.abs(tiny[0] / tiny[3] - (30 - 115) / (200 - 115)) < 1e-5, 'fractional overlap weights');
  t.same([...thumbnailVector(new Uint8Array(12).fill(7), 2, 2)].every((x) => x === 0), true, 'a flat image has no direction');
});
