/**
 * Stand-in photos for the genome when no real photos are at hand (`dfg demo`): seeded
 * procedural scenes (a lit gradient, soft blobs, hard-edged shapes, multi-octave texture and
 * white sensor-like noise) saved as PNG, so `synthGenome` has textured material to forge from. They
 * look like no camera's output; models are fitted on real photos (`dfg genome photos`), these
 * only feed demonstrations and tests.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../errors.js';
import { encodeRgb } from './image-io.js';
import { createGenomeRng, type GenomeRng } from './rng.js';

export interface StandInOptions {
  /** Output folder (created; files are named photo-NNN.png). */
  outDir: string;
  count: number;
  /** Side in pixels (64..2048). */
  size: number;
  seed: string;
}

/** Value noise on a grid of `cells` cells, bilinear between lattice values, in [-1, 1]. */
function valueNoise(size: number, cells: number, rng: GenomeRng): Float32Array {
  const n = cells + 1;
  const lattice = Float32Array.from({ length: n * n }, () => rng.uniform(-1, 1));
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = (y / size) * cells;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < size; x++) {
      const gx = (x / size) * cells;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const a = lattice[y0 * n + x0] * (1 - fx) + lattice[y0 * n + x0 + 1] * fx;
      const b = lattice[(y0 + 1) * n + x0] * (1 - fx) + lattice[(y0 + 1) * n + x0 + 1] * fx;
      out[y * size + x] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}

/** One scene, interleaved 8-bit RGB. */
export function standInPhoto(size: number, rng: GenomeRng): Uint8Array {
  const plane = size * size;
  const img = new Float32Array(plane * 3);
  // A lit gradient in a random direction between two colours.
  const c0 = [0, 1, 2].map(() => rng.uniform(30, 200));
  const c1 = [0, 1, 2].map(() => rng.uniform(30, 200));
  const angle = rng.uniform(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x / size - 0.5) * dx + (y / size - 0.5) * dy)));
      for (let c = 0; c < 3; c++) img[(y * size + x) * 3 + c] = c0[c] * (1 - t) + c1[c] * t;
    }
  }
  // Soft blobs and hard-edged shapes (rectangles, discs) in their own colours.
  const shapes = 6 + rng.int(8);
  for (let s = 0; s < shapes; s++) {
    const colour = [0, 1, 2].map(() => rng.uniform(10, 245));
    const cx = rng.uniform(0, size);
    const cy = rng.uniform(0, size);
    const r = rng.uniform(0.05, 0.3) * size;
    const kind = rng.int(3);
    const alpha = rng.uniform(0.4, 1);
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(size, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(size, Math.ceil(cx + r)); x++) {
        const d = Math.hypot(x - cx, y - cy) / r;
        const w = kind === 0 ? Math.max(0, 1 - d * d) : kind === 1 ? (d <= 1 ? 1 : 0) : 1;
        if (w <= 0) continue;
        const i = (y * size + x) * 3;
        for (let c = 0; c < 3; c++) img[i + c] += alpha * w * (colour[c] - img[i + c]);
      }
    }
  }
  // Texture at several scales (shared by the channels, with a per-channel tint), then noise.
  const texture = new Float32Array(plane);
  // No octave finer than 8 px a cell: a lattice interpolated at 2 px would be an upsampling trace.
  for (const [cells, amp] of [[4, 18], [16, 10], [Math.max(2, Math.round(size / 8)), 7]] as const) {
    const n = valueNoise(size, cells, rng);
    for (let i = 0; i < plane; i++) texture[i] += amp * n[i];
  }
  const tint = [0, 1, 2].map(() => rng.uniform(0.7, 1.3));
  const sigma = rng.uniform(2, 5);
  const out = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = img[i * 3 + c] + tint[c] * texture[i] + sigma * rng.normal();
      out[i * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return out;
}

/** Writes `count` stand-in photos; resolves to their paths. Same options, same bytes. */
export async function writeStandInPhotos(o: StandInOptions): Promise<string[]> {
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 1000) throw dfgError('DFG_ERR_GENOME_INVALID', `Expected an integer in [1, 1000] for the photo count but received ${o.count}`);
  if (!Number.isInteger(o.size) || o.size < 64 || o.size > 2048) throw dfgError('DFG_ERR_GENOME_INVALID', `Expected an integer in [64, 2048] for the photo size but received ${o.size}`);
  await fs.mkdir(o.outDir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < o.count; i++) {
    const data = standInPhoto(o.size, createGenomeRng(`${o.seed}:stand-in:${i}`));
    const file = path.join(o.outDir, `photo-${String(i).padStart(3, '0')}.png`);
    await fs.writeFile(file, await encodeRgb({ data, width: o.size, height: o.size }, { format: 'png' }));
    files.push(file);
  }
  return files;
}
