/**
 * The API side of batch jobs: submits a source as chunk jobs, reads and cancels jobs. Redis is
 * connected on first use, and when it cannot be reached every call fails at once with
 * DFG_ERR_JOBS_UNAVAILABLE, so the rest of the API never waits on it.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { dfgError, isDfgError, type DfgError } from '../errors.js';
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

export interface JobClient {
  /** Connects on first use; throws DFG_ERR_JOBS_UNAVAILABLE when Redis does not answer. */
  available(): Promise<void>;
  /** Submits the archive file at `file` (zip, tar, tar.gz). Throws DFG_ERR_ARCHIVE_INVALID. */
  submitArchive(target: SubmitTarget & { file: string; name: string }): Promise<JobView>;
  /** Submits a server-side directory below DFG_IMPORT_ROOTS. Throws DFG_ERR_IMPORT_PATH_FORBIDDEN. */
  submitDirectory(target: SubmitTarget & { path: string }): Promise<JobView>;
  /** Submits image URLs on DFG_URL_ALLOWLIST. Throws DFG_ERR_URL_FORBIDDEN. */
  submitUrls(target: SubmitTarget & { urls: string[] }): Promise<JobView>;
  /** Submits a re-embedding of these samples with `modelId` (the caller lists those lacking its vector). */
  submitReembed(target: { modelId: string; sampleIds: Iterable<string>; keyId?: string | null }): Promise<JobView>;
  /** Throws DFG_ERR_JOB_NOT_FOUND. */
  get(id: string, opts?: { errorLimit?: number }): Promise<JobView>;
  list(limit: number, offset: number): Promise<{ items: JobView[]; total: number }>;
  /** Cancels a waiting or running job (a finished job is returned unchanged). Throws DFG_ERR_JOB_NOT_FOUND. */
  cancel(id: string): Promise<JobView>;
  /** Result rows of the chunks recorded so far. Throws DFG_ERR_JOB_NOT_FOUND. */
  results(id: string): Promise<{ kind: JobKind; state: JobState; rows: AsyncGenerator<ResultRow> }>;
  close(): Promise<void>;
}

interface PlannedItem {
  name: string;
  bytes?: Buffer;
  error?: DfgError;
}

const ID_SHAPE = new RegExp(JOB_ID_PATTERN);

export function createJobClient(cfg: JobConfig, log: Logger): JobClient {
  let redis: Redis | undefined;
  let queue: Queue | undefined;
  let store: JobStore | undefined;
  let lastError: Error | undefined;
  let closed = false;
  let warned = 0;
  const where = redactRedisUrl(cfg.REDIS_URL);

  const unavailable = () =>
    dfgError('DFG_ERR_JOBS_UNAVAILABLE', `cannot reach Redis at ${where}${lastError ? ` (${lastError.message.slice(0, 120)})` : ''}; set REDIS_URL to a running Redis (and run \`dfg worker\`)`);

  const connection = (): Redis => {
    if (redis) return redis;
    redis = producerConnection({ url: cfg.REDIS_URL, connectTimeoutMs: cfg.DFG_JOB_CONNECT_TIMEOUT_MS });
    redis.on('error', (err: Error) => {
      lastError = err;
      // One line a minute: a missing Redis must not flood the log of an API that still serves attribution.
      if (Date.now() - warned > 60_000) {
        warned = Date.now();
        log.warn({ err: err.message, redis: where }, 'job queue: Redis unreachable');
      }
    });
    redis.on('ready', () => {
      lastError = undefined;
    });
    return redis;
  };

  const waitReady = (r: Redis) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        r.off('ready', done);
        r.off('error', done);
        r.off('close', done);
        r.off('end', done);
        resolve();
      };
      const timer = setTimeout(done, cfg.DFG_JOB_CONNECT_TIMEOUT_MS);
      r.once('ready', done);
      r.once('error', done);
      r.once('close', done);
      r.once('end', done);
    });

  const available = async () => {
    if (closed) throw dfgError('DFG_ERR_JOBS_UNAVAILABLE', 'the job client is closed');
    const r = connection();
    if (r.status === 'wait') {
      const ready = waitReady(r);
      r.connect().catch(() => {}); // failures arrive as 'error' events
      await ready;
    } else if (r.status !== 'ready' && !lastError) {
      await waitReady(r); // a first attempt, started by a concurrent request, is under way
    }
    // Known to be down: answer at once while ioredis reconnects in the background.
    if (r.status !== 'ready') {
      lastError ??= new Error(`no answer within ${cfg.DFG_JOB_CONNECT_TIMEOUT_MS} ms`);
      throw unavailable();
    }
    if (!queue) {
      queue = new Queue(QUEUE_NAME, { connection: r, prefix: cfg.DFG_JOB_PREFIX, skipWaitingForReady: true, defaultJobOptions: chunkJobOptions(cfg) });
      queue.on('error', (err: Error) => { lastError = err; });
      store = createJobStore(r, { prefix: cfg.DFG_JOB_PREFIX, keepSeconds: cfg.DFG_JOB_KEEP_SECONDS, keepCount: cfg.DFG_JOB_KEEP_COUNT });
    }
  };

  /** Runs a Redis operation; a connection failure in the middle becomes a 503 like a missing Redis. */
  const guarded = async <T>(fn: (s: JobStore, q: Queue) => Promise<T>): Promise<T> => {
    await available();
    try {
      return await fn(store!, queue!);
    } catch (err) {
      if (isDfgError(err)) throw err;
      if (redis?.status !== 'ready') {
        lastError = err as Error;
        throw unavailable();
      }
      throw err;
    }
  };

  const plan = async (target: SubmitTarget, source: { type: SourceType; name: string; dir?: string }, items: AsyncIterable<PlannedItem>, emptyError: () => DfgError) =>
    guarded(async (s, q) => {
      if (target.kind === 'enrol' && !target.algorithmId) throw dfgError('DFG_ERR_REQUEST_INVALID', 'algorithmId is required for an enrolment job');
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
      log.info({ jobId: id, kind: target.kind, algorithmId: target.algorithmId, source: source.type, total, chunks: chunks.length }, 'job submitted');
      return toJobView(id, (await s.get(id))!);
    });

  const archiveLimits = () => ({
    maxEntries: cfg.DFG_JOB_MAX_ITEMS,
    maxTotalBytes: cfg.DFG_JOB_ARCHIVE_MAX_UNCOMPRESSED,
    maxRatio: cfg.DFG_JOB_ARCHIVE_MAX_RATIO,
    maxEntryBytes: cfg.DFG_MAX_IMAGE_BYTES,
  });

  const record = async (s: JobStore, id: string) => {
    const rec = ID_SHAPE.test(id) ? await s.get(id) : null;
    if (!rec) throw dfgError('DFG_ERR_JOB_NOT_FOUND', id.slice(0, 64));
    return s.settleOrphanImport(id, rec);
  };

  return {
    available,

    async submitArchive(t) {
      return plan(t, { type: 'archive', name: displayName(t.name) }, readArchive(t.file, archiveLimits()), () => dfgError('DFG_ERR_ARCHIVE_INVALID', 'no image entries'));
    },

    async submitDirectory(t) {
      await available();
      const roots = parseImportRoots(cfg.DFG_IMPORT_ROOTS);
      const dir = await resolveImportDir(t.path, roots);
      const listing = await listImportDir(dir, cfg.DFG_JOB_MAX_ITEMS);
      async function* items(): AsyncGenerator<PlannedItem> {
        for (const name of listing.images) yield { name };
        for (const name of listing.others) yield { name, error: dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', 'not an image file name') };
      }
      return plan(t, { type: 'directory', name: t.path, dir }, items(), () => dfgError('DFG_ERR_REQUEST_INVALID', `no image files under ${t.path}`));
    },

    async submitUrls(t) {
      const policy = { allowlist: parseAllowlist(cfg.DFG_URL_ALLOWLIST), allowPrivate: cfg.DFG_URL_ALLOW_PRIVATE };
      // Every URL is vetted before anything is queued: one forbidden URL refuses the request.
      const urls = t.urls.map((u) => checkUrl(u, policy).href);
      async function* items(): AsyncGenerator<PlannedItem> {
        for (const name of urls) yield { name };
      }
      return plan(t, { type: 'urls', name: `${urls.length} URL${urls.length === 1 ? '' : 's'}` }, items(), () => dfgError('DFG_ERR_REQUEST_INVALID', 'no URLs'));
    },

    async submitReembed(t) {
      async function* items(): AsyncGenerator<PlannedItem> {
        for (const name of t.sampleIds) yield { name };
      }
      return plan({ kind: 'reembed', modelId: t.modelId, keyId: t.keyId }, { type: 'gallery', name: t.modelId }, items(),
        () => dfgError('DFG_ERR_REEMBED_NOTHING_LEFT', t.modelId));
    },

    async get(id, opts = {}) {
      return guarded(async (s) => toJobView(id, await record(s, id), await s.errors(id, opts.errorLimit ?? 1000)));
    },

    async list(limit, offset) {
      return guarded(async (s) => {
        const page = await s.list(limit, offset);
        const records = await Promise.all(page.records.map(async (r) => ({ ...(await s.settleOrphanImport(r.id, r)), id: r.id })));
        return { items: records.map((r) => toJobView(r.id, r)), total: page.total };
      });
    },

    async cancel(id) {
      return guarded(async (s, q) => {
        const rec = await record(s, id);
        const state = await s.cancel(id);
        if (state === 'cancelled' && rec.state !== 'cancelled') {
          const chunks = Number(rec.chunks);
          // Waiting chunks are removed; a chunk already running finishes (its images are recorded) and retries skip.
          for (let c = 0; c < chunks; c += 100) {
            const batch = [];
            for (let i = c; i < Math.min(chunks, c + 100); i++) batch.push(q.remove(chunkJobId(id, i)).then((n) => (n === 1 ? i : -1)).catch(() => -1));
            const removed = (await Promise.all(batch)).filter((i) => i >= 0);
            if (removed.length) await redis!.del(...removed.map((i) => s.keys.payload(id, i)));
          }
          log.info({ jobId: id }, 'job cancelled');
        }
        return toJobView(id, (await s.get(id)) ?? rec, await s.errors(id, 1000));
      });
    },

    async results(id) {
      return guarded(async (s) => {
        const rec = await record(s, id);
        return { kind: rec.kind as JobKind, state: rec.state as JobState, rows: s.rows(id, Number(rec.chunks)) };
      });
    },

    async close() {
      closed = true;
      await queue?.close().catch(() => {});
      if (redis) {
        if (redis.status === 'ready') await redis.quit().catch(() => redis!.disconnect());
        else redis.disconnect();
      }
    },
  };
}
