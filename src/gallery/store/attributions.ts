/**
 * Attributions kept for feedback in the SQLite store: the answer (decision, candidates, the
 * query's vectors per model; never image bytes) until it expires, and the analyst's verdict on
 * it. Kept apart from the change log: recording an answer changes no other answer. Called only
 * inside the store's transactions.
 */
import type Database from 'better-sqlite3';
import { blobToVector, vectorToBlob } from './rows.js';
import type { AttributionInput, AttributionRecord, FeedbackCounts, FeedbackInput, FeedbackPair, Verdict } from '../types.js';

/** Expired rows removed per write at most, so a backlog never makes one answer slow. */
export const PRUNE_BATCH = 500;

export interface AttributionRow {
  id: string;
  created_at: string;
  expires_at: string;
  key_id: string | null;
  model_id: string;
  decision: AttributionInput['decision'];
  algorithm_id: string | null;
  score: number;
  threshold: number;
  candidates: string;
  sha256: string;
  width: number;
  height: number;
  verdict: Verdict | null;
  verdict_algorithm_id: string | null;
  verdict_key_id: string | null;
  verdict_at: string | null;
  enrolled_sample_id: string | null;
}

export const attributionParams = (a: AttributionInput) => [
  a.id, a.createdAt, a.expiresAt, a.keyId, a.modelId, a.decision, a.algorithmId, a.score, a.threshold, JSON.stringify(a.candidates), a.sha256, a.width, a.height,
];

export function toAttribution(r: AttributionRow, vectors: Map<string, Float32Array>): AttributionRecord {
  return {
    id: r.id, createdAt: r.created_at, expiresAt: r.expires_at, keyId: r.key_id, modelId: r.model_id, decision: r.decision,
    algorithmId: r.algorithm_id, score: r.score, threshold: r.threshold, candidates: JSON.parse(r.candidates) as AttributionInput['candidates'],
    sha256: r.sha256, width: r.width, height: r.height, vectors,
    verdict: r.verdict, verdictAlgorithmId: r.verdict_algorithm_id, verdictKeyId: r.verdict_key_id, verdictAt: r.verdict_at, enrolledSampleId: r.enrolled_sample_id,
  };
}

/** A judged row as a calibration pair: confirm and relabel are genuine for their algorithm, reject an impostor for the attributed one. */
export const toPair = (r: { id: string; verdict: Verdict; verdict_algorithm_id: string }, vectors: Map<string, Float32Array>): FeedbackPair => ({
  attributionId: r.id, algorithmId: r.verdict_algorithm_id, genuine: r.verdict !== 'reject', vectors,
});

export function attributionStatements(db: Database.Database) {
  const q = {
    insert: db.prepare(`INSERT INTO attributions (id, created_at, expires_at, key_id, model_id, decision, algorithm_id, score, threshold, candidates, sha256, width, height)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertVector: db.prepare('INSERT INTO attribution_vectors (attribution_id, model_id, vector, dim) VALUES (?, ?, ?, ?)'),
    prune: db.prepare(`DELETE FROM attributions WHERE id IN (SELECT id FROM attributions WHERE verdict IS NULL AND expires_at < ? LIMIT ${PRUNE_BATCH})`),
    get: db.prepare('SELECT * FROM attributions WHERE id = ?'),
    vectors: db.prepare('SELECT model_id, vector FROM attribution_vectors WHERE attribution_id = ?'),
    feedback: db.prepare(`UPDATE attributions SET verdict = @verdict, verdict_algorithm_id = @algorithmId, verdict_key_id = @keyId, verdict_at = @at,
      enrolled_sample_id = @enrolledSampleId WHERE id = @id AND verdict IS NULL`),
    pairs: db.prepare(`SELECT id, verdict, verdict_algorithm_id FROM attributions
      WHERE model_id = ? AND verdict IS NOT NULL AND verdict_algorithm_id IS NOT NULL AND enrolled_sample_id IS NULL
      ORDER BY verdict_at DESC LIMIT ?`),
    counts: db.prepare(`SELECT verdict, count(*) AS n FROM attributions WHERE model_id = ? AND decision = 'attributed' AND verdict IS NOT NULL GROUP BY verdict`),
  };
  const vectorsOf = (id: string): Map<string, Float32Array> =>
    new Map((q.vectors.all(id) as Array<{ model_id: string; vector: Buffer }>).map((v) => [v.model_id, blobToVector(v.vector)]));

  return {
    /** Inserts the answers with their vectors, and removes a batch of expired ones without a verdict. */
    record(rows: readonly AttributionInput[], now: string): void {
      for (const a of rows) {
        q.insert.run(...attributionParams(a));
        for (const [modelId, v] of Object.entries(a.vectors)) q.insertVector.run(a.id, modelId, vectorToBlob(v), v.length);
      }
      q.prune.run(now);
    },
    get(id: string): AttributionRecord | undefined {
      const row = q.get.get(id) as AttributionRow | undefined;
      return row && toAttribution(row, vectorsOf(id));
    },
    /** Records the verdict unless one is recorded already; whether it did. */
    feedback(id: string, f: FeedbackInput, keyId: string | null, at: string): boolean {
      return q.feedback.run({ id, verdict: f.verdict, algorithmId: f.algorithmId, keyId, at, enrolledSampleId: f.enrolledSampleId }).changes > 0;
    },
    pairs(modelId: string, limit: number): FeedbackPair[] {
      return (q.pairs.all(modelId, limit) as Array<{ id: string; verdict: Verdict; verdict_algorithm_id: string }>).map((r) => toPair(r, vectorsOf(r.id)));
    },
    counts(modelId: string): FeedbackCounts {
      return toCounts(q.counts.all(modelId) as Array<{ verdict: Verdict; n: number }>);
    },
  };
}

export function toCounts(rows: ReadonlyArray<{ verdict: Verdict; n: number }>): FeedbackCounts {
  const n = (v: Verdict) => Number(rows.find((r) => r.verdict === v)?.n ?? 0);
  return { confirmed: n('confirm'), rejected: n('reject'), relabelled: n('relabel') };
}
