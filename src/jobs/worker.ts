/**
 * The worker factory behind `dfg worker`: a BullMQ worker on the chunk queue whose processor
 * embeds in this process (the embedder's thread pool) and writes to the shared gallery store.
 */
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { threadCount, type Config } from '../config/index.js';
import { createEmbedder, type Embedder } from '../embedding/index.js';
import type { Services } from '../serving/services.js';
import { QUEUE_NAME } from './keys.js';
import { workerConnection } from './redis.js';
import { createJobStore } from './store.js';
import { createChunkProcessor, recordGivenUp, type ChunkResult } from './processor.js';

export interface JobWorkerOptions {
  config: Config;
  log: Logger;
  /** Started services of this process (the processor waits for nothing: chunks retry while they load). */
  services: Services;
  /** Chunks handled at once (default DFG_JOB_CONCURRENCY, 0 = one per core). */
  concurrency?: number;
}

export interface JobWorker {
  readonly worker: Worker;
  readonly concurrency: number;
  /**
   * Stops taking chunks and lets the running ones finish for up to `graceMs` (default
   * DFG_JOB_SHUTDOWN_MS); chunks still running then are handed back to the queue for another worker.
   */
  close(graceMs?: number): Promise<void>;
}

/** Concurrency of a worker process from the config: DFG_JOB_CONCURRENCY, or one chunk per core. */
export function workerConcurrency(cfg: Pick<Config, 'DFG_JOB_CONCURRENCY'>): number {
  return cfg.DFG_JOB_CONCURRENCY > 0 ? cfg.DFG_JOB_CONCURRENCY : Math.max(1, os.availableParallelism());
}

export function createJobWorker(opts: JobWorkerOptions): JobWorker {
  const { config: cfg, log } = opts;
  const concurrency = opts.concurrency ?? workerConcurrency(cfg);
  const connection: Redis = workerConnection({ url: cfg.REDIS_URL, connectTimeoutMs: cfg.DFG_JOB_CONNECT_TIMEOUT_MS });
  connection.on('error', (err: Error) => log.warn({ err: err.message }, 'worker: Redis error'));
  const store = createJobStore(connection, { prefix: cfg.DFG_JOB_PREFIX, keepSeconds: cfg.DFG_JOB_KEEP_SECONDS, keepCount: cfg.DFG_JOB_KEEP_COUNT });
  // Re-embedding jobs name a model the process may not serve: its embedder is loaded on first use and kept.
  const embedders = new Map<string, Promise<Embedder>>();
  const embedderFor = (modelId: string): Promise<Embedder> => {
    let e = embedders.get(modelId);
    if (!e) {
      e = createEmbedder({
        modelsDir: cfg.DFG_MODELS_DIR, modelId, threads: threadCount(cfg), maxQueue: Math.max(cfg.DFG_MAX_QUEUE, concurrency * cfg.DFG_JOB_CHUNK_SIZE),
        limits: { maxBytes: cfg.DFG_MAX_IMAGE_BYTES, maxPixels: cfg.DFG_MAX_PIXELS },
      });
      // A model that failed to load is tried again by the next chunk (it may have been added since).
      e.catch(() => embedders.delete(modelId));
      embedders.set(modelId, e);
    }
    return e;
  };
  const closeEmbedders = () => Promise.allSettled([...embedders.values()].map(async (e) => (await e).close()));
  const processChunk = createChunkProcessor({ store, use: (fn) => opts.services.use(fn), embedderFor, config: cfg, log });

  // Running chunks and their lock tokens, so a shutdown past its grace can hand them back at once.
  const running = new Map<string, { job: Job; token?: string }>();
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job, token?: string): Promise<ChunkResult> => {
      running.set(job.id!, { job, token });
      try {
        return await processChunk(job);
      } finally {
        running.delete(job.id!);
      }
    },
    {
      connection,
      prefix: cfg.DFG_JOB_PREFIX,
      concurrency,
      lockDuration: cfg.DFG_JOB_LOCK_MS,
      stalledInterval: cfg.DFG_JOB_STALLED_MS,
      maxStalledCount: cfg.DFG_JOB_MAX_STALLED,
      name: `${os.hostname()}:${process.pid}`,
    },
  );
  // Set once running chunks were handed back: BullMQ then refuses the stale locks of their processors here.
  let handedBack = false;
  worker.on('error', (err) => (handedBack ? log.debug({ err: err.message }, 'worker error after hand-back') : log.error({ err }, 'worker error')));
  // Chunks failed outside the processor (stalled past DFG_JOB_MAX_STALLED: a poison chunk that kills
  // its workers) still count in their job, so the job always finishes.
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    recordGivenUp(store, job.data, Math.max(job.attemptsMade, 1), err.message).catch((e: unknown) => log.error({ err: e, chunk: job.id }, 'could not record a failed chunk'));
  });
  worker.on('stalled', (jobId) => log.warn({ chunk: jobId }, 'chunk stalled (its worker died or blocked); it will run again'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    concurrency,
    close(graceMs = cfg.DFG_JOB_SHUTDOWN_MS) {
      return (closing ??= (async () => {
        const gentle = worker.close().then(() => true, (err: unknown) => {
          log.warn({ err }, 'error while closing the worker');
          return true;
        });
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([gentle, new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); })]);
        clearTimeout(timer);
        if (finished) {
          await closeEmbedders();
          await connection.quit().catch(() => connection.disconnect());
          return;
        }
        // Past the grace: put the running chunks back in the queue now, so another worker takes them
        // at once rather than after their lock expires. Their processors here may still finish; a
        // chunk recorded twice counts once, and its samples are deduplicated.
        handedBack = true;
        for (const { job, token } of running.values()) {
          await job.moveToWait(token).then(
            () => log.warn({ chunk: job.id }, 'chunk handed back to the queue'),
            (err: unknown) => log.warn({ err, chunk: job.id }, 'could not hand a chunk back; it will be retaken after its lock expires'),
          );
        }
        void gentle.then(async () => {
          await closeEmbedders();
          await connection.quit().catch(() => connection.disconnect());
        });
      })());
    },
  };
}
