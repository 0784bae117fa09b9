/**
 * The API side of batch jobs: submits a source as chunk jobs, reads and cancels jobs. Redis is
 * connected on first use, and when it cannot be reached every call fails at once with
 * DFG_ERR_JOBS_UNAVAILABLE, so the rest of the API never waits on it.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { dfgError, invalid, isDfgError, type DfgError } from '../errors.js';
import { QUEUE_NAME } from './keys.js';
import { chunkJobId, chunkJobOptions, newJobId, type JobConfig } from './queue.js';
import { producerConnection, redactRedisUrl } from './redis.js';
import { createJobStore, type JobStore } from './store.js';
import { toJobView, type JobView } from './view.js';
import { readArchive } from './sources/archive/index.js';
import { listImportDir, parseImportRoots, resolveImportDir } from './sources/directory.js';
import { checkUrl, parseAllowlist } from './sources/urls.js';
import { displayName } from './sources/images.js';
import { JOB_ID_PATTERN, type ChunkData, type ChunkItem, type JobKind, type JobState, type ResultRow, type SourceType } from './schemas.js';

export interface SubmitTarget {
  kind: JobKind;
  /** Enrolments only. */
  algorithmId?: string;
  /** The API key id submitting it (the audit trail of the job's changes). */
  keyId?: string | null;
  /** Re-embeddings only. */
  modelId?: string;
}

interface PlannedItem {
  name: string;
  bytes?: Buffer;
  error?: DfgError;
}

const ID_SHAPE = new RegExp(JOB_ID_PATTERN);

/**
 * The API side of batch jobs over one lazily connected Redis. A class: its methods share the
 * connection, the queue, the job store and what the last connection error was.
 */
export class JobClient {
  #redis: Redis | undefined;
  #queue: Queue | undefined;
  #store: JobStore | undefined;
  #lastError: Error | undefined;
  #closed = false;
  #warned = 0;
  readonly #where: string;

  constructor(private readonly cfg: JobConfig, private readonly log: Logger) {
    this.#where = redactRedisUrl(cfg.REDIS_URL);
  }

  /** Connects on first use; throws DFG_ERR_JOBS_UNAVAILABLE when Redis does not answer. */
  async available(): Promise<void> {
    if (this.#closed) throw dfgError('DFG_ERR_JOBS_UNAVAILABLE', 'the job client is closed');
    const r = this.#connection();
    if (r.status === 'wait') {
      const ready = this.#waitReady(r);
      r.connect().catch(() => {}); // failures arrive as 'error' events
      await ready;
    } else if (r.status !== 'ready' && !this.#lastError) {
      await this.#waitReady(r); // a first attempt, started by a concurrent request, is under way
    }
    // Known to be down: answer at once while ioredis reconnects in the background.
    if (r.status !== 'ready') {
      this.#lastError ??= new Error(`no answer within ${this.cfg.DFG_JOB_CONNECT_TIMEOUT_MS} ms`);
      throw this.#unavailable();
    }
    if (!this.#queue) {
      this.#queue = new Queue(QUEUE_NAME, { connection: r, prefix: this.cfg.DFG_JOB_PREFIX, skipWaitingForReady: true, defaultJobOptions: chunkJobOptions(this.cfg) });
      this.#queue.on('error', (err: Error) => { this.#lastError = err; });
      this.#store = createJobStore(r, { prefix: this.cfg.DFG_JOB_PREFIX, keepSeconds: this.cfg.DFG_JOB_KEEP_SECONDS, keepCount: this.cfg.DFG_JOB_KEEP_COUNT });
    }
  }

  /** Submits the archive file at `file` (zip, tar, tar.gz). Throws DFG_ERR_ARCHIVE_INVALID. */
  async submitArchive(t: SubmitTarget & { file: string; name: string }): Promise<JobView> {
    const limits = {
      maxEntries: this.cfg.DFG_JOB_MAX_ITEMS,
      maxTotalBytes: this.cfg.DFG_JOB_ARCHIVE_MAX_UNCOMPRESSED,
      maxRatio: this.cfg.DFG_JOB_ARCHIVE_MAX_RATIO,
      maxEntryBytes: this.cfg.DFG_MAX_IMAGE_BYTES,
    };
    return this.#plan(t, { type: 'archive', name: displayName(t.name) }, readArchive(t.file, limits), () => dfgError('DFG_ERR_ARCHIVE_INVALID', 'no image entries'));
  }

  /** Submits a server-side directory below DFG_IMPORT_ROOTS. Throws DFG_ERR_IMPORT_PATH_FORBIDDEN. */
  async submitDirectory(t: SubmitTarget & { path: string }): Promise<JobView> {
    await this.available();
    const roots = parseImportRoots(this.cfg.DFG_IMPORT_ROOTS);
    const dir = await resolveImportDir(t.path, roots);
    const listing = await listImportDir(dir, this.cfg.DFG_JOB_MAX_ITEMS);
    async function* items(): AsyncGenerator<PlannedItem> {
      for (const name of listing.images) yield { name };
      for (const name of listing.others) yield { name, error: dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', 'not an image file name') };
    }
    return this.#plan(t, { type: 'directory', name: t.path, dir }, items(), () => dfgError('DFG_ERR_REQUEST_INVALID', `no image files under ${t.path}`));
  }

  /** Submits image URLs on DFG_URL_ALLOWLIST. Throws DFG_ERR_URL_FORBIDDEN. */
  async submitUrls(t: SubmitTarget & { urls: string[] }): Promise<JobView> {
    const policy = { allowlist: parseAllowlist(this.cfg.DFG_URL_ALLOWLIST), allowPrivate: this.cfg.DFG_URL_ALLOW_PRIVATE };
    // Every URL is vetted before anything is queued: one forbidden URL refuses the request.
    const urls = t.urls.map((u) => checkUrl(u, policy).href);
    async function* items(): AsyncGenerator<PlannedItem> {
      for (const name of urls) yield { name };
    }
    return this.#plan(t, { type: 'urls', name: `${urls.length} URL${urls.length === 1 ? '' : 's'}` }, items(), () => dfgError('DFG_ERR_REQUEST_INVALID', 'no URLs'));
  }

  /** Submits a re-embedding of these samples with `modelId` (the caller lists those lacking its vector). */
  async submitReembed(t: { modelId: string; sampleIds: Iterable<string>; keyId?: string | null }): Promise<JobView> {
    async function* items(): AsyncGenerator<PlannedItem> {
      for (const name of t.sampleIds) yield { name };
    }
    return this.#plan({ kind: 'reembed', modelId: t.modelId, keyId: t.keyId }, { type: 'gallery', name: t.modelId }, items(),
      () => dfgError('DFG_ERR_REEMBED_NOTHING_LEFT', t.modelId));
  }

  /** Throws DFG_ERR_JOB_NOT_FOUND. */
  async get(id: string, opts: { errorLimit?: number } = {}): Promise<JobView> {
    return this.#guarded(async (s) => toJobView(id, await record(s, id), await s.errors(id, opts.errorLimit ?? 1000)));
  }

  async list(limit: number, offset: number): Promise<{ items: JobView[]; total: number }> {
    return this.#guarded(async (s) => {
      const page = await s.list(limit, offset);
      const records = await Promise.all(page.records.map(async (r) => ({ ...(await s.settleOrphanImport(r.id, r)), id: r.id })));
      return { items: records.map((r) => toJobView(r.id, r)), total: page.total };
    });
  }

  /** Cancels a waiting or running job (a finished job is returned unchanged). Throws DFG_ERR_JOB_NOT_FOUND. */
  async cancel(id: string): Promise<JobView> {
    return this.#guarded(async (s, q) => {
      const rec = await record(s, id);
      const state = await s.cancel(id);
      if (state === 'cancelled' && rec.state !== 'cancelled') {
        const chunks = Number(rec.chunks);
        // Waiting chunks are removed; a chunk already running finishes (its images are recorded) and retries skip.
        for (let c = 0; c < chunks; c += 100) {
          const batch = [];
          for (let i = c; i < Math.min(chunks, c + 100); i++) batch.push(q.remove(chunkJobId(id, i)).then((n) => (n === 1 ? i : -1)).catch(() => -1));
          const removed = (await Promise.all(batch)).filter((i) => i >= 0);
          if (removed.length) await this.#redis!.del(...removed.map((i) => s.keys.payload(id, i)));
        }
        this.log.info({ jobId: id }, 'job cancelled');
      }
      return toJobView(id, (await s.get(id)) ?? rec, await s.errors(id, 1000));
    });
  }

  /** Result rows of the chunks recorded so far. Throws DFG_ERR_JOB_NOT_FOUND. */
  async results(id: string): Promise<{ kind: JobKind; state: JobState; rows: AsyncGenerator<ResultRow> }> {
    return this.#guarded(async (s) => {
      const rec = await record(s, id);
      return { kind: rec.kind as JobKind, state: rec.state as JobState, rows: s.rows(id, Number(rec.chunks)) };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue?.close().catch(() => {});
    const redis = this.#redis;
    if (redis) {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    }
  }

  #unavailable(): DfgError {
    const last = this.#lastError;
    return dfgError('DFG_ERR_JOBS_UNAVAILABLE', `cannot reach Redis at ${this.#where}${last ? ` (${last.message.slice(0, 120)})` : ''}; set REDIS_URL to a running Redis (and run \`dfg worker\`)`);
  }

  #connection(): Redis {
    if (this.#redis) return this.#redis;
    const redis = producerConnection({ url: this.cfg.REDIS_URL, connectTimeoutMs: this.cfg.DFG_JOB_CONNECT_TIMEOUT_MS });
    redis.on('error', (err: Error) => {
      this.#lastError = err;
      // One line a minute: a missing Redis must not flood the log of an API that still serves attribution.
      if (Date.now() - this.#warned > 60_000) {
        this.#warned = Date.now();
        this.log.warn({ err: err.message, redis: this.#where }, 'job queue: Redis unreachable');
      }
    });
    redis.on('ready', () => {
      this.#lastError = undefined;
    });
    this.#redis = redis;
    return redis;
  }

  #waitReady(r: Redis): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        r.off('ready', done);
        r.off('error', done);
        r.off('close', done);
        r.off('end', done);
        resolve();
      };
      const timer = setTimeout(done, this.cfg.DFG_JOB_CONNECT_TIMEOUT_MS);
      r.once('ready', done);
      r.once('error', done);
      r.once('close', done);
      r.once('end', done);
    });
  }

  /** Runs a Redis operation; a connection failure in the middle becomes a 503 like a missing Redis. */
  async #guarded<T>(fn: (s: JobStore, q: Queue) => Promise<T>): Promise<T> {
    await this.available();
    try {
      return await fn(this.#store!, this.#queue!);
    } catch (err) {
      if (isDfgError(err)) throw err;
      if (this.#redis?.status !== 'ready') {
        this.#lastError = err as Error;
        throw this.#unavailable();
      }
      throw err;
    }
  }

  /** Writes the items' payloads, the job record and its chunk jobs; on any failure drops what was written. */
  #plan(target: SubmitTarget, source: { type: SourceType; name: string; dir?: string }, items: AsyncIterable<PlannedItem>, emptyError: () => DfgError): Promise<JobView> {
    const cfg = this.cfg;
    return this.#guarded(async (s, q) => {
      if (target.kind === 'enrol' && !target.algorithmId) throw invalid('an algorithm id', 'algorithmId of an enrolment job', target.algorithmId);
      const id = newJobId();
      const chunks: ChunkData[] = [];
      let current: ChunkItem[] = [];
      let total = 0;
      let images = 0;
      const flush = () => {
        if (current.length === 0) return;
        chunks.push({
          v: 1, jobId: id, kind: target.kind, index: chunks.length, source: source.type, items: current,
          ...(target.kind === 'enrol' ? { algorithmId: target.algorithmId } : {}),
          ...(target.keyId ? { keyId: target.keyId } : {}),
          ...(target.kind === 'reembed' ? { modelId: target.modelId } : {}),
          ...(source.dir ? { dir: source.dir } : {}),
        });
        current = [];
      };
      try {
        for await (const it of items) {
          if (++total > cfg.DFG_JOB_MAX_ITEMS) throw dfgError('DFG_ERR_REQUEST_INVALID', `more than ${cfg.DFG_JOB_MAX_ITEMS} images in one job (DFG_JOB_MAX_ITEMS)`);
          if (it.bytes) await s.writePayload(id, chunks.length, current.length, it.bytes);
          if (!it.error) images++;
          current.push(it.error ? { name: displayName(it.name), error: { code: it.error.code, message: it.error.message.slice(0, 2000) } } : { name: it.name.slice(0, 4096) });
          if (current.length >= cfg.DFG_JOB_CHUNK_SIZE) flush();
        }
        flush();
        if (images === 0) throw emptyError();
        await s.create({ id, kind: target.kind, algorithmId: target.algorithmId, source: { type: source.type, name: source.name }, total, chunks: chunks.length });
        for (let i = 0; i < chunks.length; i += 500) {
          await q.addBulk(chunks.slice(i, i + 500).map((c) => ({ name: target.kind, data: c, opts: { jobId: chunkJobId(id, c.index) } })));
        }
      } catch (err) {
        await s.drop(id, chunks.length + 1).catch(() => {});
        throw err;
      }
      this.log.info({ jobId: id, kind: target.kind, algorithmId: target.algorithmId, source: source.type, total, chunks: chunks.length }, 'job submitted');
      return toJobView(id, (await s.get(id))!);
    });
  }
}

/**
 * The job's record; DFG_ERR_JOB_NOT_FOUND for an unknown id or one of another shape. An import job
 * whose server died reads as failed (JobStore.settleOrphanImport).
 */
async function record(s: JobStore, id: string) {
  const rec = ID_SHAPE.test(id) ? await s.get(id) : null;
  if (!rec) throw dfgError('DFG_ERR_JOB_NOT_FOUND', id.slice(0, 64));
  return s.settleOrphanImport(id, rec);
}
