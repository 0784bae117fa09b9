/**
 * The gallery: registered algorithms and their enrolled samples (a vector per model id), in a
 * durable SQLite store, with an HNSW index over one model or a weighted fusion of several,
 * derived from it. See DESIGN.md, "The store is the
 * truth, the index is derived".
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../errors.js';
import { DEFAULT_HNSW_PARAMS, type HnswParams } from './hnsw-index.js';
import { openLiveIndex } from './live-index.js';
import { openStore, type CheckedSample } from './store.js';
import { fusionIndexId, indexVector, type FusionMember } from './fusion.js';
import { createBlobStore } from './blobs.js';
import type { AlgorithmRecord, EffectiveThresholds, GalleryLogger, SampleInput } from './types.js';
import type { Gallery, GalleryOptions } from './gallery-api.js';
import {
  checkAlgorithmInput,
  checkAlgorithmPatch,
  checkDim,
  checkModelId,
  checkPage,
  checkSha256,
  checkSide,
  checkVector,
  cleanFilename,
  invalid,
  checkPositiveInt,
  checkModels,
  checkCalibrationInput,
  checkModelVectors,
} from './validate.js';

export * from './types.js';
export * from './gallery-api.js';
export type { IndexInfo } from './live-index.js';
export type { SnapshotManifest } from './snapshot.js';
export { fuseVectors, fusionIndexId, type FusionMember } from './fusion.js';

/**
 * Default HNSW search breadth. On 100k x 256 random vectors (the hardest case) ef 128 found a
 * query's source sample first in 92% of cases and ef 256 in 99%, for 0.7 vs 1.3 ms: the extra
 * half millisecond is small next to decoding and embedding an image (bench/gallery-search.ts).
 */
export const DEFAULT_EF_SEARCH = 256;

const noopLog: GalleryLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Opens (creating if needed) the gallery in `opts.dir` for one model: migrates the store, then
 * loads the index snapshot if its manifest and checksum match, or rebuilds it from the store.
 */
export async function openGallery(opts: GalleryOptions): Promise<Gallery> {
  const models = checkModels(opts);
  const modelIds = models.map((m) => m.id);
  const modelId = fusionIndexId(models);
  const dim = models.reduce((n, m) => n + m.dim, 0);
  const snapshotEvery = checkPositiveInt(opts.snapshotEvery ?? 1000, 'snapshotEvery');
  const compactRatio = opts.compactRatio ?? 0.2;
  if (typeof compactRatio !== 'number' || !(compactRatio > 0 && compactRatio <= 1)) throw invalid('a number in (0, 1]', 'compactRatio', compactRatio);
  const efSearch = checkPositiveInt(opts.efSearch ?? DEFAULT_EF_SEARCH, 'efSearch');
  const exactBelow = opts.exactBelow ?? 2000;
  if (!Number.isInteger(exactBelow) || exactBelow < 0) throw invalid('a non-negative integer', 'exactBelow', exactBelow);
  const params: HnswParams = { ...DEFAULT_HNSW_PARAMS, ...opts.hnsw };
  checkPositiveInt(params.m, 'hnsw.m');
  checkPositiveInt(params.efConstruction, 'hnsw.efConstruction');
  const log = opts.log ?? noopLog;

  const indexDir = path.join(opts.dir, 'index');
  await fs.mkdir(indexDir, { recursive: true });
  const store = openStore(path.join(opts.dir, 'gallery.sqlite'), { busyTimeoutMs: opts.busyTimeoutMs });
  if (store.schema.from !== store.schema.to) log.info({ from: store.schema.from, to: store.schema.to }, 'gallery store migrated');
  let live: Awaited<ReturnType<typeof openLiveIndex>>;
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
        if (store.findBySha(sha).length === 0) blobs.remove(sha);
      } catch (err) {
        log.warn({ err, sha256: sha }, 'kept image not removed');
      }
    }
  };
  let closed = false;
  let thresholdCache: { algorithms: unknown; cal: unknown; value: EffectiveThresholds } | undefined;

  const open = (): void => {
    if (closed) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the gallery is closed');
  };
  const checkId = (value: unknown, name: string): string => {
    if (typeof value !== 'string' || value.length === 0 || value.length > 64) throw invalid('an id string', name, value);
    return value;
  };
  const mustGetAlgorithm = (id: string): AlgorithmRecord => {
    const alg = store.getAlgorithm(checkId(id, 'algorithmId'));
    if (!alg) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
    return alg;
  };

  const checkVectors = (item: Pick<SampleInput, 'vector' | 'vectors'>, name: string, nonZero: boolean) => checkModelVectors(models, item, name, nonZero);

  return {
    modelId,
    dim,
    models: models.map((m) => Object.freeze({ ...m })),

    fuse(vectors) {
      return indexVector(models, checkVectors({ vectors }, 'vectors', false));
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
      if (!Array.isArray(items)) throw invalid('an array', 'items', items);
      const checked: CheckedSample[] = items.map((item, i) => {
        if (typeof item !== 'object' || item === null) throw invalid('an object', `items[${i}]`, item);
        return {
          sha256: checkSha256(item.sha256),
          vectors: checkVectors(item, `items[${i}].${item.vectors ? 'vectors' : 'vector'}`, true),
          width: checkSide(item.width, `items[${i}].width`),
          height: checkSide(item.height, `items[${i}].height`),
          filename: cleanFilename(item.filename),
        };
      });
      const results = store.addSamples(algorithmId, checked);
      live.refresh();
      return results;
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

    *vectors(vOpts) {
      open();
      const batch = checkPositiveInt(vOpts?.batchSize ?? 1000, 'batchSize');
      const upto = store.maxSeq();
      let after = 0;
      for (;;) {
        const page = store.indexedVectors(modelIds, after, upto, batch);
        for (const s of page) {
          if (models.every((m) => s.vectors.get(m.id)?.length === m.dim)) {
            yield { sampleId: s.sampleId, algorithmId: s.algorithmId, vector: indexVector(models, s.vectors) };
          }
        }
        if (page.length < batch) return;
        after = page[page.length - 1]!.label;
      }
    },

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

    info() {
      let enabledAlgorithms = 0;
      const algorithms = live.algorithms();
      for (const a of algorithms.values()) if (a.enabled) enabledAlgorithms++;
      const index = live.info();
      return {
        modelId,
        dim,
        models: models.map((m) => ({ ...m })),
        version: index.lastSeq,
        counts: { algorithms: algorithms.size, enabledAlgorithms, samples: live.liveSamples() },
        index,
      };
    },

    coverage() {
      open();
      return store.read(() => {
        const stored = store.countSamples();
        return {
          stored,
          incomplete: stored - store.countComplete(modelIds),
          missing: Object.fromEntries(modelIds.map((id) => [id, store.countMissing(id)])),
        };
      });
    },

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

    effectiveThresholds() {
      const cal = live.calibration();
      const algorithms = live.algorithms();
      // Recomputed only when refresh replaced the algorithm or calibration cache (new objects).
      if (thresholdCache?.algorithms === algorithms && thresholdCache.cal === cal) return thresholdCache.value;
      const perAlgorithm: Record<string, number> = {};
      for (const a of algorithms.values()) {
        const value = a.threshold ?? cal?.perAlgorithm[a.id];
        if (value !== undefined) perAlgorithm[a.id] = value;
      }
      Object.freeze(perAlgorithm);
      const value = Object.freeze(cal ? { global: cal.global, perAlgorithm } : { perAlgorithm });
      thresholdCache = { algorithms, cal, value };
      return value;
    },

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
