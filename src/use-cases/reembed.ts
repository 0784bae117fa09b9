/**
 * Re-embedding a gallery for a new model: every sample without a vector of that model is
 * embedded again from its kept image bytes (gallery/store/blobs.ts) and the vector is added to the same
 * sample (stable id). Shared by `dfg gallery reembed` and the reembed job. The service keeps
 * serving with its model list meanwhile: vectors of a model it does not list are not indexed by
 * it; switching to a list naming the new model (PUT /v1/model, `dfg model switch`) uses them
 * without re-enrolling.
 */
import type { Embedder } from '../embedding/index.js';
import type { AuditNote, Gallery } from '../gallery/gallery.js';
import { dfgError, isDfgError } from '../errors.js';

export interface ReembedProgress {
  modelId: string;
  /** Samples that lacked a vector of the model when the run started. */
  total: number;
  /** Samples handled so far (stored, not kept, failed). */
  done: number;
  /** Vectors stored. */
  stored: number;
  /** Samples whose image bytes are not kept (enrolled with DFG_KEEP_IMAGES=false): not re-embeddable. */
  notKept: number;
  /** Samples whose image the model refused (too small for it, no signal). */
  failed: number;
}

export interface ReembedResult extends ReembedProgress {
  /** First sample ids without kept bytes (at most 100). */
  notKeptSamples: string[];
  /** First per-sample errors (at most 100). */
  errors: Array<{ sampleId: string; code: string; message: string }>;
}

export interface ReembedOptions {
  /** Samples read and embedded per step (default 32); the embedder's queue must hold that many. */
  batchSize?: number;
  onProgress?: (p: ReembedProgress) => void;
  /** Stops between steps; vectors stored so far stay (a later run goes on from there). */
  shouldStop?: () => boolean;
  /** Who re-embeds (the audit trail). */
  audit?: AuditNote;
}

const LIST_LIMIT = 100;
/** Embedder errors worth failing the run for (it can be run again): not the image's fault. */
const TRANSIENT = new Set(['DFG_ERR_SERVER_OVERLOADED', 'DFG_ERR_SERVER_NOT_READY', 'DFG_ERR_STORE_UNAVAILABLE', 'DFG_ERR_INTERNAL']);

/**
 * Embeds every sample lacking a vector of the embedder's (single) model and stores the vectors.
 * Idempotent: a sample that has one is skipped, so an interrupted run can simply be repeated.
 * Throws DFG_ERR_MODEL_LIST_INVALID for an embedder of several models, and rethrows transient
 * embedder errors (the vectors stored before stay).
 */
export async function reembedGallery(gallery: Gallery, embedder: Embedder, opts: ReembedOptions = {}): Promise<ReembedResult> {
  if (embedder.models.length !== 1) throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(embedder.model.id), 're-embedding takes one model at a time');
  const { id: modelId, dim } = embedder.models[0]!;
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 32));
  const result: ReembedResult = { modelId, total: await gallery.countMissing(modelId), done: 0, stored: 0, notKept: 0, failed: 0, notKeptSamples: [], errors: [] };
  const report = () => opts.onProgress?.({ modelId, total: result.total, done: result.done, stored: result.stored, notKept: result.notKept, failed: result.failed });
  report();
  let after = 0;
  for (;;) {
    if (opts.shouldStop?.()) break;
    const page = await gallery.samplesMissing(modelId, after, batchSize);
    if (page.length === 0) break;
    after = page[page.length - 1]!.seq;
    const settled = await Promise.allSettled(
      page.map(async (s) => {
        const bytes = await gallery.readImage(s.sha256);
        return bytes ? (await embedder.embed(bytes)).vectors[modelId]! : null;
      }),
    );
    const vectors: Array<{ sampleId: string; vector: Float32Array }> = [];
    settled.forEach((r, i) => {
      const sample = page[i]!;
      if (r.status === 'fulfilled' && r.value) vectors.push({ sampleId: sample.id, vector: r.value });
      else if (r.status === 'fulfilled') {
        result.notKept++;
        if (result.notKeptSamples.length < LIST_LIMIT) result.notKeptSamples.push(sample.id);
      } else {
        if (!isDfgError(r.reason) || TRANSIENT.has(r.reason.code)) throw r.reason;
        result.failed++;
        if (result.errors.length < LIST_LIMIT) result.errors.push({ sampleId: sample.id, code: r.reason.code, message: r.reason.message });
      }
    });
    // Samples deleted meanwhile are skipped by the store; one transaction per step.
    result.stored += vectors.length > 0 ? await gallery.addVectors(modelId, dim, vectors, opts.audit) : 0;
    result.done += page.length;
    report();
    if (page.length < batchSize) break;
  }
  return result;
}
