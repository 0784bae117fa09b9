/**
 * The gallery: registered algorithms and their enrolled samples (a vector per model id), in a
 * durable SQLite store, with an HNSW index over one model or a weighted fusion of several,
 * derived from it. See DESIGN.md, "The store is the
 * truth, the index is derived". This module opens and closes it and makes the changes; options
 * are checked in gallery-options.ts, read-side helpers live in gallery-reads.ts and the Gallery
 * interface in gallery-api.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../errors.js';
import { openLiveIndex, type LiveIndex } from './live-index.js';
import { openStore } from './store.js';
import { storeFile } from './store-file.js';
import { indexVector } from '../math/fusion.js';
import { createBlobStore } from './blobs.js';
import { resolveGalleryOptions } from './gallery-options.js';
import { createGalleryReads } from './gallery-reads.js';
import { sameSwitch, type AlgorithmRecord, type SwitchRecord } from './types.js';
import type { Gallery, GalleryOptions } from './gallery-api.js';
import {
  checkAlgorithmInput,
  checkAlgorithmPatch,
  checkCalibrationInput,
  checkDim,
  checkId,
  checkModelId,
  checkModelVectors,
  checkPage,
  checkSampleItems,
  checkSha256,
  checkVector,
  invalid,
} from './validate.js';

export * from './types.js';
export * from './gallery-api.js';
export type { IndexInfo } from './live-index.js';
export type { SnapshotManifest } from './snapshot.js';
export { fuseVectors, fusionIndexId, type FusionMember } from '../math/fusion.js';
export { DEFAULT_EF_SEARCH } from './gallery-options.js';
export { readLastSwitch, writeSwitchRecord } from './switch-record.js';
export { hasGalleryStore, STORE_FILE } from './store-file.js';

/**
 * Opens (creating if needed) the gallery in `opts.dir` for one model: migrates the store, then
 * loads the index snapshot if its manifest and checksum match, or rebuilds it from the store.
 */
export async function openGallery(opts: GalleryOptions): Promise<Gallery> {
  const { models, modelIds, modelId, dim, snapshotEvery, compactRatio, efSearch, exactBelow, params, log } = resolveGalleryOptions(opts);

  const indexDir = path.join(opts.dir, 'index');
  await fs.mkdir(indexDir, { recursive: true });
  const store = openStore(storeFile(opts.dir), { busyTimeoutMs: opts.busyTimeoutMs });
  // A new gallery's absolute path in the log: a mistyped DFG_GALLERY_DIR shows as a gallery created where none was meant.
  if (store.schema.from === 0) log.info({ gallery: path.resolve(opts.dir), schema: store.schema.to }, 'new gallery: store created');
  else if (store.schema.from !== store.schema.to) log.info({ from: store.schema.from, to: store.schema.to }, 'gallery store migrated');
  let live: LiveIndex;
  try {
    live = await openLiveIndex({ store, modelId, models, dim, dir: indexDir, params, efSearch, exactBelow, snapshotEvery, compactRatio, log });
  } catch (err) {
    store.close();
    throw err;
  }
  const blobs = createBlobStore(opts.dir);
  const keepImages = opts.keepImages ?? false;
  /** Removes the kept bytes of images no sample names any more (after the delete committed). */
  const dropUnreferenced = (sha256s: Iterable<string>): void => {
    for (const sha of new Set(sha256s)) {
      try {
        // Check and unlink under the write lock: an enrolment of the same bytes commits either
        // before (its sample is seen, the blob stays) or after (it finds the blob gone and writes
        // it again, see addSamples), never in between.
        store.exclusive(() => {
          if (store.findBySha(sha).length === 0) blobs.remove(sha);
        });
      } catch (err) {
        log.warn({ err, sha256: sha }, 'kept image not removed');
      }
    }
  };
  let closed = false;
  /** The switch record enrolments are fenced to (expectSwitch); undefined: none. */
  let switchFence: SwitchRecord | null | undefined;
  /** The record now; a malformed one fences nothing (the next switch rewrites it). */
  const currentSwitch = (): SwitchRecord | null | undefined => {
    try {
      return store.lastSwitch();
    } catch {
      return switchFence;
    }
  };

  const open = (): void => {
    if (closed) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the gallery is closed');
  };
  const mustGetAlgorithm = (id: string): AlgorithmRecord => {
    const alg = store.getAlgorithm(checkId(id, 'algorithmId'));
    if (!alg) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
    return alg;
  };

  const reads = createGalleryReads({ store, live, models, modelIds, modelId, dim, open });

  return {
    modelId,
    dim,
    models: models.map((m) => Object.freeze({ ...m })),

    fuse(vectors) {
      return indexVector(models, checkModelVectors(models, { vectors }, 'vectors', false));
    },

    createAlgorithm(input) {
      open();
      const alg = store.createAlgorithm(checkAlgorithmInput(input));
      live.refresh();
      return { ...alg, sampleCount: 0 };
    },

    listAlgorithms(pageOpts) {
      open();
      const { limit, offset } = checkPage(pageOpts);
      return store.listAlgorithms(limit, offset);
    },

    getAlgorithm(id) {
      open();
      return mustGetAlgorithm(id);
    },

    updateAlgorithm(id, patch) {
      open();
      const checked = checkAlgorithmPatch(patch);
      const alg = store.updateAlgorithm(checkId(id, 'algorithmId'), checked);
      if (!alg) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
      live.refresh();
      return alg;
    },

    deleteAlgorithm(id) {
      open();
      const res = store.deleteAlgorithm(checkId(id, 'algorithmId'));
      if (!res) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
      live.refresh();
      dropUnreferenced(res.sha256s);
      log.info({ algorithmId: id, deletedSamples: res.samples }, 'algorithm deleted');
      return { deletedSamples: res.samples };
    },

    algorithmSummary(id) {
      const a = live.algorithms().get(id);
      return a && { id: a.id, name: a.name, forgeryType: a.forgeryType, architecture: a.architecture, enabled: a.enabled };
    },

    addSamples(algorithmId, items) {
      open();
      checkId(algorithmId, 'algorithmId');
      const checked = checkSampleItems(models, items);
      const fence = switchFence;
      // Under the write lock, so neither can change before the commit: the kept bytes are still
      // there (a concurrent delete may have removed them), and no other process switched models.
      const precheck = (): void => {
        if (fence !== undefined) {
          const now = currentSwitch();
          if (!sameSwitch(now, fence)) throw dfgError('DFG_ERR_MODEL_SWITCHED', now?.list ?? 'no recorded list');
        }
        if (keepImages) {
          const missing = checked.filter((it) => !blobs.has(it.sha256)).length;
          if (missing > 0) throw dfgError('DFG_ERR_IMAGE_NOT_KEPT', missing);
        }
      };
      const results = store.addSamples(algorithmId, checked, precheck);
      live.refresh();
      return results;
    },

    expectSwitch(record) {
      switchFence = record === undefined ? undefined : record && { ...record };
    },

    lastSwitch() {
      open();
      return store.lastSwitch();
    },

    addVectors(vectorModelId, vectorDim, items) {
      open();
      const id = checkModelId(vectorModelId);
      const d = checkDim(vectorDim);
      if (!Array.isArray(items)) throw invalid('an array', 'items', items);
      const checked = items.map((it, i) => ({
        sampleId: checkId(it?.sampleId, `items[${i}].sampleId`),
        vector: checkVector(it.vector, d, id, `items[${i}].vector`, true),
      }));
      const stored = store.addVectors(id, checked);
      live.refresh();
      return stored;
    },

    countMissing(vectorModelId) {
      open();
      return store.countMissing(checkModelId(vectorModelId));
    },

    samplesMissing(vectorModelId, after, limit) {
      open();
      if (!Number.isInteger(after) || after < 0) throw invalid('a non-negative integer', 'after', after);
      return store.samplesMissing(checkModelId(vectorModelId), after, checkPage({ limit }).limit);
    },

    listSamples(algorithmId, pageOpts) {
      open();
      const { limit, offset } = checkPage(pageOpts);
      mustGetAlgorithm(algorithmId);
      return store.listSamples(algorithmId, limit, offset);
    },

    getSample(algorithmId, sampleId) {
      open();
      const s = store.getSample(checkId(algorithmId, 'algorithmId'), checkId(sampleId, 'sampleId'));
      if (!s) throw dfgError('DFG_ERR_SAMPLE_NOT_FOUND', sampleId);
      return s;
    },

    findSample(sampleId) {
      open();
      return store.sampleById(checkId(sampleId, 'sampleId'));
    },

    deleteSample(algorithmId, sampleId) {
      open();
      const s = store.deleteSample(checkId(algorithmId, 'algorithmId'), checkId(sampleId, 'sampleId'));
      if (!s) throw dfgError('DFG_ERR_SAMPLE_NOT_FOUND', sampleId);
      live.refresh();
      dropUnreferenced([s.sha256]);
    },

    keepsImages: keepImages,

    async keepImages(items) {
      open();
      if (!keepImages) return;
      for (const it of items) await blobs.put(checkSha256(it.sha256), it.bytes);
    },

    async readImage(sha256) {
      open();
      return blobs.get(checkSha256(sha256));
    },

    findBySha(sha256) {
      open();
      return store.findBySha(checkSha256(sha256));
    },

    vectors: reads.vectors,

    search(vector, k, searchOpts) {
      open();
      checkVector(vector, dim, modelId, 'vector', false);
      if (!Number.isInteger(k) || k < 1 || k > 10_000) throw invalid('an integer between 1 and 10000', 'k', k);
      return live.search(vector, k, searchOpts?.enabledOnly ?? true);
    },

    refresh() {
      open();
      const applied = live.refresh();
      return { applied, version: live.info().lastSeq };
    },

    info: reads.info,

    enabledSampleCounts: reads.enabledSampleCounts,

    coverage: reads.coverage,

    async snapshot() {
      open();
      return live.snapshot();
    },

    async rebuild() {
      open();
      return live.rebuild();
    },

    idle: () => live.idle(),

    currentCalibration() {
      open();
      return live.calibration();
    },

    listCalibrations(lOpts) {
      open();
      const { limit } = checkPage({ limit: lOpts?.limit ?? 50 });
      return store.listCalibrations(modelId, limit);
    },

    saveCalibration(input) {
      open();
      const saved = store.saveCalibration(modelId, checkCalibrationInput(input));
      live.refresh();
      return saved;
    },

    effectiveThresholds: reads.effectiveThresholds,

    async close() {
      if (closed) return;
      closed = true;
      try {
        await live.close();
      } finally {
        store.close();
      }
    },
  };
}
