/**
 * Experiment helper, not part of the service: decodes a dataset folder (wild-dev layout:
 * ROOT/<algorithm>/*, or a flat folder of patches with --flat) with sharp, never resizing,
 * and writes for each image the centred crop of at most --crop px (cut to multiples of 8) as
 * raw RGB, plus the mean of a model's per-crop outputs over its manifest crop plan (before L2),
 * so that numpy scripts (scripts/experiments/*.py) can try feature and scoring variants fast.
 *
 *   node dist/scripts/experiments/dump-dataset.js --data DIR --out FILE_PREFIX
 *        [--flat] [--crop 512] [--model residual-v1] [--limit N]
 *
 * Output: PREFIX.json (items: algorithm, source, file, width, height of the stored crop, byte
 * offset), PREFIX.rgb (uint8 HWC crops back to back), PREFIX.<model>.f32 (float32 [n, dim]).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Manifest } from '../../src/embedding/manifest-schema.js';
import { cropTensor, decodeRgb, listDataset, type Item, type Rgb } from '../quick-eval-model.js';

function arg(name: string, dflt?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

function boxPool(img: Rgb, p: number): Rgb {
  if (p <= 1) return img;
  const width = Math.floor(img.width / p);
  const height = Math.floor(img.height / p);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < p; dy++) for (let dx = 0; dx < p; dx++) sum += img.data[((y * p + dy) * img.width + x * p + dx) * 3 + c]!;
        data[(y * width + x) * 3 + c] = Math.round(sum / (p * p));
      }
    }
  }
  return { width, height, data };
}

async function transformed(file: string, spec: string): Promise<Rgb> {
  const [kind, value] = spec.split(':');
  const v = Number(value);
  let img = sharp(file).removeAlpha().toColourspace('srgb');
  if (kind === 'jpeg') img = sharp(await img.jpeg({ quality: v }).toBuffer());
  else if (kind === 'webp') img = sharp(await img.webp({ quality: v }).toBuffer());
  else if (kind === 'resize') {
    const m = await sharp(file).metadata();
    img = sharp(await img.resize(Math.round(m.width! * v), Math.round(m.height! * v), { kernel: 'lanczos3' }).png().toBuffer());
  } else throw new Error(`unknown --transform ${spec}`);
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

async function main(): Promise<void> {
  const root = arg('data');
  const out = arg('out');
  const crop = Number(arg('crop', '512'));
  const models = arg('model', 'residual-v1').split(',').filter(Boolean);
  const modelsDir = arg('models-dir', 'models');
  const limit = Number(arg('limit', '0'));
  // --crop-size S --crop-count K: override the manifests' crop plan; --per-crop: also keep every
  // crop's output (PREFIX.<model>.crops.f32, counts in PREFIX.json) for crop-level scoring.
  const cropSize = Number(arg('crop-size', '0'));
  const cropCount = Number(arg('crop-count', '0'));
  const perCrop = process.argv.includes('--per-crop');
  // --pool P: average P x P pixel blocks first (a coarser scale of the same image).
  const pool = Number(arg('pool', '1'));
  const minSize = Number(arg('min-size', '0'));
  // --transform jpeg:Q | resize:F | webp:Q: post-process every image first (a re-encoded or
  // rescaled copy), for gallery-augmentation experiments.
  const transform = arg('transform', '');
  let items: Item[];
  if (process.argv.includes('--flat')) {
    items = fs.readdirSync(root).filter((n) => /\.(png|jpe?g|webp)$/i.test(n)).sort().map((n) => ({ algorithm: 'real', source: n, file: path.join(root, n) }));
  } else items = listDataset(root);
  if (limit > 0) items = items.slice(0, limit);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const readManifest = (id: string): Manifest => {
    const m = JSON.parse(fs.readFileSync(path.join(modelsDir, id, 'model.json'), 'utf8')) as Manifest;
    if (cropSize > 0) m.crop = { ...m.crop, size: cropSize, minSize: Math.min(m.crop.minSize, cropSize) };
    if (cropCount > 0) m.crop = { ...m.crop, count: cropCount };
    if (minSize > 0) m.crop = { ...m.crop, minSize };
    return m;
  };
  const crops = new Map(models.map((id) => [id, [] as Float32Array[]]));
  const cropCounts: number[] = [];
  const sessions = await Promise.all(models.map(async (id) => ({
    id,
    manifest: readManifest(id),
    session: await ort.InferenceSession.create(path.join(modelsDir, id, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 }),
  })));
  const rgb = fs.openSync(`${out}.rgb`, 'w');
  const feats = new Map(models.map((id) => [id, [] as Float32Array[]]));
  const index: Array<Item & { width: number; height: number; offset: number }> = [];
  let offset = 0;
  for (const it of items) {
    const img = boxPool(transform ? await transformed(it.file, transform) : await decodeRgb(it.file), pool);
    const w = Math.min(crop, Math.floor(img.width / 8) * 8);
    const h = Math.min(crop, Math.floor(img.height / 8) * 8);
    const left = Math.floor((img.width - w) / 2);
    const top = Math.floor((img.height - h) / 2);
    const buf = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) img.data.copy(buf, y * w * 3, ((top + y) * img.width + left) * 3, ((top + y) * img.width + left + w) * 3);
    fs.writeSync(rgb, buf);
    index.push({ ...it, width: w, height: h, offset });
    offset += buf.length;
    for (const s of sessions) {
      const o = await s.session.run({ [s.manifest.input.name]: cropTensor(s.manifest, img) });
      const t = o[s.manifest.output.name]!;
      const [n, d] = t.dims as [number, number];
      const v = new Float32Array(d);
      const data = t.data as Float32Array;
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) v[j]! += data[i * d + j]! / n;
      feats.get(s.id)!.push(v);
      if (perCrop) {
        crops.get(s.id)!.push(Float32Array.from(data.subarray(0, n * d)));
        if (s === sessions[0]) cropCounts.push(n);
      }
    }
  }
  fs.closeSync(rgb);
  fs.writeFileSync(`${out}.json`, JSON.stringify({ root, crop, items: index, ...(perCrop ? { cropCounts } : {}) }));
  if (perCrop) {
    for (const [id, cs] of crops) {
      const all = new Float32Array(cs.reduce((n, v) => n + v.length, 0));
      let k = 0;
      for (const v of cs) { all.set(v, k); k += v.length; }
      fs.writeFileSync(`${out}.${id}.crops.f32`, Buffer.from(all.buffer));
    }
  }
  for (const [id, vs] of feats) {
    const all = new Float32Array(vs.reduce((n, v) => n + v.length, 0));
    let k = 0;
    for (const v of vs) { all.set(v, k); k += v.length; }
    fs.writeFileSync(`${out}.${id}.f32`, Buffer.from(all.buffer));
  }
  console.log(`${items.length} images → ${out}.*`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
