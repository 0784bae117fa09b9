/**
 * Import jobs (POST /v1/imports of a large bundle): the API process that received and verified the
 * bundle runs its import as a BullMQ job on a queue of its own, since the bundle file is on its disk.
 * The job record in Redis (store.ts) reports samples applied of the bundle's total while it writes,
 * then the counts and the import summary; GET /v1/jobs/{id} serves it like any job. The import
 * itself is all or nothing (exchange/import.ts); the bundle's temporary folder is removed whatever
 * happens, and on close for jobs that never ran.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Embedder } from '../embedding/index.js';
import type { AuditNote, Gallery } from '../gallery/gallery.js';
import { importVerifiedBundle, type ConflictMode, type ImportProgress, type VerifiedBundle } from '../exchange/index.js';
import { dfgError, isDfgError, type DfgError } from '../errors.js';
import { jobKeys } from './keys.js';
import { newJobId, type JobConfig } from './queue.js';
import { producerConnection, workerConnection } from './redis.js';
import { createJobStore, type ChunkOutcome, type JobStore } from './store.js';
import { toJobView, type JobView } from './view.js';
import type { ImportRow } from './schemas.js';

export interface ImportSubmission {
  /** The verified bundle (closed by the job). */
  bundle: VerifiedBundle;
  /** Temporary folder holding the bundle file, removed when the job ends. */
  dir: string;
  /** Name shown as the job's source. */
  name: string;
  onConflict: ConflictMode;
  /** Who imports (the audit trail). */
  audit?: AuditNote;
}

export interface ImportRunner {
  /** Throws DFG_ERR_JOBS_UNAVAILABLE when Redis does not answer. */
  available(): Promise<void>;
  /** Records the job and queues it; the caller hands the bundle and its folder over (also on a throw). */
  submit(s: ImportSubmission): Promise<JobView>;
  close(): Promise<void>;
}

export interface ImportRunnerDeps {
  config: JobConfig;
  log: Logger;
  /** Runs a step with the served gallery and embedder held (Services.use). */
  use: <T>(fn: (parts: { embedder: Embedder; gallery: Gallery }) => Promise<T>) => Promise<T>;
}

/** How often a running import writes its progress to Redis. */
const PROGRESS_MS = 250;
/** The owner key's time to live, and how often a live runner renews it. */
export const OWNER_TTL_MS = 60_000;
const OWNER_RENEW_MS = 10_000;

export function createImportRunner(deps: ImportRunnerDeps): ImportRunner {
  const { config: cfg, log } = deps;
  // This process's own queue: only it has the bundle files.
  const queueName = `imports.${os.hostname().replace(/[^A-Za-z0-9_-]/g, '_')}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  const pending = new Map<string, ImportSubmission>();
  let producer: Redis | undefined;
  let consumer: Redis | undefined;
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  let store: JobStore | undefined;
  let closed = false;
  let renew: NodeJS.Timeout | undefined;
  const ownerKey = jobKeys(cfg.DFG_JOB_PREFIX).owner(queueName);

  const release = async (id: string) => {
    const s = pending.get(id);
    pending.delete(id);
    if (!s) return;
    await s.bundle.close().catch(() => {});
    await fs.rm(s.dir, { recursive: true, force: true });
  };

  const run = async (jobId: string): Promise<void> => {
    const s = pending.get(jobId);
    const st = store!;
    if (!s) throw new UnrecoverableError('the bundle of this import is gone (the process restarted)');
    let outcome: Omit<ChunkOutcome, 'givenUp'>;
    let failed: DfgError | undefined;
    // Progress writes in order, all landed before the final commit (which a late one must not undo).
    let written: Promise<void> = Promise.resolve();
    try {
      if ((await st.start(jobId)) === 'cancelled') return;
      let last = 0;
      const onProgress = (p: ImportProgress) => {
        if (p.phase !== 'writing' || (Date.now() - last < PROGRESS_MS && p.done < p.total)) return;
        last = Date.now();
        // Samples the bundle holds that this import does not write (known, skipped) count as settled at once.
        const settled = s.bundle.manifest.algorithms.reduce((n, a) => n + a.samples.length, 0) - p.total + p.done;
        written = written.then(() => st.progress(jobId, { done: settled })).catch((err: unknown) => log.warn({ err, jobId }, 'import progress not recorded'));
      };
      try {
        const summary = await deps.use(({ gallery, embedder }) => importVerifiedBundle({ gallery, embedder }, s.bundle, { trust: { publishers: [] }, onConflict: s.onConflict, onProgress, ...(s.audit ? { audit: s.audit } : {}) }));
        const rows: ImportRow[] = summary.algorithms.map((a) => ({ name: a.name, action: a.action, id: a.id ?? null, galleryName: a.galleryName ?? null, created: a.created, duplicates: a.duplicates }));
        outcome = {
          rows, errors: [],
          increments: { 'o:created': summary.created, 'o:duplicate': summary.duplicates, 'o:skipped': summary.skipped, 'o:reembedded': summary.reembedded },
          fields: { done: String(summary.total), summary: JSON.stringify(summary) },
        };
        log.info({ jobId, bundleSha256: summary.bundleSha256, publisher: summary.publisher, created: summary.created, duplicates: summary.duplicates }, 'bundle imported (job)');
      } catch (err) {
        failed = isDfgError(err) ? err : dfgError('DFG_ERR_INTERNAL');
        log.warn({ jobId, err }, 'import job failed; nothing of it was kept');
        outcome = { rows: [], errors: [{ name: s.name, code: failed.code, message: failed.message.slice(0, 2000) }], increments: { 'o:error': 1 }, fields: {} };
      }
    } finally {
      // The bundle file goes before the job reads as finished.
      await release(jobId);
    }
    await written;
    await st.commit(jobId, 0, { ...outcome, givenUp: failed !== undefined });
    if (failed) throw new UnrecoverableError(`${failed.code}: ${failed.message}`);
  };

  const available = async () => {
    if (closed) throw dfgError('DFG_ERR_JOBS_UNAVAILABLE', 'the import runner is closed');
    if (queue) return;
    const p = producerConnection({ url: cfg.REDIS_URL, connectTimeoutMs: cfg.DFG_JOB_CONNECT_TIMEOUT_MS });
    p.on('error', () => {});
    try {
      await Promise.race([
        p.connect(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${cfg.DFG_JOB_CONNECT_TIMEOUT_MS} ms`)), cfg.DFG_JOB_CONNECT_TIMEOUT_MS)),
      ]);
    } catch (err) {
      p.disconnect();
      throw dfgError('DFG_ERR_JOBS_UNAVAILABLE', `cannot reach Redis (${(err as Error).message.slice(0, 120)}); set REDIS_URL to a running Redis`);
    }
    producer = p;
    // Readers of this process's import jobs tell a dead owner by this key's absence (jobs/client.ts).
    await p.set(ownerKey, String(process.pid), 'PX', OWNER_TTL_MS);
    renew = setInterval(() => void p.set(ownerKey, String(process.pid), 'PX', OWNER_TTL_MS).catch(() => {}), OWNER_RENEW_MS).unref();
    store = createJobStore(p, { prefix: cfg.DFG_JOB_PREFIX, keepSeconds: cfg.DFG_JOB_KEEP_SECONDS, keepCount: cfg.DFG_JOB_KEEP_COUNT });
    queue = new Queue(queueName, { connection: p, prefix: cfg.DFG_JOB_PREFIX, defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true } });
    consumer = workerConnection({ url: cfg.REDIS_URL, connectTimeoutMs: cfg.DFG_JOB_CONNECT_TIMEOUT_MS });
    consumer.on('error', (err: Error) => log.warn({ err: err.message }, 'import runner: Redis error'));
    // One import at a time per process: each holds its bundle's vectors and writes many transactions.
    worker = new Worker(queueName, async (job) => run((job.data as { jobId: string }).jobId), { connection: consumer, prefix: cfg.DFG_JOB_PREFIX, concurrency: 1 });
    worker.on('error', (err) => log.error({ err }, 'import runner error'));
  };

  return {
    available,

    async submit(s) {
      const id = newJobId();
      pending.set(id, s);
      try {
        await available();
        const total = s.bundle.manifest.algorithms.reduce((n, a) => n + a.samples.length, 0);
        await store!.create({ id, kind: 'import', source: { type: 'bundle', name: s.name }, total, chunks: 1 });
        await store!.progress(id, { owner: queueName });
        await queue!.add('import', { jobId: id }, { jobId: id });
        log.info({ jobId: id, publisher: s.bundle.publisher, bundleSha256: s.bundle.sha256, samples: total }, 'import job submitted');
        return toJobView(id, (await store!.get(id))!);
      } catch (err) {
        await release(id);
        throw err;
      }
    },

    async close() {
      closed = true;
      clearInterval(renew);
      await worker?.close().catch(() => {});
      // The queue is this process's alone: nothing of it outlives it.
      await queue?.obliterate({ force: true }).catch(() => {});
      await queue?.close().catch(() => {});
      for (const id of [...pending.keys()]) await release(id);
      await producer?.del(ownerKey).catch(() => {});
      for (const r of [consumer, producer]) if (r) await r.quit().catch(() => r.disconnect());
    },
  };
}
