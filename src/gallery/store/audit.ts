/**
 * The audit trail: one append-only row per change of the registry (who, when, what), written by
 * each store inside the transaction of the change it records, so an acknowledged change always
 * has its row. The details are built here, once for both stores. The tables refuse UPDATE and
 * DELETE (triggers in the migrations).
 */
import type Database from 'better-sqlite3';
import type { AddSampleResult, Algorithm, AlgorithmPatch, AuditAction, AuditNote, AuditQuery, AuditRecord, FeedbackInput } from '../types.js';

/** Sample ids listed in one audit row at most; counts are always complete. */
export const AUDIT_MAX_IDS = 100;

export interface AuditRow {
  seq: number;
  at: string;
  key_id: string | null;
  action: AuditAction;
  subject: string | null;
  detail: string;
}

export const toAudit = (r: AuditRow): AuditRecord => ({
  seq: r.seq, at: r.at, keyId: r.key_id, action: r.action, subject: r.subject, detail: JSON.parse(r.detail) as Record<string, unknown>,
});

/** One row to append: the note of whoever made the change, and what it changed. */
export interface AuditEntry {
  note: AuditNote | undefined;
  action: AuditAction;
  subject: string | null;
  detail: Record<string, unknown>;
}

/** The row's columns (the note's context kept in the detail). */
export function auditColumns(e: AuditEntry, at: string): { at: string; keyId: string | null; action: AuditAction; subject: string | null; detail: string } {
  const detail = e.note?.context ? { ...e.detail, context: e.note.context } : e.detail;
  return { at, keyId: e.note?.keyId ?? null, action: e.action, subject: e.subject, detail: JSON.stringify(detail) };
}

const algorithmFields = (a: Algorithm) => ({
  name: a.name, forgeryType: a.forgeryType, architecture: a.architecture, enabled: a.enabled, threshold: a.threshold,
  ...(a.provenance ? { bundleId: a.provenance.bundleId, sourceId: a.provenance.sourceId } : {}),
});

export const auditCreate = (note: AuditNote | undefined, a: Algorithm): AuditEntry => ({ note, action: 'algorithm.create', subject: a.id, detail: algorithmFields(a) });

/** The fields a patch changed, each as [before, after]; unchanged ones are left out. */
export function auditUpdate(note: AuditNote | undefined, before: Algorithm, after: Algorithm, patch: AlgorithmPatch): AuditEntry {
  const changes: Record<string, [unknown, unknown]> = {};
  for (const key of Object.keys(patch) as Array<keyof AlgorithmPatch>) {
    if (patch[key] === undefined) continue;
    const from = before[key as keyof Algorithm];
    const to = after[key as keyof Algorithm];
    if (from !== to) changes[key] = [from, to];
  }
  return { note, action: 'algorithm.update', subject: before.id, detail: { name: after.name, changes } };
}

export const auditDelete = (note: AuditNote | undefined, a: Algorithm, samples: number): AuditEntry => ({
  note, action: 'algorithm.delete', subject: a.id, detail: { ...algorithmFields(a), samples },
});

/** An enrolment: the samples it created, and the duplicates (which may have gained vectors). */
export function auditEnrol(note: AuditNote | undefined, algorithmId: string, results: readonly AddSampleResult[], changes: number): AuditEntry {
  const created = results.filter((r) => !r.duplicate).map((r) => r.sample.id);
  return {
    note, action: 'samples.enrol', subject: algorithmId,
    detail: { created: created.length, duplicates: results.length - created.length, changes, sampleIds: created.slice(0, AUDIT_MAX_IDS), ...(created.length > AUDIT_MAX_IDS ? { truncated: true } : {}) },
  };
}

export const auditSampleDelete = (note: AuditNote | undefined, s: { id: string; algorithmId: string; sha256: string }): AuditEntry => ({
  note, action: 'sample.delete', subject: s.id, detail: { algorithmId: s.algorithmId, sha256: s.sha256 },
});

export const auditVectors = (note: AuditNote | undefined, modelId: string, stored: number): AuditEntry => ({ note, action: 'vectors.add', subject: modelId, detail: { stored } });

export const auditCalibration = (note: AuditNote | undefined, modelId: string, c: { version: number; targetFpir: number; global: number; perAlgorithm: Record<string, number>; params: Record<string, unknown> }): AuditEntry => ({
  note, action: 'calibration.save', subject: modelId,
  detail: {
    version: c.version, targetFpir: c.targetFpir, global: c.global, algorithms: Object.keys(c.perAlgorithm).length,
    ...(c.params.auto === true ? { automatic: true } : {}), ...(c.params.feedback ? { feedback: c.params.feedback } : {}),
  },
});

export const auditSwitch = (note: AuditNote | undefined, list: string, forced: boolean, previous: string | null): AuditEntry => ({
  note, action: 'model.switch', subject: list, detail: { list, forced, previous },
});

/** Statements of the SQLite store's audit table; called only inside the store's transactions. */
export function auditStatements(db: Database.Database) {
  const q = {
    insert: db.prepare('INSERT INTO audit (at, key_id, action, subject, detail) VALUES (@at, @keyId, @action, @subject, @detail)'),
    after: db.prepare('SELECT * FROM audit WHERE seq > @afterSeq ORDER BY seq LIMIT @limit'),
    afterSince: db.prepare('SELECT * FROM audit WHERE seq > @afterSeq AND at >= @since ORDER BY seq LIMIT @limit'),
  };
  return {
    append(e: AuditEntry, at: string): number {
      return Number(q.insert.run(auditColumns(e, at)).lastInsertRowid);
    },
    list(query: AuditQuery): AuditRecord[] {
      const rows = (query.since === undefined ? q.after.all(query) : q.afterSince.all(query)) as AuditRow[];
      return rows.map(toAudit);
    },
  };
}

export const auditFeedback = (note: AuditNote | undefined, a: { id: string; decision: string; algorithmId: string | null; modelId: string }, f: FeedbackInput): AuditEntry => ({
  note, action: 'attribution.feedback', subject: a.id,
  detail: { verdict: f.verdict, decision: a.decision, attributed: a.algorithmId, algorithmId: f.algorithmId, enrolledSampleId: f.enrolledSampleId, model: a.modelId },
});

/** Who imports, and what the import knows of itself (the bundle, its models, what was skipped) for its `bundle.import` row. */
export interface ImportAudit {
  note?: AuditNote;
  detail: Record<string, unknown>;
}

/**
 * The rows of an import, written in its transaction: each algorithm it created, each part's
 * enrolment (both naming the bundle in their context), then the import as a whole. None when it
 * changed nothing (every sample a duplicate, or skipped).
 */
export function auditImport(
  a: ImportAudit | undefined, bundleId: string,
  parts: ReadonlyArray<{ algorithm: Algorithm | null; algorithmId: string; results: readonly AddSampleResult[]; changes: number }>,
): AuditEntry[] {
  if (!parts.some((p) => p.algorithm || p.changes > 0)) return [];
  const note: AuditNote = { keyId: a?.note?.keyId ?? null, context: { ...a?.note?.context, import: bundleId } };
  const out: AuditEntry[] = [];
  for (const p of parts) {
    if (p.algorithm) out.push(auditCreate(note, p.algorithm));
    if (p.changes > 0) out.push(auditEnrol(note, p.algorithmId, p.results, p.changes));
  }
  const created = (p: (typeof parts)[number]) => p.results.filter((r) => !r.duplicate).length;
  out.push({
    note: a?.note, action: 'bundle.import', subject: bundleId,
    detail: {
      ...a?.detail,
      created: parts.reduce((n, p) => n + created(p), 0),
      duplicates: parts.reduce((n, p) => n + p.results.length - created(p), 0),
      algorithms: parts.map((p) => ({ id: p.algorithmId, action: p.algorithm ? 'created' : 'merged', name: p.algorithm?.name ?? null, created: created(p) })),
    },
  });
  return out;
}
