/**
 * Threshold calibration from the gallery itself. Pure: vectors in, thresholds out.
 *
 * Scoring is the service's: an algorithm's score for a query is the mean of the best `topM`
 * similarities between the query and that algorithm's samples (the mean of all of them when it
 * has fewer than `topM`). Here it is computed exactly over every sample (brute force) by
 * `topMeanScore`, which equals `scoreAlgorithms` (score.ts, used by decide.ts) given every
 * sample as a neighbour (test/calibrate.test.ts checks it), and what the service computes from
 * its k nearest neighbours whenever they hold each scored algorithm's best `topM` samples.
 *
 * - Genuine scores of algorithm A: leave-one-out, each sample of A scored against A's other
 *   samples.
 * - Impostor scores of A: every sample of every other algorithm, and every negative, scored
 *   against all of A's samples.
 * - Per-algorithm threshold: the lowest value that accepts at most `targetFpir` of A's impostor
 *   scores (`thresholdAtFpir`, the same rule the evaluation's DIR@FPIR uses), raised by
 *   2 × DECISION_EPSILON because decide.ts accepts scores within 1e-9 below a threshold, and
 *   clamped to the cosine range [-1, 1] the gallery stores (an impostor scoring 1, a duplicate
 *   image under another algorithm, cannot be rejected: `impostorAcceptance` then shows it).
 * - Global threshold: the same rule over identification impostors: for every sample, its best
 *   score among the algorithms it does not belong to (for a negative: among all algorithms). It
 *   is what a query from an unregistered source would be attributed with.
 * - Leave-one-out identification (`looRank1`, `confusedWith`): how often each sample of A scores
 *   A highest among all algorithms with the sample left out, and which other algorithm most often
 *   scores higher instead: which registered algorithms the model (and similarity) mixes up.
 * - Feedback (analysts' verdicts on answers): each judged query is scored against its algorithm's
 *   samples like any query; a confirmed (or relabelled) one is a genuine score of that algorithm,
 *   a rejected one an impostor score of the attributed algorithm and an identification impostor
 *   (an upload that was attributed wrongly is what the global threshold bounds), beside the
 *   leave-one-out scores.
 * - With `sharedThreshold` (normalised scores), every algorithm takes the global threshold.
 * - Fallback to the global threshold, recorded in `stats`, for an algorithm with fewer than
 *   `minSamples` samples (no leave-one-out evidence of how it scores its own kind) or fewer than
 *   `minImpostors` impostor scores (the tail quantile would be a guess).
 */
import { dfgError } from '../errors.js';
import { thresholdAtFpir } from '../math/threshold.js';
import { dot, unitVector } from '../math/vector.js';

/** decide.ts counts a score within this of a threshold as reaching it; calibration leaves room for it. */
export const DECISION_EPSILON = 1e-9;

/** The calibrated threshold for these impostor scores, in decide.ts's terms (see the module comment). */
export function thresholdForDecision(impostorScores: readonly number[], targetFpir: number): number {
  const t = thresholdAtFpir(impostorScores, targetFpir);
  if (Number.isNaN(t)) return NaN;
  return Math.min(1, Math.max(-1, t + 2 * DECISION_EPSILON));
}

export type Similarity = (a: Float32Array, b: Float32Array) => number;

export interface CalibrateOptions {
  /** Sample vectors of each registered algorithm (authentic reference classes included). */
  vectorsByAlgorithm: ReadonlyMap<string, readonly Float32Array[]> | Readonly<Record<string, readonly Float32Array[]>>;
  /** Default: cosine similarity. */
  similarity?: Similarity;
  topM: number;
  /** Target false-positive identification rate, e.g. 0.01. */
  targetFpir: number;
  /** Vectors known to belong to no registered algorithm: impostors for every algorithm. */
  negatives?: readonly Float32Array[];
  /** Fewer samples than this and an algorithm takes the global threshold. Default 2 (the least leave-one-out needs). */
  minSamples?: number;
  /** Fewer impostor scores than this and an algorithm takes the global threshold. Default 10. */
  minImpostors?: number;
  /**
   * Maps raw per-algorithm scores to the scores decided on (score-norm.ts), as decide.ts's
   * `normalise` does: `query` is the sample (or negative) scored, `negative` its index among the
   * negatives (-1 for a gallery sample). Thresholds and statistics are then in mapped scores.
   */
  normalise?: (query: Float32Array, negative: number, algorithmId: string, score: number) => number;
  /**
   * Every algorithm takes the global (identification) threshold. For normalised scores, which
   * are comparable across algorithms: one threshold on the best score bounds how often an upload
   * of an unregistered generator is attributed to *any* algorithm, where per-algorithm
   * thresholds each spend the target FPIR and add up over the algorithms.
   */
  sharedThreshold?: boolean;
  /** Judged queries (attributions with feedback): genuine or impostor scores of their algorithm. Algorithms not calibrated are ignored. */
  feedback?: readonly FeedbackVector[];
}

/** A judged query: its vector and the algorithm it was judged against. */
export interface FeedbackVector {
  algorithmId: string;
  vector: Float32Array;
  /** confirm, relabel: genuine; reject: impostor. */
  genuine: boolean;
}

export interface AlgorithmCalibration {
  samples: number;
  genuine: number;
  impostors: number;
  threshold: number;
  source: 'algorithm' | 'global';
  /** Why the global threshold was used. */
  reason?: string;
  /** Share of leave-one-out genuine scores at or above the threshold (NaN without any). */
  genuineAcceptance: number;
  /** Share of impostor scores at or above the threshold. */
  impostorAcceptance: number;
  /** Share of the leave-one-out samples that score this algorithm strictly highest of all (NaN without any). */
  looRank1: number;
  /** The other algorithm that most often scores a sample of this one higher, with the share of samples it takes; null when none does. */
  confusedWith: { algorithm: string; share: number } | null;
  /** Of `genuine` and `impostors`: the scores of judged queries (feedback). */
  feedback: { genuine: number; impostors: number };
}

export interface CalibrationStats {
  targetFpir: number;
  topM: number;
  global: { impostors: number; genuine: number; impostorAcceptance: number; genuineAcceptance: number; feedback: { genuine: number; impostors: number } };
  perAlgorithm: Record<string, AlgorithmCalibration>;
}

export interface Calibration {
  global: number;
  perAlgorithm: Record<string, number>;
  stats: CalibrationStats;
}

/**
 * Mean of the `topM` highest values (of all of them when there are fewer); NaN for none.
 * The per-algorithm score of the service.
 */
export function topMeanScore(similarities: ArrayLike<number>, topM: number): number {
  const m = Math.min(topM, similarities.length);
  if (m <= 0) return NaN;
  // Partial selection into a small descending buffer: topM is single digits in practice.
  const best = new Array<number>(m).fill(-Infinity);
  for (let i = 0; i < similarities.length; i += 1) {
    const s = similarities[i];
    if (s <= best[m - 1]) continue;
    let j = m - 1;
    while (j > 0 && best[j - 1] < s) {
      best[j] = best[j - 1];
      j -= 1;
    }
    best[j] = s;
  }
  let sum = 0;
  for (const b of best) sum += b;
  return sum / m;
}

/** Share of scores a decision at threshold t accepts (decide.ts's rule, epsilon included). */
const share = (scores: readonly number[], t: number) =>
  scores.length === 0 ? NaN : scores.reduce((c, s) => c + (s >= t - DECISION_EPSILON ? 1 : 0), 0) / scores.length;

/** The algorithm that took most of `n` samples (ties: the first registered), or null. */
function topConfusion(winners: ReadonlyMap<number, number>, n: number, ids: readonly string[]): AlgorithmCalibration['confusedWith'] {
  let best = -1;
  let count = 0;
  for (const [a, c] of winners) if (c > count || (c === count && a < best)) [best, count] = [a, c];
  return best < 0 ? null : { algorithm: ids[best], share: count / n };
}

/**
 * Per-algorithm and global thresholds for a target FPIR, from leave-one-out genuine scores and
 * impostor scores of the gallery (see the module comment for the exact rules). Throws
 * DFG_ERR_CALIBRATION_INSUFFICIENT when there is no impostor at all (a single algorithm and no
 * negatives) or an argument is out of range.
 */
export function calibrateThresholds(opts: CalibrateOptions): Calibration {
  const { topM, targetFpir } = opts;
  // Default cosine: normalise once, then a dot product per pair (calibration is O(n²) pairs).
  const similarity = opts.similarity ?? dot;
  const prepare = opts.similarity ? (v: Float32Array) => v : unitVector;
  const negatives = opts.negatives ?? [];
  const minSamples = opts.minSamples ?? 2;
  const minImpostors = opts.minImpostors ?? 10;
  if (!Number.isInteger(topM) || topM < 1) throw dfgError('DFG_ERR_CALIBRATION_INSUFFICIENT', `topM must be a positive integer, got ${topM}`);
  if (!(targetFpir >= 0 && targetFpir < 1)) throw dfgError('DFG_ERR_CALIBRATION_INSUFFICIENT', `targetFpir must be in [0, 1), got ${targetFpir}`);

  const entries = (opts.vectorsByAlgorithm instanceof Map
    ? [...opts.vectorsByAlgorithm.entries()]
    : Object.entries(opts.vectorsByAlgorithm)) as [string, readonly Float32Array[]][];
  const algorithms = entries.filter(([, v]) => v.length > 0);
  const ids = algorithms.map(([id]) => id);
  const samples: { owner: number; vector: Float32Array }[] = [];
  algorithms.forEach(([, vectors], a) => vectors.forEach((v) => samples.push({ owner: a, vector: prepare(v) })));
  const queries = [...samples, ...negatives.map((v) => ({ owner: -1, vector: prepare(v) }))];
  const mapScore = opts.normalise;
  if (algorithms.length === 0) throw dfgError('DFG_ERR_CALIBRATION_INSUFFICIENT', 'no algorithm has samples');
  if (negatives.length === 0 && algorithms.length < 2) {
    throw dfgError('DFG_ERR_CALIBRATION_INSUFFICIENT', `need at least two algorithms with samples, or negatives (got ${algorithms.length} algorithm(s), no negatives)`);
  }

  const genuine = ids.map(() => [] as number[]);
  const impostor = ids.map(() => [] as number[]);
  const identificationImpostors: number[] = [];
  // Leave-one-out identification: per algorithm, samples ranked first and who outscored the others.
  const looCorrect = ids.map(() => 0);
  const looWinners = ids.map(() => new Map<number, number>());
  const perAlgorithmSims = ids.map(() => [] as number[]);
  for (let q = 0; q < queries.length; q += 1) {
    for (const list of perAlgorithmSims) list.length = 0;
    for (let s = 0; s < samples.length; s += 1) {
      if (s === q) continue; // leave one out: a sample never matches itself
      perAlgorithmSims[samples[s].owner].push(similarity(queries[q].vector, samples[s].vector));
    }
    const owner = queries[q].owner;
    let bestOther = -Infinity;
    let bestOtherAlgorithm = -1;
    let own = NaN;
    const negative = q < samples.length ? -1 : q - samples.length;
    for (let a = 0; a < ids.length; a += 1) {
      const rawScore = topMeanScore(perAlgorithmSims[a], topM);
      if (Number.isNaN(rawScore)) continue; // a one-sample algorithm scoring its own sample
      const score = mapScore ? mapScore(queries[q].vector, negative, ids[a], rawScore) : rawScore;
      if (a === owner) {
        genuine[a].push(score);
        own = score;
      } else {
        impostor[a].push(score);
        if (score > bestOther) {
          bestOther = score;
          bestOtherAlgorithm = a;
        }
      }
    }
    if (bestOther > -Infinity) identificationImpostors.push(bestOther);
    if (owner >= 0 && !Number.isNaN(own)) {
      if (bestOtherAlgorithm < 0 || own > bestOther) looCorrect[owner] += 1;
      else looWinners[owner].set(bestOtherAlgorithm, (looWinners[owner].get(bestOtherAlgorithm) ?? 0) + 1);
    }
  }

  // Judged queries, scored against all of their algorithm's samples (they are none of them).
  const feedbackCounts = ids.map(() => ({ genuine: 0, impostors: 0 }));
  const index = new Map(ids.map((id, a) => [id, a]));
  const sims: number[] = [];
  for (const f of opts.feedback ?? []) {
    const a = index.get(f.algorithmId);
    if (a === undefined) continue;
    const query = prepare(f.vector);
    sims.length = 0;
    for (const s of samples) if (s.owner === a) sims.push(similarity(query, s.vector));
    const raw = topMeanScore(sims, topM);
    const score = mapScore ? mapScore(query, -1, ids[a], raw) : raw;
    if (f.genuine) {
      genuine[a].push(score);
      feedbackCounts[a].genuine += 1;
    } else {
      impostor[a].push(score);
      identificationImpostors.push(score);
      feedbackCounts[a].impostors += 1;
    }
  }

  const global = thresholdForDecision(identificationImpostors, targetFpir);
  const allGenuine = genuine.flat();
  // Null-prototype records: algorithm ids are data (a folder named __proto__ must stay a key).
  const perAlgorithm: Record<string, number> = Object.create(null);
  const stats: CalibrationStats = {
    targetFpir,
    topM,
    global: {
      impostors: identificationImpostors.length,
      genuine: allGenuine.length,
      impostorAcceptance: share(identificationImpostors, global),
      genuineAcceptance: share(allGenuine, global),
      feedback: {
        genuine: feedbackCounts.reduce((n, c) => n + c.genuine, 0),
        impostors: feedbackCounts.reduce((n, c) => n + c.impostors, 0),
      },
    },
    perAlgorithm: Object.create(null),
  };
  ids.forEach((id, a) => {
    const n = algorithms[a][1].length;
    let reason: string | undefined;
    if (opts.sharedThreshold) reason = 'normalised scores share the global threshold';
    else if (n < minSamples) reason = `${n} sample(s), fewer than ${minSamples}`;
    else if (impostor[a].length < minImpostors) reason = `${impostor[a].length} impostor score(s), fewer than ${minImpostors}`;
    const threshold = reason === undefined ? thresholdForDecision(impostor[a], targetFpir) : global;
    perAlgorithm[id] = threshold;
    stats.perAlgorithm[id] = {
      samples: n,
      genuine: genuine[a].length,
      impostors: impostor[a].length,
      threshold,
      source: reason === undefined ? 'algorithm' : 'global',
      ...(reason === undefined ? {} : { reason }),
      genuineAcceptance: share(genuine[a], threshold),
      impostorAcceptance: share(impostor[a], threshold),
      looRank1: genuine[a].length === feedbackCounts[a].genuine ? NaN : looCorrect[a] / (genuine[a].length - feedbackCounts[a].genuine),
      confusedWith: topConfusion(looWinners[a], genuine[a].length - feedbackCounts[a].genuine, ids),
      feedback: feedbackCounts[a],
    };
  });
  return { global, perAlgorithm, stats };
}
