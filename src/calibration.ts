/**
 * Calibration of a live gallery: per-algorithm and global thresholds from its own stored vectors
 * (pure maths in attribution/calibrate.ts), stored as the gallery's current calibration. Shared by
 * `dfg calibrate` and `POST /v1/calibration`.
 */
import { calibrateThresholds, unitVector, type Calibration } from './attribution/calibrate.js';
import { applyMetric, fitGalleryMetric, type GalleryMetric, type MetricSetting } from './attribution/gallery-metric.js';
import { createRng, shuffled } from './evaluation/random.js';
import type { CalibrationRecord, Gallery } from './gallery/index.js';

export interface CalibrateGalleryOptions {
  topM: number;
  targetFpir: number;
  /**
   * Calibration is O(n²) in samples: an algorithm with more samples than this contributes a
   * seeded random subset of them (default 200; 13 algorithms × 200 = 2600 samples, seconds).
   */
  maxSamplesPerAlgorithm?: number;
  /** Store the result as the gallery's current calibration (default true). */
  save?: boolean;
  /**
   * Similarity to calibrate in (default cosine). `wccn` fits the gallery-adapted metric on the
   * enabled algorithms' samples; the thresholds are then in its similarity, and the stored
   * calibration carries it, so searches use it while the calibration is current.
   */
  metric?: MetricSetting;
}

export interface GalleryCalibration {
  calibration: Calibration;
  /** Names by algorithm id, for display. */
  names: Record<string, string>;
  /** Samples of disabled algorithms, used as impostors for every enabled one. */
  negatives: number;
  record?: CalibrationRecord;
  /** The fitted metric; absent for cosine or when the gallery is too small to fit one. */
  metric?: GalleryMetric;
}

/**
 * Calibrates the enabled algorithms of a gallery from its stored vectors. Samples of disabled
 * algorithms are never searched, so they play unregistered sources: impostors for every enabled
 * algorithm. Throws DFG_ERR_CALIBRATION_INSUFFICIENT when there is nothing to compare.
 */
export function calibrateGallery(gallery: Pick<Gallery, 'vectors' | 'algorithmSummary' | 'saveCalibration'>, opts: CalibrateGalleryOptions): GalleryCalibration {
  const cap = opts.maxSamplesPerAlgorithm ?? 200;
  const byAlgorithm = new Map<string, Float32Array[]>();
  const disabled = new Map<string, Float32Array[]>();
  const names: Record<string, string> = Object.create(null);
  for (const { algorithmId, vector } of gallery.vectors()) {
    const summary = gallery.algorithmSummary(algorithmId);
    if (!summary) continue; // deleted since the read began
    names[algorithmId] = summary.name;
    const target = summary.enabled ? byAlgorithm : disabled;
    const list = target.get(algorithmId);
    if (list) list.push(vector);
    else target.set(algorithmId, [vector]);
  }
  const capped = (m: Map<string, Float32Array[]>) => new Map([...m].map(([id, v]) => [id, v.length > cap ? shuffled(v, createRng(`calibrate:${id}`)).slice(0, cap) : v]));
  let enabled = capped(byAlgorithm);
  let negatives = [...capped(disabled).values()].flat();
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
  const result: GalleryCalibration = { calibration, names, negatives: negatives.length, ...(metric ? { metric } : {}) };
  if (opts.save !== false) {
    result.record = gallery.saveCalibration({
      ...(metric ? { metric } : {}),
      targetFpir: opts.targetFpir,
      global: calibration.global,
      perAlgorithm: calibration.perAlgorithm,
      // NaN (no leave-one-out score) is not JSON: JSON.stringify would write null anyway, say so.
      params: JSON.parse(JSON.stringify({ topM: opts.topM, maxSamplesPerAlgorithm: cap, negatives: negatives.length, stats: calibration.stats })) as Record<string, unknown>,
    });
  }
  return result;
}
