/**
 * Runs the pure calibration step (compute.ts) in a worker thread, so the server's event loop keeps
 * serving during a calibration, which is quadratic in samples. A thread per run: calibrations are
 * rare, and a cancelled one is terminated without leaving a pool behind (the step is plain
 * JavaScript, nothing native to tear down).
 */
import { Worker } from 'node:worker_threads';
import { reviveError } from '../errors.js';
import type { CalibrationVectors, ComputeOptions, ComputedCalibration } from './compute.js';
import { packTask, reviveResult, type CalibrationReply } from './protocol.js';

const WORKER_FILE = new URL('./worker.js', import.meta.url);

/**
 * computeCalibration in a worker thread. The vectors are copied into fresh buffers and those are
 * transferred. Rejects with the same catalogue errors (DFG_ERR_CALIBRATION_INSUFFICIENT, ...),
 * revived, and with `signal.reason` once `signal` aborts (the thread is terminated).
 */
export function computeInWorker(vectors: CalibrationVectors, opts: ComputeOptions, signal?: AbortSignal): Promise<ComputedCalibration> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const { task, transfer } = packTask(vectors, opts);
  return new Promise<ComputedCalibration>((resolve, reject) => {
    const worker = new Worker(WORKER_FILE);
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => finish(() => reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: CalibrationReply) => finish(() => (reply.ok ? resolve(reviveResult(reply.result)) : reject(reviveError(reply.error)))));
    worker.once('error', (err) => finish(() => reject(err)));
    worker.once('exit', (code) => finish(() => reject(new Error(`calibration worker exited with code ${code} before answering`))));
    worker.postMessage(task, transfer);
  });
}
