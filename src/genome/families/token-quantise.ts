/**
 * Multi-scale residual token quantisation, as visual autoregressive models (VAR) tokenise:
 * the latent is approximated coarse to fine; at each scale the remaining residual is pooled
 * to a k x k token map, each token snapped to its nearest codebook vector, brought back to
 * the latent size (nearest, then a 3x3 refinement convolution) and added to the estimate.
 * Codebook and refinement weights are random per algorithm.
 */
import { addScaled, conv2d, createRaster, downsampleArea, type Raster } from '../raster.js';
import { createGenomeRng } from '../rng.js';

export interface TokenParams {
  /** Codebook vectors shared by every scale. */
  codebookSize: number;
  /** Standard deviation of the codebook entries (normalised latent units). */
  codebookStd: number;
  /** Gain of the refinement convolution's random part. */
  refine: number;
  codebookSeed: number;
}

/** Token-map sizes: the divisors of n, coarse to fine (n itself last). */
export function tokenScales(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= n; k++) if (n % k === 0) out.push(k);
  return out;
}

/** Nearest-neighbour upsampling by an integer factor. */
function repeat(x: Raster, f: number): Raster {
  if (f === 1) return x;
  const out = createRaster(x.c, x.h * f, x.w * f);
  for (let c = 0; c < x.c; c++) {
    for (let y = 0; y < out.h; y++) {
      for (let xx = 0; xx < out.w; xx++) out.data[(c * out.h + y) * out.w + xx] = x.data[(c * x.h + Math.floor(y / f)) * x.w + Math.floor(xx / f)];
    }
  }
  return out;
}

/** Quantises a square latent [C, n, n] (n = its size) scale by scale; returns the estimate. */
export function quantiseMultiScale(p: TokenParams, latent: Raster): Raster {
  const rng = createGenomeRng(`codebook:${p.codebookSeed}`);
  const C = latent.c;
  const n = latent.h;
  // Entries of varied length (and entry 0 at the origin), so fine scales with small residuals
  // find codewords that do not overshoot.
  const codebook = new Float32Array(p.codebookSize * C);
  for (let e = 1; e < p.codebookSize; e++) {
    const radius = rng.uniform(0.05, 1);
    for (let c = 0; c < C; c++) codebook[e * C + c] = p.codebookStd * radius * rng.normal();
  }
  const refine = Float32Array.from({ length: C * C * 9 }, () => p.refine * rng.normal() / 3);
  for (let c = 0; c < C; c++) refine[(c * C + c) * 9 + 4] += 1;
  let estimate = createRaster(C, n, n);
  for (const k of tokenScales(n)) {
    const residual = downsampleArea(addScaled(latent, estimate, -1), n / k);
    const tokens = createRaster(C, k, k);
    for (let i = 0; i < k * k; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let e = 0; e < p.codebookSize; e++) {
        let d = 0;
        for (let c = 0; c < C; c++) {
          const diff = residual.data[c * k * k + i] - codebook[e * C + c];
          d += diff * diff;
        }
        if (d < bestD) {
          bestD = d;
          best = e;
        }
      }
      for (let c = 0; c < C; c++) tokens.data[c * k * k + i] = codebook[best * C + c];
    }
    estimate = addScaled(estimate, conv2d(repeat(tokens, n / k), refine, 3, C));
  }
  return estimate;
}
