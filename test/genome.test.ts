/**
 * The simulated forgery genome: synth is deterministic (same seed, same bytes), writes the
 * dataset layout with a genome.json that `dfg eval` reads, two algorithms of one family
 * differ, families leave their traces (checkerboards for transposed convolutions, untouched
 * pixels outside a swapped region), bad options fail with DFG_ERR_GENOME_INVALID; and the
 * projection fit (Jacobi eigen-decomposition, LDA) recovers what separates classes; the stand-in
 * photos of `dfg demo` are seeded and textured.
 * Real photos are generated here with sharp: no external data.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { isDfgError } from '../src/errors.js';
import { scanDataset } from '../src/evaluation/dataset.js';
import { runDecoder, type DecoderParams } from '../src/genome/decoder.js';
import { symmetricEigen } from '../src/math/eigen.js';
import { FAMILIES, FAMILY_NAMES, familyByName } from '../src/genome/families/index.js';
import { applyProjection, fitLda, fitNuisance } from '../src/genome/fit-projection.js';
import { fitGenomeProjection } from '../src/genome/fit-command.js';
import { fitPca } from '../src/genome/fit-pca.js';
import { cutPhotoPatches, lumaDetail } from '../src/genome/photos.js';
import { decodeRgb } from '../src/genome/image-io.js';
import { writeStandInPhotos } from '../src/genome/stand-in-photos.js';
import { createRaster, type Raster } from '../src/genome/raster.js';
import { createGenomeRng } from '../src/genome/rng.js';
import { synthGenome, type GenomeFile } from '../src/genome/synth.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

type T = Pick<typeof t, 'teardown' | 'ok' | 'match'>;

function tmpDir(t: T, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A textured "photo": smooth colour waves plus fine noise, so residuals are not trivial. */
function photoPixels(w: number, h: number, seed: number): Buffer {
  const rng = createGenomeRng(`photo:${seed}`);
  const f = [rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.05), rng.uniform(0, 6)];
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = 128 + 70 * Math.sin(f[0] * x * (c + 1) + f[1] * y + f[2] + c) + 12 * rng.normal();
        out[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

async function writePhotos(dir: string, n: number, size = 192): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    await sharp(photoPixels(size, size, i), { raw: { width: size, height: size, channels: 3 } }).png().toFile(path.join(dir, `photo-${i}.png`));
  }
}

/** Every file under dir, relative path → bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

async function rejectsWith(t: T, p: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  t.ok(isDfgError(err, 'DFG_ERR_GENOME_INVALID'), `${what}: DFG_ERR_GENOME_INVALID (${String(err)})`);
  t.match((err as Error | null)?.message ?? '', pattern, `${what}: message says why`);
}

/** A smooth diagonal gradient: no period-2 content of its own. */
function gradient(size: number): Raster {
  const r = createRaster(3, size, size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) r.data[(c * size + y) * size + x] = 60 + (100 * (x + y)) / (2 * size) + 20 * c;
  }
  return r;
}

/**
 * Period-2 energy: the luma high-pass (x minus its 3x3 binomial blur) averaged per pixel
 * phase (y mod 2, x mod 2); the spread of the four phase means, in grey levels.
 */
function period2(r: Raster): number {
  const { h, w } = r;
  const luma = (y: number, x: number) => {
    const yy = Math.min(Math.max(y, 0), h - 1);
    const xx = Math.min(Math.max(x, 0), w - 1);
    return 0.299 * r.data[yy * w + xx] + 0.587 * r.data[(h + yy) * w + xx] + 0.114 * r.data[(2 * h + yy) * w + xx];
  };
  const sums = [0, 0, 0, 0];
  for (let y = 4; y < h - 4; y++) {
    for (let x = 4; x < w - 4; x++) {
      let blur = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) blur += luma(y + dy, x + dx) * (2 - Math.abs(dy)) * (2 - Math.abs(dx));
      sums[(y % 2) * 2 + (x % 2)] += luma(y, x) - blur / 16;
    }
  }
  const n = ((h - 8) * (w - 8)) / 4;
  const m = sums.map((s) => s / n);
  const mean = m.reduce((a, b) => a + b, 0) / 4;
  return Math.sqrt(m.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
}

const decoder = (over: Partial<DecoderParams>): DecoderParams => ({
  factor: 4, channels: 4, upsampler: 'bilinear-conv', kernel: 0, activation: 'leaky-relu', imbalance: 0.3,
  residualGain: 0.1, detailGain: 0.5, latentNoise: 0, weightSeed: 12345, ...over,
});

t.test('synth: same seed, same bytes; another seed, other bytes; dataset layout and genome.json', async (t) => {
  const base = tmpDir(t, 'dfg-genome-');
  const real = path.join(base, 'real');
  await writePhotos(real, 3);
  const opts = { realDir: real, algorithms: FAMILIES.length, perAlgorithm: 2, seed: 's1', size: 128 };
  const g1 = await synthGenome({ ...opts, outDir: path.join(base, 'a') });
  await synthGenome({ ...opts, outDir: path.join(base, 'b') });
  await synthGenome({ ...opts, seed: 's2', outDir: path.join(base, 'c') });
  const a = snapshot(path.join(base, 'a'));
  const b = snapshot(path.join(base, 'b'));
  const c = snapshot(path.join(base, 'c'));
  t.equal(a.size, FAMILIES.length * 2 + 1, 'one file per image plus genome.json');
  const sameBytes = [...a].every(([k, v]) => b.get(k)?.equals(v) === true);
  t.ok(sameBytes && a.size === b.size, 'two runs with one seed write identical files');
  const images = [...a.keys()].filter((k) => k !== 'genome.json');
  const changed = images.filter((k) => !c.get(k)?.equals(a.get(k)!)).length;
  t.ok(changed >= images.length - 2, `another seed changes the images (${changed}/${images.length} differ)`);

  const genome = JSON.parse(a.get('genome.json')!.toString('utf8')) as GenomeFile;
  t.same(genome, g1, 'genome.json is what synthGenome returned');
  t.equal(genome.generator.tool, 'dfg genome synth');
  t.equal(Object.keys(genome.algorithms).length, FAMILIES.length);
  t.same(new Set(Object.values(genome.algorithms).map((x) => x.family)), new Set(FAMILY_NAMES), 'balanced: every family once');
  for (const [name, alg] of Object.entries(genome.algorithms)) {
    t.ok(['EFS', 'FS', 'FE', 'FR'].includes(alg.forgeryType), `${name} forgeryType ${alg.forgeryType}`);
    t.ok(['GAN', 'CNN', 'Diffusion', 'VAR'].includes(alg.architecture), `${name} architecture ${alg.architecture}`);
    t.ok(name.endsWith(alg.family), `${name} is named after its family`);
    t.equal(alg.images, 2);
    t.type(alg.parameters.post.workSize, 'number');
    const files = fs.readdirSync(path.join(base, 'a', name));
    t.equal(files.length, 2, `${name} has its images`);
    const ext = alg.parameters.post.jpegQuality === null ? '.png' : '.jpg';
    t.ok(files.every((f) => f.endsWith(ext)), `${name}: files are ${ext} as its post-processing says`);
    const meta = await sharp(path.join(base, 'a', name, files[0])).metadata();
    t.same([meta.width, meta.height], [128, 128], `${name} outputs the requested size`);
  }
  const dataset = await scanDataset(path.join(base, 'a'));
  t.equal(dataset.genome, true, 'dfg eval reads genome.json');
  t.equal(dataset.algorithms.length, FAMILIES.length);
  t.same(dataset.algorithms.map((x) => x.forgeryType), dataset.algorithms.map((x) => genome.algorithms[x.name].forgeryType));
});

t.test('two algorithms of one family differ; rendering depends only on the parameters', async (t) => {
  const photo = gradient(128);
  for (const family of FAMILIES) {
    const p1 = family.sample(createGenomeRng(`${family.name}:1`));
    const p2 = family.sample(createGenomeRng(`${family.name}:2`));
    t.notSame(p1, p2, `${family.name}: two draws have different parameters`);
    const inputs = (key: string) => ({ photo, donor: () => gradient(128), rng: createGenomeRng(key) });
    const a = family.render(p1, inputs('img'));
    const b = family.render(p2, inputs('img'));
    const again = family.render(JSON.parse(JSON.stringify(p1)) as Record<string, unknown>, inputs('img'));
    t.same([a.c, a.h, a.w], [3, 128, 128], `${family.name}: output is the photo's size`);
    t.ok(a.data.every(Number.isFinite), `${family.name}: finite output`);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    t.ok(diff > 1, `${family.name}: two algorithms render the same photo differently (max diff ${diff.toFixed(2)})`);
    t.ok(a.data.every((v, i) => v === again.data[i]), `${family.name}: the JSON round trip of the parameters renders the same picture`);
  }
});

t.test('families leave their traces', async (t) => {
  const photo = gradient(128);
  const rng = () => createGenomeRng('trace');
  const bilinear = period2(runDecoder(decoder({ upsampler: 'bilinear-conv', detailGain: 0 }), photo, rng()));
  for (const kernel of [3, 4]) {
    const transposed = period2(runDecoder(decoder({ upsampler: 'transposed-conv', kernel, detailGain: 0 }), photo, rng()));
    t.ok(transposed > 5 * bilinear + 0.2, `transposed conv k${kernel} leaves a checkerboard: period-2 energy ${transposed.toFixed(3)} vs bilinear ${bilinear.toFixed(3)}`);
  }
  const shuffle = period2(runDecoder(decoder({ upsampler: 'pixel-shuffle', detailGain: 0 }), photo, rng()));
  t.ok(shuffle > 5 * bilinear + 0.2, `pixel shuffle leaves period-2 energy: ${shuffle.toFixed(3)} vs ${bilinear.toFixed(3)}`);
  t.ok(period2(photo) < 0.01, 'the gradient itself has none');

  // Region families change the region and nothing else.
  const swap = familyByName('face-swap')!;
  const params = swap.sample(createGenomeRng('swap'));
  const src = gradient(128);
  const out = swap.render(params, { photo: src, donor: () => createRaster(3, 128, 128, new Float32Array(3 * 128 * 128).fill(30)), rng: createGenomeRng('swap-img') });
  let changed = 0;
  for (let i = 0; i < out.data.length; i++) if (out.data[i] !== src.data[i]) changed++;
  const share = changed / out.data.length;
  t.ok(share > 0.05 && share < 0.6, `face swap changes a region only (${(100 * share).toFixed(1)}% of values)`);
  t.equal(out.data[0], src.data[0], 'a corner pixel is untouched');
});

t.test('bad options fail with DFG_ERR_GENOME_INVALID', async (t) => {
  const base = tmpDir(t, 'dfg-genome-bad-');
  const real = path.join(base, 'real');
  await writePhotos(real, 1, 96);
  const ok = { realDir: real, outDir: path.join(base, 'out'), algorithms: 2, perAlgorithm: 1, seed: '1' };
  await rejectsWith(t, synthGenome({ ...ok, algorithms: 0 }), /--algorithms/, 'zero algorithms');
  await rejectsWith(t, synthGenome({ ...ok, perAlgorithm: 1.5 }), /--per-algorithm/, 'fractional images');
  await rejectsWith(t, synthGenome({ ...ok, size: 100 }), /multiple of 16/, 'size not a multiple of 16');
  await rejectsWith(t, synthGenome({ ...ok, families: ['nope'] }), /Unknown family "nope"/, 'unknown family');
  await rejectsWith(t, synthGenome({ ...ok, realDir: path.join(base, 'missing') }), /cannot be read/, 'missing real folder');
  fs.mkdirSync(path.join(base, 'empty'));
  await rejectsWith(t, synthGenome({ ...ok, realDir: path.join(base, 'empty') }), /no \.png/, 'no photos');
  fs.mkdirSync(path.join(base, 'full'));
  fs.writeFileSync(path.join(base, 'full', 'x.txt'), 'x');
  await rejectsWith(t, synthGenome({ ...ok, outDir: path.join(base, 'full') }), /not empty/, 'non-empty output folder');
  t.same(fs.existsSync(ok.outDir), false, 'nothing was written');
  fs.writeFileSync(path.join(real, 'broken.png'), 'not an image');
  await rejectsWith(t, synthGenome({ ...ok, algorithms: 3, perAlgorithm: 4 }), /cannot be decoded/, 'an undecodable photo');
  await rejectsWith(t, cutPhotoPatches({ srcDir: path.join(base, 'empty'), outDir: path.join(base, 'p'), size: 64, perImage: 1, seed: '1' }), /no \.png/, 'photos: empty source');

  // fit refuses folders that synth did not write (validation sets in particular).
  fs.mkdirSync(path.join(base, 'wild', 'a'), { recursive: true });
  fs.writeFileSync(path.join(base, 'wild', 'genome.json'), JSON.stringify({ algorithms: { a: { forgeryType: 'EFS' } } }));
  const fit = (dir: string) => fitGenomeProjection({
    genomeDir: dir, outFile: path.join(base, 'p.json'), modelsDir: path.join(ROOT, 'models'), baseModel: 'residual-v1',
    dim: 2, shrinkage: 0.1, threads: 1, limits: { maxBytes: 1e7, maxPixels: 1e7 }, cacheDir: null,
  });
  await rejectsWith(t, fit(path.join(base, 'wild')), /not written by `dfg genome synth`/, 'fit on a foreign folder');
  await rejectsWith(t, fit(real), /no genome\.json/, 'fit on a folder without genome.json');
  // --real takes only a `dfg genome photos` patch folder, and only for the label-free PCA.
  const fitReal = (realDir: string, method: 'pca' | 'lda') => fitGenomeProjection({
    genomeDir: path.join(base, 'wild'), outFile: path.join(base, 'p.json'), modelsDir: path.join(ROOT, 'models'), baseModel: 'residual-v2',
    method, realDir, dim: 2, shrinkage: 0.1, threads: 1, limits: { maxBytes: 1e7, maxPixels: 1e7 }, cacheDir: null,
  });
  await rejectsWith(t, fitReal(path.join(base, 'wild'), 'pca'), /not a patch folder written by `dfg genome photos`/, 'a dataset folder as --real');
  await rejectsWith(t, fitReal(real, 'pca'), /not a patch folder/, 'photos that `dfg genome photos` did not name');
  await rejectsWith(t, fitReal(path.join(base, 'empty'), 'pca'), /has no patches/, 'an empty --real');
  await rejectsWith(t, fitReal(path.join(base, 'empty'), 'lda'), /--method pca only/, '--real with LDA');
  t.same(fs.existsSync(path.join(base, 'p.json')), false, 'no projection was written');

  // The CLI prints the code and exits non-zero.
  const run = promisify(execFile);
  const res = await run(process.execPath, [CLI, 'genome', 'synth', '--real', path.join(base, 'empty'), '--out', path.join(base, 'o2'), '--algorithms', '2'])
    .then(() => null, (e: { code?: number; stderr?: string }) => e);
  t.ok(res && res.code !== 0, 'dfg genome synth exits non-zero');
  t.match(res?.stderr ?? '', /DFG_ERR_GENOME_INVALID/, 'and prints the catalogue code');
});

t.test('photos: native-resolution patches, textured only', async (t) => {
  const base = tmpDir(t, 'dfg-photos-');
  await writePhotos(path.join(base, 'src'), 1, 300);
  await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } }).png().toFile(path.join(base, 'src', 'flat.png'));
  const r = await cutPhotoPatches({ srcDir: path.join(base, 'src'), outDir: path.join(base, 'out'), size: 128, perImage: 2, seed: '1' });
  t.equal(r.photos, 2);
  const files = fs.readdirSync(path.join(base, 'out'));
  t.ok(files.length >= 2 && files.every((f) => f.startsWith('photo-0')), `the flat photo gives no patch (${files.join(', ')})`);
  const m = await sharp(path.join(base, 'out', files[0])).metadata();
  t.same([m.width, m.height], [128, 128]);
  const again = await cutPhotoPatches({ srcDir: path.join(base, 'src'), outDir: path.join(base, 'out2'), size: 128, perImage: 2, seed: '1' });
  t.same(fs.readdirSync(path.join(base, 'out2')), files, 'same seed, same patches');
  t.equal(again.patches, r.patches);
});

t.test('Jacobi eigen-decomposition', async (t) => {
  const n = 12;
  const rng = createGenomeRng('eigen');
  const b = Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
  const { values, vectors } = symmetricEigen(a, n);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k] * values[k] * vectors[j * n + k];
      worst = Math.max(worst, Math.abs(s - a[i * n + j]));
    }
  }
  t.ok(worst < 1e-9, `V diag(L) V' reconstructs A (max error ${worst})`);
  t.ok(values.every((v, i) => i === 0 || v <= values[i - 1]), 'eigenvalues descend');
  t.ok(values[n - 1] > -1e-9, 'a Gram matrix is positive semi-definite');
  t.throws(() => symmetricEigen([1, 2, 3, 4], 2), /not symmetric/);
});

t.test('LDA keeps the direction that separates classes and discards the nuisance', async (t) => {
  // 6 classes in 5 dims: classes differ along dim 0 (small spread); dims 1-4 carry large
  // within-class noise ("content"). Raw nearest-centroid is poor; after LDA it is not.
  const rng = createGenomeRng('lda');
  const samples: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 6; c++) {
    for (let i = 0; i < 40; i++) {
      samples.push([c * 0.5 + 0.1 * rng.normal(), ...Array.from({ length: 4 }, () => 5 * rng.normal())]);
      labels.push(c);
    }
  }
  const p = fitLda(samples, labels, { dim: 2, shrinkage: 0.05 });
  t.equal(p.outputDim, 2);
  t.ok(p.eigenvalues[0] > 10 * p.eigenvalues[1], `one discriminant direction dominates (${p.eigenvalues.map((v) => v.toFixed(2)).join(', ')})`);
  const col = [0, 1, 2, 3, 4].map((a) => Math.abs(p.matrix[a * 2]));
  t.ok(col[0] > 10 * Math.max(...col.slice(1)), 'the first direction reads dim 0');
  const accuracy = (f: (x: number[]) => ArrayLike<number>) => {
    const proj = samples.map(f);
    const centroids = [0, 1, 2, 3, 4, 5].map((c) => {
      const rows = proj.filter((_, i) => labels[i] === c);
      return Array.from({ length: rows[0].length }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
    });
    let ok = 0;
    proj.forEach((v, i) => {
      const d = centroids.map((m) => m.reduce((s, x, j) => s + (x - v[j]) ** 2, 0));
      if (d.indexOf(Math.min(...d)) === labels[i]) ok++;
    });
    return ok / proj.length;
  };
  const raw = accuracy((x) => x);
  const lda = accuracy((x) => applyProjection(p, x));
  t.ok(lda > 0.9 && lda > raw + 0.3, `nearest centroid: raw ${raw.toFixed(2)}, after LDA ${lda.toFixed(2)}`);
  const again = fitLda(samples, labels, { dim: 2, shrinkage: 0.05 });
  t.same(Array.from(again.matrix), Array.from(p.matrix), 'deterministic');
  t.throws(() => fitLda(samples, labels, { dim: 6, shrinkage: 0.1 }), /output dimension/, 'dim above classes - 1 is refused');
  t.throws(() => fitLda(samples, labels, { dim: 2, shrinkage: 1 }), /shrinkage/);
});

t.test('PCA finds the leading axes from the Gram matrix (few samples) or the covariance (many), deterministically', async (t) => {
  const rng = createGenomeRng('pca');
  // Unit directions e0 (large spread) and e1 (smaller) in D dimensions, plus faint noise.
  const cloud = (n: number, D: number) => Array.from({ length: n }, () => {
    const v = Array.from({ length: D }, () => 0.01 * rng.normal());
    v[0] += 1; // an offset: the uncentred projection keeps it, the centred one removes it
    v[1] += 3 * rng.normal();
    v[2] += 1 * rng.normal();
    return v;
  });
  for (const [n, D] of [[20, 40], [300, 5]] as const) {
    const samples = cloud(n, D);
    const p = fitPca(samples, { dim: 2 });
    t.same([p.inputDim, p.outputDim], [D, 2]);
    const col = (c: number) => Array.from({ length: D }, (_, j) => p.matrix[j * 2 + c]!);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0);
    t.ok(Math.abs(dot(col(0), col(0)) - 1) < 1e-9 && Math.abs(dot(col(1), col(1)) - 1) < 1e-9 && Math.abs(dot(col(0), col(1))) < 1e-9, `${n} x ${D}: orthonormal axes`);
    t.ok(col(0)[1]! > 0.95, `${n} x ${D}: the first axis is the widest direction, signed positive (${col(0)[1]!.toFixed(3)})`);
    t.ok(Math.abs(col(1)[2]!) > 0.9, `${n} x ${D}: the second axis is the next one (${col(1)[2]!.toFixed(3)})`);
    t.ok(p.explained > 0.9 && p.explained <= 1, `${n} x ${D}: the two axes hold most of the variance of the normalised samples (${p.explained.toFixed(4)})`);
    t.same(Array.from(applyProjection(p, new Array(D).fill(0))), [0, 0], 'uncentred: zero stays zero');
    const again = fitPca(samples, { dim: 2 });
    t.same(Array.from(again.matrix), Array.from(p.matrix), 'a refit gives the same matrix');
    const c = fitPca(samples, { dim: 2, centre: true });
    t.ok(Math.abs(c.mean[0]! - 1) < 0.05, 'centred: the mean of the raw samples is subtracted');
    t.same(Array.from(c.matrix), Array.from(p.matrix), 'centring changes the offset, not the axes');
  }
  t.throws(() => fitPca(cloud(5, 40), { dim: 5 }), /output dimension in \[1, 4\]/, 'no more axes than samples - 1');
  t.throws(() => fitPca([[0, 0], [1, 1], [1, 2]], { dim: 1 }), /non-zero norm/, 'a zero sample');
});

t.test('NAP removes the within-class directions; WCCN equalises them; both keep zero at zero', async (t) => {
  const rng = createGenomeRng('nap');
  const samples: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 5; c++) {
    for (let i = 0; i < 30; i++) {
      samples.push([c + 0.05 * rng.normal(), 4 * rng.normal(), 0.05 * rng.normal()]);
      labels.push(c);
    }
  }
  const nap = fitNuisance(samples, labels, { method: 'nap', dim: 1, shrinkage: 0 });
  t.same([nap.inputDim, nap.outputDim], [3, 3]);
  const y = applyProjection(nap, [0, 1, 0]);
  t.ok(Math.abs(y[1]) < 0.01, `the dominant within-class axis is removed (${Array.from(y).map((v) => v.toFixed(3))})`);
  const keep = applyProjection(nap, [1, 0, 0]);
  t.ok(Math.abs(keep[0] - 1) < 0.01, 'the class axis is kept');
  const wccn = fitNuisance(samples, labels, { method: 'wccn', dim: 1, shrinkage: 0 });
  const a = applyProjection(wccn, [0, 4, 0]);
  const b = applyProjection(wccn, [0, 0, 0.05]);
  const norm = (v: Float64Array) => Math.hypot(...v);
  t.ok(Math.abs(norm(a) / norm(b) - 1) < 0.3, `one within-class standard deviation maps to about the same length on every axis (${norm(a).toFixed(3)} vs ${norm(b).toFixed(3)})`);
  t.same(Array.from(applyProjection(wccn, [0, 0, 0])), [0, 0, 0], 'zero stays zero');
  t.throws(() => fitNuisance(samples, labels, { method: 'nap', dim: 3, shrinkage: 0 }), /removed directions/);
});

t.test('stand-in photos: seeded scenes with detail, same seed same bytes, bad counts refused', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-standin-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const write = (dir: string, seed: string) => writeStandInPhotos({ outDir: path.join(base, dir), count: 2, size: 96, seed });
  const a = await write('a', 's');
  const b = await write('b', 's');
  const c = await write('c', 'other');
  t.same(a.map((f) => path.basename(f)), ['photo-000.png', 'photo-001.png']);
  t.same(a.map((f) => fs.readFileSync(f)), b.map((f) => fs.readFileSync(f)), 'same seed, same bytes');
  t.notSame(fs.readFileSync(a[0]!), fs.readFileSync(c[0]!), 'another seed, another scene');
  t.notSame(fs.readFileSync(a[0]!), fs.readFileSync(a[1]!), 'each photo its own scene');
  const rgb = await decodeRgb(a[0]!);
  t.match(rgb, { width: 96, height: 96 });
  t.ok(lumaDetail(rgb) >= 2, `fine detail enough for dfg genome photos (${lumaDetail(rgb).toFixed(1)} grey levels)`);
  await rejectsWith(t, writeStandInPhotos({ outDir: path.join(base, 'd'), count: 0, size: 96, seed: 's' }), /photo count/, 'no photos');
  await rejectsWith(t, writeStandInPhotos({ outDir: path.join(base, 'd'), count: 1, size: 32, seed: 's' }), /photo size/, 'too small');
  t.notOk(fs.existsSync(path.join(base, 'd')), 'a refusal writes nothing');
});
