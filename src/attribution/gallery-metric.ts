/**
 * Gallery-adapted similarity: within-algorithm whitening (WCCN) learned from the registered
 * samples themselves. Pure: no I/O, nothing native.
 *
 * The embedding's cosine treats every direction alike, but much of the spread between two images
 * of one generator is their content, and it lies along a few directions. The enrolled samples
 * show those directions: the scatter of each algorithm's samples about their own mean, pooled
 * over algorithms (R). Whitening with the shrunk scatter S = (1 − α)·R / (tr R / d) + α·I damps
 * them, and the cosine is then taken between whitened vectors. Nothing is centred on a global
 * mean (zero stays zero), which is what made centring on other data hurt (model cards).
 *
 * It is fitted from the user's own gallery only: no validation data, no labels beyond the
 * algorithms the samples were registered under. With too few samples it stays off (null).
 *
 * Representation: W = I + Σ_k c_k·v_k·v_kᵀ, with v_k the eigenvectors of R that carry variance
 * and c_k = sqrt(α / s_k) − 1 (s_k the eigenvalue of S), i.e. the inverse square root of S up to
 * a global scale, which cosine ignores. Applying it costs 2·r·d for r kept directions.
 */
import { DEFAULT_METRIC_SHRINKAGE } from '../config/metric-setting.js';
import { symmetricEigen } from '../math/eigen.js';

export interface GalleryMetric {
  readonly kind: 'wccn';
  readonly dim: number;
  /** Shrinkage towards the identity, in (0, 1]; 1 is the plain cosine. */
  readonly shrinkage: number;
  /** r × dim row-major unit eigenvectors of the within-algorithm scatter. */
  readonly basis: Float32Array;
  /** r coefficients: W = I + Σ coeff_k · basis_k basis_kᵀ. */
  readonly coeffs: Float32Array;
  /** Samples and algorithms it was fitted on. */
  readonly samples: number;
  readonly algorithms: number;
}

export interface FitMetricOptions {
  /** α in (0, 1] (default DEFAULT_METRIC_SHRINKAGE). */
  shrinkage?: number;
  /** Samples per algorithm used at most (the first ones; callers subsample). Default 200. */
  maxPerAlgorithm?: number;
}

/** Below this, the scatter says too little and the metric stays the plain cosine. */
export const METRIC_MIN_ALGORITHMS = 2;
export const METRIC_MIN_SAMPLES = 6;
/** Largest eigen-problem solved (Jacobi, cubic): beyond it the Gram matrix of a sample subset. */
const MAX_EIGEN = 384;

/**
 * Fits the metric from unit vectors grouped by algorithm. Algorithms with one sample have no
 * within scatter and are skipped. Returns null when fewer than METRIC_MIN_ALGORITHMS algorithms
 * with two or more samples, or fewer than METRIC_MIN_SAMPLES such samples, are given, or when the
 * samples have no within-algorithm spread at all.
 */
export function fitGalleryMetric(byAlgorithm: ReadonlyMap<string, readonly Float32Array[]>, opts: FitMetricOptions = {}): GalleryMetric | null {
  const alpha = opts.shrinkage ?? DEFAULT_METRIC_SHRINKAGE;
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`shrinkage must be in (0, 1], got ${alpha}`);
  const cap = opts.maxPerAlgorithm ?? 200;
  // Rows are centred on their algorithm's mean when read, so a large gallery is never copied.
  const members: Array<{ vector: ArrayLike<number>; mean: Float64Array }> = [];
  let dim = -1;
  let algorithms = 0;
  for (const vectors of byAlgorithm.values()) {
    const vs = vectors.slice(0, cap);
    if (vs.length < 2) continue;
    if (dim < 0) dim = vs[0]!.length;
    const mean = new Float64Array(dim);
    for (const v of vs) {
      if (v.length !== dim) throw new RangeError(`Expected vectors of dimension ${dim} but received ${v.length}`);
      for (let j = 0; j < dim; j += 1) mean[j] += v[j]! / vs.length;
    }
    for (const v of vs) members.push({ vector: v, mean });
    algorithms += 1;
  }
  if (algorithms < METRIC_MIN_ALGORITHMS || members.length < METRIC_MIN_SAMPLES) return null;
  const row = (i: number): Float64Array => {
    const { vector, mean } = members[i]!;
    return Float64Array.from({ length: dim }, (_, j) => vector[j]! - mean[j]!);
  };
  const { values, vectors } = scatterEigen({ n: members.length, row }, dim);
  const r = values.length;
  let trace = 0;
  for (let k = 0; k < r; k += 1) trace += values[k]!;
  if (!(trace > 0)) return null;
  const keep: number[] = [];
  for (let k = 0; k < r; k += 1) if (values[k]! > trace * 1e-9) keep.push(k);
  const basis = new Float32Array(keep.length * dim);
  const coeffs = new Float32Array(keep.length);
  keep.forEach((k, i) => {
    const s = ((1 - alpha) * values[k]!) / (trace / dim) + alpha;
    coeffs[i] = Math.sqrt(alpha / s) - 1;
    basis.set(vectors.subarray(k * dim, (k + 1) * dim), i * dim);
  });
  return { kind: 'wccn', dim, shrinkage: alpha, basis, coeffs, samples: members.length, algorithms };
}

/**
 * Non-zero eigenpairs of the pooled scatter R = Σ rowᵀ·row / n, eigenvectors as unit rows. Through
 * the n × n Gram matrix when the rows are fewer than the dimension (or the dimension is too big
 * for Jacobi, on an evenly spaced subset of rows), else through the dim × dim scatter.
 */
function scatterEigen(rowsIn: { n: number; row: (i: number) => Float64Array }, dim: number): { values: Float64Array; vectors: Float64Array } {
  const { n } = rowsIn;
  if (n > dim && dim <= MAX_EIGEN) {
    const s = new Float64Array(dim * dim);
    for (let r = 0; r < n; r += 1) {
      const row = rowsIn.row(r);
      for (let i = 0; i < dim; i += 1) {
        const ri = row[i]!;
        if (ri === 0) continue;
        const off = i * dim;
        for (let j = i; j < dim; j += 1) s[off + j] += ri * row[j]!;
      }
    }
    for (let i = 0; i < dim; i += 1) for (let j = i; j < dim; j += 1) { s[i * dim + j] /= n; s[j * dim + i] = s[i * dim + j]!; }
    const e = symmetricEigen(s, dim, 1e-12);
    // symmetricEigen gives eigenvectors as columns; store them as rows.
    const vectors = new Float64Array(dim * dim);
    for (let k = 0; k < dim; k += 1) for (let j = 0; j < dim; j += 1) vectors[k * dim + j] = e.vectors[j * dim + k]!;
    return { values: e.values, vectors };
  }
  const step = Math.max(1, n / MAX_EIGEN);
  const rows: Float64Array[] = [];
  for (let t = 0; Math.floor(t) < n && rows.length < MAX_EIGEN; t += step) rows.push(rowsIn.row(Math.floor(t)));
  const m = rows.length;
  const g = new Float64Array(m * m);
  for (let a = 0; a < m; a += 1) {
    for (let b = a; b < m; b += 1) {
      let d = 0;
      const ra = rows[a]!;
      const rb = rows[b]!;
      for (let j = 0; j < dim; j += 1) d += ra[j]! * rb[j]!;
      g[a * m + b] = d;
      g[b * m + a] = d;
    }
  }
  const e = symmetricEigen(g, m, 1e-12);
  // R = Dᵀ·D / m; Gram D·Dᵀ = U·Λ·Uᵀ gives R's eigenpairs λ / m and Dᵀ·u / sqrt(λ).
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * dim);
  for (let k = 0; k < m; k += 1) {
    const lambda = e.values[k]!;
    values[k] = Math.max(lambda, 0) / m;
    if (!(lambda > 0)) continue;
    const inv = 1 / Math.sqrt(lambda);
    for (let a = 0; a < m; a += 1) {
      const u = e.vectors[a * m + k]! * inv;
      if (u === 0) continue;
      const ra = rows[a]!;
      for (let j = 0; j < dim; j += 1) vectors[k * dim + j] += u * ra[j]!;
    }
  }
  return { values, vectors };
}

/** W·v, L2-normalised (the zero vector stays zero). */
export function applyMetric(metric: GalleryMetric, v: ArrayLike<number>): Float32Array {
  const { dim, basis, coeffs } = metric;
  if (v.length !== dim) throw new RangeError(`Expected a vector of dimension ${dim} but received ${v.length}`);
  const out = Float64Array.from(v as ArrayLike<number>);
  for (let k = 0; k < coeffs.length; k += 1) {
    const off = k * dim;
    let p = 0;
    for (let j = 0; j < dim; j += 1) p += basis[off + j]! * v[j]!;
    const c = coeffs[k]! * p;
    if (c === 0) continue;
    for (let j = 0; j < dim; j += 1) out[j] += c * basis[off + j]!;
  }
  let norm = 0;
  for (let j = 0; j < dim; j += 1) norm += out[j]! * out[j]!;
  const res = new Float32Array(dim);
  if (norm === 0) return res;
  const inv = 1 / Math.sqrt(norm);
  for (let j = 0; j < dim; j += 1) res[j] = out[j]! * inv;
  return res;
}

/** What a stored calibration says of its metric (the numbers travel as bytes, see metricToBytes). */
export interface MetricHeader {
  kind: 'wccn';
  shrinkage: number;
  dim: number;
  directions: number;
  samples: number;
  algorithms: number;
}

export function metricHeader(m: GalleryMetric): MetricHeader {
  return { kind: m.kind, shrinkage: m.shrinkage, dim: m.dim, directions: m.coeffs.length, samples: m.samples, algorithms: m.algorithms };
}

/** The coefficients then the basis, float32 little-endian (as the store keeps vectors). */
export function metricToBytes(m: GalleryMetric): Buffer {
  const out = new Float32Array(m.coeffs.length * (m.dim + 1));
  out.set(m.coeffs, 0);
  out.set(m.basis, m.coeffs.length);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** The inverse of metricToBytes; throws a RangeError when the bytes do not match the header. */
export function metricFromBytes(h: MetricHeader, bytes: Uint8Array): GalleryMetric {
  const r = h.directions;
  if (h.kind !== 'wccn' || !Number.isInteger(r) || r < 0 || !Number.isInteger(h.dim) || h.dim < 1 || bytes.byteLength !== 4 * r * (h.dim + 1)) {
    throw new RangeError(`stored metric does not match its header (${JSON.stringify(h)}, ${bytes.byteLength} bytes)`);
  }
  const all = new Float32Array(bytes.byteLength / 4);
  Buffer.from(all.buffer).set(bytes);
  return { kind: 'wccn', dim: h.dim, shrinkage: h.shrinkage, coeffs: all.slice(0, r), basis: all.slice(r), samples: h.samples, algorithms: h.algorithms };
}

/** The API's description of a calibration's metric (absent metric = cosine). */
export function metricInfo(m: GalleryMetric | undefined): { kind: 'cosine' | 'wccn'; shrinkage: number | null; directions: number; samples: number } {
  return m ? { kind: m.kind, shrinkage: m.shrinkage, directions: m.coeffs.length, samples: m.samples } : { kind: 'cosine', shrinkage: null, directions: 0, samples: 0 };
}

/**
 * |W·v|² and W²·v without forming W·v twice: with p_k = basis_k·v, W·v = v + Σ c_k p_k basis_k, so
 * |W·v|² = |v|² + Σ (2c_k + c_k²) p_k² and W²·v = v + Σ (2c_k + c_k²) p_k basis_k. Then
 * cos(W·q, W·x) = (W²·q)·x / (|W·q| |W·x|): one W²·q per query, one dot product per sample, and a
 * cached norm per sample (gallery/index/metric-search.ts).
 */
export function metricNormSq(metric: GalleryMetric, v: ArrayLike<number>): number {
  const { dim, basis, coeffs } = metric;
  let sq = 0;
  for (let j = 0; j < dim; j += 1) sq += v[j]! * v[j]!;
  for (let k = 0; k < coeffs.length; k += 1) {
    const off = k * dim;
    let p = 0;
    for (let j = 0; j < dim; j += 1) p += basis[off + j]! * v[j]!;
    const c = coeffs[k]!;
    sq += (2 * c + c * c) * p * p;
  }
  return Math.max(sq, 0);
}

export function metricSquare(metric: GalleryMetric, v: ArrayLike<number>): Float64Array {
  const { dim, basis, coeffs } = metric;
  const out = Float64Array.from(v as ArrayLike<number>);
  for (let k = 0; k < coeffs.length; k += 1) {
    const off = k * dim;
    let p = 0;
    for (let j = 0; j < dim; j += 1) p += basis[off + j]! * v[j]!;
    const c = coeffs[k]!;
    const f = (2 * c + c * c) * p;
    if (f === 0) continue;
    for (let j = 0; j < dim; j += 1) out[j] += f * basis[off + j]!;
  }
  return out;
}
