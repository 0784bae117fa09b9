/**
 * What crosses the thread boundary between the pool and its workers. Kept apart from
 * embed-worker.ts because importing that module starts a worker's model load.
 */
import type { DecodeLimits } from './decode.js';
import type { MultiEmbedResult } from './pipeline.js';
import type { SerialisedError } from '../errors.js';

export { serialiseError, type SerialisedError } from '../errors.js';

/** What the pool passes as `workerData`. */
export interface EmbedWorkerData {
  modelsDir: string;
  /** Every worker loads all of them; an image is decoded once and embedded by each. */
  modelIds: string[];
  limits: DecodeLimits;
  /** Added to each worker thread's nice value (Linux; 0: none): inference yields the cores to the event loop. */
  nice?: number;
}

export interface EmbedTask {
  bytes: Uint8Array;
}

/** A task's outcome; `taskMs` is the worker's own time on it (queue wait excluded). */
export type EmbedReply =
  | { ok: true; result: MultiEmbedResult; taskMs: number }
  | { ok: false; error: SerialisedError; taskMs: number };

/** Key of the status messages a worker posts to the pool (`'message'` event) after loading. */
export const WORKER_STATUS_KEY = 'dfgEmbedWorker';

export type WorkerStatus =
  | { [WORKER_STATUS_KEY]: 'ready'; threadId: number }
  | { [WORKER_STATUS_KEY]: 'failed'; threadId: number; error: SerialisedError };
