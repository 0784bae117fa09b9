/**
 * The attribution decision (DESIGN.md, "Decision semantics"). Pure: neighbours and algorithm
 * metadata in, decision out.
 *
 * - Scores: per algorithm, the mean of its best `topM` similarities among the k neighbours.
 * - The best algorithm's threshold: its own `threshold` if the algorithm object carries one,
 *   else `perAlgorithm[id]` (calibrated), else the global `threshold`.
 * - Margin: best score minus runner-up score. With a single candidate the runner-up counts as
 *   -1, the lowest cosine similarity, so the margin is `score + 1` and never blocks.
 * - `attributed` when score >= threshold and margin >= required margin; `authentic` when that
 *   best algorithm is an authentic reference class (forgeryType 'authentic') and passes the same
 *   test; `unknown` otherwise, with `algorithm: null` but the candidates listed.
 * - No usable neighbour (empty gallery, everything disabled or deleted): `unknown`, score 0,
 *   margin 0, the global threshold, no candidates.
 * - Neighbours of algorithms the lookup does not know, or that are disabled, are dropped.
 * - With `normalise` (a calibration's cohort normalisation, score-norm.ts), each algorithm's score
 *   is mapped first, and ranking, threshold and margin use the mapped scores.
 */
import { invalid } from '../errors.js';
import { byNeighbourRank, byScoreRank, checkTopM, scoreAlgorithms, type Neighbour } from './score.js';

export { scoreAlgorithms, type AlgorithmScore, type Neighbour } from './score.js';

/** What decide needs to know of an algorithm; callers may pass richer objects and get them back. */
export interface DecisionAlgorithm {
  id: string;
  forgeryType: string;
  /** `false` drops the algorithm's neighbours. */
  enabled?: boolean;
  /** Per-algorithm override; null or absent falls back to `perAlgorithm`, then to the global threshold. */
  threshold?: number | null;
}

export type AlgorithmLookup<A> = ReadonlyMap<string, A> | Readonly<Record<string, A>> | ((id: string) => A | undefined);

export interface DecideOptions {
  /** Global similarity threshold. */
  threshold: number;
  /** Required lead of the best score over the runner-up. */
  margin: number;
  /** Per-algorithm score = mean of its best topM similarities. */
  topM: number;
  /** Use only the k most similar neighbours (default: all given). */
  k?: number;
  /** Calibrated thresholds by algorithm id, used when the algorithm carries no threshold of its own. */
  perAlgorithm?: Readonly<Record<string, number>>;
  /** Candidates to return, best first (default 5). */
  candidates?: number;
  /**
   * Maps each algorithm's raw score to the score decided on (score-norm.ts, a cohort
   * normalisation); candidates are then ranked, thresholded and margined by it. Absent: raw.
   */
  normalise?: (algorithmId: string, score: number) => number;
}

export interface Candidate<A> {
  algorithm: A;
  score: number;
  /** Sample ids behind the score, best first. */
  evidence: string[];
}

export type DecisionKind = 'attributed' | 'unknown' | 'authentic';

export interface Decision<A> {
  decision: DecisionKind;
  /** The attributed algorithm (or authentic class); null when unknown. */
  algorithm: A | null;
  /** Best per-algorithm score (0 without candidates). */
  score: number;
  /** Threshold applied to the best algorithm. */
  threshold: number;
  /** Best score minus runner-up score (see the module comment for one or no candidate). */
  margin: number;
  candidates: Array<Candidate<A>>;
}

/** The margin of a model whose manifest states none (the service's default before per-model defaults). */
export const DEFAULT_MARGIN = 0.02;

/**
 * The decision margin in force: an explicit `override` (DFG_MARGIN, `--margin`) wins; else the
 * model's own default (`decision.margin` in its manifest); else DEFAULT_MARGIN. A fusion of
 * models takes its members' default only when they all state the same one: their fused scores
 * are on none of their scales.
 */
export function resolveMargin(override: number | undefined, modelDefaults: readonly (number | undefined)[]): number {
  return resolveDefault(override, modelDefaults, DEFAULT_MARGIN);
}

/** Threshold of an uncalibrated gallery when neither DFG_THRESHOLD nor the model states one. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * The threshold to decide with before any calibration: DFG_THRESHOLD when set, else the models'
 * own `decision.threshold` when every model states the same one, else DEFAULT_THRESHOLD.
 */
export function resolveThreshold(override: number | undefined, modelDefaults: readonly (number | undefined)[]): number {
  return resolveDefault(override, modelDefaults, DEFAULT_THRESHOLD);
}

function resolveDefault(override: number | undefined, modelDefaults: readonly (number | undefined)[], fallback: number): number {
  if (override !== undefined) return override;
  const first = modelDefaults[0];
  if (first === undefined || modelDefaults.some((m) => m !== first)) return fallback;
  return first;
}

/** Scores within this of a threshold or margin count as reaching it: float sums must not flip golden cases. */
const EPSILON = 1e-9;
const NO_RUNNER_UP = -1;

function resolver<A>(algorithms: AlgorithmLookup<A>): (id: string) => A | undefined {
  if (typeof algorithms === 'function') return algorithms as (id: string) => A | undefined;
  if (algorithms instanceof Map) return (id) => algorithms.get(id);
  const record = algorithms as Readonly<Record<string, A>>;
  return (id) => (Object.hasOwn(record, id) ? record[id] : undefined);
}

function checkNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`a number between ${min} and ${max}`, name, value);
  }
  return value;
}

function checkCount(value: unknown, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw invalid('a positive integer', name, value);
  }
  return value as number;
}

/** Decides between attributed, authentic and unknown for one query's neighbours. */
export function decide<A extends DecisionAlgorithm>(
  neighbours: readonly Neighbour[],
  algorithms: AlgorithmLookup<A>,
  opts: DecideOptions,
): Decision<A> {
  const globalThreshold = checkNumber(opts.threshold, 'threshold', -1, 1);
  const requiredMargin = checkNumber(opts.margin, 'margin', 0, 2);
  const topM = checkTopM(opts.topM);
  const k = checkCount(opts.k, 'k', Number.POSITIVE_INFINITY);
  const maxCandidates = checkCount(opts.candidates, 'candidates', 5);
  const lookup = resolver(algorithms);

  const usable = neighbours
    .filter((n) => {
      if (!Number.isFinite(n.similarity)) return false;
      const a = lookup(n.algorithmId);
      return a !== undefined && a.enabled !== false;
    })
    .sort(byNeighbourRank)
    .slice(0, k);
  const raw = scoreAlgorithms(usable, topM);
  const normalise = opts.normalise;
  const scores = normalise ? raw.map((s) => ({ ...s, score: normalise(s.algorithmId, s.score) })).sort(byScoreRank) : raw;
  if (scores.length === 0) {
    return { decision: 'unknown', algorithm: null, score: 0, threshold: globalThreshold, margin: 0, candidates: [] };
  }

  const best = scores[0]!;
  const bestAlgorithm = lookup(best.algorithmId)!;
  const threshold = bestAlgorithm.threshold ?? opts.perAlgorithm?.[best.algorithmId] ?? globalThreshold;
  const margin = best.score - (scores[1]?.score ?? NO_RUNNER_UP);
  const passes = best.score >= threshold - EPSILON && margin >= requiredMargin - EPSILON;
  const decision: DecisionKind = !passes ? 'unknown' : bestAlgorithm.forgeryType === 'authentic' ? 'authentic' : 'attributed';
  return {
    decision,
    algorithm: passes ? bestAlgorithm : null,
    score: best.score,
    threshold,
    margin,
    candidates: scores.slice(0, maxCandidates).map((s) => ({ algorithm: lookup(s.algorithmId)!, score: s.score, evidence: s.evidence })),
  };
}
