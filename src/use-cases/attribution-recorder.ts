/**
 * Keeps /v1/attribute answers for feedback (store/attributions.ts), with group commit: the answers
 * of one turn of the event loop are written in one store transaction, so a busy service pays one
 * commit (one fsync, one round trip) for many answers rather than one each. An answer is sent only
 * after its row committed, so a client never holds an attributionId the store does not know. A
 * store that fails (the shared store down) costs the answer its id, not the answer, and for a few
 * seconds after, answers do not wait for it.
 */
import type { Gallery } from '../gallery/gallery.js';
import type { AttributionInput } from '../gallery/types.js';
import { newId } from '../gallery/store/rows.js';

/** Rows per transaction at most (a batch upload of DFG_MAX_FILES answers fits several times). */
const MAX_BATCH = 256;
const DAY_MS = 86_400_000;
/**
 * After a failed write, answers go without an id for this long instead of each waiting for the
 * store again: an unreachable shared store (a connect that times out after seconds) must not slow
 * every answer down.
 */
export const PAUSE_AFTER_FAILURE_MS = 5000;

/** What an answer keeps: the decision and the query, not the bytes. */
export interface KeptAnswer {
  decision: AttributionInput['decision'];
  algorithm: { id: string } | null;
  score: number;
  threshold: number;
  candidates: ReadonlyArray<{ algorithm: { id: string }; score: number }>;
  image: { sha256: string; width: number; height: number };
}

export interface AttributionRecorder {
  /** Keeps the answer; resolves with its id once committed, or null (retention 0, or the store failed: logged). */
  record(gallery: Pick<Gallery, 'modelId' | 'recordAttributions'>, answer: KeptAnswer, vectors: Readonly<Record<string, Float32Array>>, keyId: string | null): Promise<string | null>;
}

export interface RecorderOptions {
  retentionDays: number;
  log: { warn(obj: object, msg: string): void };
  now?: () => number;
}

type Pending = { row: AttributionInput; resolve: (id: string | null) => void };

export function createAttributionRecorder(opts: RecorderOptions): AttributionRecorder {
  const now = opts.now ?? Date.now;
  const queues = new Map<Pick<Gallery, 'modelId' | 'recordAttributions'>, Pending[]>();
  let scheduled = false;
  let pausedUntil = -Infinity;

  const flushOne = async (gallery: Pick<Gallery, 'recordAttributions'>, batch: Pending[]): Promise<void> => {
    try {
      await gallery.recordAttributions(batch.map((p) => p.row));
      for (const p of batch) p.resolve(p.row.id);
    } catch (err) {
      pausedUntil = now() + PAUSE_AFTER_FAILURE_MS;
      opts.log.warn({ err, answers: batch.length, pauseMs: PAUSE_AFTER_FAILURE_MS }, 'attributions not kept for feedback: answered without an attributionId');
      for (const p of batch) p.resolve(null);
    }
  };

  const flush = (): void => {
    scheduled = false;
    const all = [...queues];
    queues.clear();
    for (const [gallery, pending] of all) {
      for (let i = 0; i < pending.length; i += MAX_BATCH) void flushOne(gallery, pending.slice(i, i + MAX_BATCH));
    }
  };

  return {
    record(gallery, answer, vectors, keyId) {
      const t = now();
      if (opts.retentionDays <= 0 || t < pausedUntil) return Promise.resolve(null);
      const row: AttributionInput = {
        id: newId('att'), createdAt: new Date(t).toISOString(), expiresAt: new Date(t + opts.retentionDays * DAY_MS).toISOString(), keyId,
        modelId: gallery.modelId, decision: answer.decision, algorithmId: answer.algorithm?.id ?? null, score: answer.score, threshold: answer.threshold,
        candidates: answer.candidates.map((c) => ({ algorithmId: c.algorithm.id, score: c.score })),
        sha256: answer.image.sha256, width: answer.image.width, height: answer.image.height, vectors,
      };
      return new Promise((resolve) => {
        const q = queues.get(gallery);
        if (q) q.push({ row, resolve });
        else queues.set(gallery, [{ row, resolve }]);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
