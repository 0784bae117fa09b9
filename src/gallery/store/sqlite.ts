/**
 * The embedded store behind the GalleryStore interface: the synchronous SQLite store of a gallery
 * directory (sqlite-sync.ts) and its kept image bytes as files (blobs.ts). Each call runs to its commit
 * before its promise is created, so the SQLite behaviour is exactly that of the synchronous store.
 */
import { dfgError } from '../../errors.js';
import { createBlobStore } from './blobs.js';
import { openStore, type StoreOptions } from './sqlite-sync.js';
import { storeFile } from './file.js';
import type { GalleryStore } from './api.js';
import { sameSwitch, type SwitchRecord } from '../types.js';

/** Runs a synchronous store call, turning what it throws into a rejection. */
const wrap = <A extends unknown[], R>(fn: (...args: A) => R) => async (...args: A): Promise<R> => fn(...args);

export function openSqliteGalleryStore(dir: string, opts: StoreOptions = {}): GalleryStore {
  const store = openStore(storeFile(dir), opts);
  const blobs = createBlobStore(dir);

  /** What a write checks under the write lock: no other process switched models, and the kept bytes are still there. */
  const underLock = (fence: SwitchRecord | null | undefined, keptBytes: readonly string[]): void => {
    if (fence !== undefined) {
      let now;
      try {
        now = store.lastSwitch();
      } catch {
        now = fence; // a malformed record fences nothing (the next switch rewrites it)
      }
      if (!sameSwitch(now, fence)) throw dfgError('DFG_ERR_MODEL_SWITCHED', now?.list ?? 'no recorded list');
    }
    const missing = keptBytes.filter((sha) => !blobs.has(sha)).length;
    if (missing > 0) throw dfgError('DFG_ERR_IMAGE_NOT_KEPT', missing);
  };

  return {
    kind: 'sqlite',
    location: store.file,
    galleryId: store.galleryId,
    schema: store.schema,
    maxSeq: wrap(store.maxSeq),
    createAlgorithm: wrap(store.createAlgorithm),
    getAlgorithm: wrap(store.getAlgorithm),
    listAlgorithms: wrap(store.listAlgorithms),
    updateAlgorithm: wrap(store.updateAlgorithm),
    deleteAlgorithm: wrap(store.deleteAlgorithm),
    algorithmSummaries: wrap(store.algorithmSummaries),

    addSamples: wrap((algorithmId, items, checks = {}, note) =>
      store.addSamples(algorithmId, items, () => underLock(checks.fence, checks.keptBytes ? items.map((it) => it.sha256) : []), note),
    ),
    applyImport: wrap((bundle, parts, checks = {}, audit) => store.applyImport(bundle, parts, () => underLock(checks.fence, checks.keptBytes ?? []), audit)),
    addVectors: wrap(store.addVectors),
    listSamples: wrap(store.listSamples),
    getSample: wrap(store.getSample),
    sampleById: wrap(store.sampleById),
    deleteSample: wrap(store.deleteSample),
    findBySha: wrap(store.findBySha),

    coverage: wrap((modelIds: readonly string[]) =>
      store.read(() => {
        const stored = store.countSamples();
        return {
          stored,
          incomplete: stored - store.countComplete(modelIds),
          missing: Object.fromEntries(modelIds.map((id) => [id, store.countMissing(id)])),
        };
      }),
    ),
    countSamples: wrap(store.countSamples),
    countComplete: wrap(store.countComplete),
    countMissing: wrap(store.countMissing),
    samplesMissing: wrap(store.samplesMissing),

    changesAfter: wrap(store.changesAfter),
    indexedSamples: wrap(store.indexedSamples),
    indexedVectors: wrap(store.indexedVectors),
    vectorsOf: wrap((sampleIds: readonly string[], models: readonly string[], upto: number) =>
      store.read(() => new Map(sampleIds.map((id) => [id, store.sampleVectors(id, models, upto)]))),
    ),
    deletedAfter: wrap(store.deletedAfter),

    recordBundle: wrap(store.recordBundle),
    forgetBundle: wrap(store.forgetBundle),
    hasBundles: wrap(store.hasBundles),
    provenanceOf: wrap(store.provenanceOf),

    saveCalibration: wrap(store.saveCalibration),
    listCalibrations: wrap(store.listCalibrations),
    lastSwitch: wrap(store.lastSwitch),
    recordSwitch: wrap(store.recordSwitch),
    listAudit: wrap(store.listAudit),
    recordAttributions: wrap(store.recordAttributions),
    getAttribution: wrap(store.getAttribution),
    recordFeedback: wrap(store.recordFeedback),
    feedbackPairs: wrap(store.feedbackPairs),
    feedbackCounts: wrap(store.feedbackCounts),

    putImage: (sha256, bytes) => blobs.put(sha256, bytes),
    getImage: (sha256) => blobs.get(sha256),
    async dropUnreferenced(sha256s) {
      for (const sha of new Set(sha256s)) {
        // Check and unlink under the write lock: an enrolment of the same bytes commits either
        // before (its sample is seen, the blob stays) or after (it finds the blob gone and writes
        // it again), never in between.
        store.exclusive(() => {
          if (store.findBySha(sha).length === 0) blobs.remove(sha);
        });
      }
    },

    // Processes sharing a SQLite file run on one host and serialise their writes anyway: no named locks.
    tryExclusive: (_name, fn) => fn(),
    onChange: () => () => {},
    close: wrap(store.close),
  };
}
