/**
 * Change-log catch-up: replays the store's changes after a slot's seq into its index. Every
 * change reaches an index this way (store commit, then replay by seq), whichever process made it.
 */
import { addSample, PAGE, removeEntry, reportWrongDim, type IndexSource, type Slot } from './index-slot.js';

export interface CatchUpResult {
  applied: number;
  algorithmsChanged: boolean;
  calibrationChanged: boolean;
}

/**
 * Replays the store's changes after `slot.seq`, in one read transaction so the rows, the vectors
 * and the head seq agree; reports whether algorithm or calibration rows were among them. An add
 * (an enrolment, or a re-embedding adding one model's vector) indexes its sample once it holds a
 * vector of every model of the index.
 */
export function catchUp(src: IndexSource, slot: Slot): CatchUpResult {
  const { store, modelId, modelIds } = src;
  return store.read(() => {
    const head = store.maxSeq();
    let applied = 0;
    let algorithmsChanged = false;
    let calibrationChanged = false;
    let wrongDim = 0;
    while (slot.seq < head) {
      const rows = store.changesAfter(slot.seq, head, PAGE);
      for (const row of rows) {
        if (row.kind === 'algorithm') algorithmsChanged = true;
        else if (row.kind === 'calibration') calibrationChanged ||= row.modelId === modelId;
        else if (row.kind === 'delete') {
          if (removeEntry(slot, row.label)) applied++;
        } else if (row.sample && !slot.entries.has(row.sample.label) && (row.modelId === null || modelIds.includes(row.modelId))) {
          const outcome = addSample(src, slot, { ...row.sample, vectors: store.sampleVectors(row.sample.sampleId, modelIds, head) });
          if (outcome === 'added') applied++;
          else if (outcome === 'wrong-dim') wrongDim++;
        }
      }
      if (rows.length < PAGE) break;
      slot.seq = rows[rows.length - 1]!.seq;
    }
    slot.seq = head;
    if (wrongDim > 0) reportWrongDim(src, wrongDim);
    return { applied, algorithmsChanged, calibrationChanged };
  });
}
