/**
 * Re-embedding chunks: each item is a sample id; its kept image is embedded with the job's model
 * and the vector is added to the sample (store transaction per chunk). A sample that got a vector
 * meanwhile (an earlier attempt, the CLI) is `present`; one without kept bytes is `not-kept`.
 */
import type { Embedder } from '../embedding/index.js';
import type { Gallery } from '../gallery/gallery.js';
import { jobAudit } from './audit-note.js';
import { dfgError, isDfgError, type DfgError } from '../errors.js';
import type { ChunkData, ReembedRow } from './schemas.js';

/** Item errors worth another attempt of the chunk. */
const TRANSIENT = new Set(['DFG_ERR_SERVER_OVERLOADED', 'DFG_ERR_SERVER_NOT_READY', 'DFG_ERR_STORE_UNAVAILABLE', 'DFG_ERR_INTERNAL']);

const asDfg = (err: unknown): DfgError => (isDfgError(err) ? err : dfgError('DFG_ERR_INTERNAL'));

/** Embeds and stores a chunk of samples; `transient` says whether a retry could do better. */
export async function reembedChunk(data: ChunkData, gallery: Gallery, embedder: Embedder): Promise<{ rows: ReembedRow[]; transient: boolean }> {
  const modelId = data.modelId!;
  const dim = embedder.models[0]!.dim;
  const rows: ReembedRow[] = data.items.map((it) => ({ name: it.name, sha256: null, outcome: 'error', error: it.error?.code ?? null, message: it.error?.message ?? null }));
  const todo: Array<{ i: number; sampleId: string; vector: Promise<Float32Array | null> }> = [];
  for (const [i, it] of data.items.entries()) {
    if (it.error) continue;
    const row = rows[i]!;
    const sample = await gallery.findSample(it.name);
    if (!sample) {
      const e = dfgError('DFG_ERR_SAMPLE_NOT_FOUND', it.name);
      Object.assign(row, { error: e.code, message: e.message });
      continue;
    }
    row.sha256 = sample.sha256;
    if (sample.models.includes(modelId)) {
      row.outcome = 'present';
      continue;
    }
    todo.push({
      i,
      sampleId: sample.id,
      vector: gallery.readImage(sample.sha256).then(async (bytes) => (bytes ? (await embedder.embed(bytes)).vectors[modelId]! : null)),
    });
  }
  let transient = false;
  const settled = await Promise.allSettled(todo.map((t) => t.vector));
  const vectors: Array<{ sampleId: string; vector: Float32Array }> = [];
  settled.forEach((r, k) => {
    const { i, sampleId } = todo[k]!;
    const row = rows[i]!;
    if (r.status === 'fulfilled' && r.value) {
      vectors.push({ sampleId, vector: r.value });
      row.outcome = 'stored';
    } else if (r.status === 'fulfilled') {
      const e = dfgError('DFG_ERR_SAMPLE_NOT_REEMBEDDABLE', sampleId, 'its image bytes are not kept');
      Object.assign(row, { outcome: 'not-kept', error: e.code, message: e.message });
    } else {
      const e = asDfg(r.reason);
      if (TRANSIENT.has(e.code)) transient = true;
      Object.assign(row, { error: e.code, message: e.message.slice(0, 2000) });
    }
  });
  // A sample deleted since it was read is skipped by the store: it has nothing to re-embed any more.
  if (vectors.length > 0) await gallery.addVectors(modelId, dim, vectors, jobAudit(data));
  return { rows, transient };
}
