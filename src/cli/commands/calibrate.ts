/**
 * `dfg calibrate`: per-algorithm and global thresholds from the gallery itself for a target FPIR
 * (attribution/calibrate.ts), stored as the gallery's current calibration.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { calibrateThresholds, type Calibration } from '../../attribution/calibrate.js';
import { loadConfig } from '../../config/index.js';
import { loadManifest } from '../../embedding/manifest.js';
import { createRng, shuffled } from '../../evaluation/random.js';
import { openGallery, type CalibrationRecord, type Gallery } from '../../gallery/index.js';

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
}

export interface GalleryCalibration {
  calibration: Calibration;
  /** Names by algorithm id, for display. */
  names: Record<string, string>;
  /** Samples of disabled algorithms, used as impostors for every enabled one. */
  negatives: number;
  record?: CalibrationRecord;
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
  const negatives = [...capped(disabled).values()].flat();
  const calibration = calibrateThresholds({ vectorsByAlgorithm: capped(byAlgorithm), topM: opts.topM, targetFpir: opts.targetFpir, negatives });
  const result: GalleryCalibration = { calibration, names, negatives: negatives.length };
  if (opts.save !== false) {
    result.record = gallery.saveCalibration({
      targetFpir: opts.targetFpir,
      global: calibration.global,
      perAlgorithm: calibration.perAlgorithm,
      // NaN (no leave-one-out score) is not JSON: JSON.stringify would write null anyway, say so.
      params: JSON.parse(JSON.stringify({ topM: opts.topM, maxSamplesPerAlgorithm: cap, negatives: negatives.length, stats: calibration.stats })) as Record<string, unknown>,
    });
  }
  return result;
}

const pct = (x: number) => (Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);

/** The result as a text table. */
export function calibrationTable(c: GalleryCalibration): string {
  const rows = Object.entries(c.calibration.stats.perAlgorithm).map(([id, s]) => [
    c.names[id] ?? id, String(s.samples), s.threshold.toFixed(4), s.source === 'global' ? `global (${s.reason})` : 'own', pct(s.genuineAcceptance), pct(s.impostorAcceptance),
  ]);
  const head = ['algorithm', 'samples', 'threshold', 'source', 'genuine accepted', 'impostors accepted'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => cols.map((x, i) => x.padEnd(widths[i])).join('  ');
  const g = c.calibration.stats.global;
  return [
    line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '',
    `global threshold ${c.calibration.global.toFixed(4)} (identification impostors accepted ${pct(g.impostorAcceptance)} of ${g.impostors}; leave-one-out genuine accepted ${pct(g.genuineAcceptance)})`,
  ].join('\n');
}

const fraction = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError(`Expected a number in (0, 1) but received ${JSON.stringify(v)}`);
  return n;
};
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`Expected a positive integer but received ${JSON.stringify(v)}`);
  return n;
};

/** Registers `dfg calibrate` on the program. */
export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .description('Calibrate per-algorithm thresholds from the gallery (leave-one-out genuine vs impostor scores) for a target FPIR, and store them')
    .option('--target-fpir <fraction>', 'false-positive identification rate to calibrate for', fraction, 0.01)
    .option('--top-m <m>', 'per-algorithm score = mean of the best m similarities (default: DFG_TOP_M)', positiveInt)
    .option('--max-samples <n>', 'samples per algorithm used at most (calibration is quadratic)', positiveInt, 200)
    .option('--dry-run', 'compute and print, store nothing')
    .option('--json', 'print the result as JSON')
    .action(async (o: { targetFpir: number; topM?: number; maxSamples: number; dryRun?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const { manifest } = await loadManifest(config.DFG_MODELS_DIR, config.DFG_MODEL);
      const gallery = await openGallery({ dir: config.DFG_GALLERY_DIR, modelId: manifest.id, dim: manifest.output.dim, snapshotEvery: config.DFG_SNAPSHOT_EVERY });
      try {
        const result = calibrateGallery(gallery, { topM: o.topM ?? config.DFG_TOP_M, targetFpir: o.targetFpir, maxSamplesPerAlgorithm: o.maxSamples, save: !o.dryRun });
        if (o.json) console.log(JSON.stringify({ ...result.calibration, names: result.names, negatives: result.negatives, version: result.record?.version ?? null }, null, 2));
        else {
          console.log(calibrationTable(result));
          console.log(result.record ? `stored as calibration version ${result.record.version}` : 'dry run: nothing stored');
        }
      } finally {
        await gallery.close();
      }
    });
}
