/**
 * One repeat of the protocol in one embedding space: brute-force retrieval of every probe
 * against the registered shots, the service's per-algorithm scoring, calibrated open-set
 * decisions, and the split's metrics. Pure.
 *
 * Definitions (also written into report.md):
 * - Per-algorithm score and ranking: the service's own `scoreAlgorithms` (decide.ts) over every
 *   shot (exact k = all): mean of the best topM cosine similarities, ties broken by the best
 *   single similarity, then by name, so "rank 1" and "best" always agree.
 * - Known probes: probes of registered forgery algorithms. Probes of authentic reference classes
 *   are scored and decided like any other (they count in macro-F1 and in
 *   authenticFalselyAttributed) but stay out of the attribution metrics below.
 * - Rank-k: share of known probes whose algorithm ranks k or better. mAP: mean over known probes
 *   of the average precision of the gallery samples ranked by similarity, relevant = same
 *   algorithm. (The service evaluation, without per-sample similarities, ranks algorithms
 *   instead: `rankedAp`.)
 * - AUROC / OSCR / DIR@FPIR use each probe's best per-algorithm score.
 * - With `scoreNorm`, every per-algorithm score is the service's cohort-normalised score
 *   (score-norm.ts): ranking, thresholds and decisions use it; mAP keeps the raw similarities.
 * - Decision at the calibrated thresholds: the service's own `decide` with the thresholds
 *   `calibrateThresholds` derives from the shots alone: attributed (or authentic) when the best
 *   score reaches its threshold and beats the runner-up by the margin, else unknown.
 *
 * `splitMetrics` and `probeOutcome` are shared with the remote evaluation (remote/), which gets
 * its per-algorithm scores and decisions from a running service instead.
 */
import { calibrateThresholds } from '../attribution/calibrate.js';
import { decide, scoreAlgorithms, type Neighbour } from '../attribution/decide.js';
import { byScoreRank } from '../attribution/score.js';
import { algorithmStats, cohortNegativeIndices, normaliseScore, probeStats } from '../attribution/score-norm.js';
import { dot } from '../math/vector.js';
import { auroc, averagePrecision, cmc, dirAtFpir, macroF1, oscr, rocCurve, type KnownOutcome, type RocPoint } from './metrics.js';

/** Label of the "unknown" decision: the empty string cannot be a folder name, so never an algorithm. */
export const UNKNOWN_LABEL = '';

/** The FPIR levels of DIR@FPIR, as report keys. */
export const DIR_FPIRS = ['0.01', '0.001'] as const;

export interface Probe {
  id: string;
  algorithm: string;
  /** Unit L2 norm. */
  vector: Float32Array;
}

export interface SplitInput {
  /** Unit-norm shot vectors per registered class. */
  gallery: ReadonlyMap<string, readonly Float32Array[]>;
  knownProbes: readonly Probe[];
  unknownProbes: readonly Probe[];
  topM: number;
  targetFpir: number;
  margin: number;
  /** Registered classes that are authentic reference classes (decided as `authentic`). */
  authentic?: ReadonlySet<string>;
  /** CMC length (at least 5, for Rank-5). */
  maxRank: number;
  /**
   * Cohort score normalisation (score-norm.ts) as the service applies it: unit cohort vectors in
   * the split's space and the K best cohort scores kept per side. The algorithm side is fitted
   * on the shots, the cohort's images calibrate as unregistered generators too.
   */
  scoreNorm?: { cohort: readonly Float32Array[]; topK: number };
}

export interface ProbeOutcome {
  id: string;
  algorithm: string;
  known: boolean;
  best: string;
  bestScore: number;
  runnerUpScore: number;
  /** Rank of the true algorithm (known probes), else Infinity. */
  rank: number;
  /** Average precision over the gallery samples (known probes), else NaN. */
  ap: number;
  /** Decision at the calibrated threshold: an algorithm name or UNKNOWN_LABEL. */
  predicted: string;
  /**
   * Detection score (authentic vs generated): the best forgery class's score minus the best
   * authentic class's score; NaN when the ranking lacks either kind.
   */
  generatedScore: number;
}

export interface SplitMetrics {
  rank1: number;
  rank5: number;
  mAP: number;
  auroc: number;
  oscr: number;
  dirAtFpir: Record<string, number>;
  macroF1: number;
  /** Share of known probes attributed to their algorithm at the calibrated thresholds. */
  knownCorrectAtThreshold: number;
  /** Share of unknown probes answered unknown at the calibrated thresholds. */
  unknownRejectedAtThreshold: number;
  /** Share of probes of authentic reference classes attributed to a forgery algorithm. */
  authenticFalselyAttributed: number;
  /**
   * Share of generator probes (known and unknown) attributed, at the calibrated thresholds, to a
   * forgery algorithm that did not make them: what a platform acting on `attributed` gets wrong.
   */
  falseAttributionRate: number;
  /** AUROC of authentic-class probes against generator probes by `generatedScore` (Protocol-1 view). */
  detectionAuroc: number;
  cmc: number[];
  roc: RocPoint[];
}

/** The thresholds behind a split's decisions. */
export interface SplitThresholds {
  /** The global threshold (the one an algorithm without a threshold of its own gets). */
  global: number;
  /** Registered classes decided with the global threshold. */
  fallbacks: number;
}

export interface SplitResult {
  metrics: SplitMetrics;
  probes: ProbeOutcome[];
  thresholds: SplitThresholds;
}

/** What a mean average precision ranks: gallery samples by similarity, or algorithms by score. */
export type ApBasis = 'samples' | 'algorithms';

/** One entry of a probe's ranking of the registered classes, best first. */
export interface RankedScore {
  algorithm: string;
  score: number;
}

/** Average precision of the true class in a ranking of classes (one relevant item: 1 / rank, ties shared). */
export function rankedAp(ranked: readonly RankedScore[], truth: string): number {
  return averagePrecision(ranked.map((r) => r.score), ranked.map((r) => r.algorithm === truth));
}

/**
 * A probe's outcome from its ranking of the classes (best first, as the scorer ordered them), its
 * average precision (ignored for unknown probes) and its decision (an algorithm or UNKNOWN_LABEL).
 */
export function probeOutcome(
  probe: { id: string; algorithm: string },
  known: boolean,
  ranked: readonly RankedScore[],
  ap: number,
  predicted: string,
  authentic?: ReadonlySet<string>,
): ProbeOutcome {
  const bestOf = (isAuthentic: boolean) => ranked.find((r) => (authentic?.has(r.algorithm) === true) === isAuthentic)?.score ?? NaN;
  return {
    id: probe.id,
    algorithm: probe.algorithm,
    known,
    best: ranked.length > 0 ? ranked[0].algorithm : UNKNOWN_LABEL,
    bestScore: ranked.length > 0 ? ranked[0].score : -Infinity,
    runnerUpScore: ranked.length > 1 ? ranked[1].score : -Infinity,
    rank: known ? ranked.findIndex((s) => s.algorithm === probe.algorithm) + 1 || Infinity : Infinity,
    ap: known ? ap : NaN,
    predicted,
    generatedScore: bestOf(false) - bestOf(true),
  };
}

const mean = (v: readonly number[]) => (v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length);

/** Evaluates one split; see the module comment for every definition. */
export function evaluateSplit(input: SplitInput): SplitResult {
  const { topM, margin } = input;
  const classes = [...input.gallery.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const samples = classes.flatMap((c) => input.gallery.get(c)!.map((vector) => ({ algorithm: c, vector })));
  const norm = input.scoreNorm;
  const fit = norm ? new Map(classes.map((c) => [c, algorithmStats(input.gallery.get(c)!, norm.cohort, topM, norm.topK)])) : null;
  const normaliserOf = (vector: Float32Array, skip = -1) => {
    if (!norm || !fit) return undefined;
    const p = probeStats(vector, norm.cohort, norm.topK, skip);
    return (algorithm: string, score: number) => normaliseScore(score, p, fit.get(algorithm) ?? p);
  };
  const calibrationNorm = new WeakMap<Float32Array, (algorithm: string, score: number) => number>();
  const picked = norm ? cohortNegativeIndices(norm.cohort.length) : [];
  const calibration = calibrateThresholds({
    vectorsByAlgorithm: input.gallery,
    topM,
    targetFpir: input.targetFpir,
    ...(norm ? {
      negatives: picked.map((i) => norm.cohort[i]!),
      normalise: (query: Float32Array, negative: number, algorithm: string, score: number) => {
        let f = calibrationNorm.get(query);
        if (!f) calibrationNorm.set(query, f = normaliserOf(query, negative < 0 ? -1 : picked[negative]!)!);
        return f(algorithm, score);
      },
      sharedThreshold: true,
    } : {}),
  });

  const lookup = new Map(classes.map((c) => [c, { id: c, forgeryType: input.authentic?.has(c) ? 'authentic' : 'forgery' }]));
  const decideOpts = { threshold: calibration.global, margin, topM, perAlgorithm: calibration.perAlgorithm };

  const outcome = (probe: Probe, known: boolean): ProbeOutcome => {
    const sims = samples.map((s) => dot(probe.vector, s.vector));
    const neighbours: Neighbour[] = samples.map((s, i) => ({ sampleId: String(i), algorithmId: s.algorithm, similarity: sims[i] }));
    const normalise = normaliserOf(probe.vector);
    const raw = scoreAlgorithms(neighbours, topM);
    const ranked = (normalise ? raw.map((s) => ({ ...s, score: normalise(s.algorithmId, s.score) })).sort(byScoreRank) : raw)
      .map((s) => ({ algorithm: s.algorithmId, score: s.score }));
    const decision = decide(neighbours, lookup, normalise ? { ...decideOpts, normalise } : decideOpts);
    const ap = known ? averagePrecision(sims, samples.map((s) => s.algorithm === probe.algorithm)) : NaN;
    return probeOutcome(probe, known, ranked, ap, decision.algorithm ? decision.algorithm.id : UNKNOWN_LABEL, input.authentic);
  };
  const probes = [...input.knownProbes.map((p) => outcome(p, true)), ...input.unknownProbes.map((p) => outcome(p, false))];
  return {
    probes,
    metrics: splitMetrics(probes, { authentic: input.authentic, maxRank: input.maxRank }),
    thresholds: { global: calibration.global, fallbacks: Object.values(calibration.stats.perAlgorithm).filter((s) => s.source === 'global').length },
  };
}

/** Authentic vs generated AUROC over the probes whose ranking had both kinds of class. */
function detection(authentic: readonly ProbeOutcome[], generators: readonly ProbeOutcome[]): number {
  const scores = (ps: readonly ProbeOutcome[]) => ps.map((p) => p.generatedScore).filter((x) => Number.isFinite(x));
  const pos = scores(generators);
  const neg = scores(authentic);
  return pos.length === 0 || neg.length === 0 ? NaN : auroc(pos, neg);
}

/**
 * The metrics of one split from its probes' outcomes (see the module comment). `authentic` names
 * the registered authentic reference classes; `maxRank` is the CMC length (at least 5).
 */
export function splitMetrics(probes: readonly ProbeOutcome[], opts: { authentic?: ReadonlySet<string>; maxRank: number }): SplitMetrics {
  const isAuthentic = (p: ProbeOutcome) => opts.authentic?.has(p.algorithm) === true;
  // Attribution metrics are about generators: probes of authentic reference classes compete in
  // the gallery and count in macro-F1, but not in Rank-k, mAP or the known-vs-unknown metrics.
  const known = probes.filter((p) => p.known && !isAuthentic(p));
  const authentic = probes.filter((p) => p.known && isAuthentic(p));
  const unknown = probes.filter((p) => !p.known);
  const generators = [...known, ...unknown];
  const knownOutcomes: KnownOutcome[] = known.map((p) => ({ correct: p.rank === 1, score: p.bestScore }));
  const unknownScores = unknown.map((p) => p.bestScore);
  const curve = cmc(known.map((p) => p.rank), Math.max(5, opts.maxRank));
  return {
    rank1: curve[0],
    rank5: curve[4],
    mAP: mean(known.map((p) => p.ap)),
    auroc: auroc(knownOutcomes.map((k) => k.score), unknownScores),
    oscr: oscr(knownOutcomes, unknownScores),
    dirAtFpir: Object.fromEntries(DIR_FPIRS.map((f) => [f, dirAtFpir(knownOutcomes, unknownScores, Number(f))])),
    macroF1: macroF1(probes.map((p) => (p.known ? p.algorithm : UNKNOWN_LABEL)), probes.map((p) => p.predicted)),
    knownCorrectAtThreshold: known.length === 0 ? NaN : known.filter((p) => p.predicted === p.algorithm).length / known.length,
    unknownRejectedAtThreshold: unknown.length === 0 ? NaN : unknown.filter((p) => p.predicted === UNKNOWN_LABEL).length / unknown.length,
    authenticFalselyAttributed: authentic.length === 0 ? NaN : authentic.filter((p) => p.predicted !== UNKNOWN_LABEL && !opts.authentic!.has(p.predicted)).length / authentic.length,
    falseAttributionRate: generators.length === 0 ? NaN : generators.filter((p) => p.predicted !== UNKNOWN_LABEL && p.predicted !== p.algorithm && opts.authentic?.has(p.predicted) !== true).length / generators.length,
    detectionAuroc: detection(authentic, generators),
    cmc: curve,
    roc: rocCurve(knownOutcomes.map((k) => k.score), unknownScores),
  };
}
