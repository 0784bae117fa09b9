/**
 * The shared store on PostgreSQL (`DFG_STORE=postgres://…`): the same tables and change log as the
 * SQLite store, for API replicas and workers on any host. Every write is one transaction that
 * takes a transaction advisory lock first, so writers commit in seq order (a reader that saw seq n
 * has seen every seq below it) and each write is committed (synchronous_commit) before its promise
 * resolves. Each commit notifies channel `dfg_changes`, which onChange listens to. Connection
 * failures surface as 503 DFG_ERR_STORE_UNAVAILABLE; the pool reconnects on its own.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { dfgError, isDfgError } from '../../errors.js';
import { metricHeader, metricToBytes } from '../../attribution/gallery-metric.js';
import { parseSwitchRecord, toChangeRow, type ChangeLogRow } from './sqlite-sync.js';
import { requireVectors, type CheckedSample, type IndexedSample, type SampleVectors } from './samples.js';
import {
  blobToVector, newId, provenanceColumn, provenanceOf, toAlgorithm, toBundle, toProvenance, toSample, vectorToBlob, withCount,
  type AlgorithmRow, type BundleRow, type SampleRow,
} from './rows.js';
import { toCalibration, type CalibrationRow, type CheckedCalibration } from './calibrations.js';
import { migratePg } from './pg-schema.js';
import {
  auditCalibration, auditColumns, auditCreate, auditDelete, auditEnrol, auditFeedback, auditImport, auditSampleDelete, auditSwitch, auditUpdate, auditVectors,
  toAudit, type AuditEntry, type AuditRow,
} from './audit.js';
import { attributionParams, PRUNE_BATCH, toAttribution, toCounts, toPair, type AttributionRow } from './attributions.js';
import type { AddSampleChecks, GalleryStore, ImportApplied } from './api.js';
import {
  sameSwitch, type AddSampleResult, type Algorithm, type AlgorithmInput, type AlgorithmPatch, type AuditNote, type AuditRecord, type BundleInput, type BundleRecord,
  type Origin, type AlgorithmRecord, type Provenance, type SampleRecord, type SwitchRecord, type Verdict,
} from '../types.js';

/** Samples per insert round of an import's transaction. */
const IMPORT_BATCH = 1000;

/** Transaction advisory lock every writer takes first. */
const WRITE_LOCK = 0x44_46_47_01;
/** Namespace of the named locks of tryExclusive (pg_try_advisory_lock(int, int)). */
const NAMED_LOCKS = 0x44_46_47_02;
const CHANNEL = 'dfg_changes';
const SWITCH_KEY = 'model_switch';

const MODELS_COL = "(SELECT string_agg(model_id, ',') FROM vectors v WHERE v.sample_id = s.id) AS models";
const SAMPLE_COLS = `s.id, s.algorithm_id, s.sha256, s.width, s.height, s.filename, s.created_at, s.seq, ${MODELS_COL}, ${provenanceColumn('json_build_object', 's', '::text')}`;
const ALG_COLS = `a.id, a.name, a.forgery_type, a.architecture, a.description, a.reference, a.enabled, a.threshold, a.created_at, a.updated_at,
  ${provenanceColumn('json_build_object', 'a', '::text')}`;
const COUNT_COL = '(SELECT count(*) FROM samples s WHERE s.algorithm_id = a.id) AS sample_count';
/** Samples holding a vector (added at or before $upto) of every model in $models (text[]). */
const complete = (models: string, upto: string) => `(SELECT count(*) FROM vectors v WHERE v.sample_id = s.id AND v.seq <= ${upto}
  AND v.model_id = ANY(${models})) = cardinality(${models}::text[])`;

/** bigint and numeric counts as JS numbers (seqs stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** The URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export const isPostgresUrl = (s: string | undefined): s is string => typeof s === 'string' && /^postgres(ql)?:\/\//i.test(s);

/** Whether `err` says the server cannot be reached (down, restarting, network), not that the query was wrong. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P)/.test(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(msg);
}

function unavailable(err: unknown): unknown {
  if (isDfgError(err) || !isConnectionError(err)) return err;
  const e = dfgError('DFG_ERR_STORE_UNAVAILABLE', (err as Error).message || String((err as { code?: string }).code));
  (e as { cause?: unknown }).cause = err;
  return e;
}

export interface PgStoreOptions {
  /** Connections per process (default 10). */
  poolSize?: number;
  /** How long to wait for a connection before 503 (default 5 s). */
  connectTimeoutMs?: number;
  /** Called with errors of idle connections and of the change listener (logged by the caller). */
  onError?: (err: unknown) => void;
}

type Q = pg.ClientBase | pg.Pool;

/** Opens the store at `url`, migrating the schema first when needed (once, under a lock, whichever process comes first). */
export async function openPgGalleryStore(url: string, opts: PgStoreOptions = {}): Promise<GalleryStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    types,
    application_name: 'dfg',
  });
  const onError = opts.onError ?? (() => undefined);
  // An idle connection the server dropped must not crash the process; the pool replaces it.
  pool.on('error', onError);

  let schema: { from: number; to: number };
  let galleryId: string;
  try {
    const client = await pool.connect();
    try {
      schema = await migratePg(client);
      galleryId = (await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'gallery_id'")).rows[0]!.value;
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unavailable(err);
  }

  const now = () => new Date().toISOString();
  const rows = async <T extends pg.QueryResultRow>(db: Q, sql: string, params: unknown[] = []): Promise<T[]> => (await db.query<T>(sql, params)).rows;
  const one = async <T extends pg.QueryResultRow>(db: Q, sql: string, params: unknown[] = []): Promise<T | undefined> => (await rows<T>(db, sql, params))[0];
  const value = async (db: Q, sql: string, params: unknown[] = []): Promise<number> => Number(Object.values((await rows(db, sql, params))[0]!)[0]);

  /**
   * Rows with seq in (after, upto], at most `limit`, oldest first, read a window of seqs at a time:
   * each query's work is bounded by its window whatever the planner knows about the tables, so
   * paging through a million rows stays linear. Windows widen over sparse stretches.
   */
  async function windowed<T extends { seq: number }>(after: number, upto: number, limit: number, fetch: (lo: number, hi: number) => Promise<T[]>): Promise<T[]> {
    const out: T[] = [];
    let lo = after;
    let span = Math.min(Math.max(limit, 1000), 1_000_000);
    while (out.length < limit && lo < upto) {
      const hi = Math.min(upto, lo + span);
      const got = await fetch(lo, hi);
      for (const r of got) {
        if (out.length === limit) return out;
        out.push(r);
      }
      lo = hi;
      if (got.length < span / 4 && span < 1_000_000) span *= 2;
    }
    return out;
  }

  /** Maps connection failures to 503 DFG_ERR_STORE_UNAVAILABLE. */
  async function guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }

  async function inTx<T>(begin: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return guard(async () => {
      const c = await pool.connect();
      let broken = false;
      try {
        await c.query(begin);
        try {
          const out = await fn(c);
          await c.query('COMMIT');
          return out;
        } catch (err) {
          try {
            await c.query('ROLLBACK');
          } catch {
            broken = true;
          }
          throw err;
        }
      } catch (err) {
        if (isConnectionError(err)) broken = true;
        throw err;
      } finally {
        c.release(broken);
      }
    });
  }

  /** One write transaction: the write lock, `fn`, a notification, the commit. */
  const write = <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> =>
    inTx('BEGIN', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      const out = await fn(c);
      await c.query('SELECT pg_notify($1, $2)', [CHANNEL, 'change']);
      return out;
    });
  /** Several reads that see one committed state. */
  const read = <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => inTx('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);

  const logAdd = async (c: Q, sampleId: string, modelId: string | null, algorithmId: string, ts: string): Promise<number> =>
    value(c, "INSERT INTO changes (kind, sample_id, model_id, algorithm_id, created_at) VALUES ('add', $1, $2, $3, $4) RETURNING seq", [sampleId, modelId, algorithmId, ts]);
  /** Appends an audit row inside the caller's transaction; its seq. */
  const audit = async (c: Q, e: AuditEntry, at: string): Promise<number> => {
    const r = auditColumns(e, at);
    return value(c, 'INSERT INTO audit (at, key_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5) RETURNING seq', [r.at, r.keyId, r.action, r.subject, r.detail]);
  };
  const attributionVectors = async (db: Q, ids: readonly string[]): Promise<Map<string, Map<string, Float32Array>>> => {
    const out = new Map(ids.map((id) => [id, new Map<string, Float32Array>()]));
    if (ids.length === 0) return out;
    for (const r of await rows<{ attribution_id: string; model_id: string; vector: Buffer }>(db, 'SELECT attribution_id, model_id, vector FROM attribution_vectors WHERE attribution_id = ANY($1)', [[...ids]])) {
      out.get(r.attribution_id)!.set(r.model_id, blobToVector(r.vector));
    }
    return out;
  };
  const getAttribution = async (db: Q, id: string) => {
    const row = await one<AttributionRow>(db, 'SELECT * FROM attributions WHERE id = $1', [id]);
    return row && toAttribution(row, (await attributionVectors(db, [id])).get(id)!);
  };
  const logAlgorithm = (c: Q, id: string, ts: string) => c.query("INSERT INTO changes (kind, algorithm_id, created_at) VALUES ('algorithm', $1, $2)", [id, ts]);
  const insertVector = (c: Q, sampleId: string, modelId: string, v: Float32Array, seq: number) =>
    c.query('INSERT INTO vectors (sample_id, model_id, vector, dim, seq) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [sampleId, modelId, vectorToBlob(v), v.length, seq]);

  const getAlgorithm = async (db: Q, id: string): Promise<AlgorithmRecord | undefined> => {
    const row = await one<AlgorithmRow>(db, `SELECT ${ALG_COLS}, ${COUNT_COL} FROM algorithms a WHERE a.id = $1`, [id]);
    return row && withCount(row);
  };
  const sampleBy = async (db: Q, where: string, params: unknown[]): Promise<SampleRecord | undefined> => {
    const row = await one<SampleRow>(db, `SELECT ${SAMPLE_COLS} FROM samples s WHERE ${where}`, params);
    return row && toSample(row);
  };
  const isNameConflict = (err: unknown) => (err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'algorithms_name_nocase';
  const lastSwitch = async (db: Q): Promise<SwitchRecord | null> => {
    const row = await one<{ value: string }>(db, 'SELECT value FROM meta WHERE key = $1', [SWITCH_KEY]);
    return row ? parseSwitchRecord(row.value) : null;
  };
  /** Inserts an algorithm (inside a write transaction). */
  const insertAlgorithm = async (c: pg.PoolClient, input: Required<AlgorithmInput>, origin: Origin | null, ts: string): Promise<Algorithm> => {
    const id = newId('alg');
    try {
      await c.query('SAVEPOINT ins');
      await c.query(
        `INSERT INTO algorithms (id, name, forgery_type, architecture, description, reference, enabled, threshold, created_at, updated_at, bundle_id, source_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)`,
        [id, input.name, input.forgeryType, input.architecture, input.description, input.reference, input.enabled ? 1 : 0, input.threshold, ts, origin?.bundleId ?? null, origin?.sourceId ?? null],
      );
    } catch (err) {
      if (isNameConflict(err)) throw dfgError('DFG_ERR_ALGORITHM_NAME_TAKEN', input.name);
      throw err;
    }
    await logAlgorithm(c, id, ts);
    return toAlgorithm((await one<AlgorithmRow>(c, `SELECT ${ALG_COLS} FROM algorithms a WHERE a.id = $1`, [id]))!);
  };
  /** What a write checks under the write lock: no other process switched models, and the kept bytes are still there. */
  const underLock = async (c: pg.PoolClient, fence: SwitchRecord | null | undefined, keptBytes: readonly string[]): Promise<void> => {
    if (fence !== undefined) {
      let current: SwitchRecord | null | undefined;
      try {
        current = await lastSwitch(c);
      } catch (err) {
        if (isConnectionError(err)) throw err;
        current = fence; // a malformed record fences nothing (the next switch rewrites it)
      }
      if (!sameSwitch(current, fence)) throw dfgError('DFG_ERR_MODEL_SWITCHED', current?.list ?? 'no recorded list');
    }
    if (keptBytes.length > 0) {
      const shas = [...new Set(keptBytes)];
      const kept = await value(c, 'SELECT count(*) FROM images WHERE sha256 = ANY($1)', [shas]);
      if (kept < shas.length) throw dfgError('DFG_ERR_IMAGE_NOT_KEPT', shas.length - kept);
    }
  };
  /**
   * Enrols checked items into an existing algorithm (inside a write transaction): one round trip per
   * table, whatever the batch size.
   */
  /** Inserts samples (inside a write transaction): the results, and how many change rows they took (0: nothing changed). */
  const insertSamples = async (c: pg.PoolClient, algorithmId: string, items: CheckedSample[], ts: string): Promise<{ results: AddSampleResult[]; changes: number }> => {
    // One round trip per table, whatever the batch size: find the stored samples, plan every
    // change in item order, take that many seqs, then insert changes, samples and vectors.
    const stored = await rows<SampleRow>(c, `SELECT ${SAMPLE_COLS} FROM samples s WHERE s.algorithm_id = $1 AND s.sha256 = ANY($2)`, [algorithmId, items.map((it) => it.sha256)]);
    const known = new Map(stored.map((r) => [r.sha256, toSample(r)]));
    const bundleIds = [...new Set(items.flatMap((it) => (it.origin ? [it.origin.bundleId] : [])))];
    const bundles = new Map((await rows<BundleRow>(c, 'SELECT * FROM bundles WHERE id = ANY($1)', [bundleIds])).map((r) => [r.id, toBundle(r)]));
    const missingBundle = bundleIds.find((id) => !bundles.has(id));
    if (missingBundle) throw dfgError('DFG_ERR_REQUEST_INVALID', `no recorded bundle ${missingBundle}`);
    const plan: Array<{ sampleId: string; modelId: string | null; vectors: Array<[string, Float32Array]>; sample?: SampleRecord }> = [];
    const out: AddSampleResult[] = [];
    const origins = new Map<string, { bundleId: string; sourceId: string }>();
    for (const item of items) {
      const existing = known.get(item.sha256);
      if (existing) {
        const lacking = [...item.vectors].filter(([m]) => !existing.models.includes(m));
        for (const [modelId, v] of lacking) plan.push({ sampleId: existing.id, modelId, vectors: [[modelId, v]] });
        if (lacking.length > 0) existing.models = [...existing.models, ...lacking.map(([m]) => m)].sort();
        out.push({ sample: { ...existing, models: [...existing.models] }, duplicate: true });
        continue;
      }
      const sample: SampleRecord = {
        id: newId('smp'), algorithmId, sha256: item.sha256, width: item.width, height: item.height, filename: item.filename, createdAt: ts, seq: 0,
        models: [...item.vectors.keys()].sort(),
        provenance: item.origin ? provenanceOf(bundles.get(item.origin.bundleId)!, item.origin.sourceId) : null,
      };
      if (item.origin) origins.set(sample.id, item.origin);
      known.set(item.sha256, sample);
      plan.push({ sampleId: sample.id, modelId: null, vectors: [...item.vectors], sample });
      out.push({ sample: { ...sample, models: [...sample.models] }, duplicate: false });
    }
    if (plan.length === 0) return { results: out, changes: 0 };
    const seqs = (await rows<{ seq: number }>(c, "SELECT nextval(pg_get_serial_sequence('changes', 'seq')) AS seq FROM generate_series(1, $1)", [plan.length])).map((r) => r.seq).sort((x, y) => x - y);
    plan.forEach((p, i) => {
      if (p.sample) p.sample.seq = seqs[i]!;
    });
    for (const r of out) r.sample.seq = known.get(r.sample.sha256)!.seq;
    await c.query(
      `INSERT INTO changes (seq, kind, sample_id, model_id, algorithm_id, created_at)
       SELECT seq, 'add', sample_id, model_id, $4, $5 FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(seq, sample_id, model_id)`,
      [seqs, plan.map((p) => p.sampleId), plan.map((p) => p.modelId), algorithmId, ts],
    );
    const fresh = plan.filter((p) => p.sample).map((p) => p.sample!);
    if (fresh.length > 0) {
      await c.query(
        `INSERT INTO samples (id, algorithm_id, sha256, width, height, filename, created_at, seq, bundle_id, source_id)
         SELECT id, $2, sha256, width, height, filename, $3, seq, bundle_id, source_id
         FROM unnest($1::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::bigint[], $9::text[], $10::text[]) AS u(id, sha256, width, height, filename, seq, bundle_id, source_id)`,
        [fresh.map((x) => x.id), algorithmId, ts, fresh.map((x) => x.sha256), fresh.map((x) => x.width), fresh.map((x) => x.height), fresh.map((x) => x.filename), fresh.map((x) => x.seq),
          fresh.map((x) => origins.get(x.id)?.bundleId ?? null), fresh.map((x) => origins.get(x.id)?.sourceId ?? null)],
      );
    }
    const vs = plan.flatMap((p, i) => p.vectors.map(([modelId, v]) => ({ sampleId: p.sampleId, modelId, v, seq: seqs[i]! })));
    await c.query(
      `INSERT INTO vectors (sample_id, model_id, vector, dim, seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[], $5::bigint[])`,
      [vs.map((x) => x.sampleId), vs.map((x) => x.modelId), vs.map((x) => vectorToBlob(x.v)), vs.map((x) => x.v.length), vs.map((x) => x.seq)],
    );
    return { results: out, changes: plan.length };
  };
  /** The bundle's row (by its sha256), created when new (inside a write transaction). */
  const recordBundleIn = async (c: pg.PoolClient, input: BundleInput): Promise<{ bundle: BundleRecord; created: boolean }> => {
    const found = await one<BundleRow>(c, 'SELECT * FROM bundles WHERE sha256 = $1', [input.sha256]);
    if (found) return { bundle: toBundle(found), created: false };
    const row = (await one<BundleRow>(
      c,
      `INSERT INTO bundles (id, sha256, publisher, key_fingerprint, software, exported_at, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [newId('bnd'), input.sha256, input.publisher, input.keyFingerprint, input.software, input.exportedAt, now()],
    ))!;
    return { bundle: toBundle(row), created: true };
  };
  /** Removes a bundle row nothing names (inside a write transaction); whether it did. */
  const forgetBundleIn = async (c: pg.PoolClient, id: string): Promise<boolean> =>
    ((await c.query(
      `DELETE FROM bundles b WHERE b.id = $1 AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.bundle_id = b.id)
         AND NOT EXISTS (SELECT 1 FROM algorithms a WHERE a.bundle_id = b.id)`,
      [id],
    )).rowCount ?? 0) > 0;
  const deleteLogged = async (c: Q, where: string, params: unknown[], ts: string): Promise<Array<{ id: string; seq: number; sha256: string; algorithm_id: string }>> => {
    const gone = await rows<{ id: string; seq: number; sha256: string; algorithm_id: string }>(c, `DELETE FROM samples WHERE ${where} RETURNING id, seq, sha256, algorithm_id`, params);
    if (gone.length > 0) {
      await c.query(
        `INSERT INTO changes (kind, sample_id, algorithm_id, label, created_at)
         SELECT 'delete', g.id, g.alg, g.seq, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS g(id, alg, seq, n) ORDER BY g.n`,
        [gone.map((g) => g.id), gone.map((g) => g.algorithm_id), gone.map((g) => g.seq), ts],
      );
    }
    return gone;
  };
  const vectorsOf = async (db: Q, sampleIds: readonly string[], models: readonly string[], upto: number) => {
    const out = new Map<string, Map<string, Float32Array>>(sampleIds.map((id) => [id, new Map()]));
    if (sampleIds.length === 0) return out;
    const rs = await rows<{ sample_id: string; model_id: string; vector: Buffer }>(
      db,
      'SELECT sample_id, model_id, vector FROM vectors WHERE sample_id = ANY($1) AND model_id = ANY($2) AND seq <= $3',
      [sampleIds, models, upto],
    );
    for (const r of rs) out.get(r.sample_id)?.set(r.model_id, blobToVector(r.vector));
    return out;
  };
  const indexedSamples = (db: Q, models: readonly string[], after: number, upto: number, limit: number): Promise<IndexedSample[]> =>
    windowed(after, upto, limit, async (lo, hi) =>
      (
        await rows<{ seq: number; id: string; algorithm_id: string }>(
          db,
          `SELECT s.seq, s.id, s.algorithm_id FROM samples s WHERE s.seq > $2 AND s.seq <= $3 AND ${complete('$1', '$4')} ORDER BY s.seq`,
          [models, lo, hi, upto],
        )
      ).map((r) => ({ seq: r.seq, label: r.seq, sampleId: r.id, algorithmId: r.algorithm_id })),
    ).then((page) => page.map(({ label, sampleId, algorithmId }) => ({ label, sampleId, algorithmId })));

  /** Listeners of onChange, and the LISTEN connection that feeds them (opened on first use, reopened after a failure). */
  const listeners = new Set<() => void>();
  let listener: pg.Client | undefined;
  let listenRetry: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = (): void => {
    for (const l of listeners) l();
  };
  const listen = (): void => {
    if (closed || listener || listeners.size === 0) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000, application_name: 'dfg-listen' });
    listener = client;
    const retry = (err?: unknown) => {
      if (err) onError(err);
      if (listener !== client) return;
      listener = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (!closed) {
        listenRetry = setTimeout(listen, 1000);
        listenRetry.unref();
      }
    };
    client.on('error', retry);
    client.on('end', () => retry());
    client.on('notification', fire);
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANNEL}`))
      // Changes made while not listening: let the listeners catch up now.
      .then(fire, retry);
  };

  const store: GalleryStore = {
    kind: 'postgres',
    location: redactUrl(url),
    galleryId,
    schema,

    maxSeq: () => guard(() => value(pool, 'SELECT coalesce(max(seq), 0) FROM changes')),

    createAlgorithm: (input, origin, note) =>
      write(async (c) => {
        const ts = now();
        const alg = await insertAlgorithm(c, input, origin ?? null, ts);
        await audit(c, auditCreate(note, alg), ts);
        return alg;
      }),

    getAlgorithm: (id) => guard(() => getAlgorithm(pool, id)),

    listAlgorithms: (limit, offset) =>
      read(async (c) => ({
        items: (await rows<AlgorithmRow>(c, `SELECT ${ALG_COLS}, ${COUNT_COL} FROM algorithms a ORDER BY a.ord LIMIT $1 OFFSET $2`, [limit, offset])).map(withCount),
        total: await value(c, 'SELECT count(*) FROM algorithms'),
      })),

    updateAlgorithm: (id: string, patch: AlgorithmPatch, note?: AuditNote) =>
      write(async (c) => {
        const before = await getAlgorithm(c, id);
        if (!before) return undefined;
        const cols: Record<string, string> = {
          name: 'name', forgeryType: 'forgery_type', architecture: 'architecture', description: 'description',
          reference: 'reference', enabled: 'enabled', threshold: 'threshold',
        };
        const ts = now();
        const sets: string[] = [];
        const params: unknown[] = [id, ts];
        for (const [key, col] of Object.entries(cols)) {
          const v = (patch as Record<string, unknown>)[key];
          if (v === undefined) continue;
          params.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
          sets.push(`${col} = $${params.length}`);
        }
        sets.push('updated_at = $2');
        try {
          await c.query('SAVEPOINT upd');
          await c.query(`UPDATE algorithms SET ${sets.join(', ')} WHERE id = $1`, params);
        } catch (err) {
          if (isNameConflict(err)) throw dfgError('DFG_ERR_ALGORITHM_NAME_TAKEN', patch.name);
          throw err;
        }
        await logAlgorithm(c, id, ts);
        const after = (await getAlgorithm(c, id))!;
        await audit(c, auditUpdate(note, before, after, patch), ts);
        return after;
      }),

    deleteAlgorithm: (id, note) =>
      write(async (c) => {
        const before = await getAlgorithm(c, id);
        if (!before) return undefined;
        const ts = now();
        const gone = await deleteLogged(c, 'algorithm_id = $1', [id], ts);
        await c.query('DELETE FROM algorithms WHERE id = $1', [id]);
        await logAlgorithm(c, id, ts);
        await audit(c, auditDelete(note, before, gone.length), ts);
        return { samples: gone.length, sha256s: gone.map((g) => g.sha256) };
      }),

    algorithmSummaries: () =>
      guard(async () =>
        (await rows<AlgorithmRow>(pool, 'SELECT id, name, forgery_type, architecture, enabled, threshold FROM algorithms')).map((r) => ({
          id: r.id, name: r.name, forgeryType: r.forgery_type, architecture: r.architecture, enabled: r.enabled === 1, threshold: r.threshold,
        })),
      ),

    addSamples: (algorithmId: string, items: CheckedSample[], checks: AddSampleChecks = {}, note?: AuditNote) =>
      write(async (c) => {
        await underLock(c, checks.fence, checks.keptBytes ? items.map((it) => it.sha256) : []);
        requireVectors(items);
        if (!(await one(c, 'SELECT 1 FROM algorithms WHERE id = $1', [algorithmId]))) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', algorithmId);
        const ts = now();
        const { results, changes } = await insertSamples(c, algorithmId, items, ts);
        // Every item a duplicate that gained nothing: nothing changed, nothing to audit.
        if (changes > 0) await audit(c, auditEnrol(note, algorithmId, results, changes), ts);
        return results;
      }),

    addVectors: (modelId, items, note) =>
      write(async (c) => {
        const ts = now();
        let stored = 0;
        for (const it of items) {
          const row = await one<{ algorithm_id: string; has: number }>(
            c,
            'SELECT s.algorithm_id, (SELECT count(*) FROM vectors v WHERE v.sample_id = s.id AND v.model_id = $2) AS has FROM samples s WHERE s.id = $1',
            [it.sampleId, modelId],
          );
          if (!row || row.has > 0) continue;
          await insertVector(c, it.sampleId, modelId, it.vector, await logAdd(c, it.sampleId, modelId, row.algorithm_id, ts));
          stored++;
        }
        if (stored > 0) await audit(c, auditVectors(note, modelId, stored), ts);
        return stored;
      }),

    listSamples: (algorithmId, limit, offset) =>
      read(async (c) => ({
        items: (await rows<SampleRow>(c, `SELECT ${SAMPLE_COLS} FROM samples s WHERE s.algorithm_id = $1 ORDER BY s.seq LIMIT $2 OFFSET $3`, [algorithmId, limit, offset])).map(toSample),
        total: await value(c, 'SELECT count(*) FROM samples WHERE algorithm_id = $1', [algorithmId]),
      })),

    getSample: (algorithmId, sampleId) => guard(() => sampleBy(pool, 's.id = $1 AND s.algorithm_id = $2', [sampleId, algorithmId])),
    sampleById: (sampleId) => guard(() => sampleBy(pool, 's.id = $1', [sampleId])),

    deleteSample: (algorithmId, sampleId, note) =>
      write(async (c) => {
        const s = await sampleBy(c, 's.id = $1 AND s.algorithm_id = $2', [sampleId, algorithmId]);
        if (!s) return undefined;
        const ts = now();
        await deleteLogged(c, 'id = $1', [sampleId], ts);
        await audit(c, auditSampleDelete(note, s), ts);
        return s;
      }),

    findBySha: (sha256) => guard(async () => (await rows<SampleRow>(pool, `SELECT ${SAMPLE_COLS} FROM samples s WHERE s.sha256 = $1 ORDER BY s.seq`, [sha256])).map(toSample)),

    coverage: (modelIds) =>
      read(async (c) => {
        const stored = await value(c, 'SELECT count(*) FROM samples');
        const done = await value(c, `SELECT count(*) FROM samples s WHERE ${complete('$1', '$2')}`, [modelIds, Number.MAX_SAFE_INTEGER]);
        const missing: Record<string, number> = {};
        for (const id of modelIds) missing[id] = stored - (await value(c, 'SELECT count(*) FROM vectors WHERE model_id = $1', [id]));
        return { stored, incomplete: stored - done, missing };
      }),
    countSamples: () => guard(() => value(pool, 'SELECT count(*) FROM samples')),
    countComplete: (models, upto = Number.MAX_SAFE_INTEGER) => guard(() => value(pool, `SELECT count(*) FROM samples s WHERE ${complete('$1', '$2')}`, [models, upto])),
    countMissing: (modelId) => guard(() => value(pool, 'SELECT count(*) FROM samples s WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.sample_id = s.id AND v.model_id = $1)', [modelId])),
    samplesMissing: (modelId, after, limit) =>
      guard(async () => {
        const upto = await value(pool, 'SELECT coalesce(max(seq), 0) FROM samples');
        return windowed(after, upto, limit, async (lo, hi) =>
          (
            await rows<SampleRow>(
              pool,
              `SELECT ${SAMPLE_COLS} FROM samples s WHERE s.seq > $1 AND s.seq <= $2 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.sample_id = s.id AND v.model_id = $3) ORDER BY s.seq`,
              [lo, hi, modelId],
            )
          ).map(toSample),
        );
      }),

    changesAfter: (after, upto, limit) =>
      guard(() => windowed(after, upto, limit, async (lo, hi) =>
        (
          await rows<ChangeLogRow>(
            pool,
            `SELECT c.seq, c.kind, c.sample_id, c.model_id, c.algorithm_id, c.label, s.seq AS sample_seq, s.algorithm_id AS sample_alg
             FROM changes c LEFT JOIN samples s ON c.kind = 'add' AND s.id = c.sample_id
             WHERE c.seq > $1 AND c.seq <= $2 ORDER BY c.seq`,
            [lo, hi],
          )
        ).map(toChangeRow),
      )),

    indexedSamples: (models, after, upto, limit) => guard(() => indexedSamples(pool, models, after, upto, limit)),

    indexedVectors: (models, after, upto, limit) =>
      read(async (c): Promise<SampleVectors[]> => {
        const page = await indexedSamples(c, models, after, upto, limit);
        const vecs = await vectorsOf(c, page.map((s) => s.sampleId), models, upto);
        return page.map((s) => ({ ...s, vectors: vecs.get(s.sampleId)! }));
      }),

    vectorsOf: (sampleIds, models, upto) => guard(() => vectorsOf(pool, sampleIds, models, upto)),

    deletedAfter: (after) =>
      guard(async () =>
        (await rows<{ label: number; sample_id: string; algorithm_id: string }>(pool, "SELECT label, sample_id, algorithm_id FROM changes WHERE kind = 'delete' AND seq > $1 AND label <= $1", [after])).map(
          (r) => ({ label: r.label, sampleId: r.sample_id, algorithmId: r.algorithm_id }),
        ),
      ),

    saveCalibration: (modelId: string, input: CheckedCalibration, note?: AuditNote) =>
      write(async (c) => {
        const ts = now();
        const thresholds = JSON.stringify({ global: input.global, perAlgorithm: input.perAlgorithm });
        const params = JSON.stringify(input.metric ? { ...input.params, metric: metricHeader(input.metric) } : input.params);
        const metric = input.metric ? metricToBytes(input.metric) : null;
        const id = await value(c, 'INSERT INTO calibrations (model_id, created_at, target_fpir, params, thresholds, metric) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', [
          modelId, ts, input.targetFpir, params, thresholds, metric,
        ]);
        await c.query("INSERT INTO changes (kind, model_id, created_at) VALUES ('calibration', $1, $2)", [modelId, ts]);
        const saved = toCalibration({ id, model_id: modelId, created_at: ts, target_fpir: input.targetFpir, params, thresholds, metric });
        await audit(c, auditCalibration(note, modelId, saved), ts);
        return saved;
      }),

    recordBundle: (input) => write((c) => recordBundleIn(c, input)),

    forgetBundle: (id) => write((c) => forgetBundleIn(c, id)),

    applyImport: (bundle, parts, checks = {}, importAudit) =>
      write(async (c) => {
        await underLock(c, checks.fence, checks.keptBytes ?? []);
        const ts = now();
        const { bundle: record, created } = await recordBundleIn(c, bundle);
        const out: ImportApplied['parts'] = [];
        const made: Array<{ algorithm: Algorithm | null; algorithmId: string; results: AddSampleResult[]; changes: number }> = [];
        for (const p of parts) {
          const items = p.items.map((it) => ({ ...it.sample, origin: { bundleId: record.id, sourceId: it.sourceId } }));
          requireVectors(items);
          const alg = p.create ? await insertAlgorithm(c, p.create.input, { bundleId: record.id, sourceId: p.create.sourceId }, ts) : null;
          const algorithmId = alg ? alg.id : p.algorithmId!;
          if (!p.create && !(await one(c, 'SELECT 1 FROM algorithms WHERE id = $1', [algorithmId]))) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', algorithmId);
          // In batches, as enrolments are: each a few round trips, whatever the import's size.
          const results: AddSampleResult[] = [];
          let changes = 0;
          for (let i = 0; i < items.length; i += IMPORT_BATCH) {
            const batch = await insertSamples(c, algorithmId, items.slice(i, i + IMPORT_BATCH), ts);
            results.push(...batch.results);
            changes += batch.changes;
          }
          out.push({ algorithmId, created: Boolean(p.create), results });
          made.push({ algorithm: alg, algorithmId, results, changes });
        }
        // A bundle that added nothing (every sample a duplicate, or skipped) leaves no record behind.
        const recorded = created && !(await forgetBundleIn(c, record.id));
        for (const e of auditImport(importAudit, record.id, made)) await audit(c, e, ts);
        return { bundle: record, recorded, parts: out };
      }),

    hasBundles: () => guard(async () => Boolean(await one(pool, 'SELECT 1 FROM bundles LIMIT 1'))),

    provenanceOf: (sampleIds) =>
      guard(async () => {
        const out = new Map<string, Provenance>();
        if (sampleIds.length === 0) return out;
        const found = await rows<{ id: string; provenance: string | null }>(
          pool, `SELECT s.id, ${provenanceColumn('json_build_object', 's', '::text')} FROM samples s WHERE s.id = ANY($1) AND s.bundle_id IS NOT NULL`, [[...sampleIds]],
        );
        for (const r of found) {
          const p = toProvenance(r.provenance);
          if (p) out.set(r.id, p);
        }
        return out;
      }),

    listCalibrations: (modelId, limit) =>
      guard(async () => (await rows<CalibrationRow>(pool, 'SELECT * FROM calibrations WHERE model_id = $1 ORDER BY id DESC LIMIT $2', [modelId, limit])).map(toCalibration)),

    lastSwitch: () => guard(() => lastSwitch(pool)),

    recordSwitch: (list, forced, note) =>
      write(async (c) => {
        let previous: string | null;
        try {
          await c.query('SAVEPOINT sw');
          previous = (await lastSwitch(c))?.list ?? null;
        } catch (err) {
          if (isConnectionError(err)) throw err;
          await c.query('ROLLBACK TO SAVEPOINT sw');
          previous = null; // a malformed record is replaced
        }
        const record: SwitchRecord = { list, at: now(), forced };
        await c.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [SWITCH_KEY, JSON.stringify(record)]);
        await audit(c, auditSwitch(note, list, forced, previous), record.at);
        return record;
      }),

    listAudit: (query) =>
      guard(async (): Promise<AuditRecord[]> =>
        (query.since === undefined
          ? await rows<AuditRow>(pool, 'SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2', [query.afterSeq, query.limit])
          : await rows<AuditRow>(pool, 'SELECT * FROM audit WHERE seq > $1 AND at >= $2 ORDER BY seq LIMIT $3', [query.afterSeq, query.since, query.limit])
        ).map(toAudit)),

    // Attributions change no answer and write no audit row: no write lock, no notification.
    recordAttributions: (list) =>
      inTx('BEGIN', async (c) => {
        for (const a of list) {
          await c.query(`INSERT INTO attributions (id, created_at, expires_at, key_id, model_id, decision, algorithm_id, score, threshold, candidates, sha256, width, height)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, attributionParams(a));
          const vs = Object.entries(a.vectors);
          await c.query(
            'INSERT INTO attribution_vectors (attribution_id, model_id, vector, dim) SELECT $1, * FROM unnest($2::text[], $3::bytea[], $4::int[])',
            [a.id, vs.map(([m]) => m), vs.map(([, v]) => vectorToBlob(v)), vs.map(([, v]) => v.length)],
          );
        }
        await c.query(`DELETE FROM attributions WHERE id IN (SELECT id FROM attributions WHERE verdict IS NULL AND expires_at < $1 LIMIT ${PRUNE_BATCH})`, [now()]);
      }),

    getAttribution: (id) =>
      guard(async () => {
        const a = await getAttribution(pool, id);
        return a && (a.verdict !== null || a.expiresAt > now()) ? a : undefined;
      }),

    recordFeedback: (id, f, note) =>
      write(async (c) => {
        const ts = now();
        const a = await getAttribution(c, id);
        if (!a || (a.verdict === null && a.expiresAt <= ts)) return 'missing' as const;
        const done = await c.query(
          `UPDATE attributions SET verdict = $2, verdict_algorithm_id = $3, verdict_key_id = $4, verdict_at = $5, enrolled_sample_id = $6 WHERE id = $1 AND verdict IS NULL`,
          [id, f.verdict, f.algorithmId, note?.keyId ?? null, ts, f.enrolledSampleId],
        );
        if ((done.rowCount ?? 0) === 0) return 'given' as const;
        await audit(c, auditFeedback(note, a, f), ts);
        return 'recorded' as const;
      }),

    feedbackPairs: (modelId, limit) =>
      read(async (c) => {
        const found = await rows<{ id: string; verdict: Verdict; verdict_algorithm_id: string }>(c, `SELECT id, verdict, verdict_algorithm_id FROM attributions
          WHERE model_id = $1 AND verdict IS NOT NULL AND verdict_algorithm_id IS NOT NULL AND enrolled_sample_id IS NULL
          ORDER BY verdict_at DESC LIMIT $2`, [modelId, limit]);
        const vectors = await attributionVectors(c, found.map((r) => r.id));
        return found.map((r) => toPair(r, vectors.get(r.id)!));
      }),

    feedbackCounts: (modelId) =>
      guard(async () => toCounts(await rows<{ verdict: Verdict; n: number }>(pool,
        "SELECT verdict, count(*) AS n FROM attributions WHERE model_id = $1 AND decision = 'attributed' AND verdict IS NOT NULL GROUP BY verdict", [modelId]))),

    async putImage(sha256, bytes) {
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw dfgError('DFG_ERR_REQUEST_INVALID', `Expected a lower-case hex sha256 for a blob but received ${JSON.stringify(sha256).slice(0, 80)}`);
      if (crypto.createHash('sha256').update(bytes).digest('hex') !== sha256) throw dfgError('DFG_ERR_REQUEST_INVALID', `image bytes do not hash to ${sha256}`);
      await guard(() => pool.query('INSERT INTO images (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [sha256, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]));
    },

    getImage: (sha256) => guard(async () => (await one<{ bytes: Buffer }>(pool, 'SELECT bytes FROM images WHERE sha256 = $1', [sha256]))?.bytes ?? null),

    async dropUnreferenced(sha256s) {
      const shas = [...new Set(sha256s)];
      if (shas.length === 0) return;
      // Under the write lock: an enrolment of the same bytes commits before (the image stays) or after (it finds it gone and writes it again).
      await write((c) => c.query('DELETE FROM images i WHERE i.sha256 = ANY($1) AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.sha256 = i.sha256)', [shas]));
    },

    async tryExclusive(name, fn) {
      const c = await guard(() => pool.connect());
      let locked = false;
      try {
        locked = (await guard(() => one<{ ok: boolean }>(c, 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [NAMED_LOCKS, name])))!.ok;
        if (!locked) return undefined;
        return await fn();
      } finally {
        if (locked) await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMED_LOCKS, name]).catch(() => undefined);
        c.release();
      }
    },

    onChange(l) {
      listeners.add(l);
      listen();
      return () => {
        listeners.delete(l);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (listenRetry) clearTimeout(listenRetry);
      const l = listener;
      listener = undefined;
      await l?.end().catch(() => undefined);
      await pool.end();
    },
  };
  return store;
}
