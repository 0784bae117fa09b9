/**
 * Weights of a late fusion for `dfg eval` from the command line; the vectors are fused by the
 * same fuseVectors the gallery indexes with (math/fusion.ts), so the service's fused scores
 * equal the evaluation's. Pure.
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
