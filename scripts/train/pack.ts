/**
 * Packs training data for `scripts/train/train.py` into one compact file that travels to a GPU
 * machine without our data folders: native-resolution crops (never resized: resizing erases
 * generator traces) as uint8 arrays, with their algorithm and source-group labels.
 *
 *   node dist/scripts/train/pack.js --data DIR [--data DIR2 ...] --out FILE
 *        [--crop 64] [--per-image 12] [--max-mib 40] [--seed 1]
 *
 * DIR is a dataset folder (ROOT/<algorithm>/*, optional genome.json), e.g. wild-train or a
 * `dfg genome synth` genome. Crops sit at offsets that are multiples of 8 (the JPEG block grid);
 * images smaller than the crop are skipped. When the packed file would pass --max-mib the crops
 * per image are reduced until it fits.
 *
 * File format (version 1), gzip-compressed as a whole:
 *   u32 LE  header length H
 *   H bytes UTF-8 JSON header: { format: 'dfg-train-pack', version: 1, crop, count, classes:
 *           [{ name, forgeryType, architecture, dataset }], groups: number, sources: [...] }
 *   count × i32 LE  class index of each crop
 *   count × i32 LE  source group of each crop (unique across classes; shots and probes of a
 *                   leave-groups-out validation never share one)
 *   count × crop × crop × 3 uint8  the crops, RGB, row-major (HWC)
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { scanDataset } from '../../src/evaluation/dataset.js';
import { createRng } from '../../src/math/random.js';

export interface PackOptions {
  data: string[];
  out: string;
  crop: number;
  perImage: number;
  maxMiB: number;
  seed: string;
  log?: (line: string) => void;
}

interface Image {
  classIndex: number;
  group: number;
  width: number;
  height: number;
  rgb: Buffer;
}

function arg(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === `--${name}` && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
  return out;
}

/** Crop offsets along one axis: random multiples of 8 that keep the crop inside. */
function offsets(length: number, crop: number, n: number, next: () => number): number[] {
  const slots = Math.floor((length - crop) / 8) + 1;
  return Array.from({ length: n }, () => Math.floor(next() * slots) * 8);
}

/** Packs the datasets (see the module comment); resolves to the header written. */
export async function pack(o: PackOptions): Promise<{ count: number; classes: number; bytes: number; perImage: number }> {
  const log = o.log ?? ((l: string) => console.error(l));
  if (!Number.isInteger(o.crop) || o.crop < 16 || o.crop % 8 !== 0) throw new Error(`Expected a multiple of 8 from 16 for --crop but received ${o.crop}`);
  const classes: { name: string; forgeryType: string; architecture: string; dataset: string }[] = [];
  const images: Image[] = [];
  const groupIds = new Map<string, number>();
  let skipped = 0;
  for (const dir of o.data) {
    const ds = await scanDataset(path.resolve(dir));
    const dataset = path.basename(path.resolve(dir));
    for (const a of ds.algorithms) {
      const classIndex = classes.length;
      classes.push({ name: `${dataset}/${a.name}`, forgeryType: a.forgeryType, architecture: a.architecture, dataset });
      for (const f of a.files) {
        const { data, info } = await sharp(f.path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
        if (info.width < o.crop || info.height < o.crop || info.channels !== 3) {
          skipped += 1;
          continue;
        }
        const key = `${dataset}/${a.name}/${f.group}`;
        if (!groupIds.has(key)) groupIds.set(key, groupIds.size);
        images.push({ classIndex, group: groupIds.get(key)!, width: info.width, height: info.height, rgb: data });
      }
    }
  }
  if (images.length === 0) throw new Error(`no image of at least ${o.crop} px in ${o.data.join(', ')}`);
  const cropBytes = o.crop * o.crop * 3;
  for (let perImage = o.perImage; perImage >= 1; perImage = Math.floor(perImage * 0.75)) {
    const rng = createRng(`pack:${o.seed}`);
    const labels: number[] = [];
    const groups: number[] = [];
    const pixels = Buffer.alloc(images.length * perImage * cropBytes);
    let count = 0;
    for (const img of images) {
      const xs = offsets(img.width, o.crop, perImage, () => rng.next());
      const ys = offsets(img.height, o.crop, perImage, () => rng.next());
      for (let k = 0; k < perImage; k++) {
        const base = count * cropBytes;
        for (let y = 0; y < o.crop; y++) {
          const src = ((ys[k]! + y) * img.width + xs[k]!) * 3;
          img.rgb.copy(pixels, base + y * o.crop * 3, src, src + o.crop * 3);
        }
        labels.push(img.classIndex);
        groups.push(img.group);
        count += 1;
      }
    }
    const header = Buffer.from(JSON.stringify({ format: 'dfg-train-pack', version: 1, crop: o.crop, count, classes, groups: groupIds.size, sources: o.data.map((d) => path.basename(path.resolve(d))), seed: o.seed, perImage }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const body = Buffer.concat([len, header, Buffer.from(Int32Array.from(labels).buffer), Buffer.from(Int32Array.from(groups).buffer), pixels.subarray(0, count * cropBytes)]);
    const packed = zlib.gzipSync(body, { level: 6 });
    if (packed.length > o.maxMiB * 1024 * 1024 && perImage > 1) {
      log(`${perImage} crops per image: ${(packed.length / 2 ** 20).toFixed(1)} MiB, over ${o.maxMiB} MiB; fewer crops`);
      continue;
    }
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    fs.writeFileSync(o.out, packed);
    log(`${count} crops of ${o.crop} px (${perImage} per image) from ${images.length} images of ${classes.length} classes (${skipped} smaller images skipped): ${(packed.length / 2 ** 20).toFixed(1)} MiB → ${o.out}`);
    return { count, classes: classes.length, bytes: packed.length, perImage };
  }
  throw new Error(`cannot fit one crop per image in ${o.maxMiB} MiB`);
}

async function main(argv: string[]): Promise<void> {
  const data = arg(argv, 'data');
  const out = arg(argv, 'out')[0];
  if (data.length === 0 || !out) {
    console.error('usage: pack.js --data DIR [--data DIR2 ...] --out FILE [--crop 64] [--per-image 12] [--max-mib 40] [--seed 1]');
    process.exit(2);
  }
  await pack({
    data,
    out,
    crop: Number(arg(argv, 'crop')[0] ?? 64),
    perImage: Number(arg(argv, 'per-image')[0] ?? 12),
    maxMiB: Number(arg(argv, 'max-mib')[0] ?? 40),
    seed: arg(argv, 'seed')[0] ?? '1',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
