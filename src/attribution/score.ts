/**
 * Per-algorithm scores from k nearest samples. Pure: no I/O, nothing native.
 */
import { invalid } from '../errors.js';

/** One retrieved sample: its algorithm and cosine similarity to the query. */
export interface Neighbour {
  sampleId: string;
  algorithmId: string;
  similarity: number;
}

export interface AlgorithmScore {
  algorithmId: string;
  /** Mean of the algorithm's best `topM` similarities (of all of them when it has fewer). */
  score: number;
  /** Its single best similarity (tie-breaker). */
  best: number;
  /** Sample ids behind the score, best first. */
  evidence: string[];
}

/** Orders neighbours best first; equal similarities by sample id, so results never depend on input order. */
export function byNeighbourRank(a: Neighbour, b: Neighbour): number {
  if (b.similarity !== a.similarity) return b.similarity - a.similarity;
  return a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0;
}

/** Orders scores best first: score, then best single similarity, then algorithm id. */
export function byScoreRank(a: AlgorithmScore, b: AlgorithmScore): number {
  if (b.score !== a.score) return b.score - a.score;
  if (b.best !== a.best) return b.best - a.best;
  return a.algorithmId < b.algorithmId ? -1 : a.algorithmId > b.algorithmId ? 1 : 0;
}

export function checkTopM(topM: unknown): number {
  if (!Number.isInteger(topM) || (topM as number) < 1) {
    throw invalid('a positive integer', 'topM', topM);
  }
  return topM as number;
}

/**
 * Groups neighbours by algorithm and scores each by the mean of its best `topM` similarities.
 * Neighbours with a non-finite similarity are ignored. Result is sorted best first (see byScoreRank).
 */
export function scoreAlgorithms(neighbours: readonly Neighbour[], topM: number): AlgorithmScore[] {
  const m = checkTopM(topM);
  const groups = new Map<string, Neighbour[]>();
  for (const n of neighbours) {
    if (!Number.isFinite(n.similarity)) continue;
    const g = groups.get(n.algorithmId);
    if (g) g.push(n);
    else groups.set(n.algorithmId, [n]);
  }
  const scores: AlgorithmScore[] = [];
  for (const [algorithmId, group] of groups) {
    group.sort(byNeighbourRank);
    const top = group.slice(0, m);
    let sum = 0;
    for (const n of top) sum += n.similarity;
    scores.push({ algorithmId, score: sum / top.length, best: top[0]!.similarity, evidence: top.map((n) => n.sampleId) });
  }
  return scores.sort(byScoreRank);
}
