/**
 * Dev script, not a test: embeds a folder of images (--data, e.g. a wild-dev copy) with a
 * model from models/<id>/ through sharp + onnxruntime-node, then prints leave-source-out
 * nearest-neighbour Rank-1 with a few registration shots per algorithm, next to a content
 * baseline (16x16 RGB thumbnail). The folder is for validation only: nothing here fits a
 * parameter on it.
 *
 *   node dist/scripts/quick-eval-model.js [--model residual-v1] [--models-dir models]
 *        --data DIR [--shots 5] [--splits 20]
 *
 * Protocol: for each split and algorithm, sources (file name part before `__t`) are drawn in
 * random order and their images taken as registration shots until `shots` are reached; probes
 * are the algorithm's images from sources that gave no shot. An algorithm with one source only
 * cannot be split by source: its remaining images are probes and are reported apart
 * ("same-source"), since tiles of one grid share more than the generator.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../src/embedding/manifest-schema.js';
import { seededRandom } from '../src/math/random.js';

const IMAGE_EXT = /\.(png|jpe?g|webp)$/i;

export interface Item {
  algorithm: string;
  source: string;
  file: string;
}

export function listDataset(root: string): Item[] {
  const items: Item[] = [];
  for (const algorithm of fs.readdirSync(root).sort()) {
    const dir = path.join(root, algorithm);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!IMAGE_EXT.test(name)) continue;
      const cut = name.indexOf('__t');
      const source = cut >= 0 ? name.slice(0, cut) : name.replace(IMAGE_EXT, '');
      items.push({ algorithm, source, file: path.join(dir, name) });
    }
  }
  return items;
}

/** Decoded RGB pixels, alpha dropped, never resized. */
export interface Rgb {
  width: number;
  height: number;
  data: Buffer;
}

export async function decodeRgb(file: string): Promise<Rgb> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected 3 channels after conversion, got ${info.channels}`);
  return { width: info.width, height: info.height, data };
}

/** Top-left corners of the crop plan along one axis: evenly spread, snapped to `multiple`. */
function axisOffsets(length: number, extent: number, count: number, multiple: number): number[] {
  if (count <= 1 || length <= extent) return [Math.floor((length - extent) / 2 / multiple) * multiple];
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(Math.floor(((length - extent) * k) / (count - 1) / multiple) * multiple);
  return [...new Set(out)];
}

/**
 * The crop plan of a manifest: square crops of `size` (fewer along an axis shorter than it),
 * each side cut to a multiple of `multiple`; `grid` spreads up to `count` crops on a
 * ceil(sqrt(count)) grid.
 */
export function cropBoxes(m: Manifest, width: number, height: number): Array<{ left: number; top: number; w: number; h: number }> {
  const { size, count, multiple, minSize, plan } = m.crop;
  const w = Math.min(size, Math.floor(width / multiple) * multiple);
  const h = Math.min(size, Math.floor(height / multiple) * multiple);
  if (w < minSize || h < minSize) throw new Error(`image ${width}x${height} is below the model minimum ${minSize}`);
  const per = plan === 'grid' ? Math.ceil(Math.sqrt(count)) : 1;
  const xs = axisOffsets(width, w, per, multiple);
  const ys = axisOffsets(height, h, per, multiple);
  const boxes = [];
  for (const top of ys) for (const left of xs) boxes.push({ left, top, w, h });
  return boxes.slice(0, plan === 'grid' ? count : 1);
}

export function cropTensor(m: Manifest, img: Rgb): ort.Tensor {
  const boxes = cropBoxes(m, img.width, img.height);
  const { w, h } = boxes[0]!;
  const plane = w * h;
  const out = new Float32Array(boxes.length * 3 * plane);
  const { scale, mean, std } = m.input;
  const mu = [0, 1, 2].map((c) => mean[c] ?? mean[0]!);
  const sd = [0, 1, 2].map((c) => std[c] ?? std[0]!);
  boxes.forEach((b, n) => {
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const src = ((b.top + yy) * img.width + b.left + xx) * 3;
        for (let c = 0; c < 3; c++) {
          out[(n * 3 + c) * plane + yy * w + xx] = (img.data[src + c]! * scale - mu[c]!) / sd[c]!;
        }
      }
    }
  });
  return new ort.Tensor('float32', out, [boxes.length, 3, h, w]);
}

function l2(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

/** Runtime contract: mean of the crop vectors, then L2 when the manifest says so. */
export async function embed(session: ort.InferenceSession, m: Manifest, img: Rgb): Promise<Float32Array> {
  const out = await session.run({ [m.input.name]: cropTensor(m, img) });
  const t = out[m.output.name]!;
  const [n, d] = t.dims as [number, number];
  const data = t.data as Float32Array;
  const v = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) v[j]! += data[i * d + j]! / n;
  return m.output.normalise === 'l2' ? l2(v) : v;
}

export async function thumbnail(file: string): Promise<Float32Array> {
  const buf = await sharp(file).removeAlpha().toColourspace('srgb').resize(16, 16, { fit: 'fill' }).raw().toBuffer();
  const v = Float32Array.from(buf, (b) => b / 255);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return l2(v.map((x) => x - mean));
}


function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export interface Split {
  shots: number[];
  probes: Array<{ index: number; sameSource: boolean }>;
}

export function makeSplit(items: Item[], shots: number, seed: number): Split {
  const rnd = seededRandom(seed);
  const split: Split = { shots: [], probes: [] };
  const algorithms = [...new Set(items.map((i) => i.algorithm))];
  for (const alg of algorithms) {
    const bySource = new Map<string, number[]>();
    items.forEach((it, i) => {
      if (it.algorithm === alg) bySource.set(it.source, [...(bySource.get(it.source) ?? []), i]);
    });
    const sources = shuffle([...bySource.keys()].sort(), rnd);
    const chosen: number[] = [];
    const used = new Set<string>();
    for (const s of sources) {
      if (chosen.length >= shots) break;
      for (const i of shuffle(bySource.get(s)!, rnd)) {
        if (chosen.length >= shots) break;
        chosen.push(i);
        used.add(s);
      }
    }
    split.shots.push(...chosen);
    const cross = sources.filter((s) => !used.has(s)).flatMap((s) => bySource.get(s)!);
    if (cross.length > 0) split.probes.push(...cross.map((index) => ({ index, sameSource: false })));
    else {
      const rest = [...bySource.values()].flat().filter((i) => !chosen.includes(i));
      split.probes.push(...rest.map((index) => ({ index, sameSource: true })));
    }
  }
  return split;
}

export interface Scores {
  micro: number;
  macro: number;
  crossSource: number;
  perAlgorithm: Map<string, number>;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** 1-NN Rank-1 averaged over splits. Vectors must be L2-normalised (cosine = dot). */
export function rank1(items: Item[], vectors: Float32Array[], splits: Split[]): Scores {
  const hits = new Map<string, [number, number]>();
  let cross = [0, 0];
  for (const sp of splits) {
    for (const p of sp.probes) {
      let best = -Infinity;
      let bestAlg = '';
      for (const s of sp.shots) {
        const sim = dot(vectors[p.index]!, vectors[s]!);
        if (sim > best) [best, bestAlg] = [sim, items[s]!.algorithm];
      }
      const alg = items[p.index]!.algorithm;
      const ok = bestAlg === alg ? 1 : 0;
      const h = hits.get(alg) ?? [0, 0];
      hits.set(alg, [h[0]! + ok, h[1]! + 1]);
      if (!p.sameSource) cross = [cross[0]! + ok, cross[1]! + 1];
    }
  }
  const perAlgorithm = new Map([...hits].map(([a, [k, n]]) => [a, k / n]));
  const totals = [...hits.values()].reduce((acc, [k, n]) => [acc[0]! + k, acc[1]! + n], [0, 0]);
  const macro = [...perAlgorithm.values()].reduce((a, b) => a + b, 0) / perAlgorithm.size;
  return { micro: totals[0]! / totals[1]!, macro, crossSource: cross[0]! / cross[1]!, perAlgorithm };
}

function arg(name: string, dflt?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

async function main(): Promise<void> {
  const modelId = arg('model', 'residual-v1');
  const modelsDir = arg('models-dir', 'models');
  const root = arg('data');
  const shots = Number(arg('shots', '5'));
  const nSplits = Number(arg('splits', '20'));
  const manifest = JSON.parse(fs.readFileSync(path.join(modelsDir, modelId, 'model.json'), 'utf8')) as Manifest;
  const session = await ort.InferenceSession.create(path.join(modelsDir, modelId, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const items = listDataset(root);
  const model: Float32Array[] = [];
  const thumbs: Float32Array[] = [];
  let embedMs = 0;
  for (const it of items) {
    const img = await decodeRgb(it.file);
    const t0 = performance.now();
    model.push(await embed(session, manifest, img));
    embedMs += performance.now() - t0;
    thumbs.push(await thumbnail(it.file));
  }
  const splits = Array.from({ length: nSplits }, (_, s) => makeSplit(items, shots, 1000 + s));
  const m = rank1(items, model, splits);
  const b = rank1(items, thumbs, splits);
  const algorithms = [...m.perAlgorithm.keys()];
  const pct = (x: number) => x.toFixed(3);
  console.log(`${items.length} images, ${algorithms.length} algorithms, ${shots} shots, ${nSplits} splits; chance ${pct(1 / algorithms.length)}`);
  console.log(`model inference ${(embedMs / items.length).toFixed(1)} ms/image (1 thread)`);
  console.log(['algorithm'.padEnd(18), modelId.padStart(12), 'thumbnail'.padStart(10)].join(' '));
  for (const a of algorithms) console.log([a.padEnd(18), pct(m.perAlgorithm.get(a)!).padStart(12), pct(b.perAlgorithm.get(a)!).padStart(10)].join(' '));
  console.log(['Rank-1 (micro)'.padEnd(18), pct(m.micro).padStart(12), pct(b.micro).padStart(10)].join(' '));
  console.log(['Rank-1 (macro)'.padEnd(18), pct(m.macro).padStart(12), pct(b.macro).padStart(10)].join(' '));
  console.log(['cross-source only'.padEnd(18), pct(m.crossSource).padStart(12), pct(b.crossSource).padStart(10)].join(' '));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
