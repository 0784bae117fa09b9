/** Schemas of the batch job routes (bodies, job records, results). */
import { ImportResult } from './exchange.js';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { JobKind, JobState, SourceType } from '../../jobs/schemas.js';
import { MAX_ID_LENGTH } from '../../gallery/validate.js';

const AlgorithmId = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'Id of a registered algorithm.' });

export const DirectorySource = Type.Object(
  {
    type: Type.Literal('directory'),
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute server-side path below one of DFG_IMPORT_ROOTS; read recursively, symlinks ignored.' }),
  },
  { additionalProperties: false },
);

export const UrlsSource = Type.Object(
  {
    type: Type.Literal('urls'),
    urls: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 10_000, description: 'http(s) URLs on hosts of DFG_URL_ALLOWLIST.' }),
  },
  { additionalProperties: false },
);

export const JsonSource = Type.Union([DirectorySource, UrlsSource]);

export const EnrolJobJson = Type.Object({ algorithmId: AlgorithmId, source: JsonSource }, { additionalProperties: false });
export const AuditJobJson = Type.Object({ source: JsonSource }, { additionalProperties: false });
export const ReembedJobJson = Type.Object(
  { modelId: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 128, description: 'Model (models/<id>/) whose vectors every sample lacking one gets.' }) },
  { additionalProperties: false },
);

// The multipart parts are streamed by the handler, which enforces them; the schema documents the form
// (a `required` list here would be checked against the empty body Fastify sees for multipart).
const archivePart = Type.Optional(Type.String({ format: 'binary', description: 'Required. zip, tar or tar.gz of images (recognised by content). Non-image entries are reported and skipped; symlinks ignored.' }));
export const EnrolJobForm = Type.Object({ algorithmId: Type.Optional(Type.String({ description: 'Required. Id of a registered algorithm.' })), archive: archivePart });
export const AuditJobForm = Type.Object({ archive: archivePart });

/** Request bodies: JSON for directory and URL sources, multipart for an uploaded archive. */
export function jobBody(json: TObject, form: TObject) {
  return { content: { 'application/json': { schema: json }, 'multipart/form-data': { schema: form } } };
}

/**
 * The handler's view of a jobBody route's body, which the type provider cannot derive from a schema
 * per content type: the JSON body as validated, or the empty object a multipart request carries
 * (its parts are streamed by the handler).
 */
export interface JobBodyRoute<Json extends TObject> {
  Body: Static<Json> | Record<string, never>;
}

export const JobAccepted = Type.Object({
  jobId: Type.String(),
  kind: JobKind,
  state: JobState,
  total: Type.Integer({ description: 'Images (and skipped entries) in the job.' }),
  location: Type.String({ description: 'Where to follow the job.' }),
});

const Count = Type.Integer({ minimum: 0 });

export const Job = Type.Object({
  id: Type.String(),
  kind: JobKind,
  state: JobState,
  algorithmId: Type.Union([Type.String(), Type.Null()], { description: 'Enrolments: the algorithm enrolled into.' }),
  source: Type.Object({ type: SourceType, name: Type.String() }),
  progress: Type.Object({
    total: Count,
    done: Type.Integer({ minimum: 0, description: 'Images finished, with or without an error (imports: samples of the bundle applied so far).' }),
    failed: Count,
    percent: Type.Number(),
    chunks: Type.Object({ total: Count, done: Count, failed: Type.Integer({ minimum: 0, description: 'Chunks given up after their attempts.' }) }),
  }),
  counts: Type.Record(Type.String(), Count, { description: 'Images by outcome. Enrolments: created, duplicate, error. Audits: attributed, unknown, authentic, error. Re-embeddings: stored, present, not-kept, error. Imports (samples, once finished): created, duplicate, skipped, reembedded (images embedded again), error.' }),
  algorithms: Type.Union([
    Type.Array(Type.Object({ id: Type.String(), name: Type.String(), count: Count })),
    Type.Null(),
  ], { description: 'Audits: attributed and authentic images per algorithm, most first.' }),
  timings: Type.Object({
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    waitMs: Type.Union([Type.Number(), Type.Null()]),
    runMs: Type.Union([Type.Number(), Type.Null()]),
    imagesPerSecond: Type.Union([Type.Number(), Type.Null()]),
  }),
  import: Type.Optional(ImportResult),
  errors: Type.Optional(Type.Object({
    total: Count,
    truncated: Type.Boolean(),
    items: Type.Array(Type.Object({ name: Type.String(), code: Type.String(), message: Type.String() }), { description: 'Item errors (file name, URL or entry, and catalogue code), at most 1000.' }),
  })),
});

export const JobList = Type.Object({
  items: Type.Array(Job),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const ResultsQuery = Type.Object({
  format: Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { default: 'ndjson' }),
});
