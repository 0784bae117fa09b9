/**
 * The score-normalisation setting (DFG_SCORE_NORM, `dfg eval --score-norm`, `dfg calibrate
 * --score-norm`): its type, parser and text form. Pure; the normalisation itself is
 * attribution/score-norm.ts.
 */

/** How a service normalises scores: `asnorm` with K cohort scores per side, or not at all. */
export type ScoreNormSetting = { kind: 'none' } | { kind: 'asnorm'; topK: number };

/** Cohort scores kept per side when `asnorm` names no K. */
export const DEFAULT_COHORT_TOP_K = 100;

/** Parses `none`, `asnorm` or `asnorm:K` (K in 1..10000); null when invalid. */
export function parseScoreNorm(text: string): ScoreNormSetting | null {
  const m = /^(none|asnorm)(?::(\d+))?$/.exec(text.trim());
  if (!m) return null;
  if (m[1] === 'none') return m[2] === undefined ? { kind: 'none' } : null;
  const topK = m[2] === undefined ? DEFAULT_COHORT_TOP_K : Number(m[2]);
  return topK >= 1 && topK <= 10_000 ? { kind: 'asnorm', topK } : null;
}
