/**
 * Worker-thread pool for embedding (piscina): readiness, load shedding and error revival.
 */
import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { reviveError, dfgError, type DfgError } from '../errors.js';
import type { MultiEmbedResult } from './pipeline.js';
import { WORKER_STATUS_KEY, type EmbedReply, type EmbedTask, type EmbedWorkerData, type WorkerStatus } from './worker-protocol.js';
// sharp and onnxruntime must be loaded by the main thread before any worker: otherwise the
// exit of the last worker using them can unload their shared libraries while still in use
// (libvips re-registers its GObject types and aborts when a later worker loads it again).
import './decode.js';
import './onnx-session.js';
import { removeOnnxDebugLogs } from './onnx-debug-log.js';

export interface EmbedPoolOptions extends EmbedWorkerData {
  threads: number;
  /** Images waiting (not yet running) at which `embed` sheds load. */
  maxQueue: number;
  /** How long the workers may take to load the model. */
  readyTimeoutMs?: number;
  /** Called for worker failures outside any task (a task's own failure rejects that task). */
  onWorkerError?: (err: Error) => void;
}

export interface PoolStats {
  threads: number;
  /** Images accepted and waiting for a worker. */
  queued: number;
  /** Images being decoded or embedded now. */
  running: number;
  /** Images settled since start, refused bad input included (shed calls are not counted). */
  completed: number;
  /** Moving average of one successful image's decode + embed time (0 before the first). */
  avgTaskMs: number;
}

/** `DFG_ERR_SERVER_OVERLOADED` with the seconds a client should wait before retrying. */
export type OverloadedError = DfgError & { retryAfter: number };

export interface EmbedPool {
  embed(bytes: Uint8Array): Promise<MultiEmbedResult>;
  stats(): PoolStats;
  close(): Promise<void>;
}

// Weight of the newest task in the moving average of task time used for Retry-After.
const EWMA_ALPHA = 0.2;
const MAX_RETRY_AFTER_S = 120;

/**
 * Starts `threads` workers, each loading the models once, and resolves when every one of them has
 * loaded it (or rejects with the first load error, revived, after shutting the pool down).
 */
export async function createEmbedPool(opts: EmbedPoolOptions): Promise<EmbedPool> {
  const threads = Math.max(1, Math.floor(opts.threads));
  const maxQueue = Math.max(0, Math.floor(opts.maxQueue));
  const workerData: EmbedWorkerData = { modelsDir: opts.modelsDir, modelIds: opts.modelIds, limits: opts.limits, ...(opts.nice ? { nice: opts.nice } : {}) };
  const pool = new Piscina({
    filename: fileURLToPath(new URL('./embed-worker.js', import.meta.url)),
    minThreads: threads,
    maxThreads: threads,
    // Workers live as long as the pool: reloading a model after an idle spell would stall a request.
    idleTimeout: Number.MAX_SAFE_INTEGER,
    concurrentTasksPerWorker: 1,
    // Shedding happens here, before piscina's own queue limit could throw a generic error.
    maxQueue: Number.MAX_SAFE_INTEGER,
    // Tasks are tens of milliseconds; Atomics.wait's microseconds are not worth a blocked worker event loop.
    atomics: 'disabled',
    workerData,
  });

  let onStartupError: ((err: Error) => void) | null = null;
  pool.on('error', (err: Error) => {
    if (onStartupError) onStartupError(err);
    else opts.onWorkerError?.(err);
  });
  try {
    await whenLoaded(pool, threads, opts.readyTimeoutMs ?? 120_000, opts.modelIds.join(','), (fn) => { onStartupError = fn; });
  } catch (err) {
    await pool.destroy().catch(() => undefined);
    throw err;
  }

  removeOnnxDebugLogs({ own: false });
  let avgTaskMs = 0;
  let inflight = 0;
  let completed = 0;
  let closing: Promise<void> | null = null;
  let drained: (() => void) | null = null;
  const queuedNow = () => Math.max(0, inflight - threads);

  const overloaded = (): OverloadedError => {
    const queued = queuedNow();
    const err = dfgError('DFG_ERR_SERVER_OVERLOADED', `${queued} images queued for inference (limit ${maxQueue})`) as OverloadedError;
    // Time for the queue ahead to drain across all workers; at least one second (HTTP granularity).
    const drainMs = ((queued + 1) * avgTaskMs) / threads;
    err.retryAfter = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(drainMs / 1000)));
    return err;
  };

  return {
    async embed(bytes) {
      if (closing) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the embedding pool is closed');
      if (inflight >= threads + maxQueue) throw overloaded();
      inflight++;
      try {
        // Structured clone copies the bytes: transferring would detach the caller's buffer, which
        // it may still hash or store.
        const reply = (await pool.run({ bytes } satisfies EmbedTask)) as EmbedReply;
        if (!reply.ok) throw reviveError(reply.error);
        // Successful tasks only: refusals of bad input take microseconds and would hide the real cost.
        avgTaskMs = avgTaskMs === 0 ? reply.taskMs : avgTaskMs + EWMA_ALPHA * (reply.taskMs - avgTaskMs);
        return reply.result;
      } finally {
        inflight--;
        completed++;
        if (inflight === 0) drained?.();
      }
    },
    stats() {
      return { threads, queued: queuedNow(), running: Math.min(inflight, threads), completed, avgTaskMs };
    },
    close() {
      // New calls are refused from here on. The workers are terminated only once every accepted
      // image has settled: a worker terminated while onnxruntime or libvips still has a native
      // async call in flight aborts the whole process (Napi::Error thrown during teardown).
      closing ??= (async () => {
        if (inflight > 0) await new Promise<void>((resolve) => { drained = resolve; });
        await pool.close();
        removeOnnxDebugLogs({ own: true });
      })();
      return closing;
    },
  };
}

/**
 * Resolves when `threads` distinct workers have reported the model loaded. Rejects with the first
 * load error (revived) only once every worker has reported, because terminating a worker while
 * onnxruntime is still creating its session aborts the whole process; a worker crash or the
 * timeout rejects at once.
 */
function whenLoaded(
  pool: Piscina,
  threads: number,
  timeoutMs: number,
  modelId: string,
  setCrashHandler: (fn: ((err: Error) => void) | null) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const reported = new Set<number>();
    let firstFailure: Error | null = null;
    const done = (err: Error | null) => {
      clearTimeout(timer);
      pool.off('message', onMessage);
      setCrashHandler(null);
      if (err) reject(err);
      else resolve();
    };
    const onMessage = (msg: unknown) => {
      if (msg === null || typeof msg !== 'object' || !(WORKER_STATUS_KEY in msg)) return;
      const status = msg as WorkerStatus;
      if (status[WORKER_STATUS_KEY] === 'failed') firstFailure ??= reviveError(status.error);
      reported.add(status.threadId);
      if (reported.size >= threads) done(firstFailure);
    };
    const timer = setTimeout(() => {
      done(firstFailure ?? dfgError('DFG_ERR_MODEL_LOAD_FAILED', modelId, `workers did not load the model within ${timeoutMs} ms`));
    }, timeoutMs);
    setCrashHandler((err) => done(err));
    pool.on('message', onMessage);
  });
}
