/**
 * The durable store: one SQLite file (better-sqlite3, WAL) shared by the API and `dfg worker`
 * processes. It is the truth; the HNSW index is derived from it through the change log.
 * Callers pass already-validated input (see validate.ts); this module only reads and writes.
 */
import Database from 'better-sqlite3';
import { dfgError } from '../errors.js';
import { migrate } from './migrations.js';
import { blobToVector, newId, toAlgorithm, toSample, vectorToBlob, withCount, type AlgorithmRow, type SampleRow } from './store-rows.js';
import type {
  AddSampleResult,
  Algorithm,
  AlgorithmInput,
  AlgorithmPatch,
  AlgorithmRecord,
  AlgorithmSummary,
  CalibrationInput,
  CalibrationRecord,
  Page,
  SampleRecord,
} from './types.js';

/** A sample as the index needs it. */
export interface IndexedSample {
  label: number;
  sampleId: string;
  algorithmId: string;
}

/** One change-log row; `vector` is set for an add whose sample still exists. */
export interface ChangeRow {
  seq: number;
  kind: 'add' | 'delete' | 'algorithm' | 'calibration';
  sampleId: string | null;
  modelId: string | null;
  algorithmId: string | null;
  /** HNSW label: the seq of the add row (for an add, its own seq). */
  label: number;
  vector: Float32Array | null;
}

/** A validated enrolment item. */
export interface CheckedSample {
  sha256: string;
  vector: Float32Array;
  width: number;
  height: number;
  filename: string | null;
}

export interface StoreOptions {
  /** How long a writer waits for another process's write lock, default 10 s. */
  busyTimeoutMs?: number;
}

export type Store = ReturnType<typeof openStore>;

const SAMPLE_COLS = 'id, algorithm_id, model_id, sha256, dim, width, height, filename, created_at, seq';
const ALG_COLS = 'a.id, a.name, a.forgery_type, a.architecture, a.description, a.reference, a.enabled, a.threshold, a.created_at, a.updated_at';
const COUNT_COL = '(SELECT count(*) FROM samples s WHERE s.algorithm_id = a.id AND s.model_id = @modelId) AS sample_count';

function isNameConflict(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && /algorithms\.name/.test(e.message ?? '');
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
    logAlgorithm: db.prepare("INSERT INTO changes (kind, algorithm_id, created_at) VALUES ('algorithm', ?, ?)"),
    logAdd: db.prepare("INSERT INTO changes (kind, sample_id, model_id, algorithm_id, created_at) VALUES ('add', ?, ?, ?, ?)"),
    logDelete: db.prepare("INSERT INTO changes (kind, sample_id, model_id, algorithm_id, label, created_at) VALUES ('delete', ?, ?, ?, ?, ?)"),
    insertAlgorithm: db.prepare(`INSERT INTO algorithms (id, name, forgery_type, architecture, description, reference, enabled, threshold, created_at, updated_at)
      VALUES (@id, @name, @forgeryType, @architecture, @description, @reference, @enabled, @threshold, @now, @now)`),
    algorithm: db.prepare(`SELECT ${ALG_COLS}, ${COUNT_COL} FROM algorithms a WHERE a.id = @id`),
    algorithmExists: db.prepare('SELECT 1 FROM algorithms WHERE id = ?').pluck(),
    algorithms: db.prepare(`SELECT ${ALG_COLS}, ${COUNT_COL} FROM algorithms a ORDER BY a.rowid LIMIT @limit OFFSET @offset`),
    algorithmTotal: db.prepare('SELECT count(*) FROM algorithms').pluck(),
    algorithmSummaries: db.prepare('SELECT id, name, forgery_type, architecture, enabled, threshold FROM algorithms'),
    deleteAlgorithm: db.prepare('DELETE FROM algorithms WHERE id = ?'),
    samplesOfAlgorithm: db.prepare('SELECT id, model_id, seq FROM samples WHERE algorithm_id = ?'),
    deleteSamplesOfAlgorithm: db.prepare('DELETE FROM samples WHERE algorithm_id = ?'),
    sampleByKey: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples WHERE algorithm_id = ? AND model_id = ? AND sha256 = ?`),
    insertSample: db.prepare(`INSERT INTO samples (id, algorithm_id, model_id, sha256, vector, dim, width, height, filename, created_at, seq)
      VALUES (@id, @algorithmId, @modelId, @sha256, @vector, @dim, @width, @height, @filename, @createdAt, @seq)`),
    sample: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples WHERE id = ? AND algorithm_id = ? AND model_id = ?`),
    samplesPage: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples WHERE algorithm_id = ? AND model_id = ? ORDER BY seq LIMIT ? OFFSET ?`),
    samplesTotal: db.prepare('SELECT count(*) FROM samples WHERE algorithm_id = ? AND model_id = ?').pluck(),
    samplesBySha: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples WHERE model_id = ? AND sha256 = ? ORDER BY seq`),
    deleteSample: db.prepare('DELETE FROM samples WHERE id = ?'),
    countSamples: db.prepare('SELECT count(*) FROM samples WHERE model_id = ?').pluck(),
    changesAfter: db.prepare(`SELECT c.seq, c.kind, c.sample_id, c.model_id, c.algorithm_id, c.label, s.vector
      FROM changes c LEFT JOIN samples s ON c.kind = 'add' AND s.id = c.sample_id
      WHERE c.seq > @after AND c.seq <= @upto AND (c.model_id = @modelId OR c.kind = 'algorithm') ORDER BY c.seq LIMIT @limit`),
    indexedSamples: db.prepare(`SELECT seq, id, algorithm_id FROM samples
      WHERE model_id = @modelId AND seq > @after AND seq <= @upto ORDER BY seq LIMIT @limit`),
    indexedVectors: db.prepare(`SELECT seq, id, algorithm_id, vector FROM samples
      WHERE model_id = @modelId AND seq > @after AND seq <= @upto ORDER BY seq LIMIT @limit`),
    deletedAfter: db.prepare(`SELECT label, sample_id, algorithm_id FROM changes
      WHERE kind = 'delete' AND model_id = @modelId AND seq > @after AND label <= @after`),
    insertCalibration: db.prepare(`INSERT INTO calibrations (model_id, created_at, target_fpir, params, thresholds)
      VALUES (?, ?, ?, ?, ?)`),
    logCalibration: db.prepare("INSERT INTO changes (kind, model_id, created_at) VALUES ('calibration', ?, ?)"),
    calibrations: db.prepare('SELECT * FROM calibrations WHERE model_id = ? ORDER BY id DESC LIMIT ?'),
  };

  const toCalibration = (r: { id: number; model_id: string; created_at: string; target_fpir: number; params: string; thresholds: string }): CalibrationRecord => {
    const thresholds = JSON.parse(r.thresholds) as { global: number; perAlgorithm: Record<string, number> };
    return {
      version: r.id,
      modelId: r.model_id,
      createdAt: r.created_at,
      targetFpir: r.target_fpir,
      global: thresholds.global,
      perAlgorithm: thresholds.perAlgorithm,
      params: JSON.parse(r.params) as Record<string, unknown>,
    };
  };

  const getAlgorithm = (id: string, modelId: string): AlgorithmRecord | undefined => {
    const row = q.algorithm.get({ id, modelId }) as AlgorithmRow | undefined;
    return row && withCount(row);
  };

  return {
    file,
    /** Random id of this store file, recorded in index snapshots. */
    galleryId,
    schema,

    /** Highest committed change seq (the store's gallery version). */
    maxSeq: (): number => q.maxSeq.get() as number,

    createAlgorithm: (input: Required<AlgorithmInput>): Algorithm =>
      db
        .transaction(() => {
          const id = newId('alg');
          const ts = now();
          try {
            q.insertAlgorithm.run({ ...input, id, enabled: input.enabled ? 1 : 0, now: ts });
          } catch (err) {
            if (isNameConflict(err)) throw dfgError('DFG_ERR_ALGORITHM_NAME_TAKEN', input.name);
            throw err;
          }
          q.logAlgorithm.run(id, ts);
          return toAlgorithm(q.algorithm.get({ id, modelId: '' }) as AlgorithmRow);
        })
        .immediate(),

    getAlgorithm,

    listAlgorithms: (modelId: string, limit: number, offset: number): Page<AlgorithmRecord> =>
      db
        .transaction(() => ({
          items: (q.algorithms.all({ modelId, limit, offset }) as AlgorithmRow[]).map(withCount),
          total: q.algorithmTotal.get() as number,
        }))
        .deferred(),

    /** Applies a checked patch; undefined when no such algorithm. */
    updateAlgorithm: (id: string, patch: AlgorithmPatch, modelId: string): AlgorithmRecord | undefined =>
      db
        .transaction(() => {
          if (!q.algorithmExists.get(id)) return undefined;
          const cols: Record<string, string> = {
            name: 'name', forgeryType: 'forgery_type', architecture: 'architecture', description: 'description',
            reference: 'reference', enabled: 'enabled', threshold: 'threshold',
          };
          const sets: string[] = [];
          const params: Record<string, unknown> = { id, now: now() };
          for (const [key, col] of Object.entries(cols)) {
            const value = (patch as Record<string, unknown>)[key];
            if (value === undefined) continue;
            sets.push(`${col} = @${key}`);
            params[key] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
          }
          sets.push('updated_at = @now');
          try {
            db.prepare(`UPDATE algorithms SET ${sets.join(', ')} WHERE id = @id`).run(params);
          } catch (err) {
            if (isNameConflict(err)) throw dfgError('DFG_ERR_ALGORITHM_NAME_TAKEN', patch.name);
            throw err;
          }
          q.logAlgorithm.run(id, params.now);
          return getAlgorithm(id, modelId);
        })
        .immediate(),

    /** Deletes the algorithm and all its samples (every model), logging one delete per sample. */
    deleteAlgorithm: (id: string): { samples: number } | undefined =>
      db
        .transaction(() => {
          if (!q.algorithmExists.get(id)) return undefined;
          const ts = now();
          const samples = q.samplesOfAlgorithm.all(id) as Array<{ id: string; model_id: string; seq: number }>;
          for (const s of samples) q.logDelete.run(s.id, s.model_id, id, s.seq, ts);
          q.deleteSamplesOfAlgorithm.run(id);
          q.deleteAlgorithm.run(id);
          q.logAlgorithm.run(id, ts);
          return { samples: samples.length };
        })
        .immediate(),

    /** Every algorithm's identity, enabled flag and manual threshold (the index keeps these in memory). */
    algorithmSummaries: (): Array<AlgorithmSummary & { threshold: number | null }> =>
      (q.algorithmSummaries.all() as AlgorithmRow[]).map((r) => ({
        id: r.id, name: r.name, forgeryType: r.forgery_type, architecture: r.architecture, enabled: r.enabled === 1, threshold: r.threshold,
      })),

    /**
     * Enrols items in one transaction; an item whose (algorithm, model, sha256) is already stored,
     * or repeated within the batch, comes back as a duplicate of the stored sample.
     */
    addSamples: (algorithmId: string, modelId: string, items: CheckedSample[]): AddSampleResult[] =>
      db
        .transaction(() => {
          if (!q.algorithmExists.get(algorithmId)) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', algorithmId);
          const ts = now();
          return items.map((item) => {
            const existing = q.sampleByKey.get(algorithmId, modelId, item.sha256) as SampleRow | undefined;
            if (existing) return { sample: toSample(existing), duplicate: true };
            const id = newId('smp');
            const seq = Number(q.logAdd.run(id, modelId, algorithmId, ts).lastInsertRowid);
            const row = {
              id, algorithmId, modelId, sha256: item.sha256, vector: vectorToBlob(item.vector), dim: item.vector.length,
              width: item.width, height: item.height, filename: item.filename, createdAt: ts, seq,
            };
            q.insertSample.run(row);
            return {
              sample: {
                id, algorithmId, modelId, sha256: item.sha256, dim: row.dim, width: item.width, height: item.height,
                filename: item.filename, createdAt: ts, seq,
              },
              duplicate: false,
            };
          });
        })
        .immediate(),

    listSamples: (algorithmId: string, modelId: string, limit: number, offset: number): Page<SampleRecord> =>
      db
        .transaction(() => ({
          items: (q.samplesPage.all(algorithmId, modelId, limit, offset) as SampleRow[]).map(toSample),
          total: q.samplesTotal.get(algorithmId, modelId) as number,
        }))
        .deferred(),

    getSample: (algorithmId: string, modelId: string, sampleId: string): SampleRecord | undefined => {
      const row = q.sample.get(sampleId, algorithmId, modelId) as SampleRow | undefined;
      return row && toSample(row);
    },

    /** Deletes one sample and logs it; undefined when it does not exist under that algorithm and model. */
    deleteSample: (algorithmId: string, modelId: string, sampleId: string): SampleRecord | undefined =>
      db
        .transaction(() => {
          const row = q.sample.get(sampleId, algorithmId, modelId) as SampleRow | undefined;
          if (!row) return undefined;
          q.deleteSample.run(sampleId);
          q.logDelete.run(sampleId, modelId, algorithmId, row.seq, now());
          return toSample(row);
        })
        .immediate(),

    findBySha: (modelId: string, sha256: string): SampleRecord[] => (q.samplesBySha.all(modelId, sha256) as SampleRow[]).map(toSample),

    countSamples: (modelId: string): number => q.countSamples.get(modelId) as number,

    /** Change rows in (after, upto] that concern `modelId` (adds, deletes) or any algorithm, oldest first. */
    changesAfter: (after: number, upto: number, modelId: string, limit: number): ChangeRow[] =>
      (
        q.changesAfter.all({ after, upto, modelId, limit }) as Array<{
          seq: number; kind: ChangeRow['kind']; sample_id: string | null; model_id: string | null; algorithm_id: string | null;
          label: number | null; vector: Buffer | null;
        }>
      ).map((r) => ({
        seq: r.seq,
        kind: r.kind,
        sampleId: r.sample_id,
        modelId: r.model_id,
        algorithmId: r.algorithm_id,
        label: r.kind === 'add' ? r.seq : (r.label ?? 0),
        vector: r.vector ? blobToVector(r.vector) : null,
      })),

    /** A page (by seq) of the model's samples in (after, upto], optionally with vectors. */
    indexedSamples: (modelId: string, after: number, upto: number, limit: number): IndexedSample[] =>
      (q.indexedSamples.all({ modelId, after, upto, limit }) as Array<{ seq: number; id: string; algorithm_id: string }>).map((r) => ({
        label: r.seq, sampleId: r.id, algorithmId: r.algorithm_id,
      })),

    indexedVectors: (modelId: string, after: number, upto: number, limit: number): Array<IndexedSample & { vector: Float32Array }> =>
      (q.indexedVectors.all({ modelId, after, upto, limit }) as Array<{ seq: number; id: string; algorithm_id: string; vector: Buffer }>).map(
        (r) => ({ label: r.seq, sampleId: r.id, algorithmId: r.algorithm_id, vector: blobToVector(r.vector) }),
      ),

    /** Samples that existed at seq `after` and were deleted since: what a snapshot taken at `after` still holds. */
    deletedAfter: (modelId: string, after: number): IndexedSample[] =>
      (q.deletedAfter.all({ modelId, after }) as Array<{ label: number; sample_id: string; algorithm_id: string }>).map((r) => ({
        label: r.label, sampleId: r.sample_id, algorithmId: r.algorithm_id,
      })),

    /** Stores a calibration of `modelId` and logs it, so other processes pick it up on refresh. */
    saveCalibration: (modelId: string, input: Required<CalibrationInput>): CalibrationRecord =>
      db
        .transaction(() => {
          const ts = now();
          const thresholds = JSON.stringify({ global: input.global, perAlgorithm: input.perAlgorithm });
          const version = Number(q.insertCalibration.run(modelId, ts, input.targetFpir, JSON.stringify(input.params), thresholds).lastInsertRowid);
          q.logCalibration.run(modelId, ts);
          return toCalibration({ id: version, model_id: modelId, created_at: ts, target_fpir: input.targetFpir, params: JSON.stringify(input.params), thresholds });
        })
        .immediate(),

    listCalibrations: (modelId: string, limit: number): CalibrationRecord[] =>
      (q.calibrations.all(modelId, limit) as Parameters<typeof toCalibration>[0][]).map(toCalibration),

    /** Runs `fn` inside one read transaction, so several reads see the same committed state. */
    read: <T>(fn: () => T): T => db.transaction(fn).deferred(),

    close: (): void => {
      if (db.open) db.close();
    },
  };
}

