/**
 * Piscina worker: loads the manifests and ONNX sessions of every model once per thread, then
 * embeds images (decoded once, embedded by each model).
 * Results and errors cross the thread boundary as plain data: `{ ok: true, result }` with the
 * vector buffer transferred, or `{ ok: false, error: { code, message } }` for `reviveError`.
 */
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { setDecoderConcurrency } from './decode.js';
import { embedWithModels, loadModel, type LoadedModel } from './pipeline.js';
import {
  WORKER_STATUS_KEY, serialiseError, type EmbedReply, type EmbedTask, type EmbedWorkerData, type SerialisedError, type WorkerStatus,
} from './worker-protocol.js';

async function start(): Promise<(task: EmbedTask) => Promise<unknown>> {
  if (isMainThread) throw new Error('embed-worker runs only in the embedding pool\'s worker threads; import pool.js or index.js instead');
  const data = workerData as EmbedWorkerData;
  if (data.nice) lowerThreadPriority(data.nice);
  // The pool runs one worker per core; more libvips threads per decode would only contend.
  setDecoderConcurrency(1);
  let loaded: LoadedModel[] | null = null;
  let loadError: SerialisedError | null = null;
  try {
    const models: LoadedModel[] = [];
    try {
      for (const modelId of data.modelIds) models.push(await loadModel({ modelsDir: data.modelsDir, modelId, limits: data.limits, intraOpThreads: 1 }));
    } catch (err) {
      await Promise.allSettled(models.map((m) => m.release()));
      throw err;
    }
    loaded = models;
    parentPort?.postMessage({ [WORKER_STATUS_KEY]: 'ready', threadId } satisfies WorkerStatus);
  } catch (err) {
    loadError = serialiseError(err);
    parentPort?.postMessage({ [WORKER_STATUS_KEY]: 'failed', threadId, error: loadError } satisfies WorkerStatus);
  }

  return async function embedTask(task: EmbedTask): Promise<unknown> {
    const t0 = performance.now();
    if (loaded === null) return { ok: false, error: loadError!, taskMs: 0 } satisfies EmbedReply;
    try {
      const result = await embedWithModels(task.bytes, loaded);
      const reply: EmbedReply = { ok: true, result, taskMs: performance.now() - t0 };
      // The vectors' buffers move to the main thread instead of being copied.
      return move({ [transferableSymbol]: result.vectors.map((v) => v.buffer), [valueSymbol]: reply });
    } catch (err) {
      return { ok: false, error: serialiseError(err), taskMs: performance.now() - t0 } satisfies EmbedReply;
    }
  };
}

/**
 * On Linux a nice value belongs to a thread: this lowers the priority of this inference thread
 * (and of the threads it starts later, which inherit it), not of the event loop that answers
 * health probes and admits uploads. Elsewhere setpriority would renice the whole process: skipped.
 */
function lowerThreadPriority(by: number): void {
  if (process.platform !== 'linux') return;
  try {
    os.setPriority(Math.min(19, os.getPriority() + by));
  } catch {
    // Not permitted (a sandbox without setpriority): inference runs at the process priority.
  }
}

// Piscina awaits a promised default export before it marks the worker ready, so the model is
// loaded before the first task; a top-level await would block require(esm) of this file.
export default start();
