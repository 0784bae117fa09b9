/**
 * Automatic calibration (the HTTP server only): a timer watches the enabled algorithms and their
 * sample counts, and once they have changed since the current calibration, and then stayed put
 * for `everyMs` (a batch of enrolments is calibrated once, at its end), calibrates the gallery in
 * a worker thread with the configured top-M and metric, and stores the result with
 * params.auto = true. The target FPIR and sample cap are those of the last calibration someone
 * requested (POST /v1/calibration, `dfg calibrate`), carried from one automatic calibration to the
 * next in params.requested, so a chosen operating point survives enrolments; without one, the
 * configured target (DFG_TARGET_FPIR) and the default cap. At start it calibrates at once when the gallery changed since (or has no)
 * calibration. One run at a time; a gallery that cannot be calibrated yet (fewer than two enabled
 * algorithms with samples, or none with two) is left alone until it changes. On a shared store
 * (PostgreSQL) one process calibrates at a time, under a lock: the others skip while it runs, and
 * find its result (a calibration of the same samples) when they get the lock.
 */
import type { Logger } from 'pino';
import { metricInfo } from '../attribution/gallery-metric.js';
import type { MetricSetting } from '../config/metric-setting.js';
import { isDfgError } from '../errors.js';
import type { CalibrationRecord, Gallery } from '../gallery/gallery.js';
import { calibrateGalleryInWorker, fingerprintKey, type CalibrationCohort } from './index.js';

/** A gallery held open for a calibration; `release` lets it close. */
export interface HeldGallery {
  gallery: Pick<Gallery, 'vectors' | 'algorithmSummary' | 'saveCalibration' | 'enabledSampleCounts' | 'currentCalibration' | 'refresh' | 'tryExclusive'>
    & Partial<Pick<Gallery, 'feedbackPairs' | 'fuse'>>;
  /** The served model's cohort to normalise scores against (DFG_SCORE_NORM), if any. */
  cohort?: CalibrationCohort;
  release(): void;
}

export interface AutoCalibrationOptions {
  /** Check period and quiet time after the last change, in ms (> 0). */
  everyMs: number;
  topM: number;
  targetFpir: number;
  metric: MetricSetting;
  log: Logger;
  /** The serving gallery, held, or undefined when it must not be calibrated now (loading, switching, closing). */
  acquire(): HeldGallery | undefined;
}

export interface AutoCalibrator {
  /** Aborts a running calibration, storing nothing (the serving gallery was replaced); the next check starts over. */
  cancel(): void;
  /** Stops the timer and any running calibration; resolves once it has let go of the gallery. */
  close(): Promise<void>;
}

/** What a calibration needs: two enabled algorithms with samples, one of them with two (leave-one-out). */
function calibratable(counts: Record<string, number>): boolean {
  const ns = Object.values(counts);
  return ns.length >= 2 && ns.some((n) => n >= 2);
}

/** A target FPIR and sample cap someone asked for, kept by the automatic calibrations after it. */
export interface RequestedSettings {
  targetFpir: number;
  maxSamplesPerAlgorithm?: number;
  /** The calibration version that was requested. */
  version: number;
}

/** The settings of the last requested calibration, from the current one; undefined when none was requested. */
export function requestedSettings(record: CalibrationRecord | null): RequestedSettings | undefined {
  if (!record) return undefined;
  if (record.params.auto !== true) {
    const cap = record.params.maxSamplesPerAlgorithm;
    return { targetFpir: record.targetFpir, ...(typeof cap === 'number' ? { maxSamplesPerAlgorithm: cap } : {}), version: record.version };
  }
  const r = record.params.requested as Partial<RequestedSettings> | undefined;
  if (!r || typeof r.targetFpir !== 'number' || !(r.targetFpir > 0 && r.targetFpir < 0.5) || typeof r.version !== 'number') return undefined;
  const cap = typeof r.maxSamplesPerAlgorithm === 'number' && Number.isInteger(r.maxSamplesPerAlgorithm) && r.maxSamplesPerAlgorithm >= 2 ? r.maxSamplesPerAlgorithm : undefined;
  return { targetFpir: r.targetFpir, ...(cap ? { maxSamplesPerAlgorithm: cap } : {}), version: r.version };
}

/** The store lock that keeps automatic calibrations of one shared gallery to one process at a time. */
const AUTO_LOCK = 'auto-calibration';

/** Longest pause between two looks at the gallery. */
const CHECK_MS = 1000;

export function startAutoCalibration(opts: AutoCalibrationOptions): AutoCalibrator {
  const { everyMs, log } = opts;
  let seen: string | undefined;
  let changedAt = -Infinity;
  /** The gallery state last calibrated (or found uncalibratable): not tried again until it changes. */
  let tried: string | undefined;
  let running: { controller: AbortController; done: Promise<void> } | undefined;
  let stopped = false;
  let calKey: { record: CalibrationRecord | null; key: string | undefined } | undefined;

  const currentKey = (record: CalibrationRecord | null): string | undefined => {
    if (calKey?.record !== record) calKey = { record, key: fingerprintKey(record?.params.fingerprint) };
    return calKey.key;
  };

  const run = (held: HeldGallery, key: string, counts: Record<string, number>): void => {
    const controller = new AbortController();
    const t0 = performance.now();
    const requested = requestedSettings(held.gallery.currentCalibration());
    const targetFpir = requested?.targetFpir ?? opts.targetFpir;
    log.debug({ samples: counts, targetFpir, requested: requested?.version }, 'automatic calibration started');
    const done = held.gallery.tryExclusive(AUTO_LOCK, async () => {
      // Another process may have calibrated these very samples while this one waited.
      await held.gallery.refresh();
      if (currentKey(held.gallery.currentCalibration()) === key) return null;
      return calibrateGalleryInWorker(held.gallery, {
        topM: opts.topM, targetFpir, metric: opts.metric, auto: true,
        ...(held.cohort ? { cohort: held.cohort } : {}),
        ...(requested?.maxSamplesPerAlgorithm ? { maxSamplesPerAlgorithm: requested.maxSamplesPerAlgorithm } : {}),
        ...(requested ? { requested } : {}),
      }, controller.signal);
    })
      .then((result) => {
        if (result === undefined) return log.debug('automatic calibration: another process is calibrating this gallery');
        tried = key;
        if (result === null) return log.debug('automatic calibration: another process has calibrated these samples');
        const record = result.record!;
        log.info({ version: record.version, targetFpir, global: record.global, metric: metricInfo(result.metric).kind, algorithms: Object.keys(record.perAlgorithm).length, ms: Math.round(performance.now() - t0) }, 'calibrated automatically');
      }, (err: unknown) => {
        if (controller.signal.aborted) return log.debug({ ms: Math.round(performance.now() - t0) }, 'automatic calibration cancelled');
        tried = key;
        if (isDfgError(err, 'DFG_ERR_CALIBRATION_INSUFFICIENT')) log.debug({ reason: err.message }, 'automatic calibration: not yet');
        else log.error({ err }, 'automatic calibration failed');
      })
      .finally(() => {
        held.release();
        running = undefined;
      });
    running = { controller, done };
  };

  const check = (): void => {
    if (stopped || running) return;
    const held = opts.acquire();
    if (!held) return;
    let started = false;
    try {
      const counts = held.gallery.enabledSampleCounts();
      const key = fingerprintKey(counts)!;
      const now = performance.now();
      if (key !== seen) {
        // The first look (start-up) needs no quiet time; later changes do.
        changedAt = seen === undefined ? -Infinity : now;
        seen = key;
      }
      if (key === tried || key === currentKey(held.gallery.currentCalibration()) || !calibratable(counts) || now - changedAt < everyMs) return;
      run(held, key, counts);
      started = true;
    } catch (err) {
      log.warn({ err }, 'automatic calibration check failed');
    } finally {
      if (!started) held.release();
    }
  };

  // Look often (the check reads counts kept in memory), so a calibration follows the last change
  // by about everyMs, not by up to twice that.
  const timer = setInterval(check, Math.min(everyMs, CHECK_MS));
  timer.unref();
  check();

  return {
    cancel() {
      running?.controller.abort(new Error('automatic calibration cancelled'));
    },
    async close() {
      stopped = true;
      clearInterval(timer);
      running?.controller.abort(new Error('automatic calibration cancelled: closing'));
      await running?.done;
    },
  };
}
