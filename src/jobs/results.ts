/** Result rows as NDJSON or CSV (RFC 4180), streamed row by row. */
import type { JobKind, ResultRow } from './schemas.js';

export type ResultFormat = 'ndjson' | 'csv';

export const AUDIT_COLUMNS = ['name', 'sha256', 'decision', 'algorithm', 'algorithmId', 'score', 'threshold', 'error', 'message'] as const;
export const ENROL_COLUMNS = ['name', 'sha256', 'outcome', 'sampleId', 'error', 'message'] as const;
/** Re-embeddings: `name` is the sample id. */
export const REEMBED_COLUMNS = ['name', 'sha256', 'outcome', 'error', 'message'] as const;

/** Imports: one row per algorithm of the bundle. */
export const IMPORT_COLUMNS = ['name', 'action', 'id', 'galleryName', 'created', 'duplicates'] as const;

/**
 * One CSV cell. Text that a spreadsheet would run as a formula (leading = + - @ tab CR) gets a
 * leading apostrophe: names come from uploaded archives and URLs, i.e. from anyone.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function* formatRows(kind: JobKind, format: ResultFormat, rows: AsyncIterable<ResultRow>): AsyncGenerator<string> {
  const columns: readonly string[] = kind === 'audit' ? AUDIT_COLUMNS : kind === 'reembed' ? REEMBED_COLUMNS : kind === 'import' ? IMPORT_COLUMNS : ENROL_COLUMNS;
  if (format === 'csv') yield `${columns.join(',')}\r\n`;
  for await (const row of rows) {
    const r = row as unknown as Record<string, unknown>;
    if (format === 'csv') yield `${columns.map((c) => csvCell(r[c])).join(',')}\r\n`;
    else yield `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c] ?? null])))}\n`;
  }
}
