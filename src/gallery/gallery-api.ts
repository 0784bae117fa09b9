/**
 * The Gallery interface that openGallery returns, with its options and the shape of its info.
 * Types only: no behaviour here.
 */
import type { HnswParams } from './index/hnsw.js';
import type { IndexInfo } from './index/live.js';
import type { SnapshotManifest } from './index/snapshot.js';
import type {
  AddSampleResult,
  AlgorithmInput,
  AlgorithmPatch,
  AlgorithmRecord,
  AlgorithmSummary,
  AttributionInput,
  AttributionRecord,
  AuditNote,
  AuditQuery,
  AuditRecord,
  BundleInput,
  CalibrationInput,
  CalibrationRecord,
  EffectiveThresholds,
  FeedbackCounts,
  FeedbackInput,
  FeedbackPair,
  GalleryLogger,
  GalleryModel,
  Neighbour,
  Origin,
  Page,
  PageOptions,
  Provenance,
  SampleInput,
  SampleRecord,
  SwitchRecord,
} from './types.js';
import type { ImportApplied, ImportAudit } from './store/api.js';

export type { ImportApplied, ImportAudit };

/** One algorithm of an import: created (with its id in the exporting gallery) or an existing one merged into. */
export interface ImportPartInput {
  create?: { input: AlgorithmInput; sourceId: string };
  /** The existing algorithm merged into (when not `create`). */
  algorithmId?: string;
  /** Its samples (without origin: the bundle's record becomes it), each with its id in the exporting gallery. */
  items: ReadonlyArray<{ sample: Omit<SampleInput, 'origin'>; sourceId: string }>;
}

export interface GalleryOptions {
  /** Data directory; created if missing. Holds `gallery.sqlite` (unless `store` is set) and `index/<index key>.{hnsw,json}`. */
  dir: string;
  /**
   * A postgres:// URL (DFG_STORE): the shared store, for any number of processes on any hosts;
   * `dir` then holds only this process's index snapshots. Absent: SQLite in `dir`.
   */
  store?: string;
  /**
   * Models of the index, fused by weight (see fusionIndexId). Samples lacking a vector of one of
   * them stay out of the index until they get one. Alternative to `modelId` + `dim`.
   */
  models?: GalleryModel[];
  /** A single embedding model id; vectors of other models never share this index. */
  modelId?: string;
  /** Embedding dimension of `modelId`. */
  dim?: number;
  /** Write a snapshot after this many index changes (default 1000). */
  snapshotEvery?: number;
  /** Rebuild the index when deleted entries exceed this share of it (default 0.2). */
  compactRatio?: number;
  /** HNSW search breadth (default DEFAULT_EF_SEARCH, 256); raised to k, and to the index size for small galleries. */
  efSearch?: number;
  /** Indexes of at most this many elements are searched exhaustively (default 2000). */
  exactBelow?: number;
  /** HNSW graph parameters (default M 16, efConstruction 200). */
  hnsw?: Partial<HnswParams>;
  /** Keep enrolled image bytes under `<dir>/blobs/` for re-embedding (default false; the service default is DFG_KEEP_IMAGES=true). */
  keepImages?: boolean;
  /** How long a write waits for another process's lock (default 10 s). */
  busyTimeoutMs?: number;
  log?: GalleryLogger;
}

export interface AddSamplesOptions {
  /**
   * Refuse (DFG_ERR_IMAGE_NOT_KEPT) unless each item's image bytes are kept; default `keepImages`.
   * false: samples whose bytes the caller never had (a bundle's vectors without images), which
   * stay out of later re-embeddings like samples enrolled with DFG_KEEP_IMAGES=false.
   */
  requireKeptBytes?: boolean;
  /** Who enrols (the audit trail). */
  audit?: AuditNote;
}

export interface SearchOptions {
  /** Hide samples of disabled algorithms (default true). */
  enabledOnly?: boolean;
}

export interface GalleryInfo {
  /** Index id: the model id, or for a fusion the models and weights (`a:1+b:0.5`). */
  modelId: string;
  dim: number;
  /** The index's models with their fusion weights. */
  models: Array<{ id: string; dim: number; weight: number }>;
  /** Gallery version: the last change-log seq applied to the index. */
  version: number;
  /** samples: live in the index. */
  counts: { algorithms: number; enabledAlgorithms: number; samples: number };
  index: IndexInfo;
}

/**
 * Calls that reach the store are asynchronous (the store may be PostgreSQL): each write is
 * committed when its promise resolves. Calls answered from memory (search, info, thresholds,
 * summaries) stay synchronous.
 */
export interface Gallery {
  /** Index id (see GalleryInfo.modelId). */
  readonly modelId: string;
  /** Dimension of the (fused) index vectors. */
  readonly dim: number;
  readonly models: ReadonlyArray<Required<GalleryModel>>;
  /**
   * The index vector of per-model vectors: for one model its vector as is, for several their
   * weighted fusion (math/fusion.ts). Throws DFG_ERR_GALLERY_DIMENSION_MISMATCH or
   * DFG_ERR_REQUEST_INVALID when a model's vector is missing or malformed.
   */
  fuse(vectors: Readonly<Record<string, Float32Array>>): Float32Array;
  /**
   * Registers an algorithm (`origin`: the recorded bundle an import brings it from). Throws
   * DFG_ERR_ALGORITHM_NAME_TAKEN when the name (case-insensitive) exists.
   */
  createAlgorithm(input: AlgorithmInput, opts?: { origin?: Origin; audit?: AuditNote }): Promise<AlgorithmRecord>;
  /**
   * Imports a verified bundle in one store transaction: its record, the algorithms it creates and
   * every part's samples land whole or not at all (a crash half way leaves nothing). Checks every
   * part and item first; `keptBytes`: the image bytes written beforehand (keepImages) that must
   * still be there at the commit.
   */
  applyImport(bundle: BundleInput, parts: readonly ImportPartInput[], opts?: { keptBytes?: readonly string[]; audit?: ImportAudit }): Promise<ImportApplied>;
  /**
   * Provenance of those of the samples that were imported (for attribution evidence). Galleries
   * without any import answer from memory; the others with one store read. null while the store
   * cannot be reached: attribution answers from memory without it.
   */
  evidenceProvenance(sampleIds: readonly string[]): Promise<Map<string, Provenance> | null>;
  /** A page of algorithms in registration order, each with its sample count for this model. */
  listAlgorithms(opts?: PageOptions): Promise<Page<AlgorithmRecord>>;
  /** Throws DFG_ERR_ALGORITHM_NOT_FOUND. */
  getAlgorithm(id: string): Promise<AlgorithmRecord>;
  /** Changes the given fields. Throws DFG_ERR_ALGORITHM_NOT_FOUND or DFG_ERR_ALGORITHM_NAME_TAKEN. */
  updateAlgorithm(id: string, patch: AlgorithmPatch, audit?: AuditNote): Promise<AlgorithmRecord>;
  /** Deletes the algorithm and its samples under every model. Throws DFG_ERR_ALGORITHM_NOT_FOUND. */
  deleteAlgorithm(id: string, audit?: AuditNote): Promise<{ deletedSamples: number }>;
  /** Identity and enabled flag from memory (cheap, for decisions); undefined for an unknown id. */
  algorithmSummary(id: string): AlgorithmSummary | undefined;
  /**
   * Enrols samples in one transaction, committed before the call returns, then indexes them.
   * An item whose sha256 the algorithm already has (or that repeats one earlier in `items`) comes
   * back with `duplicate: true` and the stored sample, which gains the vectors of models it lacked. Throws DFG_ERR_ALGORITHM_NOT_FOUND,
   * DFG_ERR_GALLERY_DIMENSION_MISMATCH or DFG_ERR_REQUEST_INVALID, and then writes nothing.
   */
  addSamples(algorithmId: string, items: SampleInput[], opts?: AddSamplesOptions): Promise<AddSampleResult[]>;
  /**
   * Fences enrolments to a model switch record: from now on addSamples commits only while the
   * store's last switch record is still `record` (null: no record), and otherwise throws 503
   * DFG_ERR_MODEL_SWITCHED and writes nothing, so no process enrols with vectors of a model list
   * that another process has switched away from. undefined (the default): no fence (a process
   * pinned by DFG_MODEL).
   */
  expectSwitch(record: SwitchRecord | null | undefined): void;
  /** The store's last model switch record now, or null. Throws when it is malformed. */
  lastSwitch(): Promise<SwitchRecord | null>;
  /**
   * Stores vectors of `modelId` (any model, served or not: re-embedding) for existing samples;
   * samples gone or already holding one are skipped. Returns how many were stored.
   */
  addVectors(modelId: string, dim: number, items: Array<{ sampleId: string; vector: Float32Array }>, audit?: AuditNote): Promise<number>;
  /** How many samples lack a vector of `modelId`. */
  countMissing(modelId: string): Promise<number>;
  /** Samples lacking a vector of `modelId`, a page after seq `after` (re-embedding works through them). */
  samplesMissing(modelId: string, after: number, limit: number): Promise<SampleRecord[]>;
  /** A page of the algorithm's samples, oldest first. Throws DFG_ERR_ALGORITHM_NOT_FOUND. */
  listSamples(algorithmId: string, opts?: PageOptions): Promise<Page<SampleRecord>>;
  /** Throws DFG_ERR_SAMPLE_NOT_FOUND (also when it belongs to another algorithm). */
  getSample(algorithmId: string, sampleId: string): Promise<SampleRecord>;
  /** A sample by id whatever its algorithm, or undefined. */
  findSample(sampleId: string): Promise<SampleRecord | undefined>;
  /** Throws DFG_ERR_SAMPLE_NOT_FOUND. The kept image goes with the last sample that names it. */
  deleteSample(algorithmId: string, sampleId: string, audit?: AuditNote): Promise<void>;
  /** Whether enrolled image bytes are kept (`keepImages`). */
  readonly keepsImages: boolean;
  /**
   * Writes the image bytes under their sha256 (temp file, fsync, rename) when the gallery keeps
   * images; call before addSamples so an acknowledged sample always has its bytes. No-op otherwise.
   * Throws DFG_ERR_REQUEST_INVALID when bytes and sha256 disagree.
   */
  keepImages(items: ReadonlyArray<{ sha256: string; bytes: Uint8Array }>): Promise<void>;
  /** The kept bytes of an image, or null (not kept, or removed with its last sample). */
  readImage(sha256: string): Promise<Buffer | null>;
  /** Samples with these image bytes, under any algorithm. */
  findBySha(sha256: string): Promise<SampleRecord[]>;
  /** Every indexed sample with its index (fused) vector, in enrolment order (for calibration). */
  vectors(opts?: { batchSize?: number }): AsyncGenerator<{ sampleId: string; algorithmId: string; vector: Float32Array }>;
  /** Each given sample's stored vectors of the index's models, by model id (samples gone are absent; for exports). */
  sampleVectors(sampleIds: readonly string[]): Promise<Map<string, Map<string, Float32Array>>>;
  /**
   * The k nearest samples by cosine similarity, best first; samples of disabled algorithms are left
   * out unless `enabledOnly` is false. Throws DFG_ERR_GALLERY_DIMENSION_MISMATCH or DFG_ERR_REQUEST_INVALID.
   */
  search(vector: Float32Array, k: number, opts?: SearchOptions): Neighbour[];
  /** Applies changes committed by other processes since the last call; one indexed query when there are none. */
  refresh(): Promise<{ applied: number; version: number }>;
  /** Cheap (from memory): safe on every request. */
  info(): GalleryInfo;
  /**
   * Indexed samples of each enabled algorithm that has any (from memory): the counts a calibration
   * made now would read, to tell whether the current one is stale (calibration/auto.ts).
   */
  enabledSampleCounts(): Record<string, number>;
  /**
   * Store counts (queries; for /v1/gallery, not per request): samples stored, those lacking a
   * vector of some model of the index (left out of it until re-embedded), and per model the
   * samples lacking its vector.
   */
  coverage(): Promise<{ stored: number; incomplete: number; missing: Record<string, number> }>;
  /** Writes the index snapshot now. */
  snapshot(): Promise<SnapshotManifest>;
  /** Rebuilds the index from the store (searches keep using the old one until it is ready), then snapshots it. */
  rebuild(): Promise<void>;
  /** Resolves when no background rebuild or snapshot is running. */
  idle(): Promise<void>;
  /**
   * Runs `fn` holding the named lock of the store, shared by every process on it (PostgreSQL: an
   * advisory lock), or resolves undefined at once when another process holds it. SQLite: runs `fn`.
   */
  tryExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
  /** The newest calibration of this model, or null. */
  currentCalibration(): CalibrationRecord | null;
  /** Calibrations of this model, newest first. */
  listCalibrations(opts?: { limit?: number }): Promise<CalibrationRecord[]>;
  /** Stores a calibration; it becomes the current one (for every process, after its next refresh). */
  saveCalibration(input: CalibrationInput, audit?: AuditNote): Promise<CalibrationRecord>;
  /** A page of the audit trail (every change above appends its row in its own transaction), oldest first. */
  listAudit(query: AuditQuery): Promise<AuditRecord[]>;
  /** Keeps attribution answers for feedback (store/attributions.ts). */
  recordAttributions(rows: readonly AttributionInput[]): Promise<void>;
  /** A kept attribution (undefined when unknown or expired without feedback). */
  getAttribution(id: string): Promise<AttributionRecord | undefined>;
  /** Records a verdict and its audit row: 'missing' (unknown or expired) or 'given' (judged already) when it does not. */
  recordFeedback(id: string, feedback: FeedbackInput, audit?: AuditNote): Promise<'recorded' | 'missing' | 'given'>;
  /** Judged attributions of this index that enrolled nothing, newest first (at most `limit`). */
  feedbackPairs(limit: number): Promise<FeedbackPair[]>;
  /** Verdicts on this index's attributed answers. */
  feedbackCounts(): Promise<FeedbackCounts>;
  /**
   * Thresholds to decide with: `global` from the current calibration (absent without one) and, per
   * algorithm, its manual threshold or else its calibrated one.
   */
  effectiveThresholds(): EffectiveThresholds;
  /** Waits for background work, snapshots the index if it changed, closes the store. Later calls throw DFG_ERR_SERVER_NOT_READY. */
  close(): Promise<void>;
}
