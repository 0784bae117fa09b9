/**
 * Principal-component projection of unlabelled feature vectors (a simulated genome and real
 * photo patches): the leading principal axes of the L2-normalised samples, which is the space
 * cosine similarity works in. High-dimensional descriptors such as residual-v2 (1822 values)
 * keep almost all of their variance in a few hundred directions, so projecting onto them keeps
 * the neighbours while gallery search and storage shrink with the dimension.
 *
 * With fewer samples than dimensions the axes come from the N x N Gram matrix (its eigenvectors
 * mapped back through the samples), which is far cheaper than the D x D covariance and gives the
 * same axes. Pure and deterministic: fixed summation order, cyclic Jacobi, and each axis signed
 * so that its largest component is positive.
 */
import { symmetricEigen } from '../math/eigen.js';
import type { LdaProjection } from './fit-projection.js';

export interface PcaOptions {
  /** Output dimension: at most min(input dim, samples - 1). */
  dim: number;
  /**
   * false (default): y = x · axes, so zero stays zero and the projection is a rotation onto a
   * subspace; true: y = (x - mean) · axes with the mean of the raw samples.
   */
  centre?: boolean;
}

export interface PcaProjection extends LdaProjection {
  /** Share of the normalised samples' variance (about their mean) kept by the `dim` axes. */
  explained: number;
}

/** Fits the projection on `samples` (raw features, any scale; each is L2-normalised for the axes). */
export function fitPca(samples: readonly ArrayLike<number>[], o: PcaOptions): PcaProjection {
  const N = samples.length;
  if (N < 2) throw new RangeError(`Expected at least 2 samples but received ${N}`);
  const D = samples[0].length;
  for (const s of samples) {
    if (s.length !== D) throw new RangeError(`Expected samples of one dimension ${D} but received ${s.length}`);
    for (let j = 0; j < D; j++) if (!Number.isFinite(s[j])) throw new RangeError('Expected finite feature values');
  }
  const most = Math.min(D, N - 1);
  if (!Number.isInteger(o.dim) || o.dim < 1 || o.dim > most) {
    throw new RangeError(`Expected an output dimension in [1, ${most}] (input dim ${D}, ${N} samples) but received ${o.dim}`);
  }
  const z = samples.map((s) => {
    let n = 0;
    for (let j = 0; j < D; j++) n += s[j] * s[j];
    if (!(n > 0)) throw new RangeError('Expected samples with a non-zero norm');
    const inv = 1 / Math.sqrt(n);
    return Float64Array.from({ length: D }, (_, j) => s[j] * inv);
  });
  const mu = new Float64Array(D);
  for (const v of z) for (let j = 0; j < D; j++) mu[j] += v[j];
  for (let j = 0; j < D; j++) mu[j] /= N;
  for (const v of z) for (let j = 0; j < D; j++) v[j] -= mu[j];

  const out = o.dim;
  const axes = new Float64Array(D * out); // D x out, row-major
  let values: Float64Array;
  if (N < D) {
    const gram = new Float64Array(N * N);
    for (let a = 0; a < N; a++) {
      for (let b = a; b < N; b++) {
        let s = 0;
        const za = z[a], zb = z[b];
        for (let j = 0; j < D; j++) s += za[j] * zb[j];
        gram[a * N + b] = gram[b * N + a] = s;
      }
    }
    const e = symmetricEigen(gram, N);
    values = e.values;
    for (let c = 0; c < out; c++) {
      const scale = 1 / Math.sqrt(Math.max(e.values[c], 1e-300));
      for (let i = 0; i < N; i++) {
        const w = e.vectors[i * N + c] * scale;
        if (w === 0) continue;
        const zi = z[i];
        for (let j = 0; j < D; j++) axes[j * out + c] += w * zi[j];
      }
    }
  } else {
    const cov = new Float64Array(D * D);
    for (const v of z) {
      for (let a = 0; a < D; a++) {
        const va = v[a];
        if (va === 0) continue;
        for (let b = a; b < D; b++) cov[a * D + b] += va * v[b];
      }
    }
    for (let a = 0; a < D; a++) for (let b = a + 1; b < D; b++) cov[b * D + a] = cov[a * D + b];
    const e = symmetricEigen(cov, D);
    values = e.values;
    for (let j = 0; j < D; j++) for (let c = 0; c < out; c++) axes[j * out + c] = e.vectors[j * D + c];
  }
  let total = 0;
  for (const v of values) total += Math.max(v, 0);
  let kept = 0;
  for (let c = 0; c < out; c++) kept += Math.max(values[c], 0);
  // An eigenvector's sign is arbitrary; fixing it keeps refits comparable (and diffs small).
  for (let c = 0; c < out; c++) {
    let big = 0;
    for (let j = 0; j < D; j++) if (Math.abs(axes[j * out + c]) > Math.abs(big)) big = axes[j * out + c];
    if (big < 0) for (let j = 0; j < D; j++) axes[j * out + c] = -axes[j * out + c];
  }
  const mean = new Float64Array(D);
  if (o.centre) {
    for (const s of samples) for (let j = 0; j < D; j++) mean[j] += s[j];
    for (let j = 0; j < D; j++) mean[j] /= N;
  }
  return {
    inputDim: D,
    outputDim: out,
    mean,
    matrix: axes,
    eigenvalues: Array.from(values.subarray(0, out), (v) => v / (N - 1)),
    explained: total > 0 ? kept / total : 0,
  };
}
