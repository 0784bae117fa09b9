/**
 * `dfg calibrate`: per-algorithm and global thresholds from the gallery itself for a target FPIR
 * (attribution/calibrate.ts), stored as the gallery's current calibration. Its options:
 * ../commands/calibrate.ts.
 */
import pino from 'pino';
import { loadConfig, metricSetting, scoreNormSetting, storeLocation } from '../../config/index.js';
import type { ScoreNormSetting } from '../../config/score-norm-setting.js';
import { loadCohortFor } from '../../embedding/cohort.js';
import { metricHeader } from '../../attribution/gallery-metric.js';
import type { MetricSetting } from '../../config/metric-setting.js';
import { configuredGalleryModels } from '../../serving/services.js';
import { createLogger } from '../../logger.js';
import { openGallery } from '../../gallery/gallery.js';
import { calibrateGallery, calibrationCohort, type GalleryCalibration } from '../../calibration/index.js';
import { requireGallery } from '../gallery-dir.js';
import { CLI_AUDIT } from '../audit-note.js';

export { calibrateGallery, type GalleryCalibration, type CalibrateGalleryOptions } from '../../calibration/index.js';

const pct = (x: number) => (Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);

/** The result as a text table. */
export function calibrationTable(c: GalleryCalibration): string {
  const rows = Object.entries(c.calibration.stats.perAlgorithm).map(([id, s]) => [
    c.names[id] ?? id, String(s.samples), s.threshold.toFixed(4), s.source === 'global' ? `global (${s.reason})` : 'own', pct(s.genuineAcceptance), pct(s.impostorAcceptance),
    pct(s.looRank1), s.confusedWith ? `${c.names[s.confusedWith.algorithm] ?? s.confusedWith.algorithm} (${pct(s.confusedWith.share)})` : '—',
  ]);
  const head = ['algorithm', 'samples', 'threshold', 'source', 'genuine accepted', 'impostors accepted', 'LOO rank-1', 'most confused with'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => cols.map((x, i) => x.padEnd(widths[i])).join('  ');
  const g = c.calibration.stats.global;
  return [
    line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '',
    `global threshold ${c.calibration.global.toFixed(4)} (identification impostors accepted ${pct(g.impostorAcceptance)} of ${g.impostors}; leave-one-out genuine accepted ${pct(g.genuineAcceptance)})`,
    c.metric
      ? `similarity wccn:${c.metric.shrinkage} (within-algorithm whitening of ${c.metric.samples} samples, ${c.metric.coeffs.length} directions damped)`
      : 'similarity cosine',
    ...(g.feedback && g.feedback.genuine + g.feedback.impostors > 0
      ? [`analysts' feedback: ${g.feedback.genuine} confirmed or relabelled answer(s) as genuine scores, ${g.feedback.impostors} rejected as impostor scores`]
      : []),
    'LOO rank-1: share of an algorithm\'s samples that, left out one at a time, score it highest; most confused with: the algorithm that takes most of the others',
  ].join('\n');
}

export interface CalibrateCommandOptions { targetFpir?: number; topM?: number; maxSamples: number; metric?: MetricSetting; scoreNorm?: ScoreNormSetting; dryRun?: boolean; json?: boolean }

/** `dfg calibrate` */
export async function calibrate(o: CalibrateCommandOptions): Promise<void> {
  const config = loadConfig();
  requireGallery(config.DFG_GALLERY_DIR, config.DFG_STORE);
  // Warnings (a recorded model switch overridden or unservable) go to stderr, apart from the --json output.
  const log = createLogger({ LOG_LEVEL: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' }, pino.destination({ dest: 2, sync: true }));
  const models = await configuredGalleryModels(config, log);
  const gallery = await openGallery({ ...storeLocation(config), models, snapshotEvery: config.DFG_SNAPSHOT_EVERY });
  try {
    const cohort = calibrationCohort(await loadCohortFor(config.DFG_MODELS_DIR, models.map((m) => ({ id: m.id, weight: m.weight ?? 1 }))), o.scoreNorm ?? scoreNormSetting(config));
    const result = await calibrateGallery(gallery, {
      topM: o.topM ?? config.DFG_TOP_M, targetFpir: o.targetFpir ?? config.DFG_TARGET_FPIR, maxSamplesPerAlgorithm: o.maxSamples, save: !o.dryRun,
      metric: o.metric ?? metricSetting(config), cohort, audit: CLI_AUDIT,
    });
    const metric = result.metric ? metricHeader(result.metric) : null;
    if (o.json) console.log(JSON.stringify({ ...result.calibration, names: result.names, negatives: result.negatives, metric, version: result.record?.version ?? null }, null, 2));
    else {
      console.log(calibrationTable(result));
      console.log(result.record ? `stored as calibration version ${result.record.version}` : 'dry run: nothing stored');
    }
  } finally {
    await gallery.close();
  }
}
