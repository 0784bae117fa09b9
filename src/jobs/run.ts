/** A worker process: services (model + gallery) plus the BullMQ worker, started and stopped together. */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { startServices, type Services } from '../serving/services.js';
import { createJobWorker, workerConcurrency, type JobWorker } from './worker.js';

export interface WorkerProcess {
  services: Services;
  worker: JobWorker;
  /** Finishes or hands back running chunks (see JobWorker.close), then closes the gallery and the embedder. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Loads the model and the gallery, then starts taking chunks. Resolves once the worker listens;
 * rejects with the start-up error (model missing, gallery unreadable).
 */
export async function startWorkerProcess(config: Config, log: Logger, opts: { concurrency?: number } = {}): Promise<WorkerProcess> {
  const concurrency = opts.concurrency ?? workerConcurrency(config);
  // Every image of the chunks in flight may wait for inference at once: the embed queue must hold
  // them, or the worker would shed its own work with DFG_ERR_SERVER_OVERLOADED.
  const services = startServices({ ...config, DFG_MAX_QUEUE: Math.max(config.DFG_MAX_QUEUE, concurrency * config.DFG_JOB_CHUNK_SIZE) }, log);
  try {
    await services.whenReady;
  } catch (err) {
    await services.close();
    throw err;
  }
  const worker = createJobWorker({ config, log, services, concurrency });
  await worker.worker.waitUntilReady();
  log.info({ concurrency, chunkSize: config.DFG_JOB_CHUNK_SIZE, prefix: config.DFG_JOB_PREFIX, pid: process.pid }, 'worker ready');
  let closing: Promise<void> | undefined;
  return {
    services,
    worker,
    close: (graceMs) =>
      (closing ??= (async () => {
        await worker.close(graceMs);
        await services.close();
        log.info('worker closed');
      })()),
  };
}
