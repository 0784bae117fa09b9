/**
 * Open-set score normalisation against a cohort: adaptive symmetric normalisation (AS-norm, from
 * speaker verification). Pure: no I/O, nothing native.
 *
 * A raw per-algorithm score (mean of the best top-M similarities) says how close an upload is to
 * an algorithm's samples, but not whether that is close *for this upload* and *for this
 * algorithm*: some images sit near everything (flat, heavily compressed), and some algorithms'
 * samples attract everything. A cohort of images of other generators and real photos, known to
 * belong to no registered algorithm, measures both:
 *
 *   probe side      μq, σq = mean and sd of the K best similarities of the upload to the cohort
 *   algorithm side  μa, σa = mean and sd of the K best scores of cohort images against the
 *                   algorithm (each scored like an upload: mean of its best top-M similarities)
 *   z = ½ · ((s − μq) / σq + (s − μa) / σa)
 *
 * so a score counts by how far it stands above what unrelated images reach. The service reports
 * `tanh(z / Z_SCALE)`, monotone in z, so scores, thresholds and margins keep the (−1, 1) range of
 * cosine scores that the API, per-algorithm thresholds and calibrations are defined on; ranking
 * and every threshold-free metric are those of z. A calibration stores the algorithm side
 * (computed from the gallery's own samples); each query computes its probe side (a dot product
 * per cohort vector).
 */
import { topMeanScore } from './calibrate.js';
import { applyMetric, type GalleryMetric } from './gallery-metric.js';

/** Mean and standard deviation of a set of top cohort scores. */
export interface NormStats {
  mean: number;
  sd: number;
}

/** The algorithm side of a calibration's normalisation (stored with it, params.scoreNorm). */
export interface ScoreNormFit {
  kind: 'asnorm';
  /** Cohort scores kept on each side. */
  topK: number;
  /** Cohort size and the model (index id and version) whose vectors it holds. */
  cohort: { count: number; model: string; version: string };
  /** Algorithm id → its side of the normalisation. */
  perAlgorithm: Record<string, NormStats>;
}

/** z of the AS-norm is reported as tanh(z / Z_SCALE): z = 4 is 0.76, z = 8 is 0.96. */
export const Z_SCALE = 4;
/** Floor of a standard deviation: a degenerate cohort (all scores equal) must not divide by zero. */
const SD_FLOOR = 1e-4;

/** Mean and sd of the `k` largest values (all of them when fewer). */
export function topKStats(values: ArrayLike<number>, k: number): NormStats {
  const sorted = Float64Array.from(values).sort();
  const n = Math.min(k, sorted.length);
  if (n === 0) return { mean: 0, sd: 1 };
  let sum = 0;
  for (let i = sorted.length - n; i < sorted.length; i += 1) sum += sorted[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = sorted.length - n; i < sorted.length; i += 1) ss += (sorted[i]! - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / n) };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += a[i]! * b[i]!;
  return s;
}

/**
 * The probe side: statistics of the `k` best similarities of `query` to the cohort (unit vectors
 * in the scoring space, as the query). `skip` leaves one cohort vector out (a cohort image scored
 * as a query must not meet itself).
 */
export function probeStats(query: ArrayLike<number>, cohort: readonly ArrayLike<number>[], k: number, skip = -1): NormStats {
  const sims: number[] = [];
  for (let i = 0; i < cohort.length; i += 1) if (i !== skip) sims.push(dot(query, cohort[i]!));
  return topKStats(sims, k);
}

/**
 * The algorithm side: every cohort vector scored against the algorithm's samples as an upload is
 * (mean of its best `topM` similarities), then the statistics of the `k` best of those scores.
 */
export function algorithmStats(samples: readonly ArrayLike<number>[], cohort: readonly ArrayLike<number>[], topM: number, k: number): NormStats {
  const scores = new Float64Array(cohort.length);
  const sims = new Float64Array(samples.length);
  for (let c = 0; c < cohort.length; c += 1) {
    for (let s = 0; s < samples.length; s += 1) sims[s] = dot(cohort[c]!, samples[s]!);
    scores[c] = topMeanScore(sims, topM);
  }
  return topKStats(scores, k);
}

/** The normalised score, tanh(z / Z_SCALE) of the AS-norm z (see the module comment). */
export function normaliseScore(score: number, probe: NormStats, algorithm: NormStats): number {
  const z = 0.5 * ((score - probe.mean) / Math.max(probe.sd, SD_FLOOR) + (score - algorithm.mean) / Math.max(algorithm.sd, SD_FLOOR));
  return Math.tanh(z / Z_SCALE);
}

/**
 * The per-algorithm score map of one query: algorithms the fit knows are normalised on both
 * sides; one registered after the calibration (no algorithm side yet) on the probe side alone,
 * until the next calibration.
 */
export function scoreNormaliser(fit: ScoreNormFit, probe: NormStats): (algorithmId: string, score: number) => number {
  return (algorithmId, score) => {
    const a = Object.hasOwn(fit.perAlgorithm, algorithmId) ? fit.perAlgorithm[algorithmId]! : probe;
    return normaliseScore(score, probe, a);
  };
}

/** Reads a stored fit (calibration params.scoreNorm); null when absent or malformed. */
export function readScoreNormFit(value: unknown): ScoreNormFit | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Partial<ScoreNormFit>;
  if (v.kind !== 'asnorm' || !Number.isInteger(v.topK) || (v.topK as number) < 1) return null;
  const c = v.cohort;
  if (!c || !Number.isInteger(c.count) || typeof c.model !== 'string' || typeof c.version !== 'string') return null;
  if (!v.perAlgorithm || typeof v.perAlgorithm !== 'object') return null;
  const perAlgorithm: Record<string, NormStats> = Object.create(null);
  for (const [id, s] of Object.entries(v.perAlgorithm)) {
    if (!s || !Number.isFinite(s.mean) || !Number.isFinite(s.sd)) return null;
    perAlgorithm[id] = { mean: s.mean, sd: s.sd };
  }
  return { kind: 'asnorm', topK: v.topK as number, cohort: { count: c.count, model: c.model, version: c.version }, perAlgorithm };
}

/** A calibration's normalisation ready for queries: the fit and the cohort in its similarity. */
export interface NormContext {
  fit: ScoreNormFit;
  /** Unit cohort vectors, mapped by the calibration's metric when it has one. */
  cohort: Float32Array[];
  metric?: GalleryMetric;
}

/**
 * Prepares a stored fit for queries, or null when the served cohort is not the one it was fitted
 * with (another model, version or size: the fit's statistics would not apply).
 */
export function prepareNorm(
  fit: ScoreNormFit,
  cohort: { vectors: readonly Float32Array[]; model: string; version: string },
  metric?: GalleryMetric,
): NormContext | null {
  if (fit.cohort.model !== cohort.model || fit.cohort.version !== cohort.version || fit.cohort.count !== cohort.vectors.length) return null;
  if (metric && cohort.vectors[0] && metric.dim !== cohort.vectors[0].length) return null;
  const vectors = metric ? cohort.vectors.map((v) => applyMetric(metric, v)) : cohort.vectors.map((v) => v);
  return { fit, cohort: vectors, ...(metric ? { metric } : {}) };
}

/** The score map of one query (a vector of the index space) under a prepared normalisation. */
export function queryNormaliser(ctx: NormContext, query: Float32Array): (algorithmId: string, score: number) => number {
  const q = ctx.metric ? applyMetric(ctx.metric, query) : query;
  return scoreNormaliser(ctx.fit, probeStats(q, ctx.cohort, ctx.fit.topK));
}

/**
 * Cohort images a calibration scores as unregistered generators: all of them up to
 * COHORT_NEGATIVES, else an even stride through them. Each costs a pass over the whole cohort for
 * its own probe side, so the calibration stays seconds; a few hundred impostor scores per
 * algorithm already fix a 1% tail.
 */
export const COHORT_NEGATIVES = 400;

/** Indices into the cohort of the calibration negatives (see COHORT_NEGATIVES). */
export function cohortNegativeIndices(count: number, max = COHORT_NEGATIVES): number[] {
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * count) / max));
}

/** What the API shows of a calibration's normalisation (params.scoreNorm, possibly absent). */
export function scoreNormInfo(value: unknown): { kind: 'none' | 'asnorm'; topK: number | null; cohort: number } {
  const fit = readScoreNormFit(value);
  return fit ? { kind: 'asnorm', topK: fit.topK, cohort: fit.cohort.count } : { kind: 'none', topK: null, cohort: 0 };
}
