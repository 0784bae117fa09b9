/**
 * Sample and vector rows of the SQLite store. A sample is one image of one algorithm (stable id,
 * seq = its HNSW label); `vectors` holds its embedding under each model id. Vectors are never
 * replaced: a better model gets a new id. Called only inside the store's transactions.
 */
import type Database from 'better-sqlite3';
import { dfgError } from '../../errors.js';
import { blobToVector, newId, provenanceColumn, provenanceOf, toSample, vectorToBlob, type SampleRow } from './rows.js';
import type { AddSampleResult, BundleRecord, Origin, SampleRecord } from '../types.js';

/** A validated enrolment item: its vectors by model id (at least one). */
export interface CheckedSample {
  sha256: string;
  vectors: ReadonlyMap<string, Float32Array>;
  width: number;
  height: number;
  filename: string | null;
  /** The recorded bundle it is imported from (absent or null: enrolled here). */
  origin?: Origin | null;
}

/** A sample as the index needs it. */
export interface IndexedSample {
  label: number;
  sampleId: string;
  algorithmId: string;
}

/** A sample with the vectors of the asked models that existed at the asked seq. */
export interface SampleVectors extends IndexedSample {
  vectors: Map<string, Float32Array>;
}

const MODELS_COL = "(SELECT group_concat(model_id, ',') FROM vectors v WHERE v.sample_id = s.id) AS models";
const SAMPLE_COLS = `s.id, s.algorithm_id, s.sha256, s.width, s.height, s.filename, s.created_at, s.seq, ${MODELS_COL}, ${provenanceColumn('json_object', 's')}`;
/** Samples holding a vector (added at or before @upto) of every model in the JSON array @models. */
const COMPLETE = `(SELECT count(*) FROM vectors v WHERE v.sample_id = s.id AND v.seq <= @upto
  AND v.model_id IN (SELECT value FROM json_each(@models))) = json_array_length(@models)`;

export function sampleStatements(db: Database.Database, logAdd: Database.Statement, logDelete: Database.Statement, bundle: (id: string) => BundleRecord | undefined) {
  const q = {
    byKey: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples s WHERE s.algorithm_id = ? AND s.sha256 = ?`),
    insert: db.prepare(`INSERT INTO samples (id, algorithm_id, sha256, width, height, filename, created_at, seq, bundle_id, source_id)
      VALUES (@id, @algorithmId, @sha256, @width, @height, @filename, @createdAt, @seq, @bundleId, @sourceId)`),
    insertVector: db.prepare('INSERT OR IGNORE INTO vectors (sample_id, model_id, vector, dim, seq) VALUES (?, ?, ?, ?, ?)'),
    hasVector: db.prepare('SELECT 1 FROM vectors WHERE sample_id = ? AND model_id = ?').pluck(),
    one: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples s WHERE s.id = ? AND s.algorithm_id = ?`),
    byId: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples s WHERE s.id = ?`),
    page: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples s WHERE s.algorithm_id = ? ORDER BY s.seq LIMIT ? OFFSET ?`),
    total: db.prepare('SELECT count(*) FROM samples WHERE algorithm_id = ?').pluck(),
    bySha: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples s WHERE s.sha256 = ? ORDER BY s.seq`),
    delete: db.prepare('DELETE FROM samples WHERE id = ?'),
    deleteVectors: db.prepare('DELETE FROM vectors WHERE sample_id = ?'),
    count: db.prepare('SELECT count(*) FROM samples').pluck(),
    countComplete: db.prepare(`SELECT count(*) FROM samples s WHERE ${COMPLETE}`).pluck(),
    missing: db.prepare('SELECT count(*) FROM samples s WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.sample_id = s.id AND v.model_id = ?)').pluck(),
    missingPage: db.prepare(`SELECT ${SAMPLE_COLS} FROM samples s
      WHERE s.seq > ? AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.sample_id = s.id AND v.model_id = ?) ORDER BY s.seq LIMIT ?`),
    completePage: db.prepare(`SELECT s.seq, s.id, s.algorithm_id FROM samples s
      WHERE s.seq > @after AND s.seq <= @upto AND ${COMPLETE} ORDER BY s.seq LIMIT @limit`),
    vectorsOf: db.prepare('SELECT model_id, vector FROM vectors WHERE sample_id = ? AND seq <= ?'),
    ofAlgorithm: db.prepare('SELECT id, seq, sha256 FROM samples WHERE algorithm_id = ?'),
    deleteOfAlgorithm: db.prepare('DELETE FROM samples WHERE algorithm_id = ?'),
    deleteVectorsOfAlgorithm: db.prepare('DELETE FROM vectors WHERE sample_id IN (SELECT id FROM samples WHERE algorithm_id = ?)'),
  };

  const insertVectors = (sampleId: string, vectors: ReadonlyMap<string, Float32Array>, seq: number): void => {
    for (const [modelId, v] of vectors) q.insertVector.run(sampleId, modelId, vectorToBlob(v), v.length, seq);
  };

  const vectorsAt = (sampleId: string, upto: number, models: readonly string[]): Map<string, Float32Array> => {
    const out = new Map<string, Float32Array>();
    const wanted = new Set(models);
    for (const r of q.vectorsOf.all(sampleId, upto) as Array<{ model_id: string; vector: Buffer }>) {
      if (wanted.has(r.model_id)) out.set(r.model_id, blobToVector(r.vector));
    }
    return out;
  };

  return {
    /**
     * Enrols items; an item whose (algorithm, sha256) is stored, or repeated in the batch, is a
     * duplicate of the stored sample and only contributes the vectors of models it lacks.
     */
    add(algorithmId: string, items: CheckedSample[], ts: string): AddSampleResult[] {
      const bundles = new Map<string, BundleRecord>();
      const bundleOf = (id: string): BundleRecord => {
        let b = bundles.get(id);
        if (!b) {
          b = bundle(id);
          if (!b) throw dfgError('DFG_ERR_REQUEST_INVALID', `no recorded bundle ${id}`);
          bundles.set(id, b);
        }
        return b;
      };
      return items.map((item) => {
        const existing = q.byKey.get(algorithmId, item.sha256) as SampleRow | undefined;
        if (existing) {
          const lacking = new Map([...item.vectors].filter(([modelId]) => !q.hasVector.get(existing.id, modelId)));
          for (const [modelId, v] of lacking) {
            const seq = Number(logAdd.run(existing.id, modelId, algorithmId, ts).lastInsertRowid);
            insertVectors(existing.id, new Map([[modelId, v]]), seq);
          }
          const row = lacking.size > 0 ? (q.byId.get(existing.id) as SampleRow) : existing;
          return { sample: toSample(row), duplicate: true };
        }
        const provenance = item.origin ? provenanceOf(bundleOf(item.origin.bundleId), item.origin.sourceId) : null;
        const id = newId('smp');
        const seq = Number(logAdd.run(id, null, algorithmId, ts).lastInsertRowid);
        q.insert.run({
          id, algorithmId, sha256: item.sha256, width: item.width, height: item.height, filename: item.filename, createdAt: ts, seq,
          bundleId: item.origin?.bundleId ?? null, sourceId: item.origin?.sourceId ?? null,
        });
        insertVectors(id, item.vectors, seq);
        return {
          sample: {
            id, algorithmId, sha256: item.sha256, width: item.width, height: item.height, filename: item.filename, createdAt: ts, seq,
            models: [...item.vectors.keys()].sort(), provenance,
          },
          duplicate: false,
        };
      });
    },

    /** Stores the vector of `modelId` for an existing sample; false when the sample is gone or already has one. */
    addVector(sampleId: string, modelId: string, vector: Float32Array, ts: string): boolean {
      const row = q.byId.get(sampleId) as SampleRow | undefined;
      if (!row || q.hasVector.get(sampleId, modelId)) return false;
      const seq = Number(logAdd.run(sampleId, modelId, row.algorithm_id, ts).lastInsertRowid);
      insertVectors(sampleId, new Map([[modelId, vector]]), seq);
      return true;
    },

    page: (algorithmId: string, limit: number, offset: number) => ({
      items: (q.page.all(algorithmId, limit, offset) as SampleRow[]).map(toSample),
      total: q.total.get(algorithmId) as number,
    }),

    get(algorithmId: string, sampleId: string): SampleRecord | undefined {
      const row = q.one.get(sampleId, algorithmId) as SampleRow | undefined;
      return row && toSample(row);
    },

    /** Deletes the sample and its vectors, logging the label it frees. */
    delete(algorithmId: string, sampleId: string, ts: string): SampleRecord | undefined {
      const row = q.one.get(sampleId, algorithmId) as SampleRow | undefined;
      if (!row) return undefined;
      q.deleteVectors.run(sampleId);
      q.delete.run(sampleId);
      logDelete.run(sampleId, null, algorithmId, row.seq, ts);
      return toSample(row);
    },

    /** Deletes every sample of the algorithm (logging each); returns their sha256s. */
    deleteOfAlgorithm(algorithmId: string, ts: string): string[] {
      const rows = q.ofAlgorithm.all(algorithmId) as Array<{ id: string; seq: number; sha256: string }>;
      for (const s of rows) logDelete.run(s.id, null, algorithmId, s.seq, ts);
      q.deleteVectorsOfAlgorithm.run(algorithmId);
      q.deleteOfAlgorithm.run(algorithmId);
      return rows.map((r) => r.sha256);
    },

    byId(sampleId: string): SampleRecord | undefined {
      const row = q.byId.get(sampleId) as SampleRow | undefined;
      return row && toSample(row);
    },

    bySha: (sha256: string): SampleRecord[] => (q.bySha.all(sha256) as SampleRow[]).map(toSample),
    count: (): number => q.count.get() as number,
    countComplete: (models: readonly string[], upto: number): number => q.countComplete.get({ models: JSON.stringify(models), upto }) as number,
    /** Samples with no vector of `modelId`. */
    missing: (modelId: string): number => q.missing.get(modelId) as number,
    /** A page (by seq, after `after`) of samples with no vector of `modelId`. */
    missingPage: (modelId: string, after: number, limit: number): SampleRecord[] =>
      (q.missingPage.all(after, modelId, limit) as SampleRow[]).map(toSample),

    /** A page (by seq) of samples in (after, upto] holding a vector of every model that existed at `upto`. */
    complete(models: readonly string[], after: number, upto: number, limit: number): IndexedSample[] {
      return (q.completePage.all({ models: JSON.stringify(models), after, upto, limit }) as Array<{ seq: number; id: string; algorithm_id: string }>).map(
        (r) => ({ label: r.seq, sampleId: r.id, algorithmId: r.algorithm_id }),
      );
    },

    /** The sample's vectors of `models` that existed at `upto`. */
    vectorsAt,
  };
}

export type SampleStatements = ReturnType<typeof sampleStatements>;

/** Refuses an item set without any vector (the schema cannot express "at least one vector row"). */
export function requireVectors(items: CheckedSample[]): void {
  for (const it of items) if (it.vectors.size === 0) throw dfgError('DFG_ERR_REQUEST_INVALID', `sample ${it.sha256} has no vector`);
}
