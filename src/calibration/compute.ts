/**
 * The pure step of a gallery calibration: vectors in, thresholds (and the fitted similarity) out.
 * No gallery access, nothing native, so it runs as well in a worker thread (worker.ts) as in the
 * CLI's own thread.
 */
import { calibrateThresholds, type Calibration, type FeedbackVector } from '../attribution/calibrate.js';
import { unitVector } from '../math/vector.js';
import { applyMetric, fitGalleryMetric, type GalleryMetric } from '../attribution/gallery-metric.js';
import type { MetricSetting } from '../config/metric-setting.js';
import { algorithmStats, cohortNegativeIndices, normaliseScore, probeStats, type NormStats, type ScoreNormFit } from '../attribution/score-norm.js';

export interface CalibrationVectors {
  /** Samples of each enabled algorithm (already capped and subsampled). */
  byAlgorithm: ReadonlyMap<string, readonly Float32Array[]>;
  /** Samples of disabled algorithms: impostors for every enabled one. */
  negatives: readonly Float32Array[];
  /**
   * The served model's cohort (score-norm.ts), in the model's space: images of generators and
   * real photos that belong to no registered algorithm. With `ComputeOptions.scoreNorm`, scores
   * are normalised against it and its images are impostors for every algorithm too.
   */
  cohort?: readonly Float32Array[];
  /** Judged queries (attributions with feedback), in the index's space: genuine or impostor scores beside the leave-one-out ones. */
  feedback?: readonly FeedbackVector[];
}

export interface ComputeOptions {
  topM: number;
  targetFpir: number;
  /** Similarity to calibrate in (default cosine); see CalibrateGalleryOptions.metric. */
  metric?: MetricSetting;
  /** Normalise scores against `CalibrationVectors.cohort` (AS-norm, K cohort scores per side). */
  scoreNorm?: { topK: number; model: string; version: string };
}

export interface ComputedCalibration {
  calibration: Calibration;
  /** The fitted metric; absent for cosine or when the samples are too few to fit one. */
  metric?: GalleryMetric;
  /** The algorithm side of the score normalisation; absent without a cohort. */
  scoreNorm?: ScoreNormFit;
}

/**
 * Fits the metric of `opts.metric` (wccn) on the enabled algorithms' samples, then calibrates the
 * thresholds in its similarity. Throws DFG_ERR_CALIBRATION_INSUFFICIENT when there is nothing to
 * compare (calibrateThresholds).
 */
export function computeCalibration(vectors: CalibrationVectors, opts: ComputeOptions): ComputedCalibration {
  let enabled = vectors.byAlgorithm;
  let negatives = vectors.negatives;
  let feedback = vectors.feedback ?? [];
  const setting = opts.metric ?? { kind: 'cosine' };
  const metric = setting.kind === 'wccn'
    ? fitGalleryMetric(new Map([...enabled].map(([id, vs]) => [id, vs.map(unitVector)])), { shrinkage: setting.shrinkage }) ?? undefined
    : undefined;
  let cohort = opts.scoreNorm && vectors.cohort && vectors.cohort.length > 0 ? vectors.cohort.map(unitVector) : undefined;
  if (metric) {
    const map = (v: Float32Array) => applyMetric(metric, v);
    enabled = new Map([...enabled].map(([id, vs]) => [id, vs.map(map)]));
    negatives = negatives.map(map);
    feedback = feedback.map((f) => ({ ...f, vector: map(f.vector) }));
    if (cohort) cohort = cohort.map(map);
  }
  if (!cohort || !opts.scoreNorm) {
    const calibration = calibrateThresholds({ vectorsByAlgorithm: enabled, topM: opts.topM, targetFpir: opts.targetFpir, negatives, feedback });
    return { calibration, ...(metric ? { metric } : {}) };
  }
  const { topK } = opts.scoreNorm;
  const units = new Map([...enabled].map(([id, vs]) => [id, vs.map(unitVector)]));
  const cohortUnits = cohort.map(unitVector);
  const perAlgorithm: Record<string, NormStats> = Object.create(null);
  for (const [id, vs] of units) perAlgorithm[id] = algorithmStats(vs, cohortUnits, opts.topM, topK);
  const scoreNorm: ScoreNormFit = { kind: 'asnorm', topK, cohort: { count: cohort.length, model: opts.scoreNorm.model, version: opts.scoreNorm.version }, perAlgorithm };
  // The cohort's images play unregistered generators: impostors of every algorithm, so the
  // thresholds hold their FPIR on generators nobody registered, not only on the other registered ones.
  const picked = cohortNegativeIndices(cohort.length);
  const allNegatives = [...negatives, ...picked.map((i) => cohort![i]!)];
  const cohortStart = negatives.length;
  const probes = new WeakMap<Float32Array, NormStats>();
  const normalise = (query: Float32Array, negative: number, algorithmId: string, score: number) => {
    let p = probes.get(query);
    if (!p) {
      p = probeStats(unitVector(query), cohortUnits, topK, negative >= cohortStart ? picked[negative - cohortStart]! : -1);
      probes.set(query, p);
    }
    return normaliseScore(score, p, perAlgorithm[algorithmId] ?? p);
  };
  const calibration = calibrateThresholds({ vectorsByAlgorithm: enabled, topM: opts.topM, targetFpir: opts.targetFpir, negatives: allNegatives, normalise, sharedThreshold: true, feedback });
  return { calibration, scoreNorm, ...(metric ? { metric } : {}) };
}
