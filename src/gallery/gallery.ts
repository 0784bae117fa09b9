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
import { resolveGalleryOptions, type ResolvedGalleryOptions } from './gallery-options.js';
import { createGalleryReads } from './gallery-reads.js';
import type { GalleryStore } from './store/api.js';
import type { SnapshotManifest } from './index/snapshot.js';
import type { FusionMember } from '../math/fusion.js';
import type {
  AddSampleResult,
  AttributionInput,
  AttributionRecord,
  AuditNote,
  AuditQuery,
  AuditRecord,
  FeedbackCounts,
  FeedbackInput,
  FeedbackPair,
  AlgorithmInput,
  AlgorithmPatch,
  AlgorithmRecord,
  AlgorithmSummary,
  BundleInput,
  CalibrationInput,
  CalibrationRecord,
  GalleryLogger,
  Neighbour,
  Origin,
  Page,
  PageOptions,
  Provenance,
  SampleInput,
  SampleRecord,
  SwitchRecord,
} from './types.js';
import type { AddSamplesOptions, Gallery, GalleryOptions, ImportApplied, ImportAudit, ImportPartInput, SearchOptions } from './gallery-api.js';
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
  checkSha256,
  checkSourceId,
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

/** How often a gallery without imports asks the store whether another process imported a bundle. */
const BUNDLE_CHECK_MS = 2000;

/**
 * Opens (creating if needed) the gallery in `opts.dir` (or on the shared store `opts.store`) for
 * one model: migrates the store, then loads the index snapshot if its manifest and checksum match,
 * or rebuilds it from the store.
 */
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
  return new IndexedGallery({ store, live, models, modelIds, modelId, dim, log, keepImages: opts.keepImages ?? false });
}

interface GalleryParts extends Pick<ResolvedGalleryOptions, 'models' | 'modelIds' | 'modelId' | 'dim' | 'log'> {
  store: GalleryStore;
  live: LiveIndex;
  keepImages: boolean;
}

/**
 * The store and the index derived from it, behind the Gallery interface. A class: every method
 * shares the store, the live index, the enrolment fence and whether it is closed. Its fields are
 * TypeScript-private rather than `#private`, so a Proxy around a gallery (a test that injects a
 * race) still reaches them.
 */
class IndexedGallery implements Gallery {
  readonly modelId: string;
  readonly dim: number;
  readonly models: Gallery['models'];
  readonly keepsImages: boolean;
  readonly vectors: Gallery['vectors'];
  readonly sampleVectors: Gallery['sampleVectors'];
  readonly info: Gallery['info'];
  readonly enabledSampleCounts: Gallery['enabledSampleCounts'];
  readonly coverage: Gallery['coverage'];
  readonly effectiveThresholds: Gallery['effectiveThresholds'];

  private readonly store: GalleryStore;
  private readonly live: LiveIndex;
  private readonly fusion: FusionMember[];
  private readonly log: GalleryLogger;
  private readonly unsubscribe: () => void;
  private closed = false;
  /** The switch record enrolments are fenced to (expectSwitch); undefined: none. */
  private switchFence: SwitchRecord | null | undefined;
  /** Whether the store records any bundle, and when that was read (another process may import). */
  private bundlesSeen = { any: false, at: 0 };

  constructor(parts: GalleryParts) {
    const { store, live, models, modelIds, modelId, dim, log } = parts;
    this.store = store;
    this.live = live;
    this.fusion = models;
    this.log = log;
    this.modelId = modelId;
    this.dim = dim;
    this.models = models.map((m) => Object.freeze({ ...m }));
    this.keepsImages = parts.keepImages;
    // Another process's commits (PostgreSQL notifies them) reach this index at once; polling (refresh) covers the rest.
    this.unsubscribe = store.onChange(() => {
      if (!this.closed) live.refresh().catch((err: unknown) => log.warn({ err }, 'gallery refresh failed'));
    });
    const reads = createGalleryReads({ store, live, models, modelIds, modelId, dim, open: () => this.open() });
    this.vectors = reads.vectors;
    this.sampleVectors = reads.sampleVectors;
    this.info = reads.info;
    this.enabledSampleCounts = reads.enabledSampleCounts;
    this.coverage = reads.coverage;
    this.effectiveThresholds = reads.effectiveThresholds;
  }

  fuse(vectors: Readonly<Record<string, Float32Array>>): Float32Array {
    return indexVector(this.fusion, checkModelVectors(this.fusion, { vectors }, 'vectors', false));
  }

  async createAlgorithm(input: AlgorithmInput, createOpts?: { origin?: Origin; audit?: AuditNote }): Promise<AlgorithmRecord> {
    this.open();
    const origin = createOpts?.origin === undefined ? null : checkOrigin(createOpts.origin, 'origin');
    const alg = await this.store.createAlgorithm(checkAlgorithmInput(input), origin, createOpts?.audit);
    await this.live.refresh();
    return { ...alg, sampleCount: 0 };
  }

  async applyImport(bundle: BundleInput, parts: readonly ImportPartInput[], importOpts?: { keptBytes?: readonly string[]; audit?: ImportAudit }): Promise<ImportApplied> {
    this.open();
    const checkedBundle = checkBundleInput(bundle);
    const checked = parts.map((p, i) => {
      const items = checkSampleItems(this.fusion, p.items.map((it) => ({ ...it.sample })));
      const withSource = items.map((sample, j) => ({ sample, sourceId: checkSourceId(p.items[j]!.sourceId, `parts[${i}].items[${j}].sourceId`) }));
      return p.create
        ? { create: { input: checkAlgorithmInput(p.create.input), sourceId: checkSourceId(p.create.sourceId, `parts[${i}].sourceId`) }, items: withSource }
        : { algorithmId: checkId(p.algorithmId, 'algorithmId'), items: withSource };
    });
    // Under the write lock: no other process switched models, and the bytes written beforehand are still kept.
    const applied = await this.store.applyImport(checkedBundle, checked, { fence: this.switchFence, keptBytes: this.keepsImages ? (importOpts?.keptBytes ?? []) : [] }, importOpts?.audit);
    if (applied.recorded) this.bundlesSeen = { any: true, at: Date.now() };
    await this.live.refresh();
    return applied;
  }

  async evidenceProvenance(sampleIds: readonly string[]): Promise<Map<string, Provenance> | null> {
    this.open();
    if (sampleIds.length === 0) return new Map();
    try {
      // Most galleries import nothing: they learn it with one query every few seconds, not one per attribution.
      if (!this.bundlesSeen.any && Date.now() - this.bundlesSeen.at > BUNDLE_CHECK_MS) this.bundlesSeen = { any: await this.store.hasBundles(), at: Date.now() };
      if (!this.bundlesSeen.any) return new Map();
      return await this.store.provenanceOf(sampleIds);
    } catch (err) {
      if (isDfgError(err, 'DFG_ERR_STORE_UNAVAILABLE')) return null;
      throw err;
    }
  }

  async listAlgorithms(pageOpts?: PageOptions): Promise<Page<AlgorithmRecord>> {
    this.open();
    const { limit, offset } = checkPage(pageOpts);
    return this.store.listAlgorithms(limit, offset);
  }

  async getAlgorithm(id: string): Promise<AlgorithmRecord> {
    this.open();
    return this.mustGetAlgorithm(id);
  }

  async updateAlgorithm(id: string, patch: AlgorithmPatch, audit?: AuditNote): Promise<AlgorithmRecord> {
    this.open();
    const checked = checkAlgorithmPatch(patch);
    const alg = await this.store.updateAlgorithm(checkId(id, 'algorithmId'), checked, audit);
    if (!alg) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
    await this.live.refresh();
    return alg;
  }

  async deleteAlgorithm(id: string, audit?: AuditNote): Promise<{ deletedSamples: number }> {
    this.open();
    const res = await this.store.deleteAlgorithm(checkId(id, 'algorithmId'), audit);
    if (!res) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
    await this.live.refresh();
    await this.dropUnreferenced(res.sha256s);
    this.log.info({ algorithmId: id, deletedSamples: res.samples }, 'algorithm deleted');
    return { deletedSamples: res.samples };
  }

  algorithmSummary(id: string): AlgorithmSummary | undefined {
    const a = this.live.algorithms().get(id);
    return a && { id: a.id, name: a.name, forgeryType: a.forgeryType, architecture: a.architecture, enabled: a.enabled };
  }

  async addSamples(algorithmId: string, items: SampleInput[], addOpts?: AddSamplesOptions): Promise<AddSampleResult[]> {
    this.open();
    checkId(algorithmId, 'algorithmId');
    const checked = checkSampleItems(this.fusion, items);
    // Checked under the write lock, so neither can change before the commit: the kept bytes are
    // still there (a concurrent delete may have removed them), and no other process switched models.
    const results = await this.store.addSamples(algorithmId, checked, { fence: this.switchFence, keptBytes: this.keepsImages && addOpts?.requireKeptBytes !== false }, addOpts?.audit);
    await this.live.refresh();
    return results;
  }

  expectSwitch(record: SwitchRecord | null | undefined): void {
    this.switchFence = record === undefined ? undefined : record && { ...record };
  }

  async lastSwitch(): Promise<SwitchRecord | null> {
    this.open();
    return this.store.lastSwitch();
  }

  async addVectors(vectorModelId: string, vectorDim: number, items: Array<{ sampleId: string; vector: Float32Array }>, audit?: AuditNote): Promise<number> {
    this.open();
    const id = checkModelId(vectorModelId);
    const d = checkDim(vectorDim);
    if (!Array.isArray(items)) throw invalid('an array', 'items', items);
    const checked = items.map((it, i) => ({
      sampleId: checkId(it?.sampleId, `items[${i}].sampleId`),
      vector: checkVector(it.vector, d, id, `items[${i}].vector`, true),
    }));
    const stored = await this.store.addVectors(id, checked, audit);
    await this.live.refresh();
    return stored;
  }

  async countMissing(vectorModelId: string): Promise<number> {
    this.open();
    return this.store.countMissing(checkModelId(vectorModelId));
  }

  async samplesMissing(vectorModelId: string, after: number, limit: number): Promise<SampleRecord[]> {
    this.open();
    if (!Number.isInteger(after) || after < 0) throw invalid('a non-negative integer', 'after', after);
    return this.store.samplesMissing(checkModelId(vectorModelId), after, checkPage({ limit }).limit);
  }

  async listSamples(algorithmId: string, pageOpts?: PageOptions): Promise<Page<SampleRecord>> {
    this.open();
    const { limit, offset } = checkPage(pageOpts);
    await this.mustGetAlgorithm(algorithmId);
    return this.store.listSamples(algorithmId, limit, offset);
  }

  async getSample(algorithmId: string, sampleId: string): Promise<SampleRecord> {
    this.open();
    const s = await this.store.getSample(checkId(algorithmId, 'algorithmId'), checkId(sampleId, 'sampleId'));
    if (!s) throw dfgError('DFG_ERR_SAMPLE_NOT_FOUND', sampleId);
    return s;
  }

  async findSample(sampleId: string): Promise<SampleRecord | undefined> {
    this.open();
    return this.store.sampleById(checkId(sampleId, 'sampleId'));
  }

  async deleteSample(algorithmId: string, sampleId: string, audit?: AuditNote): Promise<void> {
    this.open();
    const s = await this.store.deleteSample(checkId(algorithmId, 'algorithmId'), checkId(sampleId, 'sampleId'), audit);
    if (!s) throw dfgError('DFG_ERR_SAMPLE_NOT_FOUND', sampleId);
    await this.live.refresh();
    await this.dropUnreferenced([s.sha256]);
  }

  async keepImages(items: ReadonlyArray<{ sha256: string; bytes: Uint8Array }>): Promise<void> {
    this.open();
    if (!this.keepsImages) return;
    for (const it of items) await this.store.putImage(checkSha256(it.sha256), it.bytes);
  }

  async readImage(sha256: string): Promise<Buffer | null> {
    this.open();
    return this.store.getImage(checkSha256(sha256));
  }

  async findBySha(sha256: string): Promise<SampleRecord[]> {
    this.open();
    return this.store.findBySha(checkSha256(sha256));
  }

  search(vector: Float32Array, k: number, searchOpts?: SearchOptions): Neighbour[] {
    this.open();
    checkVector(vector, this.dim, this.modelId, 'vector', false);
    if (!Number.isInteger(k) || k < 1 || k > 10_000) throw invalid('an integer between 1 and 10000', 'k', k);
    return this.live.search(vector, k, searchOpts?.enabledOnly ?? true);
  }

  async refresh(): Promise<{ applied: number; version: number }> {
    this.open();
    const applied = await this.live.refresh();
    return { applied, version: this.live.info().lastSeq };
  }

  async snapshot(): Promise<SnapshotManifest> {
    this.open();
    return this.live.snapshot();
  }

  async rebuild(): Promise<void> {
    this.open();
    return this.live.rebuild();
  }

  idle(): Promise<void> {
    return this.live.idle();
  }

  async tryExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    this.open();
    return this.store.tryExclusive(name, fn);
  }

  currentCalibration(): CalibrationRecord | null {
    this.open();
    return this.live.calibration();
  }

  async listCalibrations(lOpts?: { limit?: number }): Promise<CalibrationRecord[]> {
    this.open();
    const { limit } = checkPage({ limit: lOpts?.limit ?? 50 });
    return this.store.listCalibrations(this.modelId, limit);
  }

  async saveCalibration(input: CalibrationInput, audit?: AuditNote): Promise<CalibrationRecord> {
    this.open();
    const saved = await this.store.saveCalibration(this.modelId, checkCalibrationInput(input), audit);
    await this.live.refresh();
    return saved;
  }

  async listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    this.open();
    return this.store.listAudit(query);
  }

  async recordAttributions(rows: readonly AttributionInput[]): Promise<void> {
    this.open();
    if (rows.length > 0) await this.store.recordAttributions(rows);
  }

  async getAttribution(id: string): Promise<AttributionRecord | undefined> {
    this.open();
    return this.store.getAttribution(id);
  }

  async recordFeedback(id: string, feedback: FeedbackInput, audit?: AuditNote): ReturnType<Gallery['recordFeedback']> {
    this.open();
    return this.store.recordFeedback(id, feedback, audit);
  }

  async feedbackPairs(limit: number): Promise<FeedbackPair[]> {
    this.open();
    return this.store.feedbackPairs(this.modelId, limit);
  }

  async feedbackCounts(): Promise<FeedbackCounts> {
    this.open();
    return this.store.feedbackCounts(this.modelId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    try {
      await this.live.close();
    } finally {
      await this.store.close();
    }
  }

  /** Throws DFG_ERR_SERVER_NOT_READY once the gallery is closed. */
  private open(): void {
    if (this.closed) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the gallery is closed');
  }

  private async mustGetAlgorithm(id: string): Promise<AlgorithmRecord> {
    const alg = await this.store.getAlgorithm(checkId(id, 'algorithmId'));
    if (!alg) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id);
    return alg;
  }

  /** Removes the kept bytes of images no sample names any more (after the delete committed). */
  private async dropUnreferenced(sha256s: Iterable<string>): Promise<void> {
    try {
      await this.store.dropUnreferenced(sha256s);
    } catch (err) {
      this.log.warn({ err }, 'kept image not removed');
    }
  }
}
