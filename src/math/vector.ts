/**
 * Vector helpers shared by calibration, evaluation and tests. Pure; depends on nothing.
 */

/** Cosine similarity; 0 when either vector is all zeros. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    ab += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : ab / Math.sqrt(na * nb);
}

/** Dot product of two vectors of one length. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i] * b[i];
  return sum;
}

/** The vector scaled to unit L2 norm (a zero vector stays zero). */
export function unitVector(v: Float32Array): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i += 1) ss += v[i] * v[i];
  if (ss === 0) return new Float32Array(v.length);
  const inv = 1 / Math.sqrt(ss);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i += 1) out[i] = v[i] * inv;
  return out;
}
