/**
 * The gallery store as the gallery sees it: one asynchronous interface that the embedded SQLite
 * store (sqlite.ts, a directory) and the shared PostgreSQL store (pg.ts, a URL) both
 * implement. Every write is one transaction committed before its promise resolves. The change
 * log's seq is the gallery version; the HNSW index of every process is derived from it.
 * Every change of the registry appends its audit row (who: the `note`, when, what) in its own
 * transaction; a write without a note is recorded with a null key id.
 */
import type { ChangeRow, CheckedSample, IndexedSample, SampleVectors } from './sqlite-sync.js';
import type { CheckedCalibration } from './calibrations.js';
import type { AuditEntry, ImportAudit } from './audit.js';
import type { ImportApplied, ImportPart } from './bundles.js';
import type {
  AddSampleResult,
  Algorithm,
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
  BundleRecord,
  CalibrationRecord,
  FeedbackCounts,
  FeedbackInput,
  FeedbackPair,
  Origin,
  Page,
  Provenance,
  SampleRecord,
  SwitchRecord,
} from '../types.js';

export type { ChangeRow, CheckedSample, IndexedSample, SampleVectors, CheckedCalibration, AuditEntry, ImportAudit, ImportApplied, ImportPart };

/** What an enrolment checks under the write lock, so neither can change before its commit. */
export interface AddSampleChecks {
  /** The switch record enrolments are fenced to (null: none recorded); undefined: no fence. */
  fence?: SwitchRecord | null;
  /** Refuse (DFG_ERR_IMAGE_NOT_KEPT) when an item's image bytes are not kept. */
  keptBytes?: boolean;
}

/** What an import checks under the write lock. */
export interface ImportChecks {
  fence?: SwitchRecord | null;
  /** Image bytes that must be kept (those the bundle carried, written before the transaction). */
  keptBytes?: readonly string[];
}

export interface GalleryStore {
  /** 'sqlite' or 'postgres'. */
  readonly kind: 'sqlite' | 'postgres';
  /** Where it lives, for logs: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /** Random id of this store, recorded in index snapshots. */
  readonly galleryId: string;
  /** Schema version before and after opening (from 0: created now). */
  readonly schema: { from: number; to: number };

  /** Highest committed change seq (the store's gallery version). */
  maxSeq(): Promise<number>;

  /** `origin`: the recorded bundle that brings it (an import). */
  createAlgorithm(input: Required<AlgorithmInput>, origin?: Origin | null, note?: AuditNote): Promise<Algorithm>;
  getAlgorithm(id: string): Promise<AlgorithmRecord | undefined>;
  listAlgorithms(limit: number, offset: number): Promise<Page<AlgorithmRecord>>;
  /** Applies a checked patch; undefined when no such algorithm. */
  updateAlgorithm(id: string, patch: AlgorithmPatch, note?: AuditNote): Promise<AlgorithmRecord | undefined>;
  /** Deletes the algorithm and its samples (with their vectors), logging one delete per sample; drops kept bytes no sample names any more. */
  deleteAlgorithm(id: string, note?: AuditNote): Promise<{ samples: number; sha256s: string[] } | undefined>;
  /** Every algorithm's identity, enabled flag and manual threshold. */
  algorithmSummaries(): Promise<Array<AlgorithmSummary & { threshold: number | null }>>;

  /**
   * Enrols items in one transaction (see Store.addSamples); `checks` run under the write lock.
   * Throws DFG_ERR_ALGORITHM_NOT_FOUND, DFG_ERR_MODEL_SWITCHED, DFG_ERR_IMAGE_NOT_KEPT.
   */
  addSamples(algorithmId: string, items: CheckedSample[], checks?: AddSampleChecks, note?: AuditNote): Promise<AddSampleResult[]>;
  /** Adds vectors of one model to existing samples in one transaction; how many were stored. */
  addVectors(modelId: string, items: Array<{ sampleId: string; vector: Float32Array }>, note?: AuditNote): Promise<number>;
  listSamples(algorithmId: string, limit: number, offset: number): Promise<Page<SampleRecord>>;
  getSample(algorithmId: string, sampleId: string): Promise<SampleRecord | undefined>;
  sampleById(sampleId: string): Promise<SampleRecord | undefined>;
  /** Deletes one sample and its vectors and logs it; drops its kept bytes when no other sample names them. */
  deleteSample(algorithmId: string, sampleId: string, note?: AuditNote): Promise<SampleRecord | undefined>;
  findBySha(sha256: string): Promise<SampleRecord[]>;

  /** Samples stored, those lacking a vector of some model in `modelIds`, and per model those lacking its vector (one consistent read). */
  coverage(modelIds: readonly string[]): Promise<{ stored: number; incomplete: number; missing: Record<string, number> }>;
  countSamples(): Promise<number>;
  countComplete(models: readonly string[], upto?: number): Promise<number>;
  countMissing(modelId: string): Promise<number>;
  samplesMissing(modelId: string, after: number, limit: number): Promise<SampleRecord[]>;

  /** Change rows in (after, upto], oldest first. */
  changesAfter(after: number, upto: number, limit: number): Promise<ChangeRow[]>;
  /** Samples in (after, upto] that held a vector of every model in `models` at seq `upto`. */
  indexedSamples(models: readonly string[], after: number, upto: number, limit: number): Promise<IndexedSample[]>;
  /** Like indexedSamples, with the vectors of `models`. */
  indexedVectors(models: readonly string[], after: number, upto: number, limit: number): Promise<SampleVectors[]>;
  /** The vectors of `models` that each sample held at seq `upto`. */
  vectorsOf(sampleIds: readonly string[], models: readonly string[], upto: number): Promise<Map<string, Map<string, Float32Array>>>;
  /** Samples that existed at seq `after` and were deleted since. */
  deletedAfter(after: number): Promise<IndexedSample[]>;

  /** The bundle's row (by its sha256), created when new; imported samples and algorithms name its id in their origin. */
  recordBundle(input: BundleInput): Promise<{ bundle: BundleRecord; created: boolean }>;
  /** Removes a bundle row that nothing names any more (an import undone); whether it did. */
  forgetBundle(id: string): Promise<boolean>;
  /**
   * An import in one transaction: the bundle's record, the algorithms it creates, the samples of
   * every part. It lands whole or not at all, also when the process dies half way.
   */
  applyImport(bundle: BundleInput, parts: readonly ImportPart[], checks?: ImportChecks, audit?: ImportAudit): Promise<ImportApplied>;
  /** Whether any bundle is recorded. */
  hasBundles(): Promise<boolean>;
  /** Provenance of those of the samples that were imported (the others are absent from the map). */
  provenanceOf(sampleIds: readonly string[]): Promise<Map<string, Provenance>>;

  saveCalibration(modelId: string, input: CheckedCalibration, note?: AuditNote): Promise<CalibrationRecord>;
  listCalibrations(modelId: string, limit: number): Promise<CalibrationRecord[]>;

  /** The recorded model switch, or null; throws when malformed. */
  lastSwitch(): Promise<SwitchRecord | null>;
  recordSwitch(list: string, forced: boolean, note?: AuditNote): Promise<SwitchRecord>;

  /** Audit rows after `afterSeq` (and at or after `since`, an ISO time as toISOString writes it), oldest first. */
  listAudit(query: AuditQuery): Promise<AuditRecord[]>;

  /** Keeps attribution answers for feedback (one transaction, outside the change log), pruning a batch of expired ones. */
  recordAttributions(rows: readonly AttributionInput[]): Promise<void>;
  /** A kept attribution with its vectors; undefined when never kept or expired without feedback. */
  getAttribution(id: string): Promise<AttributionRecord | undefined>;
  /** Records a verdict with its audit row: 'missing' (none kept, or expired), 'given' (a verdict is recorded already). */
  recordFeedback(id: string, feedback: FeedbackInput, note?: AuditNote): Promise<'recorded' | 'missing' | 'given'>;
  /** Judged attributions of index `modelId` that enrolled nothing, newest first, with their vectors (calibration evidence). */
  feedbackPairs(modelId: string, limit: number): Promise<FeedbackPair[]>;
  /** Verdicts on the attributed answers of index `modelId`. */
  feedbackCounts(modelId: string): Promise<FeedbackCounts>;

  /** Keeps image bytes under their sha256 (durable before it resolves). Throws DFG_ERR_REQUEST_INVALID when they do not hash to it. */
  putImage(sha256: string, bytes: Uint8Array): Promise<void>;
  /** Kept bytes, or null. */
  getImage(sha256: string): Promise<Buffer | null>;
  /** Removes kept bytes that no sample names (after a delete committed). */
  dropUnreferenced(sha256s: Iterable<string>): Promise<void>;

  /**
   * Runs `fn` while holding the named lock across every process on this store, or returns
   * undefined at once when another holds it (automatic calibration: one process at a time).
   */
  tryExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;

  /**
   * Calls `listener` soon after another process commits a change (PostgreSQL LISTEN/NOTIFY);
   * returns the unsubscribe function. SQLite has no such signal: callers poll.
   */
  onChange(listener: () => void): () => void;

  close(): Promise<void>;
}
