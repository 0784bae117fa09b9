/**
 * Change-log catch-up: replays the store's changes after a slot's seq into its index. Every
 * change reaches an index this way (store commit, then replay by seq), whichever process made it.
 */
import { addSample, PAGE, removeEntry, reportWrongDim, type IndexSource, type Slot } from './slot.js';

export interface CatchUpResult {
  applied: number;
  algorithmsChanged: boolean;
  calibrationChanged: boolean;
}

/**
 * Replays the store's changes after `slot.seq` up to the head seq read first, and reports whether
 * algorithm or calibration rows were among them. Vectors are read as of that head, so rows, vectors
 * and head agree even across pages (a sample deleted meanwhile is skipped; its delete row comes in a
 * later catch-up). An add (an enrolment, or a re-embedding adding one model's vector) indexes its
 * sample once it holds a vector of every model of the index. Callers run one catch-up per slot at
 * a time (live.ts).
 */
export async function catchUp(src: IndexSource, slot: Slot): Promise<CatchUpResult> {
  const { store, modelId, modelIds } = src;
  const head = await store.maxSeq();
  let applied = 0;
  let algorithmsChanged = false;
  let calibrationChanged = false;
  let wrongDim = 0;
  let after = slot.seq;
  while (after < head) {
    const rows = await store.changesAfter(after, head, PAGE);
    const wanted = rows.filter((r) => r.kind === 'add' && r.sample && (r.modelId === null || modelIds.includes(r.modelId)));
    const vectors = await store.vectorsOf([...new Set(wanted.map((r) => r.sample!.sampleId))], modelIds, head);
    for (const row of rows) {
      if (row.kind === 'algorithm') algorithmsChanged = true;
      else if (row.kind === 'calibration') calibrationChanged ||= row.modelId === modelId;
      else if (row.kind === 'delete') {
        if (removeEntry(slot, row.label)) applied++;
      } else if (row.sample && !slot.entries.has(row.sample.label) && (row.modelId === null || modelIds.includes(row.modelId))) {
        const outcome = addSample(src, slot, { ...row.sample, vectors: vectors.get(row.sample.sampleId) ?? new Map() });
        if (outcome === 'added') applied++;
        else if (outcome === 'wrong-dim') wrongDim++;
      }
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.seq;
  }
  if (head > slot.seq) slot.seq = head;
  if (wrongDim > 0) reportWrongDim(src, wrongDim);
  return { applied, algorithmsChanged, calibrationChanged };
}
