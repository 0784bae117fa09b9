/**
 * The similarity setting (DFG_METRIC, `dfg eval --metric`, `dfg calibrate --metric`): its type,
 * parser and text form. Pure; the metric itself is fitted and applied by attribution/gallery-metric.ts.
 */

/** Shrinkage α of `wccn` when none is given, chosen on the simulated genome. */
export const DEFAULT_METRIC_SHRINKAGE = 0.2;

/** How similarities are taken: the plain cosine, or cosine after gallery-adapted whitening. */
export type MetricSetting = { kind: 'cosine' } | { kind: 'wccn'; shrinkage: number };

/** Parses `cosine`, `wccn` or `wccn:<shrinkage>` (DFG_METRIC, `dfg eval --metric`); null when invalid. */
export function parseMetric(text: string): MetricSetting | null {
  const t = text.trim().toLowerCase();
  if (t === 'cosine') return { kind: 'cosine' };
  const m = /^wccn(?::([0-9.]+))?$/.exec(t);
  if (!m) return null;
  const shrinkage = m[1] === undefined ? DEFAULT_METRIC_SHRINKAGE : Number(m[1]);
  return shrinkage > 0 && shrinkage <= 1 ? { kind: 'wccn', shrinkage } : null;
}

/** The setting as text (the inverse of parseMetric). */
export function metricText(m: MetricSetting): string {
  return m.kind === 'cosine' ? 'cosine' : `wccn:${m.shrinkage}`;
}
