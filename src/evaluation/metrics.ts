/**
 * Retrieval and open-set metrics of the DeepfakeGenome protocols. Pure: numbers in, numbers out.
 *
 * Conventions shared by every function here:
 * - A higher score means "more similar / more confident". Scores must not be NaN
 *   (-Infinity is allowed and sorts last).
 * - A metric that is undefined for its input (no positives, no unknown probes, ...) is `NaN`,
 *   never a made-up 0 or 1; `meanStd` skips NaN and the report writes it as `null`.
 * - Ties count one half wherever an ordering decides (AUROC, OSCR, the curves' trapezoids).
 */
import { thresholdAtFpir } from '../math/threshold.js';

/** One point of a ROC curve: accepting every score >= threshold gives these rates. */
export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** One point of an OSCR curve: correct-classification rate against false-positive rate. */
export interface OscrPoint {
  threshold: number;
  fpr: number;
  ccr: number;
}

/** A known (registered) probe as the open-set metrics see it. */
export interface KnownOutcome {
  /** Its best-scored class is its true class. */
  correct: boolean;
  /** Its best per-class score. */
  score: number;
}

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  std: number;
  /** How many values were defined (not NaN). */
  n: number;
}

// Comparators that stay consistent with -Infinity (a subtraction would give NaN for two of them).
const byAscending = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);
const byDescending = (a: number, b: number) => byAscending(b, a);

/**
 * Area under the ROC curve of positives (should score high) against negatives, by the
 * Mann-Whitney statistic: the chance that a random positive outscores a random negative, a
 * tie counting one half. NaN when either side is empty.
 */
export function auroc(pos: readonly number[], neg: readonly number[]): number {
  if (pos.length === 0 || neg.length === 0) return NaN;
  const all = [...pos.map((s) => ({ s, p: true })), ...neg.map((s) => ({ s, p: false }))];
  all.sort((a, b) => byAscending(a.s, b.s));
  // Sum of the positives' average ranks (1-based, ascending, ties share their mean rank).
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    let positives = 0;
    while (j < all.length && all[j].s === all[i].s) {
      if (all[j].p) positives += 1;
      j += 1;
    }
    rankSum += positives * ((i + 1 + j) / 2);
    i = j;
  }
  const np = pos.length;
  return (rankSum - (np * (np + 1)) / 2) / (np * neg.length);
}

/**
 * ROC curve from (0, 0) to (1, 1), one point per distinct score (descending threshold).
 * Empty when either side is empty.
 */
export function rocCurve(pos: readonly number[], neg: readonly number[]): RocPoint[] {
  if (pos.length === 0 || neg.length === 0) return [];
  const p = [...pos].sort(byDescending);
  const n = [...neg].sort(byDescending);
  const points: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let i = 0;
  let j = 0;
  while (i < p.length || j < n.length) {
    const t = Math.max(i < p.length ? p[i] : -Infinity, j < n.length ? n[j] : -Infinity);
    while (i < p.length && p[i] === t) i += 1;
    while (j < n.length && n[j] === t) j += 1;
    points.push({ threshold: t, fpr: j / n.length, tpr: i / p.length });
  }
  return points;
}

/**
 * Average precision of one ranked retrieval: `scores[i]` is item i's similarity, `relevant[i]`
 * whether it is a correct match. Tied scores form one step (precision taken at the end of the
 * tie group), so the result does not depend on how a sort orders ties. NaN with no relevant
 * item.
 */
export function averagePrecision(scores: readonly number[], relevant: readonly boolean[]): number {
  const total = relevant.reduce((c, r) => c + (r ? 1 : 0), 0);
  if (total === 0) return NaN;
  const order = scores.map((s, i) => ({ s, r: relevant[i] })).sort((a, b) => byDescending(a.s, b.s));
  let hits = 0;
  let ap = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let groupHits = 0;
    while (j < order.length && order[j].s === order[i].s) {
      if (order[j].r) groupHits += 1;
      j += 1;
    }
    hits += groupHits;
    // j items are ranked at or above this tie group.
    if (groupHits > 0) ap += (groupHits / total) * (hits / j);
    i = j;
  }
  return ap;
}

/**
 * Cumulative match characteristic: `result[k - 1]` is the share of probes whose true class is
 * ranked k or better. `ranks` are 1-based (Infinity when the class was not ranked at all).
 * All NaN for no probes.
 */
export function cmc(ranks: readonly number[], maxK: number): number[] {
  const out = new Array<number>(Math.max(0, maxK)).fill(NaN);
  if (ranks.length === 0) return out;
  for (let k = 1; k <= out.length; k += 1) {
    out[k - 1] = ranks.reduce((c, r) => c + (r <= k ? 1 : 0), 0) / ranks.length;
  }
  return out;
}

/**
 * OSCR curve: sweeping the threshold down through every distinct score, CCR is the share of
 * known probes ranked correctly first with score >= threshold and FPR the share of unknown
 * probes with score >= threshold. Starts at (0, 0), ends at FPR 1. Empty when either side is.
 */
export function oscrCurve(known: readonly KnownOutcome[], unknownScores: readonly number[]): OscrPoint[] {
  if (known.length === 0 || unknownScores.length === 0) return [];
  const good = known.filter((k) => k.correct).map((k) => k.score).sort(byDescending);
  const u = [...unknownScores].sort(byDescending);
  const points: OscrPoint[] = [{ threshold: Infinity, fpr: 0, ccr: 0 }];
  let i = 0;
  let j = 0;
  while (j < u.length) {
    const t = Math.max(i < good.length ? good[i] : -Infinity, u[j]);
    while (i < good.length && good[i] === t) i += 1;
    while (j < u.length && u[j] === t) j += 1;
    points.push({ threshold: t, fpr: j / u.length, ccr: i / known.length });
  }
  // Correct probes scoring below every unknown one: a vertical step at FPR 1 (no area).
  if (i < good.length) points.push({ threshold: good[good.length - 1], fpr: 1, ccr: good.length / known.length });
  return points;
}

/**
 * Open-set classification rate: area under CCR(δ) against FPR(δ) (trapezoids, so a correct
 * known probe tied with an unknown one counts one half). Equals `auroc` when every known probe
 * is ranked correctly; at most the closed-set rank-1 rate. NaN when either side is empty.
 */
export function oscr(known: readonly KnownOutcome[], unknownScores: readonly number[]): number {
  const points = oscrCurve(known, unknownScores);
  if (points.length === 0) return NaN;
  let area = 0;
  for (let i = 1; i < points.length; i += 1) {
    area += (points[i].fpr - points[i - 1].fpr) * ((points[i].ccr + points[i - 1].ccr) / 2);
  }
  return area;
}

/**
 * Detection and identification rate at a false-positive identification rate: the share of
 * known probes ranked correctly first with a score at or above the threshold where `fpir` of
 * the unknown probes are (at most) falsely attributed. NaN when either side is empty.
 */
export function dirAtFpir(known: readonly KnownOutcome[], unknownScores: readonly number[], fpir: number): number {
  if (known.length === 0 || unknownScores.length === 0) return NaN;
  const t = thresholdAtFpir(unknownScores, fpir);
  return known.reduce((c, k) => c + (k.correct && k.score >= t ? 1 : 0), 0) / known.length;
}

/**
 * Macro-averaged F1 over every label seen in `truth` or `predicted` (a label only predicted,
 * never true, scores F1 = 0 and counts). NaN for empty input; lengths must match.
 */
export function macroF1(truth: readonly string[], predicted: readonly string[]): number {
  if (truth.length === 0 || truth.length !== predicted.length) return NaN;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const labels = new Set<string>([...truth, ...predicted]);
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < truth.length; i += 1) {
    if (truth[i] === predicted[i]) bump(tp, truth[i]);
    else {
      bump(fp, predicted[i]);
      bump(fn, truth[i]);
    }
  }
  let sum = 0;
  for (const label of labels) {
    const t = tp.get(label) ?? 0;
    sum += (2 * t) / (2 * t + (fp.get(label) ?? 0) + (fn.get(label) ?? 0));
  }
  return sum / labels.size;
}

/** Mean and sample standard deviation of the defined (non-NaN) values. NaN/NaN/0 when none. */
export function meanStd(values: readonly number[]): MeanStd {
  const v = values.filter((x) => !Number.isNaN(x));
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length === 1) return { mean, std: 0, n: 1 };
  const ss = v.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, std: Math.sqrt(ss / (v.length - 1)), n: v.length };
}
