/**
 * Calibration rows of the SQLite store: the thresholds of an index id (and the bytes of a fitted
 * gallery metric, its header kept in params), each save logged as a `calibration` change so other
 * processes pick it up on refresh. Called only inside the store's transactions.
 */
import type Database from 'better-sqlite3';
import { metricFromBytes, metricHeader, metricToBytes, type MetricHeader } from '../../attribution/gallery-metric.js';
import type { CalibrationInput, CalibrationRecord } from '../types.js';

/** A validated calibration (see ../validate.ts): every field filled but the optional metric. */
export type CheckedCalibration = Required<Omit<CalibrationInput, 'metric'>> & Pick<CalibrationInput, 'metric'>;

export interface CalibrationRow {
  id: number;
  model_id: string;
  created_at: string;
  target_fpir: number;
  params: string;
  thresholds: string;
  metric: Buffer | null;
}

export function toCalibration(r: CalibrationRow): CalibrationRecord {
  const thresholds = JSON.parse(r.thresholds) as { global: number; perAlgorithm: Record<string, number> };
  const params = JSON.parse(r.params) as Record<string, unknown>;
  return {
    version: r.id,
    modelId: r.model_id,
    createdAt: r.created_at,
    targetFpir: r.target_fpir,
    global: thresholds.global,
    perAlgorithm: thresholds.perAlgorithm,
    params,
    ...(r.metric ? { metric: metricFromBytes(params.metric as MetricHeader, r.metric) } : {}),
  };
}

export function calibrationStatements(db: Database.Database) {
  const q = {
    insert: db.prepare(`INSERT INTO calibrations (model_id, created_at, target_fpir, params, thresholds, metric)
      VALUES (?, ?, ?, ?, ?, ?)`),
    log: db.prepare("INSERT INTO changes (kind, model_id, created_at) VALUES ('calibration', ?, ?)"),
    list: db.prepare('SELECT * FROM calibrations WHERE model_id = ? ORDER BY id DESC LIMIT ?'),
  };

  return {
    save(modelId: string, input: CheckedCalibration, ts: string): CalibrationRecord {
      const thresholds = JSON.stringify({ global: input.global, perAlgorithm: input.perAlgorithm });
      const params = JSON.stringify(input.metric ? { ...input.params, metric: metricHeader(input.metric) } : input.params);
      const metric = input.metric ? metricToBytes(input.metric) : null;
      const version = Number(q.insert.run(modelId, ts, input.targetFpir, params, thresholds, metric).lastInsertRowid);
      q.log.run(modelId, ts);
      return toCalibration({ id: version, model_id: modelId, created_at: ts, target_fpir: input.targetFpir, params, thresholds, metric });
    },

    list: (modelId: string, limit: number): CalibrationRecord[] => (q.list.all(modelId, limit) as CalibrationRow[]).map(toCalibration),
  };
}
