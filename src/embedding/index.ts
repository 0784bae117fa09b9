/**
 * Embedding capability: hostile-safe decoding, manifest-driven preprocessing and ONNX inference
 * on a worker-thread pool, so inference never blocks the event loop.
 */
import { loadServedCohort, type ServedCohort } from './cohort.js';
import { loadManifest, type Manifest } from './manifest.js';
import { createEmbedPool, type PoolStats } from './pool.js';
import type { EmbedResult } from './pipeline.js';
import type { DecodeLimits } from './decode.js';
import type { ModelChoice } from '../config/model-list.js';
import { dfgError } from '../errors.js';
import { fusionIndexId, indexVector } from '../math/fusion.js';

export { decodeImage, sniffFormat, thumbnailImage, type DecodedImage, type DecodeLimits, type ImageFormat } from './decode.js';
export { loadManifest, listModels, type LoadedManifest, type Manifest } from './manifest.js';
export { planCrops, cropsToTensor, meanAndNormalise, type CropRect } from './preprocess.js';
export { embedInProcess, embedWithModels, loadModel, type EmbedResult, type LoadedModel, type MultiEmbedResult } from './pipeline.js';
export { parseModelList, formatModelList, type ModelChoice } from '../config/model-list.js';
export { resizeForModel, resizeRgb, resizedSize, type ResizeSpec } from './resize.js';
export type { OverloadedError, PoolStats } from './pool.js';

export interface EmbedderOptions {
  modelsDir: string;
  /** One model; or use `models`. */
  modelId?: string;
  /** Several models, fused by weight (math/fusion.ts); every worker holds a session of each. */
  models?: ModelChoice[];
  /** Worker threads (one per core is the usual choice); each holds its own session. */
  threads: number;
  /** Added to the worker threads' nice value (Linux only; default 0). */
  nice?: number;
  /** Images allowed to wait for a worker before `embed` sheds load. */
  maxQueue: number;
  limits: DecodeLimits;
  /** How long the workers may take to load the model (default 120 s). */
  readyTimeoutMs?: number;
  /** Receives worker failures that happen outside any task. */
  onWorkerError?: (err: Error) => void;
  /** Load the models' score-normalisation cohort (default true); `dfg models cohort` embeds one anew. */
  cohort?: boolean;
}

/** One model of an embedder, with its fusion weight. */
export interface EmbedderModel {
  id: string;
  version: string;
  dim: number;
  weight: number;
}

/** An image embedded by every model: `vector` is the index vector (the fusion, or the one model's vector as is). */
export interface EmbedderResult extends EmbedResult {
  /** Each model's own vector, by model id. */
  vectors: Record<string, Float32Array>;
}

export interface Embedder {
  /**
   * What the embedder produces as a whole: for one model that model; for several, the index id
   * (`a:1+b:0.5`), the versions joined by `+` and the fused dimension.
   */
  readonly model: { id: string; version: string; dim: number };
  /** The listed models in order. */
  readonly models: readonly EmbedderModel[];
  /** Manifest of the first model. */
  readonly manifest: Manifest;
  /** Manifests of every listed model, in order (decision defaults of a fusion consult them all). */
  readonly manifests: readonly Manifest[];
  /** The served space's score-normalisation cohort (cohort.ts); null when the models ship none. */
  readonly cohort: ServedCohort | null;
  /**
   * Embeds one encoded image off the event loop (decoded once, embedded by each model). Rejects with the catalogue's image errors,
   * `DFG_ERR_SERVER_OVERLOADED` (with `retryAfter` seconds) when the queue is full, and
   * `DFG_ERR_SERVER_NOT_READY` after `close`.
   */
  embed(bytes: Uint8Array): Promise<EmbedderResult>;
  stats(): PoolStats;
  /** Lets running and queued images finish, then terminates the workers. */
  close(): Promise<void>;
}

/**
 * Validates the models' manifests, starts the worker pool and resolves once every worker has
 * loaded every model and run a test inference (so readiness can wait on it).
 * Rejects with `DFG_ERR_MODEL_NOT_FOUND`, `DFG_ERR_MODEL_MANIFEST_INVALID`, `DFG_ERR_MODEL_LOAD_FAILED`
 * or `DFG_ERR_MODEL_LIST_INVALID` (no model, or one listed twice).
 */
export async function createEmbedder(opts: EmbedderOptions): Promise<Embedder> {
  const choices = opts.models ?? (opts.modelId !== undefined ? [{ id: opts.modelId, weight: 1 }] : []);
  const ids = choices.map((c) => c.id);
  if (ids.length === 0 || new Set(ids).size !== ids.length) throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(ids.join(',')), 'no model, or a model listed twice');
  // Manifest errors surface here, in the caller's thread, before any worker starts.
  const manifests: Manifest[] = [];
  for (const id of ids) manifests.push((await loadManifest(opts.modelsDir, id)).manifest);
  const pool = await createEmbedPool({
    modelsDir: opts.modelsDir,
    modelIds: ids,
    limits: { maxBytes: opts.limits.maxBytes, maxPixels: opts.limits.maxPixels },
    threads: opts.threads,
    ...(opts.nice ? { nice: opts.nice } : {}),
    maxQueue: opts.maxQueue,
    readyTimeoutMs: opts.readyTimeoutMs,
    onWorkerError: opts.onWorkerError,
  });
  // After the workers loaded the models (an unloadable model is reported as such first): a
  // missing or stale cohort file is a manifest error, and the pool must not outlive it.
  const cohortMembers = manifests.map((manifest, i) => ({ manifest, weight: choices[i]!.weight }));
  const cohortSpace = manifests.length === 1
    ? { id: manifests[0]!.id, version: manifests[0]!.version }
    : { id: fusionIndexId(manifests.map((m, i) => ({ id: m.id, weight: choices[i]!.weight }))), version: manifests.map((m) => m.version).join('+') };
  let cohort: ServedCohort | null = null;
  if (opts.cohort !== false) {
    try {
      cohort = await loadServedCohort(opts.modelsDir, cohortMembers, cohortSpace);
    } catch (err) {
      await pool.close();
      throw err;
    }
  }
  const models = Object.freeze(manifests.map((m, i) => Object.freeze({ id: m.id, version: m.version, dim: m.output.dim, weight: choices[i]!.weight })));
  const model = Object.freeze(models.length === 1
    ? { id: models[0]!.id, version: models[0]!.version, dim: models[0]!.dim }
    : { id: fusionIndexId(models), version: models.map((m) => m.version).join('+'), dim: models.reduce((n, m) => n + m.dim, 0) });
  return {
    model,
    models,
    manifest: manifests[0]!,
    manifests,
    cohort,
    async embed(bytes) {
      const r = await pool.embed(bytes);
      const vectors: Record<string, Float32Array> = {};
      models.forEach((m, i) => { vectors[m.id] = r.vectors[i]!; });
      const vector = indexVector(models, new Map(Object.entries(vectors)));
      return { vector, vectors, width: r.width, height: r.height, format: r.format, crops: r.crops, decodeMs: r.decodeMs, embedMs: r.embedMs };
    },
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}
