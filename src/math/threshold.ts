/**
 * Threshold maths shared by calibration and evaluation. Pure; depends on nothing.
 */

// Consistent with -Infinity (a subtraction would give NaN for two of them).
const byDescending = (a: number, b: number) => (a > b ? -1 : a < b ? 1 : 0);

/**
 * The smallest float64 strictly greater than x, so that `score >= nextUp(x)` is exactly
 * `score > x` for float64 scores.
 */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] += x > 0 ? 1n : -1n;
  return f[0];
}

/**
 * The lowest threshold (accept when score >= threshold) at which at most `fpir` of the given
 * impostor scores are accepted: just above the (k+1)-th highest impostor, k = floor(fpir * n).
 * Ties at that score are all rejected, so the achieved rate may be below `fpir`.
 * -Infinity when `fpir` tolerates every impostor; NaN with no impostor scores.
 * Shared by DIR@FPIR (evaluation/metrics.ts) and by threshold calibration
 * (attribution/calibrate.ts), so both use one rule.
 */
export function thresholdAtFpir(impostorScores: readonly number[], fpir: number): number {
  const n = impostorScores.length;
  if (n === 0) return NaN;
  // The epsilon keeps products such as 0.29 * 100 = 28.999999999999996 on the intended integer.
  const k = Math.floor(fpir * n + 1e-9);
  if (k >= n) return -Infinity;
  const sorted = [...impostorScores].sort(byDescending);
  return nextUp(sorted[k]);
}
