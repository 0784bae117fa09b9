/**
 * Calibration of a live gallery: per-algorithm and global thresholds from its own stored vectors,
 * stored as the gallery's current calibration. Three steps: collecting the vectors (here, on the
 * caller's thread, reading the gallery), the pure computation (compute.ts, in a worker thread for
 * the server: runner.ts) and saving. Shared by `dfg calibrate`, `POST /v1/calibration` and the
 * server's automatic calibration (auto.ts).
 */
import type { ScoreNormFit } from '../attribution/score-norm.js';
import type { ScoreNormSetting } from '../config/score-norm-setting.js';
import type { Calibration, FeedbackVector } from '../attribution/calibrate.js';
import type { GalleryMetric } from '../attribution/gallery-metric.js';
import type { MetricSetting } from '../config/metric-setting.js';
import { createRng, shuffled } from '../math/random.js';
import type { AuditNote, CalibrationRecord, Gallery } from '../gallery/gallery.js';
import { computeCalibration, type CalibrationVectors, type ComputeOptions, type ComputedCalibration } from './compute.js';
import { computeInWorker } from './runner.js';

export { computeCalibration, type CalibrationVectors, type ComputeOptions, type ComputedCalibration } from './compute.js';
export { computeInWorker } from './runner.js';

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
  /** Recorded as params.auto: the server calibrated on its own (auto.ts). */
  auto?: boolean;
  /** With auto: the requested calibration whose target FPIR and cap it kept (params.requested). */
  requested?: { targetFpir: number; maxSamplesPerAlgorithm?: number; version: number };
  /**
   * The served model's cohort and how many of its scores each side keeps: scores are then
   * normalised against it (AS-norm, attribution/score-norm.ts) and its images calibrate the
   * thresholds as unregistered generators. Absent: raw scores.
   */
  cohort?: CalibrationCohort;
  /** Who calibrates (the audit trail). */
  audit?: AuditNote;
}

/** A model's cohort as a calibration uses it. */
export interface CalibrationCohort {
  vectors: readonly Float32Array[];
  topK: number;
  model: string;
  version: string;
}

/** The cohort to calibrate with: the served one under DFG_SCORE_NORM=asnorm[:K], else none. */
export function calibrationCohort(
  cohort: { vectors: readonly Float32Array[]; model: string; version: string } | null | undefined,
  setting: ScoreNormSetting,
): CalibrationCohort | undefined {
  if (!cohort || setting.kind !== 'asnorm') return undefined;
  return { vectors: cohort.vectors, topK: setting.topK, model: cohort.model, version: cohort.version };
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
  /** The algorithm side of the score normalisation; absent without a cohort. */
  scoreNorm?: ScoreNormFit;
}

/** Enabled algorithm id → its samples in the gallery: what a calibration was made from (params.fingerprint). */
export type CalibrationFingerprint = Record<string, number>;

export interface CollectedVectors extends CalibrationVectors {
  names: Record<string, string>;
  fingerprint: CalibrationFingerprint;
  /** The per-algorithm cap applied. */
  cap: number;
}

/** A canonical text of a fingerprint (stored params are JSON objects), or undefined for anything else. */
export function fingerprintKey(fp: unknown): string | undefined {
  if (fp === null || typeof fp !== 'object' || Array.isArray(fp)) return undefined;
  const entries = Object.entries(fp as Record<string, unknown>);
  if (!entries.every(([, n]) => Number.isInteger(n))) return undefined;
  return JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Judged queries a calibration reads at most (the newest): a bound on its cost, far above what analysts judge in a retention period. */
export const MAX_FEEDBACK_PAIRS = 5000;

/** A gallery to calibrate: its vectors and, where it keeps attributions, the feedback on them. */
type CalibrationSource = Pick<Gallery, 'vectors' | 'algorithmSummary'> & Partial<Pick<Gallery, 'feedbackPairs' | 'fuse'>>;

/**
 * The judged queries of the gallery's index against enabled algorithms, as index vectors: confirmed
 * and relabelled ones genuine, rejected ones impostors. Queries that enrolled a sample are left out
 * (their vector is one of the algorithm's samples already), and so are those lacking a vector of
 * a model the index fuses.
 */
export async function collectFeedback(gallery: Required<Pick<CalibrationSource, 'feedbackPairs' | 'fuse'>>, enabled: ReadonlySet<string>): Promise<FeedbackVector[]> {
  const out: FeedbackVector[] = [];
  for (const p of await gallery.feedbackPairs(MAX_FEEDBACK_PAIRS)) {
    if (!enabled.has(p.algorithmId)) continue;
    let vector: Float32Array;
    try {
      vector = gallery.fuse(Object.fromEntries(p.vectors));
    } catch {
      continue;
    }
    out.push({ algorithmId: p.algorithmId, genuine: p.genuine, vector });
  }
  return out;
}

/**
 * Reads the gallery's vectors by algorithm: enabled algorithms' samples to calibrate, disabled
 * ones' as negatives (they are never searched, so they play unregistered sources), each algorithm
 * capped at `maxSamplesPerAlgorithm` by a seeded random subset.
 */
export async function collectCalibrationVectors(gallery: CalibrationSource, maxSamplesPerAlgorithm = 200): Promise<CollectedVectors> {
  const cap = maxSamplesPerAlgorithm;
  const byAlgorithm = new Map<string, Float32Array[]>();
  const disabled = new Map<string, Float32Array[]>();
  const names: Record<string, string> = Object.create(null);
  for await (const { algorithmId, vector } of gallery.vectors()) {
    const summary = gallery.algorithmSummary(algorithmId);
    if (!summary) continue; // deleted since the read began
    names[algorithmId] = summary.name;
    const target = summary.enabled ? byAlgorithm : disabled;
    const list = target.get(algorithmId);
    if (list) list.push(vector);
    else target.set(algorithmId, [vector]);
  }
  const fingerprint: CalibrationFingerprint = Object.fromEntries([...byAlgorithm].map(([id, vs]) => [id, vs.length]));
  const capped = (m: Map<string, Float32Array[]>) => new Map([...m].map(([id, v]) => [id, v.length > cap ? shuffled(v, createRng(`calibrate:${id}`)).slice(0, cap) : v]));
  const feedback = gallery.feedbackPairs && gallery.fuse
    ? await collectFeedback({ feedbackPairs: gallery.feedbackPairs.bind(gallery), fuse: gallery.fuse.bind(gallery) }, new Set(byAlgorithm.keys()))
    : [];
  return { byAlgorithm: capped(byAlgorithm), negatives: [...capped(disabled).values()].flat(), names, fingerprint, cap, ...(feedback.length ? { feedback } : {}) };
}

/** Stores a computed calibration as the gallery's current one, with what it was made from in params. */
export function saveGalleryCalibration(gallery: Pick<Gallery, 'saveCalibration'>, collected: CollectedVectors, computed: ComputedCalibration, opts: CalibrateGalleryOptions): Promise<CalibrationRecord> {
  const { calibration, metric, scoreNorm } = computed;
  return gallery.saveCalibration({
    ...(metric ? { metric } : {}),
    targetFpir: opts.targetFpir,
    global: calibration.global,
    perAlgorithm: calibration.perAlgorithm,
    // NaN (no leave-one-out score) is not JSON: JSON.stringify would write null anyway, say so.
    params: JSON.parse(JSON.stringify({
      topM: opts.topM, maxSamplesPerAlgorithm: collected.cap, negatives: collected.negatives.length, stats: calibration.stats,
      fingerprint: collected.fingerprint, feedback: calibration.stats.global.feedback, ...(opts.auto ? { auto: true } : {}), ...(opts.auto && opts.requested ? { requested: opts.requested } : {}),
      ...(scoreNorm ? { scoreNorm } : {}),
    })) as Record<string, unknown>,
  }, opts.audit);
}

function withCohort(collected: CollectedVectors, opts: CalibrateGalleryOptions): CollectedVectors {
  return opts.cohort ? { ...collected, cohort: opts.cohort.vectors } : collected;
}

function computeOptions(opts: CalibrateGalleryOptions): ComputeOptions {
  const c = opts.cohort;
  return { topM: opts.topM, targetFpir: opts.targetFpir, metric: opts.metric, ...(c ? { scoreNorm: { topK: c.topK, model: c.model, version: c.version } } : {}) };
}

async function finish(gallery: Pick<Gallery, 'saveCalibration'>, collected: CollectedVectors, computed: ComputedCalibration, opts: CalibrateGalleryOptions): Promise<GalleryCalibration> {
  const result: GalleryCalibration = { ...computed, names: collected.names, negatives: collected.negatives.length };
  if (opts.save !== false) result.record = await saveGalleryCalibration(gallery, collected, computed, opts);
  return result;
}

/**
 * Calibrates the enabled algorithms of a gallery from its stored vectors, on this thread (the
 * CLI). Throws DFG_ERR_CALIBRATION_INSUFFICIENT when there is nothing to compare.
 */
export async function calibrateGallery(gallery: CalibrationSource & Pick<Gallery, 'saveCalibration'>, opts: CalibrateGalleryOptions): Promise<GalleryCalibration> {
  const collected = await collectCalibrationVectors(gallery, opts.maxSamplesPerAlgorithm);
  return finish(gallery, collected, computeCalibration(withCohort(collected, opts), computeOptions(opts)), opts);
}

/**
 * calibrateGallery with the computation in a worker thread (the server). The caller keeps the
 * gallery open until this settles (services.use). Rejects with `signal.reason` when aborted,
 * saving nothing.
 */
export async function calibrateGalleryInWorker(gallery: CalibrationSource & Pick<Gallery, 'saveCalibration'>, opts: CalibrateGalleryOptions, signal?: AbortSignal): Promise<GalleryCalibration> {
  const collected = await collectCalibrationVectors(gallery, opts.maxSamplesPerAlgorithm);
  const computed = await computeInWorker(withCohort(collected, opts), computeOptions(opts), signal);
  signal?.throwIfAborted();
  return finish(gallery, collected, computed, opts);
}
