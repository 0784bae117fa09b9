/** The public shape of a job, built from its Redis record (what GET /v1/jobs/{id} answers). */
import type { ImportSummary } from '../exchange/index.js';
import type { ItemError, RawRecord } from './store.js';
import type { JobKind, JobState, SourceType } from './schemas.js';

export const ENROL_OUTCOMES = ['created', 'duplicate', 'error'] as const;
export const AUDIT_OUTCOMES = ['attributed', 'unknown', 'authentic', 'error'] as const;
export const REEMBED_OUTCOMES = ['stored', 'present', 'not-kept', 'error'] as const;
/** Samples of an import by outcome; `reembedded` counts images embedded again (their samples are also `created` or `duplicate`). */
export const IMPORT_OUTCOMES = ['created', 'duplicate', 'skipped', 'reembedded', 'error'] as const;

export interface JobView {
  id: string;
  kind: JobKind;
  state: JobState;
  algorithmId: string | null;
  source: { type: SourceType; name: string };
  progress: {
    total: number;
    /** Images finished, successfully or not. */
    done: number;
    failed: number;
    percent: number;
    chunks: { total: number; done: number; failed: number };
  };
  /** Images by outcome: enrolments created/duplicate/error, audits attributed/unknown/authentic/error, re-embeddings stored/present/not-kept/error. */
  counts: Record<string, number>;
  /** Audits only: attributed and authentic images by algorithm, most first. */
  algorithms: Array<{ id: string; name: string; count: number }> | null;
  timings: {
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    /** From submission to the first chunk starting. */
    waitMs: number | null;
    /** From the first chunk starting to the end (or to now while running). */
    runMs: number | null;
    imagesPerSecond: number | null;
  };
  errors?: { total: number; items: ItemError[]; truncated: boolean };
  /** Imports, once finished: the import's summary (as POST /v1/imports answers a synchronous import). */
  import?: ImportSummary;
}

const int = (v: string | undefined) => (v ? Number.parseInt(v, 10) || 0 : 0);
const iso = (v: string | undefined) => (v ? new Date(Number(v)).toISOString() : null);

export function toJobView(id: string, rec: RawRecord, errors?: { items: ItemError[]; total: number }, now = Date.now()): JobView {
  const kind = rec.kind as JobKind;
  const outcomes: readonly string[] = kind === 'audit' ? AUDIT_OUTCOMES : kind === 'reembed' ? REEMBED_OUTCOMES : kind === 'import' ? IMPORT_OUTCOMES : ENROL_OUTCOMES;
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = int(rec[`o:${o}`]);
  // An import reports the samples applied as it writes them (its counts arrive when it finishes).
  const done = kind === 'import' ? int(rec.done) : outcomes.reduce((s, o) => s + counts[o]!, 0);
  const total = int(rec.total);
  let algorithms: JobView['algorithms'] = null;
  if (kind === 'audit') {
    algorithms = Object.keys(rec)
      .filter((k) => k.startsWith('a:'))
      .map((k) => ({ id: k.slice(2), name: rec[`n:${k.slice(2)}`] ?? k.slice(2), count: int(rec[k]) }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  }
  const created = int(rec.createdAt);
  const started = rec.startedAt ? int(rec.startedAt) : null;
  const finished = rec.finishedAt ? int(rec.finishedAt) : null;
  const runMs = started === null ? null : (finished ?? now) - started;
  const view: JobView = {
    id,
    kind,
    state: rec.state as JobState,
    algorithmId: rec.algorithmId || null,
    source: { type: rec.sourceType as SourceType, name: rec.sourceName ?? '' },
    progress: {
      total,
      done,
      failed: (counts.error ?? 0) + (counts['not-kept'] ?? 0),
      percent: total ? Math.round((1000 * done) / total) / 10 : 0,
      chunks: { total: int(rec.chunks), done: int(rec.chunksDone), failed: int(rec.chunksFailed) },
    },
    counts,
    algorithms,
    timings: {
      createdAt: iso(rec.createdAt)!,
      startedAt: iso(rec.startedAt),
      finishedAt: iso(rec.finishedAt),
      waitMs: started === null ? null : started - created,
      runMs,
      imagesPerSecond: runMs && done ? Math.round((done / (runMs / 1000)) * 100) / 100 : null,
    },
  };
  if (errors) view.errors = { total: errors.total, items: errors.items, truncated: errors.total > errors.items.length };
  if (kind === 'import' && rec.summary) view.import = JSON.parse(rec.summary) as ImportSummary;
  return view;
}
