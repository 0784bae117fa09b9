/**
 * Job payloads in TypeBox: what the API puts on the queue and what a worker accepts. A chunk
 * that fails this schema (an old release, a hand-made job) is refused without retry.
 */
import { Type, type Static } from '@sinclair/typebox';

export const JOB_ID_PATTERN = '^job_[A-Za-z0-9_-]{8,40}$';

export const JobKind = Type.Union([Type.Literal('enrol'), Type.Literal('audit'), Type.Literal('reembed'), Type.Literal('import')]);
export type JobKind = Static<typeof JobKind>;

/** `gallery`: the samples of the gallery itself (re-embedding); items are sample ids. `bundle`: a signed bundle (imports). */
export const SourceType = Type.Union([Type.Literal('archive'), Type.Literal('directory'), Type.Literal('urls'), Type.Literal('gallery'), Type.Literal('bundle')]);
export type SourceType = Static<typeof SourceType>;

export const JobState = Type.Union(['waiting', 'active', 'completed', 'failed', 'cancelled'].map((s) => Type.Literal(s)), {
  description: 'waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request.',
});
export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'cancelled';

export const ItemErrorData = Type.Object({ code: Type.String({ maxLength: 64 }), message: Type.String({ maxLength: 2000 }) });

export const ChunkItem = Type.Object({
  /** Archive entry name, path relative to the import directory, or URL. */
  name: Type.String({ minLength: 1, maxLength: 4096 }),
  /** Set when the item was refused while planning (non-image entry, too large): recorded, not processed. */
  error: Type.Optional(ItemErrorData),
});
export type ChunkItem = Static<typeof ChunkItem>;

export const ChunkData = Type.Object({
  v: Type.Literal(1),
  jobId: Type.String({ pattern: JOB_ID_PATTERN }),
  kind: JobKind,
  algorithmId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Re-embeddings only: the model whose vectors are added. */
  modelId: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 128 })),
  index: Type.Integer({ minimum: 0 }),
  source: SourceType,
  /** Real path of the import directory (directory sources). */
  dir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  items: Type.Array(ChunkItem, { minItems: 1, maxItems: 1024 }),
  /** The API key id that submitted the job (absent with auth off): the audit trail names it for the job's changes. */
  keyId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: false });
export type ChunkData = Static<typeof ChunkData>;

/** One line of an enrolment job's results. */
export interface EnrolRow {
  name: string;
  sha256: string | null;
  outcome: 'created' | 'duplicate' | 'error';
  sampleId: string | null;
  error: string | null;
  message: string | null;
}

/** One line of an audit job's results: what /v1/attribute would have answered. */
export interface AuditRow {
  name: string;
  sha256: string | null;
  decision: 'attributed' | 'unknown' | 'authentic' | 'error';
  algorithm: string | null;
  algorithmId: string | null;
  score: number | null;
  threshold: number | null;
  error: string | null;
  message: string | null;
}

/** One line of a re-embedding job's results: one sample. */
export interface ReembedRow {
  name: string;
  sha256: string | null;
  /** stored: vector added; present: it had one already; not-kept: no image bytes kept; error: refused or gone. */
  outcome: 'stored' | 'present' | 'not-kept' | 'error';
  error: string | null;
  message: string | null;
}

/** One line of an import job's results: one algorithm of the bundle. */
export interface ImportRow {
  name: string;
  action: 'created' | 'merged' | 'skipped';
  id: string | null;
  galleryName: string | null;
  created: number;
  duplicates: number;
}

export type ResultRow = EnrolRow | AuditRow | ReembedRow | ImportRow;
