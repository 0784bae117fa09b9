/**
 * Processes one chunk: loads its images (Redis payload, import directory or URLs), enrols or
 * attributes them with the same code as the HTTP routes, and commits the outcome once.
 * Bad images are item errors; transient failures (overload, not ready, infrastructure) retry
 * the chunk with backoff, and on the last attempt the chunk is recorded as given up.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { Embedder } from '../embedding/index.js';
import type { Gallery } from '../gallery/gallery.js';
import { jobAudit } from './audit-note.js';
import type { Config } from '../config/index.js';
import { enrolImages, sha256Hex } from '../use-cases/enrol.js';
import { attributeImage } from '../use-cases/attribute.js';
import { dfgError, isDfgError, type DfgError } from '../errors.js';
import { ChunkData, type AuditRow, type EnrolRow, type ReembedRow } from './schemas.js';
import { reembedChunk } from './reembed-chunk.js';
import type { ChunkOutcome, ItemError, JobStore } from './store.js';
import { parseImportRoots, readImportFile } from './sources/directory.js';
import { fetchImage, isTransientFetchError, parseAllowlist, type UrlPolicy } from './sources/urls.js';
import { displayName } from './sources/images.js';
import { forEachLimit } from '../lib/limit.js';

export type ProcessorConfig = Pick<Config,
  | 'DFG_THRESHOLD' | 'DFG_MARGIN' | 'DFG_TOP_M' | 'DFG_K' | 'DFG_MAX_IMAGE_BYTES' | 'DFG_IMPORT_ROOTS'
  | 'DFG_URL_ALLOWLIST' | 'DFG_URL_ALLOW_PRIVATE' | 'DFG_JOB_URL_TIMEOUT_MS'>;

export interface ProcessorDeps {
  store: JobStore;
  /**
   * Runs a step with the loaded embedder and gallery held for its duration (Services.use; rejects
   * with DFG_ERR_SERVER_NOT_READY while loading: the chunk retries).
   */
  use: <T>(fn: (parts: { embedder: Embedder; gallery: Gallery }) => Promise<T>) => Promise<T>;
  /** An embedder of one model for re-embedding chunks (loaded once per worker process). */
  embedderFor?: (modelId: string) => Promise<Embedder>;
  config: ProcessorConfig;
  log: Logger;
}

export interface ChunkResult {
  outcome: 'recorded' | 'finished' | 'already' | 'skipped';
  reason?: string;
  images: number;
  failed: number;
}

/** Item errors worth another attempt of the chunk: capacity and start-up, not the image (downloads mark their own). */
const TRANSIENT = new Set(['DFG_ERR_SERVER_OVERLOADED', 'DFG_ERR_SERVER_NOT_READY', 'DFG_ERR_STORE_UNAVAILABLE', 'DFG_ERR_INTERNAL']);

/** Downloads and directory reads per chunk in flight at once. */
const IO_CONCURRENCY = 8;

interface Input {
  name: string;
  bytes?: Buffer;
  error?: ItemError;
  /** The error may go away on another attempt (a download that timed out, a 503). */
  transient?: boolean;
}

function itemError(name: string, err: unknown): ItemError {
  const e: DfgError = isDfgError(err) ? err : dfgError('DFG_ERR_INTERNAL');
  return { name: displayName(name), code: e.code, message: e.message.slice(0, 2000) };
}

async function loadInputs(data: ChunkData, deps: ProcessorDeps, urlPolicy: UrlPolicy): Promise<Input[]> {
  const { items } = data;
  const inputs: Input[] = items.map((it) => (it.error ? { name: it.name, error: { name: displayName(it.name), ...it.error } } : { name: it.name }));
  const todo = inputs.map((inp, i) => (inp.error ? -1 : i)).filter((i) => i >= 0);
  if (data.source === 'archive') {
    const payload = await deps.store.readPayload(data.jobId, data.index, todo);
    todo.forEach((i, k) => {
      const bytes = payload[k];
      if (bytes) inputs[i]!.bytes = bytes;
      else inputs[i]!.error = itemError(inputs[i]!.name, dfgError('DFG_ERR_JOB_CHUNK_FAILED', data.index, 1, 'its image data is gone from Redis (expired or cancelled)'));
    });
  } else if (data.source === 'directory') {
    const roots = parseImportRoots(deps.config.DFG_IMPORT_ROOTS);
    await forEachLimit(todo, IO_CONCURRENCY, async (i) => {
      try {
        inputs[i]!.bytes = await readImportFile(data.dir!, inputs[i]!.name, roots, deps.config.DFG_MAX_IMAGE_BYTES);
      } catch (err) {
        const e = isDfgError(err) ? err : dfgError('DFG_ERR_REQUEST_INVALID', `cannot read ${displayName(inputs[i]!.name)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        inputs[i]!.error = itemError(inputs[i]!.name, e);
      }
    });
  } else {
    await forEachLimit(todo, IO_CONCURRENCY, async (i) => {
      try {
        inputs[i]!.bytes = await fetchImage(inputs[i]!.name, urlPolicy);
      } catch (err) {
        inputs[i]!.error = itemError(inputs[i]!.name, err);
        inputs[i]!.transient = isTransientFetchError(err);
      }
    });
  }
  return inputs;
}

interface Processed {
  outcome: Omit<ChunkOutcome, 'givenUp'>;
  transient: boolean;
}

async function enrolChunk(data: ChunkData, inputs: Input[], deps: ProcessorDeps): Promise<Processed> {
  const ready = inputs.map((inp, i) => ({ inp, i })).filter((x) => x.inp.bytes);
  const summary = await deps.use(async (parts) => (ready.length
    ? enrolImages(parts, data.algorithmId!, ready.map((x) => ({ filename: displayName(x.inp.name).slice(0, 255), bytes: x.inp.bytes!, sha256: sha256Hex(x.inp.bytes!) })), { audit: jobAudit(data) })
    : { results: [] }));
  const createdNow = summary.results.filter((r) => r.status === 'created').map((r) => r.sha256!);
  await deps.store.noteCreated(data.jobId, data.index, createdNow);
  const earlier = await deps.store.createdEarlier(data.jobId, data.index);

  const rows: EnrolRow[] = inputs.map((inp) => ({ name: displayName(inp.name), sha256: null, outcome: 'error', sampleId: null, error: inp.error?.code ?? null, message: inp.error?.message ?? null }));
  let transient = inputs.some((inp) => inp.transient);
  summary.results.forEach((r, k) => {
    const i = ready[k]!.i;
    const row = rows[i]!;
    row.sha256 = r.sha256 ?? null;
    if (r.status === 'error') {
      row.error = r.error?.code ?? 'DFG_ERR_INTERNAL';
      row.message = r.error?.message ?? null;
      if (TRANSIENT.has(row.error)) transient = true;
      return;
    }
    // A sample this chunk created on an earlier, interrupted attempt is reported as created, not duplicate.
    row.outcome = r.status === 'duplicate' && r.sha256 && earlier.has(r.sha256) ? 'created' : r.status;
    row.sampleId = r.sampleId ?? null;
  });
  return { outcome: summarise(rows, rows.map((r) => r.outcome)), transient };
}

async function auditChunk(inputs: Input[], deps: ProcessorDeps): Promise<Processed> {
  const settled = await deps.use(async ({ embedder, gallery }) => {
    // Catch up with the store now rather than on the next periodic refresh: an audit submitted right
    // after an enrolment must see it, as /v1/attribute on the API would.
    await gallery.refresh();
    return Promise.allSettled(inputs.map((inp) => (inp.bytes ? attributeImage({ embedder, gallery, config: deps.config }, inp.bytes, { k: 1 }) : Promise.resolve(null))));
  });
  let transient = inputs.some((inp) => inp.transient);
  const fields: Record<string, string> = {};
  const rows: AuditRow[] = inputs.map((inp, i) => {
    const s = settled[i]!;
    const base = { name: displayName(inp.name), sha256: inp.bytes ? sha256Hex(inp.bytes) : null };
    if (s.status === 'fulfilled' && s.value) {
      const r = s.value;
      if (r.algorithm) fields[`n:${r.algorithm.id}`] = r.algorithm.name;
      return { ...base, decision: r.decision, algorithm: r.algorithm?.name ?? null, algorithmId: r.algorithm?.id ?? null, score: r.score, threshold: r.threshold, error: null, message: null };
    }
    const err = s.status === 'rejected' ? itemError(inp.name, s.reason) : inp.error!;
    if (TRANSIENT.has(err.code)) transient = true;
    return { ...base, decision: 'error', algorithm: null, algorithmId: null, score: null, threshold: null, error: err.code, message: err.message };
  });
  const outcome = summarise(rows, rows.map((r) => r.decision));
  for (const r of rows) if (r.algorithmId && r.decision !== 'unknown') outcome.increments[`a:${r.algorithmId}`] = (outcome.increments[`a:${r.algorithmId}`] ?? 0) + 1;
  Object.assign(outcome.fields, fields);
  return { outcome, transient };
}

async function reembedChunkOf(data: ChunkData, deps: ProcessorDeps): Promise<Processed> {
  if (!deps.embedderFor || !data.modelId) throw dfgError('DFG_ERR_REQUEST_INVALID', 're-embedding chunk without a model, or a worker that cannot re-embed');
  const embedder = await deps.embedderFor(data.modelId);
  const { rows, transient } = await deps.use(({ gallery }) => reembedChunk(data, gallery, embedder));
  return { outcome: summarise(rows, rows.map((r) => r.outcome)), transient };
}

function summarise(rows: Array<EnrolRow | AuditRow | ReembedRow>, outcomes: string[]): Omit<ChunkOutcome, 'givenUp'> {
  const increments: Record<string, number> = {};
  for (const o of outcomes) increments[`o:${o}`] = (increments[`o:${o}`] ?? 0) + 1;
  const errors: ItemError[] = rows.filter((r) => r.error).map((r) => ({ name: r.name, code: r.error!, message: r.message ?? '' }));
  return { rows, errors, increments, fields: {} };
}

/** Every item of a chunk as failed with one error (bad chunk-wide input, or a chunk given up). */
function allFailed(data: ChunkData, err: DfgError): Omit<ChunkOutcome, 'givenUp'> {
  const rows = data.items.map((it) => {
    const e = it.error ?? { code: err.code, message: err.message.slice(0, 2000) };
    if (data.kind === 'reembed') return { name: it.name, sha256: null, outcome: 'error' as const, error: e.code, message: e.message };
    return data.kind === 'enrol'
      ? { name: displayName(it.name), sha256: null, outcome: 'error' as const, sampleId: null, error: e.code, message: e.message }
      : { name: displayName(it.name), sha256: null, decision: 'error' as const, algorithm: null, algorithmId: null, score: null, threshold: null, error: e.code, message: e.message };
  });
  return summarise(rows, rows.map(() => 'error'));
}

/** Records a chunk that will not run again (for the worker's failure listener too). Idempotent. */
export async function recordGivenUp(store: JobStore, data: unknown, attempts: number, reason: string): Promise<void> {
  if (!Value.Check(ChunkData, data)) return;
  if (await store.isCommitted(data.jobId, data.index)) return;
  const err = dfgError('DFG_ERR_JOB_CHUNK_FAILED', data.index, attempts, reason.slice(0, 300));
  await store.commit(data.jobId, data.index, { ...allFailed(data, err), givenUp: true });
}

/** Builds the BullMQ processor of chunk jobs. */
export function createChunkProcessor(deps: ProcessorDeps): (job: Job) => Promise<ChunkResult> {
  const urlPolicy: UrlPolicy = {
    allowlist: parseAllowlist(deps.config.DFG_URL_ALLOWLIST),
    allowPrivate: deps.config.DFG_URL_ALLOW_PRIVATE,
    timeoutMs: deps.config.DFG_JOB_URL_TIMEOUT_MS,
    maxBytes: deps.config.DFG_MAX_IMAGE_BYTES,
    maxRedirects: 3,
  };
  return async (job) => {
    if (!Value.Check(ChunkData, job.data)) throw new UnrecoverableError('chunk payload does not match the ChunkData schema');
    const data = job.data as ChunkData;
    const log = deps.log.child({ jobId: data.jobId, chunk: data.index });
    const state = await deps.store.start(data.jobId);
    if (state === null || state === 'cancelled') {
      log.info({ reason: state ?? 'job gone' }, 'chunk skipped');
      return { outcome: 'skipped', reason: state ?? 'gone', images: 0, failed: 0 };
    }
    if (await deps.store.isCommitted(data.jobId, data.index)) {
      log.info('chunk already recorded');
      return { outcome: 'already', images: 0, failed: 0 };
    }

    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const t0 = performance.now();
    let processed: Processed;
    try {
      if (data.kind === 'reembed') processed = await reembedChunkOf(data, deps);
      else {
        const inputs = await loadInputs(data, deps, urlPolicy);
        processed = data.kind === 'enrol' ? await enrolChunk(data, inputs, deps) : await auditChunk(inputs, deps);
      }
    } catch (err) {
      // Bad input for the whole chunk (algorithm deleted meanwhile): recorded per item, never retried.
      if (isDfgError(err) && err.statusCode >= 400 && err.statusCode < 500) {
        log.warn({ code: err.code }, 'chunk refused');
        await deps.store.commit(data.jobId, data.index, { ...allFailed(data, err), givenUp: false });
        throw new UnrecoverableError(`${err.code}: ${err.message}`);
      }
      if (attempt >= attempts) {
        log.error({ err, attempt }, 'chunk given up');
        await recordGivenUp(deps.store, data, attempt, err instanceof Error ? err.message : String(err));
        throw new UnrecoverableError(`given up after ${attempt} attempts: ${err instanceof Error ? err.message : String(err)}`);
      }
      log.warn({ err: err instanceof Error ? err.message : String(err), attempt }, 'chunk failed; will retry');
      throw err;
    }
    if (processed.transient && attempt < attempts) {
      log.warn({ attempt }, 'transient item errors; chunk will retry');
      throw new Error('transient item errors (inference overloaded or not ready, downloads failing); retrying the chunk');
    }
    const result = await deps.store.commit(data.jobId, data.index, { ...processed.outcome, givenUp: false });
    const failed = processed.outcome.errors.length;
    log.info({ images: data.items.length, failed, ms: Math.round(performance.now() - t0), result }, 'chunk done');
    return { outcome: result === 'gone' ? 'skipped' : result, images: data.items.length, failed };
  };
}

