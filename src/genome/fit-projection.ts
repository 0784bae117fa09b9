/**
 * Linear discriminant projection with shrinkage, fitted on labelled feature vectors (the
 * simulated genome's algorithms as classes). Features are first standardised by their total
 * standard deviation; the within-class scatter Sw (content, photo and per-image noise) is
 * shrunk toward its mean variance and whitened; the between-class scatter of the class means
 * in that space is diagonalised, and its leading directions are kept. In the result the
 * within-class spread is (nearly) isotropic and the directions that separate algorithms come
 * first, so cosine similarity after it ignores what varies inside an algorithm.
 * Pure and deterministic (fixed summation order).
 */
import { symmetricEigen } from '../math/eigen.js';

export interface LdaOptions {
  /** Output dimension: at most min(input dim, classes - 1). */
  dim: number;
  /** Shrinkage of Sw toward (trace / D) I, in [0, 1). */
  shrinkage: number;
}

export interface LdaProjection {
  inputDim: number;
  outputDim: number;
  /** Subtracted before projecting (the global mean of the training features). */
  mean: Float64Array;
  /** inputDim x outputDim, row-major: y = (x - mean) · matrix. */
  matrix: Float64Array;
  /** Between- to within-class variance ratio of each kept direction, descending. */
  eigenvalues: number[];
}

/** Fits the projection. `labels[i]` is the class of `samples[i]` (any integers). */
export function fitLda(samples: readonly ArrayLike<number>[], labels: readonly number[], o: LdaOptions): LdaProjection {
  const N = samples.length;
  if (N === 0 || labels.length !== N) throw new RangeError(`Expected one label per sample but received ${labels.length} labels for ${N} samples`);
  const D = samples[0].length;
  for (const s of samples) {
    if (s.length !== D) throw new RangeError(`Expected samples of one dimension ${D} but received ${s.length}`);
    for (let j = 0; j < D; j++) if (!Number.isFinite(s[j])) throw new RangeError('Expected finite feature values');
  }
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const K = classes.length;
  if (K < 2) throw new RangeError(`Expected at least 2 classes but received ${K}`);
  if (N <= K) throw new RangeError(`Expected more samples (${N}) than classes (${K})`);
  if (!Number.isInteger(o.dim) || o.dim < 1 || o.dim > Math.min(D, K - 1)) {
    throw new RangeError(`Expected an output dimension in [1, ${Math.min(D, K - 1)}] (input dim ${D}, ${K} classes) but received ${o.dim}`);
  }
  if (!(o.shrinkage >= 0 && o.shrinkage < 1)) throw new RangeError(`Expected a shrinkage in [0, 1) but received ${o.shrinkage}`);

  const mean = new Float64Array(D);
  for (const s of samples) for (let j = 0; j < D; j++) mean[j] += s[j];
  for (let j = 0; j < D; j++) mean[j] /= N;
  const std = new Float64Array(D);
  for (const s of samples) for (let j = 0; j < D; j++) std[j] += (s[j] - mean[j]) ** 2;
  // A constant feature gets unit scale (it contributes nothing either way).
  for (let j = 0; j < D; j++) std[j] = Math.sqrt(std[j] / N) || 1;
  const z = samples.map((s) => Float64Array.from({ length: D }, (_, j) => (s[j] - mean[j]) / std[j]));

  const index = new Map(classes.map((c, i) => [c, i]));
  const counts = new Float64Array(K);
  const cmeans = new Float64Array(K * D);
  z.forEach((v, i) => {
    const k = index.get(labels[i])!;
    counts[k]++;
    for (let j = 0; j < D; j++) cmeans[k * D + j] += v[j];
  });
  for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) cmeans[k * D + j] /= counts[k];

  const sw = new Float64Array(D * D);
  const d = new Float64Array(D);
  z.forEach((v, i) => {
    const k = index.get(labels[i])!;
    for (let j = 0; j < D; j++) d[j] = v[j] - cmeans[k * D + j];
    for (let a = 0; a < D; a++) {
      const da = d[a];
      if (da === 0) continue;
      for (let b = a; b < D; b++) sw[a * D + b] += da * d[b];
    }
  });
  const sb = new Float64Array(D * D);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < D; a++) {
      const ma = cmeans[k * D + a] * counts[k];
      for (let b = a; b < D; b++) sb[a * D + b] += ma * cmeans[k * D + b];
    }
  }
  let trace = 0;
  for (let a = 0; a < D; a++) {
    for (let b = a; b < D; b++) {
      sw[a * D + b] /= N - K;
      sb[a * D + b] /= N;
      sw[b * D + a] = sw[a * D + b];
      sb[b * D + a] = sb[a * D + b];
    }
    trace += sw[a * D + a];
  }
  const target = trace / D;
  for (let a = 0; a < D; a++) {
    for (let b = 0; b < D; b++) sw[a * D + b] *= 1 - o.shrinkage;
    sw[a * D + a] += o.shrinkage * target;
  }

  // Whitening W1 = V diag(1 / sqrt(lambda)) of the shrunk Sw (tiny eigenvalues floored).
  const ew = symmetricEigen(sw, D);
  const floor = Math.max(ew.values[0] * 1e-10, 1e-300);
  const w1 = new Float64Array(D * D);
  for (let a = 0; a < D; a++) {
    for (let i = 0; i < D; i++) w1[a * D + i] = ew.vectors[a * D + i] / Math.sqrt(Math.max(ew.values[i], floor));
  }
  // Between-class scatter in the whitened space: W1' Sb W1.
  const tmp = new Float64Array(D * D);
  for (let a = 0; a < D; a++) {
    for (let k = 0; k < D; k++) {
      const s = sb[a * D + k];
      if (s === 0) continue;
      for (let i = 0; i < D; i++) tmp[a * D + i] += s * w1[k * D + i];
    }
  }
  const bw = new Float64Array(D * D);
  for (let k = 0; k < D; k++) {
    for (let i = 0; i < D; i++) {
      const s = w1[k * D + i];
      if (s === 0) continue;
      for (let j = 0; j < D; j++) bw[i * D + j] += s * tmp[k * D + j];
    }
  }
  for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) bw[i * D + j] = bw[j * D + i] = (bw[i * D + j] + bw[j * D + i]) / 2;
  const eb = symmetricEigen(bw, D);

  // matrix = diag(1 / std) W1 U[:, :dim], so it applies to the raw (centred) features.
  const out = o.dim;
  const matrix = new Float64Array(D * out);
  for (let a = 0; a < D; a++) {
    for (let c = 0; c < out; c++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += w1[a * D + i] * eb.vectors[i * D + c];
      matrix[a * out + c] = s / std[a];
    }
  }
  return { inputDim: D, outputDim: out, mean, matrix, eigenvalues: Array.from(eb.values.subarray(0, out)) };
}

export interface NuisanceOptions {
  /** 'nap': remove the `dim` leading within-class directions; 'wccn': whiten the shrunk within-class scatter. */
  method: 'nap' | 'wccn';
  dim: number;
  shrinkage: number;
}

/** Within-class scatter of the raw features (no standardisation), D x D, divided by N - K. */
function withinScatter(samples: readonly ArrayLike<number>[], labels: readonly number[]): { sw: Float64Array; D: number } {
  const D = samples[0].length;
  const classes = [...new Set(labels)];
  const means = new Map<number, Float64Array>();
  const counts = new Map<number, number>();
  samples.forEach((s, i) => {
    const m = means.get(labels[i]) ?? new Float64Array(D);
    for (let j = 0; j < D; j++) m[j] += s[j];
    means.set(labels[i], m);
    counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  });
  for (const [c, m] of means) for (let j = 0; j < D; j++) m[j] /= counts.get(c)!;
  const sw = new Float64Array(D * D);
  const d = new Float64Array(D);
  samples.forEach((s, i) => {
    const m = means.get(labels[i])!;
    for (let j = 0; j < D; j++) d[j] = s[j] - m[j];
    for (let a = 0; a < D; a++) {
      if (d[a] === 0) continue;
      for (let b = a; b < D; b++) sw[a * D + b] += d[a] * d[b];
    }
  });
  for (let a = 0; a < D; a++) {
    for (let b = a; b < D; b++) {
      sw[a * D + b] /= samples.length - classes.length;
      sw[b * D + a] = sw[a * D + b];
    }
  }
  return { sw, D };
}

/**
 * Projections that keep the base model's geometry (no centring, full dimension): NAP
 * (nuisance attribute projection) removes the `dim` directions along which pictures of one
 * algorithm vary most, y = x (I - U U'); WCCN scales every direction by the inverse square
 * root of its within-class variance (shrunk toward the mean variance). Zero stays zero.
 */
export function fitNuisance(samples: readonly ArrayLike<number>[], labels: readonly number[], o: NuisanceOptions): LdaProjection {
  const N = samples.length;
  if (N === 0 || labels.length !== N) throw new RangeError(`Expected one label per sample but received ${labels.length} labels for ${N} samples`);
  if (new Set(labels).size < 2 || N <= new Set(labels).size) throw new RangeError('Expected at least 2 classes and more samples than classes');
  const { sw, D } = withinScatter(samples, labels);
  if (!(o.shrinkage >= 0 && o.shrinkage < 1)) throw new RangeError(`Expected a shrinkage in [0, 1) but received ${o.shrinkage}`);
  const e = symmetricEigen(sw, D);
  const matrix = new Float64Array(D * D);
  if (o.method === 'nap') {
    if (!Number.isInteger(o.dim) || o.dim < 1 || o.dim >= D) throw new RangeError(`Expected a number of removed directions in [1, ${D - 1}] but received ${o.dim}`);
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) {
        let s = a === b ? 1 : 0;
        for (let k = 0; k < o.dim; k++) s -= e.vectors[a * D + k] * e.vectors[b * D + k];
        matrix[a * D + b] = s;
      }
    }
  } else {
    let trace = 0;
    for (let i = 0; i < D; i++) trace += Math.max(e.values[i], 0);
    const target = trace / D;
    const scale = e.values.map((v) => 1 / Math.sqrt((1 - o.shrinkage) * Math.max(v, 0) + o.shrinkage * target + 1e-12));
    // Rescaled so that the mean variance keeps unit gain (cosine does not care; readability does).
    const unit = Math.sqrt(target);
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += e.vectors[a * D + k] * scale[k] * e.vectors[b * D + k];
        matrix[a * D + b] = s * unit;
      }
    }
  }
  return { inputDim: D, outputDim: D, mean: new Float64Array(D), matrix, eigenvalues: Array.from(e.values.subarray(0, Math.min(D, 96))) };
}

/** y = (x - mean) · matrix. */
export function applyProjection(p: Pick<LdaProjection, 'inputDim' | 'outputDim' | 'mean' | 'matrix'>, x: ArrayLike<number>): Float64Array {
  if (x.length !== p.inputDim) throw new RangeError(`Expected ${p.inputDim} values but received ${x.length}`);
  const y = new Float64Array(p.outputDim);
  for (let a = 0; a < p.inputDim; a++) {
    const v = x[a] - p.mean[a];
    for (let c = 0; c < p.outputDim; c++) y[c] += v * p.matrix[a * p.outputDim + c];
  }
  return y;
}
