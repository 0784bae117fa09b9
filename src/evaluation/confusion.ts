/**
 * Confusion matrices of one embedding space, pooled over the repeats: for every probe (known,
 * held out, authentic), its true algorithm against the algorithm ranked first and against the
 * decision at the thresholds. Sparse, as described in `types.ts` (`Confusion`). Pure.
 */
import { UNKNOWN_LABEL, type ProbeOutcome, type SplitResult } from './evaluate-split.js';
import type { Confusion, ConfusionCell, ConfusionRow } from './types.js';

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The confusion section of one space. `algorithms` is the report's algorithm order; rows and
 * columns follow it grouped by family (so the generators of one family sit side by side);
 * `knownIn` lists the registered classes of each repeat (the columns, with any other label a
 * probe went to, e.g. a service's own algorithm, after them).
 */
export function confusionOf(results: readonly SplitResult[], algorithms: readonly { name: string; family: string }[], knownIn: readonly (readonly string[])[]): Confusion {
  const position = new Map(algorithms.map((a, i) => [a.name, i]));
  // Stable: family blocks, the report's order inside each.
  const ordered = [...algorithms].sort((a, b) => byText(a.family, b.family)).map((a) => a.name);
  const rank = new Map(ordered.map((n, i) => [n, i]));

  const probes: ProbeOutcome[] = results.flatMap((r) => r.probes);
  const rowKey = (p: { algorithm: string; known: boolean }) => `${p.known ? 'r' : 'u'}:${p.algorithm}`;
  const rowsByKey = new Map<string, ConfusionRow>();
  for (const p of probes) {
    const row = rowsByKey.get(rowKey(p)) ?? { algorithm: p.algorithm, registered: p.known, probes: 0 };
    row.probes += 1;
    rowsByKey.set(rowKey(p), row);
  }
  const orderOf = (name: string) => rank.get(name) ?? ordered.length + (position.get(name) ?? 0);
  const rows = [...rowsByKey.values()].sort((a, b) => Number(b.registered) - Number(a.registered) || orderOf(a.algorithm) - orderOf(b.algorithm) || byText(a.algorithm, b.algorithm));

  const rowIndex = new Map(rows.map((r, i) => [rowKey({ algorithm: r.algorithm, known: r.registered }), i]));
  const rowOf = (c: ConfusionCell) => rowIndex.get(rowKey({ algorithm: c.algorithm, known: c.registered }))!;

  const registered = new Set(knownIn.flat());
  const columns = ordered.filter((n) => registered.has(n));
  const others = new Set<string>();
  for (const p of probes) {
    for (const label of [p.best, p.predicted]) if (label !== UNKNOWN_LABEL && !registered.has(label)) others.add(label);
  }
  columns.push(...[...others].sort(byText));
  const column = new Map(columns.map((c, i) => [c, i]));

  const cells = (to: (p: ProbeOutcome) => string): ConfusionCell[] => {
    const counts = new Map<string, ConfusionCell>();
    for (const p of probes) {
      const label = to(p);
      const predicted = label === UNKNOWN_LABEL ? null : label;
      const key = `${rowKey(p)}\u0000${predicted ?? ''}`;
      const cell = counts.get(key) ?? { algorithm: p.algorithm, registered: p.known, predicted, count: 0 };
      cell.count += 1;
      counts.set(key, cell);
    }
    const col = (c: ConfusionCell) => (c.predicted === null ? columns.length : column.get(c.predicted)!);
    return [...counts.values()].sort((a, b) => rowOf(a) - rowOf(b) || col(a) - col(b));
  };
  return { rows, columns, rank1: cells((p) => p.best), decisions: cells((p) => p.predicted) };
}

/** An off-diagonal cell of the rank-1 matrix with its share of the row's probes. */
export interface TopConfusion extends ConfusionCell {
  predicted: string;
  share: number;
}

/**
 * The `n` most frequent off-diagonal cells of the rank-1 matrix, or with `matrix` 'decisions' of
 * the decisions at the thresholds (false attributions: `unknown` answers are not counted). A
 * held-out algorithm has no diagonal: every cell of its row counts. By count, then row share,
 * then matrix order.
 */
export function topConfusions(confusion: Confusion, n = 10, matrix: 'rank1' | 'decisions' = 'rank1'): TopConfusion[] {
  const totals = new Map(confusion.rows.map((r) => [`${r.registered}:${r.algorithm}`, r.probes]));
  return confusion[matrix]
    .filter((c): c is ConfusionCell & { predicted: string } => c.predicted !== null && !(c.registered && c.predicted === c.algorithm))
    .map((c, i) => ({ c: { ...c, share: c.count / totals.get(`${c.registered}:${c.algorithm}`)! }, i }))
    .sort((a, b) => b.c.count - a.c.count || b.c.share - a.c.share || a.i - b.i)
    .slice(0, n)
    .map(({ c }) => c);
}
