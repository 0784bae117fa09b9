/**
 * `dfg gallery migrate`: copies a whole gallery store between SQLite (a gallery folder, its kept
 * images as files) and PostgreSQL (DFG_STORE), rows as they are (ids, seqs, timestamps, the change
 * log, calibrations, the model switch record, the audit trail, attributions kept for feedback) and
 * kept image bytes included. Each page is one
 * transaction that skips rows already there, so an interrupted copy is resumed by running it again.
 * At the end it compares counts and SHA-256 digests of every table on both sides. The target keeps
 * its own gallery id, so index snapshots of the source are rebuilt, never trusted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from './sqlite-sync.js';
import { storeFile } from './file.js';
import { createBlobStore } from './blobs.js';
import { openPgGalleryStore } from './pg.js';

type Row = Record<string, unknown>;

interface Table {
  name: string;
  cols: string[];
  /** Copy and digest order; rows after a key are read with a row-value comparison. */
  key: string[];
  /** Text columns of the key, compared byte-wise on both sides (PostgreSQL: COLLATE "C"). */
  text: string[];
}

/** Parents before children (foreign keys). */
const TABLES: Table[] = [
  // Signed bundles that samples and algorithms were imported from (their provenance).
  { name: 'bundles', cols: ['id', 'sha256', 'publisher', 'key_fingerprint', 'software', 'exported_at', 'imported_at'], key: ['id'], text: ['id'] },
  // Registration order (the order of listings) follows created_at, then id.
  { name: 'algorithms', cols: ['id', 'name', 'forgery_type', 'architecture', 'description', 'reference', 'enabled', 'threshold', 'created_at', 'updated_at', 'bundle_id', 'source_id'], key: ['created_at', 'id'], text: ['created_at', 'id'] },
  { name: 'samples', cols: ['id', 'algorithm_id', 'sha256', 'width', 'height', 'filename', 'created_at', 'seq', 'bundle_id', 'source_id'], key: ['seq'], text: [] },
  { name: 'vectors', cols: ['sample_id', 'model_id', 'vector', 'dim', 'seq'], key: ['sample_id', 'model_id'], text: ['sample_id', 'model_id'] },
  { name: 'changes', cols: ['seq', 'kind', 'sample_id', 'model_id', 'algorithm_id', 'label', 'created_at'], key: ['seq'], text: [] },
  { name: 'calibrations', cols: ['id', 'model_id', 'created_at', 'target_fpir', 'params', 'thresholds', 'metric'], key: ['id'], text: [] },
  // The model switch record; gallery_id stays the target's own.
  { name: 'meta', cols: ['key', 'value'], key: ['key'], text: ['key'] },
  // The audit trail, rows as they are (seq, time, key id).
  { name: 'audit', cols: ['seq', 'at', 'key_id', 'action', 'subject', 'detail'], key: ['seq'], text: [] },
  // Attributions kept for feedback, their verdicts (calibration evidence) and query vectors.
  {
    name: 'attributions',
    cols: ['id', 'created_at', 'expires_at', 'key_id', 'model_id', 'decision', 'algorithm_id', 'score', 'threshold', 'candidates', 'sha256', 'width', 'height',
      'verdict', 'verdict_algorithm_id', 'verdict_key_id', 'verdict_at', 'enrolled_sample_id'],
    key: ['id'], text: ['id'],
  },
  { name: 'attribution_vectors', cols: ['attribution_id', 'model_id', 'vector', 'dim'], key: ['attribution_id', 'model_id'], text: ['attribution_id', 'model_id'] },
];

const PAGE = 500;

/** One side of a copy. */
interface End {
  readonly label: string;
  page(table: Table, after: unknown[] | null, limit: number): Promise<Row[]>;
  /** Inserts the rows that are not there yet; how many were. */
  insert(table: Table, rows: Row[]): Promise<number>;
  /** Kept images in sha256 order after `after`. */
  images(after: string | null, limit: number): Promise<Array<{ sha256: string; bytes: Buffer }>>;
  /** Keeps the images not kept yet; how many were new. */
  putImages(items: Array<{ sha256: string; bytes: Buffer }>): Promise<number>;
  /** Moves id sequences past the copied rows. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

const keyOf = (t: Table, r: Row): unknown[] => t.key.map((k) => r[k]);
const metaFilter = (t: Table) => (t.name === 'meta' ? "key <> 'gallery_id'" : '');

async function openSqliteEnd(dir: string): Promise<End> {
  fs.mkdirSync(dir, { recursive: true });
  openStore(storeFile(dir)).close(); // creates and migrates
  const db = new Database(storeFile(dir));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const blobs = createBlobStore(dir);
  const listImages = (): string[] => {
    if (!fs.existsSync(blobs.dir)) return [];
    const out: string[] = [];
    for (const d of fs.readdirSync(blobs.dir)) {
      const sub = path.join(blobs.dir, d);
      if (!fs.statSync(sub).isDirectory()) continue;
      for (const f of fs.readdirSync(sub)) if (/^[0-9a-f]{64}$/.test(f)) out.push(f);
    }
    return out.sort();
  };
  let imageList: string[] | undefined;
  return {
    label: storeFile(dir),
    async page(t, after, limit) {
      const where = [metaFilter(t), after ? `(${t.key.join(', ')}) > (${t.key.map(() => '?').join(', ')})` : ''].filter(Boolean);
      return db.prepare(`SELECT ${t.cols.join(', ')} FROM ${t.name} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${t.key.join(', ')} LIMIT ?`).all(...(after ?? []), limit) as Row[];
    },
    async insert(t, rows) {
      const stmt = db.prepare(`INSERT OR IGNORE INTO ${t.name} (${t.cols.join(', ')}) VALUES (${t.cols.map(() => '?').join(', ')})`);
      return db.transaction(() => {
        let n = 0;
        for (const r of rows) n += stmt.run(...t.cols.map((c) => r[c])).changes;
        return n;
      }).immediate();
    },
    async images(after, limit) {
      imageList ??= listImages();
      const names = imageList.filter((s) => after === null || s > after).slice(0, limit);
      return Promise.all(names.map(async (sha256) => ({ sha256, bytes: (await blobs.get(sha256))! })));
    },
    async putImages(items) {
      let n = 0;
      for (const it of items) {
        if (blobs.has(it.sha256)) continue;
        await blobs.put(it.sha256, it.bytes);
        n++;
      }
      return n;
    },
    async finish() {},
    async close() {
      db.close();
    },
  };
}

async function openPgEnd(url: string): Promise<End> {
  await (await openPgGalleryStore(url)).close(); // creates and migrates, under its lock
  const pool = new pg.Pool({ connectionString: url, max: 2, types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser } });
  pool.on('error', () => undefined);
  const label = (() => {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  })();
  return {
    label,
    async page(t, after, limit) {
      const params: unknown[] = [...(after ?? []), limit];
      // Byte order (COLLATE "C"), as SQLite compares text.
      const keys = t.key.map((k) => (t.text.includes(k) ? `${k} COLLATE "C"` : k));
      const where = [metaFilter(t), after ? `(${keys.join(', ')}) > (${t.key.map((_, i) => `$${i + 1}`).join(', ')})` : ''].filter(Boolean);
      return (await pool.query(`SELECT ${t.cols.join(', ')} FROM ${t.name} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${keys.join(', ')} LIMIT $${params.length}`, params)).rows as Row[];
    },
    async insert(t, rows) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        let n = 0;
        for (const r of rows) {
          n += (await c.query(`INSERT INTO ${t.name} (${t.cols.join(', ')}) VALUES (${t.cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`, t.cols.map((col) => r[col]))).rowCount ?? 0;
        }
        await c.query('COMMIT');
        return n;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
    async images(after, limit) {
      const r = await pool.query<{ sha256: string; bytes: Buffer }>(`SELECT sha256, bytes FROM images ${after ? 'WHERE sha256 COLLATE "C" > $2' : ''} ORDER BY sha256 COLLATE "C" LIMIT $1`, after ? [limit, after] : [limit]);
      return r.rows;
    },
    async putImages(items) {
      let n = 0;
      for (const it of items) n += (await pool.query('INSERT INTO images (sha256, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING', [it.sha256, it.bytes])).rowCount ?? 0;
      return n;
    },
    async finish() {
      await pool.query("SELECT setval(pg_get_serial_sequence('changes', 'seq'), greatest((SELECT max(seq) FROM changes), 1), (SELECT count(*) > 0 FROM changes))");
      await pool.query("SELECT setval(pg_get_serial_sequence('calibrations', 'id'), greatest((SELECT max(id) FROM calibrations), 1), (SELECT count(*) > 0 FROM calibrations))");
      await pool.query("SELECT setval(pg_get_serial_sequence('audit', 'seq'), greatest((SELECT max(seq) FROM audit), 1), (SELECT count(*) > 0 FROM audit))");
    },
    async close() {
      await pool.end();
    },
  };
}

/** Counts and SHA-256 digests of every table and of the kept images (whose bytes must hash to their names). */
export interface StoreDigest {
  [table: string]: { count: number; sha256: string };
}

const canon = (v: unknown): string => (Buffer.isBuffer(v) ? `x${v.toString('hex')}` : JSON.stringify(v ?? null));

async function digest(end: End): Promise<StoreDigest> {
  const out: StoreDigest = {};
  for (const t of TABLES) {
    const h = crypto.createHash('sha256');
    let count = 0;
    for (let after: unknown[] | null = null; ;) {
      const rows = await end.page(t, after, PAGE);
      for (const r of rows) h.update(t.cols.map((c) => canon(r[c])).join('\u0001') + '\n');
      count += rows.length;
      if (rows.length < PAGE) break;
      after = keyOf(t, rows[rows.length - 1]!);
    }
    out[t.name] = { count, sha256: h.digest('hex') };
  }
  const h = crypto.createHash('sha256');
  let count = 0;
  let bad = 0;
  for (let after: string | null = null; ;) {
    const page = await end.images(after, 100);
    for (const it of page) {
      if (crypto.createHash('sha256').update(it.bytes).digest('hex') !== it.sha256) bad++;
      h.update(`${it.sha256}\n`);
    }
    count += page.length;
    if (page.length < 100) break;
    after = page[page.length - 1]!.sha256;
  }
  out.images = { count, sha256: bad > 0 ? `${bad} image(s) whose bytes do not hash to their name` : h.digest('hex') };
  return out;
}

export interface MigrateResult {
  from: string;
  to: string;
  /** Rows (and images) written by this run; 0 for those a previous run had copied. */
  copied: Record<string, number>;
  source: StoreDigest;
  target: StoreDigest;
  /** Counts and digests agree for every table and the kept images. */
  verified: boolean;
}

/**
 * Copies the gallery store `from` into `to` (each a gallery folder or a postgres:// URL; the
 * target is created when missing), then verifies. The source must not be written meanwhile: stop
 * the services and workers that use it first.
 */
export async function migrateStore(from: { dir: string } | { url: string }, to: { dir: string } | { url: string }, onProgress?: (table: string, copied: number) => void): Promise<MigrateResult> {
  const open = (e: { dir: string } | { url: string }) => ('url' in e ? openPgEnd(e.url) : openSqliteEnd(e.dir));
  const src = await open(from);
  let dst: End | undefined;
  try {
    dst = await open(to);
    const copied: Record<string, number> = {};
    for (const t of TABLES) {
      copied[t.name] = 0;
      for (let after: unknown[] | null = null; ;) {
        const rows = await src.page(t, after, PAGE);
        if (rows.length > 0) copied[t.name] += await dst.insert(t, rows);
        onProgress?.(t.name, copied[t.name]!);
        if (rows.length < PAGE) break;
        after = keyOf(t, rows[rows.length - 1]!);
      }
    }
    copied.images = 0;
    for (let after: string | null = null; ;) {
      const page = await src.images(after, 50);
      if (page.length > 0) copied.images += await dst.putImages(page);
      onProgress?.('images', copied.images);
      if (page.length < 50) break;
      after = page[page.length - 1]!.sha256;
    }
    await dst.finish();
    const [source, target] = [await digest(src), await digest(dst)];
    const verified = Object.keys(source).every((k) => source[k]!.count === target[k]?.count && source[k]!.sha256 === target[k]?.sha256);
    return { from: src.label, to: dst.label, copied, source, target, verified };
  } finally {
    await dst?.close();
    await src.close();
  }
}
