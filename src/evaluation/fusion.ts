/**
 * Late fusion of several embedding models: each model's vector is L2-normalised, scaled by
 * sqrt(weight / total weight) and concatenated. The result has unit norm, and the cosine of two
 * fused vectors is the weighted mean of the per-model cosines. Pure.
 */
import { dfgError } from '../errors.js';

/** Weights for `n` models: equal when none are given; refuses a wrong count or a non-positive weight. */
export function fusionWeights(n: number, weights?: readonly number[]): number[] {
  if (!weights || weights.length === 0) return new Array<number>(n).fill(1);
  if (weights.length !== n) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--weights has ${weights.length} value(s) for ${n} model(s)`);
  for (const w of weights) {
    if (!(Number.isFinite(w) && w > 0)) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--weights must be positive numbers, got ${w}`);
  }
  return [...weights];
}

/** Concatenates per-model vectors into one unit vector (see the module comment). */
export function fuseVectors(parts: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  let outSq = 0;
  parts.forEach((p, i) => {
    let sq = 0;
    for (let j = 0; j < p.length; j += 1) sq += p[j] * p[j];
    // A zero part contributes nothing (it has no direction), the others keep their share.
    const scale = sq === 0 ? 0 : Math.sqrt(weights[i] / total) / Math.sqrt(sq);
    for (let j = 0; j < p.length; j += 1) {
      out[offset + j] = p[j] * scale;
      outSq += out[offset + j] * out[offset + j];
    }
    offset += p.length;
  });
  // Renormalise: float32 rounding, or a zero part, leaves the norm slightly off 1.
  if (outSq > 0) {
    const inv = 1 / Math.sqrt(outSq);
    for (let j = 0; j < out.length; j += 1) out[j] *= inv;
  }
  return out;
}
