/**
 * Folds the repeats of one embedding space into its report section: mean ± std of each metric,
 * pooled per-algorithm rows and their forgery-type / architecture groups, curves for the plots,
 * confusion matrices.
 * Pure.
 */
import { DIR_FPIRS, UNKNOWN_LABEL, type ApBasis, type ProbeOutcome, type SplitResult } from './evaluate-split.js';
import { confusionOf } from './confusion.js';
import { meanStd } from './metrics.js';
import type { AlgorithmRow, Curves, GroupRow, SpaceReport, Stat } from './types.js';

export interface AlgorithmMeta {
  name: string;
  forgeryType: string;
  architecture: string;
  family: string;
  authentic: boolean;
}

/** NaN and infinities become null (JSON has no NaN). */
export const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function stat(values: readonly number[]): Stat {
  const m = meanStd(values);
  return { mean: finite(m.mean), std: finite(m.std) };
}

const ratio = (num: number, den: number) => (den === 0 ? null : num / den);
const ROC_MAX_POINTS = 200;

/** Keeps a curve's shape with at most `max` points (first and last always kept). */
function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]);
}

interface Tally {
  probes: number;
  top: number;
  apSum: number;
  correct: number;
  unknownProbes: number;
  rejected: number;
}

const emptyTally = (): Tally => ({ probes: 0, top: 0, apSum: 0, correct: 0, unknownProbes: 0, rejected: 0 });

function addOutcome(t: Tally, p: ProbeOutcome): void {
  if (p.known) {
    t.probes += 1;
    if (p.rank === 1) t.top += 1;
    t.apSum += p.ap;
    if (p.predicted === p.algorithm) t.correct += 1;
  } else {
    t.unknownProbes += 1;
    if (p.predicted === UNKNOWN_LABEL) t.rejected += 1;
  }
}

function groupRows(rows: readonly AlgorithmRow[], tallies: ReadonlyMap<string, Tally>, key: (r: AlgorithmRow) => string): Record<string, GroupRow> {
  // Null prototype: group keys come from genome.json (data, never object internals).
  const out: Record<string, GroupRow> = Object.create(null);
  const sums = new Map<string, Tally>();
  for (const r of rows) {
    const k = key(r);
    const t = tallies.get(r.name)!;
    const s = sums.get(k) ?? emptyTally();
    for (const f of Object.keys(s) as (keyof Tally)[]) s[f] += t[f];
    sums.set(k, s);
    (out[k] ??= { algorithms: [], probes: 0, rank1: null, mAP: null, unknownProbes: 0, unknownRejected: null }).algorithms.push(r.name);
  }
  for (const [k, s] of sums) {
    Object.assign(out[k], { probes: s.probes, rank1: ratio(s.top, s.probes), mAP: ratio(s.apSum, s.probes), unknownProbes: s.unknownProbes, unknownRejected: ratio(s.rejected, s.unknownProbes) });
  }
  return out;
}

/**
 * The report section of one embedding space from its repeats (`results[i]` is repeat i).
 * `unknownIn` lists, per repeat, the algorithms held out in it; `mAPBasis` says what the
 * results' average precisions ranked.
 */
export function summariseSpace(results: readonly SplitResult[], algorithms: readonly AlgorithmMeta[], unknownIn: readonly (readonly string[])[], knownIn: readonly (readonly string[])[], mAPBasis: ApBasis = 'samples'): SpaceReport {
  const metric = (f: (r: SplitResult) => number) => stat(results.map(f));
  const tallies = new Map(algorithms.map((a) => [a.name, emptyTally()]));
  for (const r of results) for (const p of r.probes) addOutcome(tallies.get(p.algorithm)!, p);

  const perAlgorithm: AlgorithmRow[] = algorithms.map((a) => {
    const t = tallies.get(a.name)!;
    return {
      name: a.name,
      forgeryType: a.forgeryType,
      architecture: a.architecture,
      family: a.family,
      authentic: a.authentic,
      probes: t.probes,
      rank1: ratio(t.top, t.probes),
      ap: ratio(t.apSum, t.probes),
      correctAtThreshold: ratio(t.correct, t.probes),
      repeatsKnown: knownIn.filter((k) => k.includes(a.name)).length,
      repeatsUnknown: unknownIn.filter((u) => u.includes(a.name)).length,
      unknownProbes: t.unknownProbes,
      unknownRejected: ratio(t.rejected, t.unknownProbes),
    };
  });

  const maxRank = Math.max(0, ...results.map((r) => r.metrics.cmc.length));
  const curves: Curves = {
    roc: results.map((r, i) => ({ repeat: i, auroc: finite(r.metrics.auroc), points: thin(r.metrics.roc.map((p) => [p.fpr, p.tpr] as [number, number]), ROC_MAX_POINTS) })),
    cmc: Array.from({ length: maxRank }, (_, k) => stat(results.map((r) => (k < r.metrics.cmc.length ? r.metrics.cmc[k] : 1))).mean),
  };

  return {
    rank1: metric((r) => r.metrics.rank1),
    rank5: metric((r) => r.metrics.rank5),
    mAP: metric((r) => r.metrics.mAP),
    mAPBasis,
    auroc: metric((r) => r.metrics.auroc),
    oscr: metric((r) => r.metrics.oscr),
    dirAtFpir: Object.fromEntries(DIR_FPIRS.map((f) => [f, metric((r) => r.metrics.dirAtFpir[f])])),
    macroF1: metric((r) => r.metrics.macroF1),
    knownCorrectAtThreshold: metric((r) => r.metrics.knownCorrectAtThreshold),
    unknownRejectedAtThreshold: metric((r) => r.metrics.unknownRejectedAtThreshold),
    authenticFalselyAttributed: metric((r) => r.metrics.authenticFalselyAttributed),
    falseAttributionRate: metric((r) => r.metrics.falseAttributionRate),
    detectionAuroc: metric((r) => r.metrics.detectionAuroc),
    perAlgorithm,
    byForgeryType: groupRows(perAlgorithm, tallies, (r) => r.forgeryType),
    byArchitecture: groupRows(perAlgorithm, tallies, (r) => r.architecture),
    calibration: {
      global: metric((r) => r.thresholds.global),
      fallbacks: metric((r) => r.thresholds.fallbacks),
    },
    curves,
    confusion: confusionOf(results, algorithms, knownIn),
  };
}
