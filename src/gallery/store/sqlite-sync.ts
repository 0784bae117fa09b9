/**
 * The durable store: one SQLite file (better-sqlite3, WAL) shared by the API and `dfg worker`
 * processes. It is the truth; the HNSW index is derived from it through the change log.
 * Callers pass already-validated input (see ../validate.ts); this module only reads and writes.
 */
import Database from 'better-sqlite3';
import { dfgError } from '../../errors.js';
import { migrate } from './migrations.js';
import { requireVectors, sampleStatements, type CheckedSample, type IndexedSample, type SampleVectors } from './samples.js';
import { algorithmStatements } from './algorithms.js';
import { calibrationStatements, type CheckedCalibration } from './calibrations.js';
import { bundleStatements, type ImportApplied, type ImportPart } from './bundles.js';
import {
  auditCalibration, auditCreate, auditDelete, auditEnrol, auditSampleDelete, auditStatements, auditSwitch, auditUpdate, auditVectors, auditFeedback, auditImport, type ImportAudit,
} from './audit.js';
import { attributionStatements } from './attributions.js';
import type {
  AddSampleResult,
  Algorithm,
  BundleInput,
  BundleRecord,
  Origin,
  Provenance,
  AlgorithmInput,
  AlgorithmPatch,
  AlgorithmRecord,
  AlgorithmSummary,
  AttributionInput,
  AttributionRecord,
  AuditNote,
  AuditQuery,
  AuditRecord,
  CalibrationRecord,
  FeedbackCounts,
  FeedbackInput,
  FeedbackPair,
  Page,
  SampleRecord,
  SwitchRecord,
} from '../types.js';

export type { CheckedSample, IndexedSample, SampleVectors };

/**
 * One change-log row. For an `add` whose sample still exists, `sample` names it (its label is the
 * sample's seq): the add enrolled it, or (with `modelId`) added that model's vector to it.
 */
export interface ChangeRow {
  seq: number;
  kind: 'add' | 'delete' | 'algorithm' | 'calibration';
  sampleId: string | null;
  modelId: string | null;
  algorithmId: string | null;
  /** HNSW label: the seq of the sample (for a delete, of the sample it removes); 0 for other kinds. */
  label: number;
  /** Set for an add whose sample still exists. */
  sample: IndexedSample | null;
}

/** A change-log row as both backends select it (the change joined with the sample it adds). */
export interface ChangeLogRow {
  seq: number;
  kind: ChangeRow['kind'];
  sample_id: string | null;
  model_id: string | null;
  algorithm_id: string | null;
  label: number | null;
  sample_seq: number | null;
  sample_alg: string | null;
}

/** The ChangeRow of a selected change-log row: an add of a sample that still exists is labelled by its seq. */
export function toChangeRow(r: ChangeLogRow): ChangeRow {
  return {
    seq: r.seq,
    kind: r.kind,
    sampleId: r.sample_id,
    modelId: r.model_id,
    algorithmId: r.algorithm_id,
    label: r.kind === 'add' ? (r.sample_seq ?? 0) : (r.label ?? 0),
    sample: r.sample_seq !== null ? { label: r.sample_seq, sampleId: r.sample_id!, algorithmId: r.sample_alg! } : null,
  };
}

export interface StoreOptions {
  /** How long a writer waits for another process's write lock, default 10 s. */
  busyTimeoutMs?: number;
}

export type Store = ReturnType<typeof openStore>;

/** meta key of the last model switch. */
const SWITCH_KEY = 'model_switch';

export function parseSwitchRecord(value: string): SwitchRecord {
  let r: Partial<Record<keyof SwitchRecord, unknown>> | null;
  try {
    r = JSON.parse(value) as typeof r;
  } catch {
    r = null;
  }
  if (!r || typeof r.list !== 'string' || typeof r.at !== 'string' || typeof r.forced !== 'boolean') {
    throw new Error(`malformed model switch record in the store's meta table: ${value.slice(0, 200)}`);
  }
  return { list: r.list, at: r.at, forced: r.forced };
}

/**
 * Opens (creating and migrating if needed) the SQLite store at `file`. Every write is one
 * IMMEDIATE transaction committed with `synchronous = FULL`, so a call that returned survives
 * kill -9 and power loss.
 */
export function openStore(file: string, opts: StoreOptions = {}) {
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  let schema: { from: number; to: number };
  try {
    schema = migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const galleryId = (db.prepare("SELECT value FROM meta WHERE key = 'gallery_id'").get() as { value: string }).value;
  const now = () => new Date().toISOString();

  const q = {
    maxSeq: db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM changes').pluck(),
    logAdd: db.prepare("INSERT INTO changes (kind, sample_id, model_id, algorithm_id, created_at) VALUES ('add', ?, ?, ?, ?)"),
    logDelete: db.prepare("INSERT INTO changes (kind, sample_id, model_id, algorithm_id, label, created_at) VALUES ('delete', ?, ?, ?, ?, ?)"),
    changesAfter: db.prepare(`SELECT c.seq, c.kind, c.sample_id, c.model_id, c.algorithm_id, c.label, s.seq AS sample_seq, s.algorithm_id AS sample_alg
      FROM changes c LEFT JOIN samples s ON c.kind = 'add' AND s.id = c.sample_id
      WHERE c.seq > @after AND c.seq <= @upto ORDER BY c.seq LIMIT @limit`),
    deletedAfter: db.prepare(`SELECT label, sample_id, algorithm_id FROM changes
      WHERE kind = 'delete' AND seq > @after AND label <= @after`),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };

  const bundles = bundleStatements(db);
  const samples = sampleStatements(db, q.logAdd, q.logDelete, bundles.get);
  const algorithms = algorithmStatements(db, samples);
  const calibrations = calibrationStatements(db);
  const audit = auditStatements(db);
  const attributions = attributionStatements(db);
  const maxSeq = (): number => q.maxSeq.get() as number;
  const lastSwitch = (): SwitchRecord | null => {
    const value = q.getMeta.get(SWITCH_KEY) as string | undefined;
    return value === undefined ? null : parseSwitchRecord(value);
  };

  return {
    file,
    /** Random id of this store file, recorded in index snapshots. */
    galleryId,
    schema,

    /** Highest committed change seq (the store's gallery version). */
    maxSeq,

    createAlgorithm: (input: Required<AlgorithmInput>, origin?: Origin | null, note?: AuditNote): Algorithm =>
      db.transaction(() => {
        const ts = now();
        const alg = algorithms.create(input, ts, origin ?? null);
        audit.append(auditCreate(note, alg), ts);
        return alg;
      }).immediate(),

    getAlgorithm: algorithms.get,

    listAlgorithms: (limit: number, offset: number): Page<AlgorithmRecord> => db.transaction(() => algorithms.page(limit, offset)).deferred(),

    /** Applies a checked patch; undefined when no such algorithm. */
    updateAlgorithm: (id: string, patch: AlgorithmPatch, note?: AuditNote): AlgorithmRecord | undefined =>
      db.transaction(() => {
        const ts = now();
        const before = algorithms.get(id);
        if (!before) return undefined;
        const after = algorithms.update(id, patch, ts)!;
        audit.append(auditUpdate(note, before, after, patch), ts);
        return after;
      }).immediate(),

    /** Deletes the algorithm and all its samples (with their vectors), logging one delete per sample. */
    deleteAlgorithm: (id: string, note?: AuditNote): { samples: number; sha256s: string[] } | undefined =>
      db.transaction(() => {
        const ts = now();
        const before = algorithms.get(id);
        if (!before) return undefined;
        const res = algorithms.delete(id, ts)!;
        audit.append(auditDelete(note, before, res.samples), ts);
        return res;
      }).immediate(),

    /** Every algorithm's identity, enabled flag and manual threshold (the index keeps these in memory). */
    algorithmSummaries: (): Array<AlgorithmSummary & { threshold: number | null }> => algorithms.summaries(),

    /**
     * Enrols items in one transaction: a new (algorithm, sha256) becomes a sample with the item's
     * vectors; a stored one (or a repeat within the batch) is a duplicate that only gains the
     * vectors of models it lacks.
     */
    addSamples: (algorithmId: string, items: CheckedSample[], precheck?: () => void, note?: AuditNote): AddSampleResult[] =>
      db
        .transaction(() => {
          // Under the write lock: what precheck sees cannot change before the commit.
          precheck?.();
          requireVectors(items);
          if (!algorithms.exists(algorithmId)) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', algorithmId);
          const ts = now();
          const before = maxSeq();
          const results = samples.add(algorithmId, items, ts);
          const changes = maxSeq() - before;
          // Every item a duplicate that gained nothing: nothing changed, nothing to audit.
          if (changes > 0) audit.append(auditEnrol(note, algorithmId, results, changes), ts);
          return results;
        })
        .immediate(),

    /** Adds vectors of one model to existing samples (re-embedding) in one transaction; returns how many were stored. */
    addVectors: (modelId: string, items: Array<{ sampleId: string; vector: Float32Array }>, note?: AuditNote): number =>
      db
        .transaction(() => {
          const ts = now();
          let stored = 0;
          for (const it of items) if (samples.addVector(it.sampleId, modelId, it.vector, ts)) stored++;
          if (stored > 0) audit.append(auditVectors(note, modelId, stored), ts);
          return stored;
        })
        .immediate(),

    listSamples: (algorithmId: string, limit: number, offset: number): Page<SampleRecord> =>
      db.transaction(() => samples.page(algorithmId, limit, offset)).deferred(),

    getSample: (algorithmId: string, sampleId: string): SampleRecord | undefined => samples.get(algorithmId, sampleId),
    /** A sample by id alone, whatever its algorithm. */
    sampleById: (sampleId: string): SampleRecord | undefined => samples.byId(sampleId),

    /** Deletes one sample and its vectors and logs it; undefined when it does not exist under that algorithm. */
    deleteSample: (algorithmId: string, sampleId: string, note?: AuditNote): SampleRecord | undefined =>
      db.transaction(() => {
        const ts = now();
        const s = samples.delete(algorithmId, sampleId, ts);
        if (s) audit.append(auditSampleDelete(note, s), ts);
        return s;
      }).immediate(),

    /** Samples with these image bytes, under any algorithm. */
    findBySha: (sha256: string): SampleRecord[] => samples.bySha(sha256),

    countSamples: (): number => samples.count(),
    /** Samples holding a vector of every model in `models` (added at or before `upto`). */
    countComplete: (models: readonly string[], upto = Number.MAX_SAFE_INTEGER): number => samples.countComplete(models, upto),
    /** Samples with no vector of `modelId`. */
    countMissing: (modelId: string): number => samples.missing(modelId),
    /** A page (by seq) of samples with no vector of `modelId`: what a re-embedding still has to do. */
    samplesMissing: (modelId: string, after: number, limit: number): SampleRecord[] => samples.missingPage(modelId, after, limit),

    /** Change rows in (after, upto], oldest first. */
    changesAfter: (after: number, upto: number, limit: number): ChangeRow[] =>
      (q.changesAfter.all({ after, upto, limit }) as ChangeLogRow[]).map(toChangeRow),

    /** A page (by seq) of samples in (after, upto] that held a vector of every model in `models` at seq `upto`. */
    indexedSamples: (models: readonly string[], after: number, upto: number, limit: number): IndexedSample[] =>
      samples.complete(models, after, upto, limit),

    /** Like indexedSamples, with the vectors of `models`. */
    indexedVectors: (models: readonly string[], after: number, upto: number, limit: number): SampleVectors[] =>
      db
        .transaction(() => samples.complete(models, after, upto, limit).map((s) => ({ ...s, vectors: samples.vectorsAt(s.sampleId, upto, models) })))
        .deferred(),

    /** The vectors of `models` that sample `sampleId` held at seq `upto`. */
    sampleVectors: (sampleId: string, models: readonly string[], upto: number): Map<string, Float32Array> => samples.vectorsAt(sampleId, upto, models),

    /** Samples that existed at seq `after` and were deleted since (a snapshot taken at `after` may still hold them). */
    deletedAfter: (after: number): IndexedSample[] =>
      (q.deletedAfter.all({ after }) as Array<{ label: number; sample_id: string; algorithm_id: string }>).map((r) => ({
        label: r.label, sampleId: r.sample_id, algorithmId: r.algorithm_id,
      })),

    /** The bundle's row (by its sha256), created when new: imported samples and algorithms name it. */
    recordBundle: (input: BundleInput): { bundle: BundleRecord; created: boolean } => db.transaction(() => bundles.record(input, now())).immediate(),
    /** Removes a bundle row nothing names (an import undone); whether it did. */
    forgetBundle: (id: string): boolean => db.transaction(() => bundles.forget(id)).immediate(),
    /**
     * An import in one IMMEDIATE transaction (see GalleryStore.applyImport): the bundle's record,
     * the algorithms it creates and every part's samples, or nothing.
     */
    applyImport: (bundle: BundleInput, parts: readonly ImportPart[], precheck?: () => void, importAudit?: ImportAudit): ImportApplied =>
      db
        .transaction(() => {
          precheck?.();
          const ts = now();
          const { bundle: record, created } = bundles.record(bundle, ts);
          const made = parts.map((p) => {
            const items = p.items.map((it) => ({ ...it.sample, origin: { bundleId: record.id, sourceId: it.sourceId } }));
            requireVectors(items);
            const algorithm = p.create ? algorithms.create(p.create.input, ts, { bundleId: record.id, sourceId: p.create.sourceId }) : null;
            const algorithmId = algorithm ? algorithm.id : p.algorithmId!;
            if (!p.create && !algorithms.exists(algorithmId)) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', algorithmId);
            const before = maxSeq();
            const results = items.length > 0 ? samples.add(algorithmId, items, ts) : [];
            return { algorithm, algorithmId, results, changes: maxSeq() - before };
          });
          // A bundle that added nothing (every sample a duplicate, or skipped) leaves no record behind.
          const recorded = created && !bundles.forget(record.id);
          for (const e of auditImport(importAudit, record.id, made)) audit.append(e, ts);
          return { bundle: record, recorded, parts: made.map((m) => ({ algorithmId: m.algorithmId, created: m.algorithm !== null, results: m.results })) };
        })
        .immediate(),
    /** Whether any bundle is recorded (so attribution can skip provenance look-ups in galleries without imports). */
    hasBundles: (): boolean => bundles.any(),
    /** Provenance of those samples that were imported (others are absent). */
    provenanceOf: (sampleIds: readonly string[]): Map<string, Provenance> => bundles.provenanceOf(sampleIds),

    /** Stores a calibration of index `modelId` and logs it, so other processes pick it up on refresh. */
    saveCalibration: (modelId: string, input: CheckedCalibration, note?: AuditNote): CalibrationRecord =>
      db.transaction(() => {
        const ts = now();
        const saved = calibrations.save(modelId, input, ts);
        audit.append(auditCalibration(note, modelId, saved), ts);
        return saved;
      }).immediate(),

    listCalibrations: (modelId: string, limit: number): CalibrationRecord[] => calibrations.list(modelId, limit),

    /** The recorded model switch, or null; throws when the meta row is malformed (edited by hand, say). */
    lastSwitch,

    /** Records a successful model switch (replacing the previous record), committed before it returns. */
    recordSwitch: (list: string, forced: boolean, note?: AuditNote): SwitchRecord =>
      db.transaction(() => {
        let previous: string | null;
        try {
          previous = lastSwitch()?.list ?? null;
        } catch {
          previous = null; // a malformed record is replaced
        }
        const record: SwitchRecord = { list, at: now(), forced };
        q.setMeta.run(SWITCH_KEY, JSON.stringify(record));
        audit.append(auditSwitch(note, list, forced, previous), record.at);
        return record;
      }).immediate(),

    listAudit: (query: AuditQuery): AuditRecord[] => audit.list(query),

    /** Keeps attribution answers for feedback, and prunes a batch of expired ones. */
    recordAttributions: (rows: readonly AttributionInput[]): void => db.transaction(() => attributions.record(rows, now())).immediate(),

    /** A kept attribution, or undefined (never kept, or expired without feedback). */
    getAttribution: (id: string): AttributionRecord | undefined => {
      const a = attributions.get(id);
      return a && (a.verdict !== null || a.expiresAt > now()) ? a : undefined;
    },

    /**
     * Records feedback on a kept attribution with its audit row: 'missing' when there is none (or it
     * expired), 'given' when it has a verdict already.
     */
    recordFeedback: (id: string, f: FeedbackInput, note?: AuditNote): 'recorded' | 'missing' | 'given' =>
      db.transaction(() => {
        const ts = now();
        const a = attributions.get(id);
        if (!a || (a.verdict === null && a.expiresAt <= ts)) return 'missing';
        if (!attributions.feedback(id, f, note?.keyId ?? null, ts)) return 'given';
        audit.append(auditFeedback(note, a, f), ts);
        return 'recorded';
      }).immediate(),

    feedbackPairs: (modelId: string, limit: number): FeedbackPair[] => db.transaction(() => attributions.pairs(modelId, limit)).deferred(),
    feedbackCounts: (modelId: string): FeedbackCounts => attributions.counts(modelId),

    /** Runs `fn` inside one read transaction, so several reads see the same committed state. */
    read: <T>(fn: () => T): T => db.transaction(fn).deferred(),

    /** Runs `fn` holding the store's write lock (an IMMEDIATE transaction), across processes. */
    exclusive: <T>(fn: () => T): T => db.transaction(fn).immediate(),

    close: (): void => {
      if (db.open) db.close();
    },
  };
}

