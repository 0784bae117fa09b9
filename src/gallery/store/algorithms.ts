/**
 * Algorithm rows of the SQLite store: registration, paging, patches and deletion (with the
 * algorithm's samples). Every change is logged as an `algorithm` row, so each process reloads its
 * in-memory algorithm cache on refresh. Called only inside the store's transactions.
 */
import type Database from 'better-sqlite3';
import { dfgError } from '../../errors.js';
import { newId, provenanceColumn, toAlgorithm, withCount, type AlgorithmRow } from './rows.js';
import type { SampleStatements } from './samples.js';
import type { Algorithm, AlgorithmInput, AlgorithmPatch, AlgorithmRecord, AlgorithmSummary, Origin, Page } from '../types.js';

const ALG_COLS = `a.id, a.name, a.forgery_type, a.architecture, a.description, a.reference, a.enabled, a.threshold, a.created_at, a.updated_at,
  ${provenanceColumn('json_object', 'a')}`;
const COUNT_COL = '(SELECT count(*) FROM samples s WHERE s.algorithm_id = a.id) AS sample_count';

function isNameConflict(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && /algorithms\.name/.test(e.message ?? '');
}

export function algorithmStatements(db: Database.Database, samples: SampleStatements) {
  const q = {
    logAlgorithm: db.prepare("INSERT INTO changes (kind, algorithm_id, created_at) VALUES ('algorithm', ?, ?)"),
    insert: db.prepare(`INSERT INTO algorithms (id, name, forgery_type, architecture, description, reference, enabled, threshold, created_at, updated_at, bundle_id, source_id)
      VALUES (@id, @name, @forgeryType, @architecture, @description, @reference, @enabled, @threshold, @now, @now, @bundleId, @sourceId)`),
    one: db.prepare(`SELECT ${ALG_COLS}, ${COUNT_COL} FROM algorithms a WHERE a.id = @id`),
    exists: db.prepare('SELECT 1 FROM algorithms WHERE id = ?').pluck(),
    page: db.prepare(`SELECT ${ALG_COLS}, ${COUNT_COL} FROM algorithms a ORDER BY a.rowid LIMIT @limit OFFSET @offset`),
    total: db.prepare('SELECT count(*) FROM algorithms').pluck(),
    summaries: db.prepare('SELECT id, name, forgery_type, architecture, enabled, threshold FROM algorithms'),
    delete: db.prepare('DELETE FROM algorithms WHERE id = ?'),
  };

  const get = (id: string): AlgorithmRecord | undefined => {
    const row = q.one.get({ id }) as AlgorithmRow | undefined;
    return row && withCount(row);
  };

  return {
    exists: (id: string): boolean => Boolean(q.exists.get(id)),

    create(input: Required<AlgorithmInput>, ts: string, origin: Origin | null = null): Algorithm {
      const id = newId('alg');
      try {
        q.insert.run({ ...input, id, enabled: input.enabled ? 1 : 0, now: ts, bundleId: origin?.bundleId ?? null, sourceId: origin?.sourceId ?? null });
      } catch (err) {
        if (isNameConflict(err)) throw dfgError('DFG_ERR_ALGORITHM_NAME_TAKEN', input.name);
        throw err;
      }
      q.logAlgorithm.run(id, ts);
      return toAlgorithm(q.one.get({ id }) as AlgorithmRow);
    },

    get,

    page: (limit: number, offset: number): Page<AlgorithmRecord> => ({
      items: (q.page.all({ limit, offset }) as AlgorithmRow[]).map(withCount),
      total: q.total.get() as number,
    }),

    /** Applies a checked patch; undefined when no such algorithm. */
    update(id: string, patch: AlgorithmPatch, ts: string): AlgorithmRecord | undefined {
      if (!q.exists.get(id)) return undefined;
      const cols: Record<string, string> = {
        name: 'name', forgeryType: 'forgery_type', architecture: 'architecture', description: 'description',
        reference: 'reference', enabled: 'enabled', threshold: 'threshold',
      };
      const sets: string[] = [];
      const params: Record<string, unknown> = { id, now: ts };
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
      q.logAlgorithm.run(id, ts);
      return get(id);
    },

    /** Deletes the algorithm and all its samples (with their vectors), logging one delete per sample. */
    delete(id: string, ts: string): { samples: number; sha256s: string[] } | undefined {
      if (!q.exists.get(id)) return undefined;
      const sha256s = samples.deleteOfAlgorithm(id, ts);
      q.delete.run(id);
      q.logAlgorithm.run(id, ts);
      return { samples: sha256s.length, sha256s };
    },

    summaries: (): Array<AlgorithmSummary & { threshold: number | null }> =>
      (q.summaries.all() as AlgorithmRow[]).map((r) => ({
        id: r.id, name: r.name, forgeryType: r.forgery_type, architecture: r.architecture, enabled: r.enabled === 1, threshold: r.threshold,
      })),
  };
}
