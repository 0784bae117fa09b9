/**
 * The pure step of a gallery calibration: vectors in, thresholds (and the fitted similarity) out.
 * No gallery access, nothing native, so it runs as well in a worker thread (worker.ts) as in the
 * CLI's own thread.
 */
import { calibrateThresholds, type Calibration } from '../attribution/calibrate.js';
import { unitVector } from '../math/vector.js';
import { applyMetric, fitGalleryMetric, type GalleryMetric } from '../attribution/gallery-metric.js';
import type { MetricSetting } from '../config/metric-setting.js';

export interface CalibrationVectors {
  /** Samples of each enabled algorithm (already capped and subsampled). */
  byAlgorithm: ReadonlyMap<string, readonly Float32Array[]>;
  /** Samples of disabled algorithms: impostors for every enabled one. */
  negatives: readonly Float32Array[];
}

export interface ComputeOptions {
  topM: number;
  targetFpir: number;
  /** Similarity to calibrate in (default cosine); see CalibrateGalleryOptions.metric. */
  metric?: MetricSetting;
}

export interface ComputedCalibration {
  calibration: Calibration;
  /** The fitted metric; absent for cosine or when the samples are too few to fit one. */
  metric?: GalleryMetric;
}

/**
 * Fits the metric of `opts.metric` (wccn) on the enabled algorithms' samples, then calibrates the
 * thresholds in its similarity. Throws DFG_ERR_CALIBRATION_INSUFFICIENT when there is nothing to
 * compare (calibrateThresholds).
 */
export function computeCalibration(vectors: CalibrationVectors, opts: ComputeOptions): ComputedCalibration {
  let enabled = vectors.byAlgorithm;
  let negatives = vectors.negatives;
  const setting = opts.metric ?? { kind: 'cosine' };
  const metric = setting.kind === 'wccn'
    ? fitGalleryMetric(new Map([...enabled].map(([id, vs]) => [id, vs.map(unitVector)])), { shrinkage: setting.shrinkage }) ?? undefined
    : undefined;
  if (metric) {
    const map = (v: Float32Array) => applyMetric(metric, v);
    enabled = new Map([...enabled].map(([id, vs]) => [id, vs.map(map)]));
    negatives = negatives.map(map);
  }
  const calibration = calibrateThresholds({ vectorsByAlgorithm: enabled, topM: opts.topM, targetFpir: opts.targetFpir, negatives });
  return { calibration, ...(metric ? { metric } : {}) };
}
