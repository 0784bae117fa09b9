/**
 * `dfg genome photos`: real-photo patches for the simulated genome. Each photo under SRC is
 * cut into square patches at native resolution (no resampling, so camera and JPEG traces
 * stay) plus a few at 1/2 and 1/4 scale for diversity; patches with little fine detail
 * (sky, studio backdrops, flat artwork and gradients, common among wallpapers) are skipped:
 * they carry no residual signal, and generators' outputs are textured.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../errors.js';
import { cropRgb, decodeRgb, encodeRgb, resizeRgb, type Rgb } from './image-io.js';
import { createGenomeRng } from './rng.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp']);
const MAX_DEPTH = 16;

/** Image files under `dir` (recursive, symlinks not followed), sorted by path for determinism. */
export async function listImageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    const entries = await fs.readdir(d, { withFileTypes: true });
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p, depth + 1);
      else if (e.isFile() && IMAGE_EXT.has(path.extname(e.name).toLowerCase())) out.push(p);
    }
  };
  await walk(dir, 0);
  return out.sort();
}

export interface PhotoOptions {
  srcDir: string;
  outDir: string;
  /** Patch side in pixels (64..2048). */
  size: number;
  /** Native-resolution patches per photo; half as many at 1/2 scale, a quarter at 1/4. */
  perImage: number;
  seed: string;
  /** Patches whose mean absolute horizontal luma difference is below this (grey levels) are skipped. Default 2. */
  minDetail?: number;
}

export interface PhotoReport {
  photos: number;
  patches: number;
  /** Photos that could not be decoded or were too small, with the reason. */
  skipped: Array<{ file: string; reason: string }>;
}

/** Mean |Y[i, j+1] - Y[i, j]| in grey levels: how much fine detail a patch has. */
export function lumaDetail(img: Rgb): number {
  const luma = (i: number) => 0.299 * img.data[i * 3] + 0.587 * img.data[i * 3 + 1] + 0.114 * img.data[i * 3 + 2];
  let s = 0;
  for (let y = 0; y < img.height; y++) {
    let prev = luma(y * img.width);
    for (let x = 1; x < img.width; x++) {
      const v = luma(y * img.width + x);
      s += Math.abs(v - prev);
      prev = v;
    }
  }
  return s / (img.height * (img.width - 1));
}

/** Cuts the patches; file names say the photo, the scale and the position. */
export async function cutPhotoPatches(o: PhotoOptions): Promise<PhotoReport> {
  const invalid = (why: string) => dfgError('DFG_ERR_GENOME_INVALID', why);
  if (!Number.isInteger(o.size) || o.size < 64 || o.size > 2048) throw invalid(`Expected an integer in [64, 2048] for --size but received ${o.size}`);
  if (!Number.isInteger(o.perImage) || o.perImage < 1 || o.perImage > 1000) throw invalid(`Expected an integer in [1, 1000] for --per-image but received ${o.perImage}`);
  const files = await listImageFiles(o.srcDir).catch((err: unknown) => {
    throw invalid(`--src ${o.srcDir} cannot be read: ${(err as Error).message}`);
  });
  if (files.length === 0) throw invalid(`--src ${o.srcDir} holds no .png, .jpg, .jpeg or .webp files`);
  await fs.mkdir(o.outDir, { recursive: true });
  const report: PhotoReport = { photos: 0, patches: 0, skipped: [] };
  const minDetail = o.minDetail ?? 2;
  for (const file of files) {
    const rel = path.relative(o.srcDir, file);
    let photo: Rgb;
    try {
      photo = await decodeRgb(file);
    } catch (err) {
      report.skipped.push({ file: rel, reason: (err as Error).message.split('\n')[0] });
      continue;
    }
    if (Math.min(photo.width, photo.height) < o.size) {
      report.skipped.push({ file: rel, reason: `${photo.width}x${photo.height} is smaller than ${o.size} px` });
      continue;
    }
    report.photos++;
    const stem = rel.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]+/g, '_');
    const rng = createGenomeRng(`${o.seed}:photo:${rel}`);
    for (const [scale, count] of [[1, o.perImage], [2, Math.ceil(o.perImage / 2)], [4, Math.ceil(o.perImage / 4)]] as const) {
      const img = scale === 1 ? photo : await resizeRgb(photo, Math.round(photo.width / scale), Math.round(photo.height / scale), 'lanczos3');
      if (Math.min(img.width, img.height) < o.size) continue;
      // A few more tries than patches, so flat regions can be skipped.
      for (let tries = 0, kept = 0; kept < count && tries < count * 4; tries++) {
        const left = rng.int(img.width - o.size + 1);
        const top = rng.int(img.height - o.size + 1);
        const patch = cropRgb(img, left, top, o.size, o.size);
        if (lumaDetail(patch) < minDetail) continue;
        await fs.writeFile(path.join(o.outDir, `${stem}__s${scale}_${left}_${top}.png`), await encodeRgb(patch, { format: 'png' }));
        kept++;
        report.patches++;
      }
    }
  }
  return report;
}
