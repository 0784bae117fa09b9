/**
 * Embedding capability: hostile-safe decoding, manifest-driven preprocessing and ONNX inference
 * on a worker-thread pool, so inference never blocks the event loop.
 */
import { loadManifest, type Manifest } from './manifest.js';
import { createEmbedPool, type PoolStats } from './pool.js';
import type { EmbedResult } from './pipeline.js';
import type { DecodeLimits } from './decode.js';

export { decodeImage, sniffFormat, type DecodedImage, type DecodeLimits, type ImageFormat } from './decode.js';
export { loadManifest, listModels, type LoadedManifest, type Manifest } from './manifest.js';
export { planCrops, cropsToTensor, meanAndNormalise, type CropRect } from './preprocess.js';
export { embedInProcess, loadModel, type EmbedResult, type LoadedModel } from './pipeline.js';
export type { OverloadedError, PoolStats } from './pool.js';

export interface EmbedderOptions {
  modelsDir: string;
  modelId: string;
  /** Worker threads (one per core is the usual choice); each holds its own session. */
  threads: number;
  /** Images allowed to wait for a worker before `embed` sheds load. */
  maxQueue: number;
  limits: DecodeLimits;
  /** How long the workers may take to load the model (default 120 s). */
  readyTimeoutMs?: number;
  /** Receives worker failures that happen outside any task. */
  onWorkerError?: (err: Error) => void;
}

export interface Embedder {
  readonly model: { id: string; version: string; dim: number };
  readonly manifest: Manifest;
  /**
   * Embeds one encoded image off the event loop. Rejects with the catalogue's image errors,
   * `DFG_ERR_SERVER_OVERLOADED` (with `retryAfter` seconds) when the queue is full, and
   * `DFG_ERR_SERVER_NOT_READY` after `close`.
   */
  embed(bytes: Uint8Array): Promise<EmbedResult>;
  stats(): PoolStats;
  /** Lets running and queued images finish, then terminates the workers. */
  close(): Promise<void>;
}

/**
 * Validates the model's manifest, starts the worker pool and resolves once every worker has
 * loaded the model and run a test inference (so readiness can wait on it).
 * Rejects with `DFG_ERR_MODEL_NOT_FOUND`, `DFG_ERR_MODEL_MANIFEST_INVALID` or `DFG_ERR_MODEL_LOAD_FAILED`.
 */
export async function createEmbedder(opts: EmbedderOptions): Promise<Embedder> {
  // Manifest errors surface here, in the caller's thread, before any worker starts.
  const { manifest } = await loadManifest(opts.modelsDir, opts.modelId);
  const pool = await createEmbedPool({
    modelsDir: opts.modelsDir,
    modelId: opts.modelId,
    limits: { maxBytes: opts.limits.maxBytes, maxPixels: opts.limits.maxPixels },
    threads: opts.threads,
    maxQueue: opts.maxQueue,
    readyTimeoutMs: opts.readyTimeoutMs,
    onWorkerError: opts.onWorkerError,
  });
  const model = Object.freeze({ id: manifest.id, version: manifest.version, dim: manifest.output.dim });
  return {
    model,
    manifest,
    embed: (bytes) => pool.embed(bytes),
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}
