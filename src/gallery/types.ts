/**
 * Records and inputs shared by the gallery's store, index and public API: algorithms, samples,
 * calibrations, pages. Types and taxonomy constants only: no behaviour here. The Gallery
 * interface itself is in gallery-api.ts.
 */
import type { GalleryMetric } from '../attribution/gallery-metric.js';

/** Forgery types of the DeepfakeGenome taxonomy, plus `authentic` reference classes and `unknown`. */
export const FORGERY_TYPES = ['FS', 'FR', 'EFS', 'FE', 'authentic', 'unknown'] as const;
export type ForgeryType = (typeof FORGERY_TYPES)[number];

/** Generator architectures of the DeepfakeGenome taxonomy, plus `authentic` and `other`. */
export const ARCHITECTURES = ['CNN', 'CG', 'GAN', 'Diffusion', 'VAR', 'closed-source', 'authentic', 'other'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** A registered forgery algorithm (or an authentic reference class). */
export interface Algorithm {
  id: string;
  name: string;
  forgeryType: ForgeryType;
  architecture: Architecture;
  description: string;
  reference: string;
  enabled: boolean;
  /** Per-algorithm similarity threshold; `null` falls back to the calibrated or global one. */
  threshold: number | null;
  createdAt: string;
  updatedAt: string;
  /** Where it came from when a signed bundle created it (dfg gallery import, POST /v1/imports); null when registered here. */
  provenance: Provenance | null;
}

/** An algorithm with the number of samples it has (under any model). */
export interface AlgorithmRecord extends Algorithm {
  sampleCount: number;
}

/** What a decision needs to name an algorithm (no threshold: thresholds come from `effectiveThresholds`). */
export interface AlgorithmSummary {
  id: string;
  name: string;
  forgeryType: ForgeryType;
  architecture: Architecture;
  enabled: boolean;
}

/** Fields accepted when registering an algorithm; only `name` is required. */
export interface AlgorithmInput {
  name: string;
  /** Default `unknown`. */
  forgeryType?: ForgeryType;
  /** Default `other`. */
  architecture?: Architecture;
  description?: string;
  reference?: string;
  /** Default `true`. */
  enabled?: boolean;
  threshold?: number | null;
}

/** Fields that `updateAlgorithm` may change; absent fields stay as they are. */
export type AlgorithmPatch = Partial<AlgorithmInput>;

/** One enrolled sample: one image of one algorithm, with a vector per model id. */
export interface SampleRecord {
  id: string;
  algorithmId: string;
  /** Hex SHA-256 of the image bytes. */
  sha256: string;
  width: number;
  height: number;
  filename: string | null;
  createdAt: string;
  /** Change-log sequence number of its enrolment; also its label in the HNSW index. */
  seq: number;
  /** Model ids the sample has a stored vector for, sorted. */
  models: string[];
  /** Where it came from when it was imported from a signed bundle; null when enrolled here. */
  provenance: Provenance | null;
}

/** A signed bundle as the gallery records it when something is imported from it. */
export interface BundleInput {
  /** SHA-256 of the whole bundle file (hex). */
  sha256: string;
  /** Publisher (key id) that signed it. */
  publisher: string;
  /** SHA-256 (hex) of the raw Ed25519 public key its signature verified with. */
  keyFingerprint: string;
  /** The exporting software named in its manifest. */
  software: string;
  /** When it was exported (its manifest's createdAt). */
  exportedAt: string;
}

/** A recorded bundle: one row per bundle file (by sha256), however often it is imported. */
export interface BundleRecord extends BundleInput {
  /** `bnd_…`. */
  id: string;
  /** When something was first imported from it. */
  importedAt: string;
}

/** Where an imported sample or algorithm came from: its bundle, and its id in the exporting gallery. */
export interface Provenance {
  bundleId: string;
  bundleSha256: string;
  publisher: string;
  keyFingerprint: string;
  software: string;
  exportedAt: string;
  importedAt: string;
  /** The sample's (or algorithm's) id in the gallery that exported the bundle. */
  sourceId: string;
}

/** What links a new sample or algorithm to a recorded bundle. */
export interface Origin {
  bundleId: string;
  sourceId: string;
}

/**
 * One image to enrol: `vectors` by model id (every model of the gallery), or, for a gallery of
 * one model, `vector`.
 */
export interface SampleInput {
  sha256: string;
  vector?: Float32Array;
  vectors?: Readonly<Record<string, Float32Array>>;
  width: number;
  height: number;
  filename?: string;
  /** Set by an import: the recorded bundle (recordBundle) and the sample's id in it. */
  origin?: Origin;
}

/** One model of a gallery's (possibly fused) index. */
export interface GalleryModel {
  id: string;
  dim: number;
  /** Fusion weight (default 1); only ratios between weights matter. */
  weight?: number;
}

/** Outcome of enrolling one item: the stored sample, and whether it was already there. */
export interface AddSampleResult {
  sample: SampleRecord;
  duplicate: boolean;
}

/** One search hit. `similarity` is the cosine similarity in [-1, 1]. */
export interface Neighbour {
  sampleId: string;
  algorithmId: string;
  similarity: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageOptions {
  /** 1..1000, default 50. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

/** Thresholds produced by a calibration run (see attribution/calibrate.ts). */
export interface CalibrationThresholds {
  global: number;
  /** Calibrated threshold per algorithm id. */
  perAlgorithm: Record<string, number>;
}

/** A calibration run to store. `params` is opaque JSON (options, statistics) kept for audit. */
export interface CalibrationInput extends CalibrationThresholds {
  targetFpir: number;
  params?: Record<string, unknown>;
  /** The gallery-adapted metric the thresholds were computed in; searches use it while this calibration is current. */
  metric?: GalleryMetric;
}

/** A stored calibration; the newest per model (highest version) is the current one. */
export interface CalibrationRecord extends CalibrationThresholds {
  /** Monotonic across the store. */
  version: number;
  modelId: string;
  createdAt: string;
  targetFpir: number;
  params: Record<string, unknown>;
  /** Present when the calibration fitted a gallery-adapted metric (header in params.metric). */
  metric?: GalleryMetric;
}

/** Thresholds to decide with: the calibrated global one (if any) and per-algorithm values (manual overrides win over calibrated ones). */
export interface EffectiveThresholds {
  global?: number;
  perAlgorithm: Record<string, number>;
}

/** The subset of a pino logger the gallery uses. */
export interface GalleryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The last successful model switch (PUT /v1/model), recorded in the store's meta table. */
export interface SwitchRecord {
  /** The list switched to, in DFG_MODEL syntax (formatted: `a,b:0.5`). */
  list: string;
  /** When, ISO 8601. */
  at: string;
  /** Whether it was forced past samples lacking a vector of a listed model. */
  forced: boolean;
}

/** Whether two switch records (or their absence, null) are the same record. */
export function sameSwitch(a: SwitchRecord | null | undefined, b: SwitchRecord | null | undefined): boolean {
  if (!a || !b) return (a ?? null) === (b ?? null);
  return a.list === b.list && a.at === b.at && a.forced === b.forced;
}

/** Who made a change, recorded with it in the audit trail. */
export interface AuditNote {
  /** The API key id of the request (null: auth off, the CLI, or the server on its own). */
  keyId: string | null;
  /** Extra context kept with the change (say, the import or the attribution that caused it). */
  context?: Record<string, unknown>;
}

export const AUDIT_ACTIONS = [
  'algorithm.create', 'algorithm.update', 'algorithm.delete', 'samples.enrol', 'sample.delete', 'vectors.add',
  'bundle.import', 'calibration.save', 'model.switch', 'attribution.feedback',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One row of the append-only audit trail. */
export interface AuditRecord {
  /** Increasing, never reused (the audit trail's own sequence, not the change log's). */
  seq: number;
  /** When, ISO 8601. */
  at: string;
  keyId: string | null;
  action: AuditAction;
  /** The algorithm, sample, model or attribution id it concerns; null for none. */
  subject: string | null;
  /** What changed. */
  detail: Record<string, unknown>;
}

/** Which audit rows to read: after a seq, and at or after a time. */
export interface AuditQuery {
  afterSeq: number;
  since?: string;
  limit: number;
}

export const VERDICTS = ['confirm', 'reject', 'relabel'] as const;
/** An analyst's verdict on an attribution: right, wrong, or wrong and it was another algorithm. */
export type Verdict = (typeof VERDICTS)[number];

/** An attribution answer as kept for feedback: what was decided, and the query's vectors (never its bytes). */
export interface AttributionInput {
  /** `att_…`. */
  id: string;
  createdAt: string;
  /** Pruned after this time unless it received feedback. */
  expiresAt: string;
  keyId: string | null;
  /** The index id that answered. */
  modelId: string;
  decision: 'attributed' | 'unknown' | 'authentic';
  /** The algorithm decided on (null for unknown). */
  algorithmId: string | null;
  score: number;
  threshold: number;
  candidates: Array<{ algorithmId: string; score: number }>;
  sha256: string;
  width: number;
  height: number;
  /** The query's vector per model id. */
  vectors: Readonly<Record<string, Float32Array>>;
}

/** A kept attribution with its feedback, if any. */
export interface AttributionRecord extends Omit<AttributionInput, 'vectors'> {
  vectors: Map<string, Float32Array>;
  verdict: Verdict | null;
  /** The algorithm the verdict is about: the attributed one (confirm, reject) or the right one (relabel). */
  verdictAlgorithmId: string | null;
  verdictKeyId: string | null;
  verdictAt: string | null;
  /** The sample the verdict enrolled, if it did. */
  enrolledSampleId: string | null;
}

/** Feedback to record on an attribution. */
export interface FeedbackInput {
  verdict: Verdict;
  algorithmId: string | null;
  enrolledSampleId: string | null;
}

/** A judged pair for calibration: the query vectors and the algorithm, genuine (confirm, relabel) or impostor (reject). */
export interface FeedbackPair {
  attributionId: string;
  algorithmId: string;
  genuine: boolean;
  vectors: Map<string, Float32Array>;
}

/** Feedback on the attributed answers of an index: how often they were right. */
export interface FeedbackCounts {
  confirmed: number;
  rejected: number;
  relabelled: number;
}
