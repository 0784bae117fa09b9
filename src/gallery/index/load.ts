/**
 * Where an index comes from when a process opens it or rebuilds it: a snapshot that is verified
 * against its manifest and the store, or a fresh build from the store's samples that yields to
 * the event loop so an API keeps answering while it runs.
 */
import fs from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createHnswIndex, readHnswIndex, type HnswIndex, type HnswParams } from './hnsw.js';
import { checkSnapshot, type SnapshotPaths } from './snapshot.js';
import { tempPath } from '../../lib/durable-fs.js';
import { addEntry, addSample, newSlot, PAGE, reportWrongDim, type IndexSource, type Slot } from './slot.js';

/** A rebuild hands the event loop back this often, so an API keeps answering while it runs. */
const BUILD_SLICE_MS = 50;
/** A long build says how far it got this often (a million samples take the better part of an hour on 2 cores). */
const BUILD_PROGRESS_MS = 30_000;

export class BuildCancelled extends Error {}

/** Loads the snapshot if it is trustworthy; otherwise says why not. */
async function loadSnapshot(src: IndexSource, paths: SnapshotPaths): Promise<{ slot: Slot } | { reason: string }> {
  // Check and load through a hard link of our own, so another process renaming a newer snapshot
  // into place in between cannot make us load bytes other than the ones we verified.
  const pinned = tempPath(paths.index);
  let source = paths.index;
  try {
    await fs.link(paths.index, pinned);
    source = pinned;
  } catch {
    // no index file (reported by the check) or no hard links on this filesystem: read in place
  }
  try {
    return await loadVerified(src, paths, source);
  } finally {
    if (source === pinned) await fs.rm(pinned, { force: true });
  }
}

async function loadVerified(src: IndexSource, paths: SnapshotPaths, indexFile: string): Promise<{ slot: Slot } | { reason: string }> {
  const { store, modelId, modelIds, dim } = src;
  const check = await checkSnapshot({ index: indexFile, manifest: paths.manifest }, { modelId, dim, galleryId: store.galleryId, maxSeq: await store.maxSeq() });
  if (!check.ok) return { reason: check.reason };
  const m = check.manifest;
  let index: HnswIndex;
  try {
    index = await readHnswIndex(indexFile, dim);
  } catch (err) {
    return { reason: `index file unreadable: ${(err as Error).message}` };
  }
  if (index.size() !== m.count) return { reason: `index holds ${index.size()} elements, manifest says ${m.count}` };
  const slot = newSlot(index, m.lastSeq);
  // What the snapshot must hold live: samples still stored that held every model's vector at
  // lastSeq. Samples deleted since may be there or not (whether they were complete then is no
  // longer known); their delete rows are replayed next either way.
  // (A delete committed between the two reads shows in both: fine, see below.)
  const expected = await store.indexedSamples(modelIds, 0, m.lastSeq, Number.MAX_SAFE_INTEGER);
  const deletedSince = await store.deletedAfter(m.lastSeq);
  const present = new Set(index.labels());
  for (const s of expected) {
    if (!present.has(s.label)) return { reason: `snapshot lacks sample ${s.sampleId}` };
    addEntry(slot, s.label, { sampleId: s.sampleId, algorithmId: s.algorithmId });
  }
  for (const s of deletedSince) {
    if (present.has(s.label) && !slot.entries.has(s.label)) addEntry(slot, s.label, { sampleId: s.sampleId, algorithmId: s.algorithmId });
  }
  let unexpectedLive = 0;
  for (const label of present) {
    if (!slot.entries.has(label) && index.markDeleted(label)) unexpectedLive++;
  }
  const deleted = present.size - slot.entries.size;
  if (unexpectedLive > 0 || deleted !== m.deleted) {
    return { reason: `snapshot disagrees with the store (${unexpectedLive} unknown live labels, ${deleted} deleted vs ${m.deleted})` };
  }
  slot.deleted = deleted;
  return { slot };
}

/**
 * Builds a fresh index from the store's samples, yielding to the event loop between slices;
 * throws BuildCancelled at a slice boundary once `cancelled()` says so.
 */
export async function buildFromStore(src: IndexSource, params: HnswParams, cancelled: () => boolean): Promise<Slot> {
  const { store, modelIds, dim } = src;
  const upto = await store.maxSeq();
  const total = await store.countComplete(modelIds);
  const slot = newSlot(createHnswIndex(dim, Math.ceil(total * 1.1), params), upto);
  let wrongDim = 0;
  let after = 0;
  let sliceStart = Date.now();
  const started = Date.now();
  let reported = started;
  for (;;) {
    const page = await store.indexedVectors(modelIds, after, upto, PAGE);
    for (const s of page) {
      if (addSample(src, slot, s) === 'wrong-dim') {
        wrongDim++;
        continue;
      }
      if (Date.now() - reported >= BUILD_PROGRESS_MS) {
        reported = Date.now();
        src.log.info({ modelId: src.modelId, indexed: slot.entries.size, of: total, ms: reported - started }, 'index build progress');
      }
      if (Date.now() - sliceStart >= BUILD_SLICE_MS) {
        await yieldToLoop();
        if (cancelled()) throw new BuildCancelled('index build cancelled');
        sliceStart = Date.now();
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.label;
  }
  if (wrongDim > 0) reportWrongDim(src, wrongDim);
  return slot;
}

/** The index a process opens with: the snapshot when it is trustworthy, else a build from the store. */
export async function openSlot(src: IndexSource, paths: SnapshotPaths, params: HnswParams): Promise<{ slot: Slot; builtFrom: 'snapshot' | 'rebuild' }> {
  const { modelId, log } = src;
  const loaded = await loadSnapshot(src, paths);
  if ('slot' in loaded) {
    log.info({ modelId, lastSeq: loaded.slot.seq, size: loaded.slot.index.size() }, 'index loaded from snapshot');
    return { slot: loaded.slot, builtFrom: 'snapshot' };
  }
  // A new gallery (or models no sample has vectors of yet) has no snapshot to miss: nothing to warn about.
  if (loaded.reason === 'no snapshot' && (await src.store.countComplete(src.modelIds)) === 0) log.info({ modelId }, 'new index: no snapshot, and no sample to index yet');
  else log.warn({ modelId, reason: loaded.reason }, 'index snapshot not used; rebuilding from the store');
  const started = Date.now();
  // Nothing can cancel this build: the index is not handed out before it is done.
  const slot = await buildFromStore(src, params, () => false);
  log.info({ modelId, samples: slot.entries.size, ms: Date.now() - started }, 'index rebuilt from the store');
  return { slot, builtFrom: 'rebuild' };
}
