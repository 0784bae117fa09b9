/**
 * Region helpers for the local families (face swap, editing, reenactment): soft masks,
 * colour matching, pasting, and a smooth warp.
 */
import { createRaster, type Raster } from '../raster.js';
import type { GenomeRng } from '../rng.js';

export type RegionShape = 'ellipse' | 'rect';

/** A size x size mask, 1 inside the shape, falling to 0 over `feather` pixels at its border. */
export function softMask(size: number, shape: RegionShape, feather: number): Float32Array {
  const m = new Float32Array(size * size);
  const r = size / 2;
  const f = Math.max(feather, 0.5);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dy = (y + 0.5 - r) / r;
      const dx = (x + 0.5 - r) / r;
      // Distance to the border in pixels (positive inside).
      const inside = shape === 'ellipse'
        ? (1 - Math.sqrt(dx * dx + dy * dy)) * r
        : Math.min(r - Math.abs(x + 0.5 - r), r - Math.abs(y + 0.5 - r));
      m[y * size + x] = Math.min(1, Math.max(0, inside / f));
    }
  }
  return m;
}

/** Shifts each channel of `src` to the mean and standard deviation of `ref` (same size). */
export function matchColour(src: Raster, ref: Raster, strength: number): Raster {
  const plane = src.h * src.w;
  const out = createRaster(src.c, src.h, src.w, src.data.slice());
  for (let c = 0; c < src.c; c++) {
    const stats = (d: Float32Array) => {
      let s = 0;
      let s2 = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) {
        s += d[i];
        s2 += d[i] * d[i];
      }
      const mean = s / plane;
      return [mean, Math.sqrt(Math.max(s2 / plane - mean * mean, 1e-6))];
    };
    const [ms, ss] = stats(src.data);
    const [mr, sr] = stats(ref.data);
    const gain = 1 + strength * (sr / ss - 1);
    for (let i = c * plane; i < (c + 1) * plane; i++) out.data[i] = mr * strength + ms * (1 - strength) + (src.data[i] - ms) * gain;
  }
  return out;
}

/** Blends the square `patch` into `target` at (top, left) through `mask`, in place. */
export function pasteMasked(target: Raster, patch: Raster, mask: Float32Array, top: number, left: number): void {
  const s = patch.w;
  for (let c = 0; c < target.c; c++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const a = mask[y * s + x];
        if (a === 0) continue;
        const t = (c * target.h + top + y) * target.w + left + x;
        target.data[t] = (1 - a) * target.data[t] + a * patch.data[(c * s + y) * s + x];
      }
    }
  }
}

/**
 * Resamples a square patch through a smooth random displacement field (a few random
 * sinusoids, peak `amplitude` pixels), bilinear, edges clamped: motion transfer moves
 * content by sub-pixel amounts, which leaves interpolation traces.
 */
export function smoothWarp(patch: Raster, amplitude: number, waves: number, rng: GenomeRng): Raster {
  const s = patch.w;
  const comps = Array.from({ length: waves }, () => ({
    fx: rng.uniform(0.5, 2.5) / s, fy: rng.uniform(0.5, 2.5) / s, phase: rng.uniform(0, 2 * Math.PI), axis: rng.int(2),
  }));
  const out = createRaster(patch.c, s, s);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let dx = 0;
      let dy = 0;
      for (const k of comps) {
        const v = (amplitude / waves) * Math.sin(2 * Math.PI * (k.fx * x + k.fy * y) + k.phase);
        if (k.axis === 0) dx += v;
        else dy += v;
      }
      const sx = Math.min(Math.max(x + dx, 0), s - 1);
      const sy = Math.min(Math.max(y + dy, 0), s - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, s - 1);
      const y1 = Math.min(y0 + 1, s - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < patch.c; c++) {
        const p = (yy: number, xx: number) => patch.data[(c * s + yy) * s + xx];
        out.data[(c * s + y) * s + x] = (p(y0, x0) * (1 - fx) + p(y0, x1) * fx) * (1 - fy) + (p(y1, x0) * (1 - fx) + p(y1, x1) * fx) * fy;
      }
    }
  }
  return out;
}
