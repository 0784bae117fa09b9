/**
 * The gallery: registered algorithms and their enrolled samples (a vector per model id), in a
 * durable store (SQLite in the gallery folder, or PostgreSQL shared by many processes: store/api.ts),
 * with an HNSW index over one model or a weighted fusion of several, derived from it. See DESIGN.md, "The store is the
 * truth, the index is derived". This module opens and closes it and makes the changes; options
 * are checked in gallery-options.ts, read-side helpers live in gallery-reads.ts and the Gallery
 * interface in gallery-api.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dfgError, isDfgError } from '../errors.js';
import { openLiveIndex, type LiveIndex } from './index/live.js';
import { openGalleryStore } from './store/open.js';
import { indexVector } from '../math/fusion.js';
import { resolveGalleryOptions } from './gallery-options.js';
import { createGalleryReads } from './gallery-reads.js';
import type { AlgorithmRecord, SwitchRecord } from './types.js';
import type { Gallery, GalleryOptions } from './gallery-api.js';
import {
  checkAlgorithmInput,
  checkAlgorithmPatch,
  checkBundleInput,
  checkCalibrationInput,
  checkDim,
  checkId,
  checkModelId,
  checkModelVectors,
  checkOrigin,
  checkPage,
  checkSampleItems,
  checkSourceId,
  checkSha256,
  checkVector,
  invalid,
} from './validate.js';

export * from './types.js';
export * from './gallery-api.js';
export type { IndexInfo } from './index/live.js';
export type { SnapshotManifest } from './index/snapshot.js';
export { fuseVectors, fusionIndexId, type FusionMember } from '../math/fusion.js';
export { DEFAULT_EF_SEARCH } from './gallery-options.js';
export { readLastSwitch, writeSwitchRecord } from './store/switch-record.js';
export { hasGalleryStore, STORE_FILE } from './store/file.js';
export { openGalleryStore, hasStore, type StoreLocation } from './store/open.js';
export type { GalleryStore } from './store/api.js';

/**
 * Opens (creating if needed) the gallery in `opts.dir` (or on the shared store `opts.store`) for
 * one model: migrates the store, then loads the index snapshot if its manifest and checksum match,
 * or rebuilds it from the store.
 */
/** How often a gallery without imports asks the store whether another process imported a bundle. */
const BUNDLE_CHECK_MS = 2000;

export async function openGallery(opts: GalleryOptions): Promise<Gallery> {
  const { models, modelIds, modelId, dim, snapshotEvery, compactRatio, efSearch, exactBelow, params, log } = resolveGalleryOptions(opts);

  const indexDir = path.join(opts.dir, 'index');
  await fs.mkdir(indexDir, { recursive: true });
  const store = await openGalleryStore({
    dir: opts.dir,
    store: opts.store,
    busyTimeoutMs: opts.busyTimeoutMs,
    onError: (err) => log.warn({ err }, 'gallery store connection failed; it reconnects on its own'),
  });
  // A new gallery's location in the log: a mistyped DFG_GALLERY_DIR (or DFG_STORE) shows as a gallery created where none was meant.
  if (store.schema.from === 0) log.info({ gallery: store.kind === 'sqlite' ? path.resolve(opts.dir) : store.location, schema: store.schema.to }, 'new gallery: store created');
  else if (store.schema.from !== store.schema.to) log.info({ from: store.schema.from, to: store.schema.to }, 'gallery store migrated');
  let live: LiveIndex;
  try {
    live = await openLiveIndex({ store, modelId, models, dim, dir: indexDir, params, efSearch, exactBelow, snapshotEvery, compactRatio, log });
  } catch (err) {
    await store.close();
    throw err;
  }
  const keepImages = opts.keepImages ?? false;
  /** Removes the kept bytes of images no sample names any more (after the delete committed). */
  const dropUnreferenced = async (sha256s: Iterable<string>): Promise<void> => {
    try {
      await store.dropUnreferenced(sha256s);
    } catch (err) {
      log.warn({ err }, 'kept image not removed');
    }
  };
  let closed = false;
  /** The switch record enrolments are fenced to (expectSwitch); undefined: none. */
  let switchFence: SwitchRecord | null | undefined;
  /** Whether the store records any bundle, and when that was read (another process may import). */
  let bundlesSeen = { any: false, at: 0 };

  // Another process's commits (PostgreSQL notifies them) reach this index at once; polling (refresh) covers the rest.
  const unsubscribe = store.onChange(() => {
    if (!closed) live.refresh().catch((err: unknown) => log.warn({ err }, 'gallery refresh failed'));
  });

  const open = (): void => {
    if (closed) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the gallery is closed');
  };
  const mustGetAlgorithm = async (id: string): Promise<AlgorithmRecord> => {
    const alg = await store.getAlgorithm(checkId(id, 'algorithmId'));
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

    async createAlgorithm(input, createOpts) {
      open();
      const origin = createOpts?.origin === undefined ? null : checkOrigin(createOpts.origin, 'origin');
      const alg = await store.createAlgorithm(checkAlgorithmInput(input), origin, createOpts?.audit);
      await live.refresh();
      return { ...alg, sampleCount: 0 };
    },

    async applyImport(bundle, parts, importOpts) {
      open();
      const checkedBundle = checkBundleInput(bundle);
      const checked = parts.map((p, i) => {
        const items = checkSampleItems(models, p.items.map((it) => ({ ...it.sample })));
        const withSource = items.map((sample, j) => ({ sample, sourceId: checkSourceId(p.items[j]!.sourceId, `parts[${i}].items[${j}].sourceId`) }));
        return p.create
          ? { create: { input: checkAlgorithmInput(p.create.input), sourceId: checkSourceId(p.create.sourceId, `parts[${i}].sourceId`) }, items: withSource }
          : { algorithmId: checkId(p.algorithmId, 'algorithmId'), items: withSource };
      });
      // Under the write lock: no other process switched models, and the bytes written beforehand are still kept.
      const applied = await store.applyImport(checkedBundle, checked, { fence: switchFence, keptBytes: keepImages ? (importOpts?.keptBytes ?? []) : [] }, importOpts?.audit);
      if (applied.recorded) bundlesSeen = { any: true, at: Date.now() };
      await live.refresh();
      return applied;
    },

    async evidenceProvenance(sampleIds) {
      open();
      if (sampleIds.length === 0) return new Map();
      try {
        // Most galleries import nothing: they learn it with one query every few seconds, not one per attribution.
        if (!bundlesSeen.any && Date.now() - bundlesSeen.at > BUNDLE_CHECK_MS) bundlesSeen = { any: await store.hasBundles(), at: Date.now() };
        if (!bundlesSeen.any) return new Map();
        return await store.provenanceOf(sampleIds);
      } catch (err) {
        if (isDfgError(err, 'DFG_ERR_STORE_UNAVAILABLE')) return null;
        throw err;
      }
    },

    async listAlgorithms(pageOpts) {
      open();
      const { limit, offset } = checkPage(pageOpts);
      return store.listAlgorithms(limit, offset);
    },

    async getAlgorithm(id) {
      open();
      return mustGetAlgorithm(id);
    },

    async updateAlgorithm(id, patch, audit) {
      open();
      const checked = checkAlgorithmPatch(patch);
      const alg = await store.updateAlgorithm(checkId(id, 'algorithmId'), checked, audit);
      if (!alg) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
      await live.refresh();
      return alg;
    },

    async deleteAlgorithm(id, audit) {
      open();
      const res = await store.deleteAlgorithm(checkId(id, 'algorithmId'), audit);
      if (!res) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
      await live.refresh();
      await dropUnreferenced(res.sha256s);
      log.info({ algorithmId: id, deletedSamples: res.samples }, 'algorithm deleted');
      return { deletedSamples: res.samples };
    },

    algorithmSummary(id) {
      const a = live.algorithms().get(id);
      return a && { id: a.id, name: a.name, forgeryType: a.forgeryType, architecture: a.architecture, enabled: a.enabled };
    },

    async addSamples(algorithmId, items, addOpts) {
      open();
      checkId(algorithmId, 'algorithmId');
      const checked = checkSampleItems(models, items);
      // Checked under the write lock, so neither can change before the commit: the kept bytes are
      // still there (a concurrent delete may have removed them), and no other process switched models.
      const results = await store.addSamples(algorithmId, checked, { fence: switchFence, keptBytes: keepImages && addOpts?.requireKeptBytes !== false }, addOpts?.audit);
      await live.refresh();
      return results;
    },

    expectSwitch(record) {
      switchFence = record === undefined ? undefined : record && { ...record };
    },

    async lastSwitch() {
      open();
      return store.lastSwitch();
    },

    async addVectors(vectorModelId, vectorDim, items, audit) {
      open();
      const id = checkModelId(vectorModelId);
      const d = checkDim(vectorDim);
      if (!Array.isArray(items)) throw invalid('an array', 'items', items);
      const checked = items.map((it, i) => ({
        sampleId: checkId(it?.sampleId, `items[${i}].sampleId`),
        vector: checkVector(it.vector, d, id, `items[${i}].vector`, true),
      }));
      const stored = await store.addVectors(id, checked, audit);
      await live.refresh();
      return stored;
    },

    async countMissing(vectorModelId) {
      open();
      return store.countMissing(checkModelId(vectorModelId));
    },

    async samplesMissing(vectorModelId, after, limit) {
      open();
      if (!Number.isInteger(after) || after < 0) throw invalid('a non-negative integer', 'after', after);
      return store.samplesMissing(checkModelId(vectorModelId), after, checkPage({ limit }).limit);
    },

    async listSamples(algorithmId, pageOpts) {
      open();
      const { limit, offset } = checkPage(pageOpts);
      await mustGetAlgorithm(algorithmId);
      return store.listSamples(algorithmId, limit, offset);
    },

    async getSample(algorithmId, sampleId) {
      open();
      const s = await store.getSample(checkId(algorithmId, 'algorithmId'), checkId(sampleId, 'sampleId'));
      if (!s) throw dfgError('DFG_ERR_SAMPLE_NOT_FOUND', sampleId);
      return s;
    },

    async findSample(sampleId) {
      open();
      return store.sampleById(checkId(sampleId, 'sampleId'));
    },

    async deleteSample(algorithmId, sampleId, audit) {
      open();
      const s = await store.deleteSample(checkId(algorithmId, 'algorithmId'), checkId(sampleId, 'sampleId'), audit);
      if (!s) throw dfgError('DFG_ERR_SAMPLE_NOT_FOUND', sampleId);
      await live.refresh();
      await dropUnreferenced([s.sha256]);
    },

    keepsImages: keepImages,

    async keepImages(items) {
      open();
      if (!keepImages) return;
      for (const it of items) await store.putImage(checkSha256(it.sha256), it.bytes);
    },

    async readImage(sha256) {
      open();
      return store.getImage(checkSha256(sha256));
    },

    async findBySha(sha256) {
      open();
      return store.findBySha(checkSha256(sha256));
    },

    vectors: reads.vectors,
    sampleVectors: reads.sampleVectors,

    search(vector, k, searchOpts) {
      open();
      checkVector(vector, dim, modelId, 'vector', false);
      if (!Number.isInteger(k) || k < 1 || k > 10_000) throw invalid('an integer between 1 and 10000', 'k', k);
      return live.search(vector, k, searchOpts?.enabledOnly ?? true);
    },

    async refresh() {
      open();
      const applied = await live.refresh();
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

    async tryExclusive(name, fn) {
      open();
      return store.tryExclusive(name, fn);
    },

    currentCalibration() {
      open();
      return live.calibration();
    },

    async listCalibrations(lOpts) {
      open();
      const { limit } = checkPage({ limit: lOpts?.limit ?? 50 });
      return store.listCalibrations(modelId, limit);
    },

    async saveCalibration(input, audit) {
      open();
      const saved = await store.saveCalibration(modelId, checkCalibrationInput(input), audit);
      await live.refresh();
      return saved;
    },

    async listAudit(query) {
      open();
      return store.listAudit(query);
    },

    async recordAttributions(rows) {
      open();
      if (rows.length > 0) await store.recordAttributions(rows);
    },

    async getAttribution(id) {
      open();
      return store.getAttribution(id);
    },

    async recordFeedback(id, feedback, audit) {
      open();
      return store.recordFeedback(id, feedback, audit);
    },

    async feedbackPairs(limit) {
      open();
      return store.feedbackPairs(modelId, limit);
    },

    async feedbackCounts() {
      open();
      return store.feedbackCounts(modelId);
    },

    effectiveThresholds: reads.effectiveThresholds,

    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      try {
        await live.close();
      } finally {
        await store.close();
      }
    },
  };
}
