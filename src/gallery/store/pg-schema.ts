/**
 * Schema migrations of the PostgreSQL store, tracked in `schema_migrations`. The first process to
 * open the store takes a session advisory lock and migrates inside one transaction; the others wait
 * for the lock and find the schema current. Append to PG_MIGRATIONS for each change; never edit a
 * released one. The tables mirror the SQLite store's (migrations.ts) at its current version, plus
 * `images` for kept image bytes, which SQLite keeps as files beside its database.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { dfgError } from '../../errors.js';
import { ARCHITECTURES, FORGERY_TYPES } from '../types.js';

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

const V1 = `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE algorithms (
    id           TEXT PRIMARY KEY,
    ord          BIGSERIAL NOT NULL,
    name         TEXT NOT NULL,
    forgery_type TEXT NOT NULL CHECK (forgery_type IN (${list(FORGERY_TYPES)})),
    architecture TEXT NOT NULL CHECK (architecture IN (${list(ARCHITECTURES)})),
    description  TEXT NOT NULL DEFAULT '',
    reference    TEXT NOT NULL DEFAULT '',
    enabled      SMALLINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    threshold    DOUBLE PRECISION CHECK (threshold IS NULL OR (threshold >= -1 AND threshold <= 1)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );
  CREATE UNIQUE INDEX algorithms_name_nocase ON algorithms (lower(name));

  -- The change log (see the SQLite store): its seq is the gallery version. Writers serialise on a
  -- transaction advisory lock, so seqs commit in order and a reader never skips a late commit.
  CREATE TABLE changes (
    seq          BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('add', 'delete', 'algorithm', 'calibration')),
    sample_id    TEXT,
    model_id     TEXT,
    algorithm_id TEXT,
    label        BIGINT,
    created_at   TEXT NOT NULL
  );
  CREATE INDEX changes_deletes ON changes (seq) WHERE kind = 'delete';

  CREATE TABLE samples (
    id           TEXT PRIMARY KEY,
    algorithm_id TEXT NOT NULL REFERENCES algorithms (id),
    sha256       TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    filename     TEXT,
    created_at   TEXT NOT NULL,
    seq          BIGINT NOT NULL UNIQUE,
    UNIQUE (algorithm_id, sha256)
  );
  CREATE INDEX samples_by_sha ON samples (sha256);

  CREATE TABLE vectors (
    sample_id TEXT NOT NULL REFERENCES samples (id) ON DELETE CASCADE,
    model_id  TEXT NOT NULL,
    vector    BYTEA NOT NULL,
    dim       INTEGER NOT NULL CHECK (dim > 0 AND length(vector) = 4 * dim),
    seq       BIGINT NOT NULL,
    PRIMARY KEY (sample_id, model_id)
  );
  CREATE INDEX vectors_by_model ON vectors (model_id, seq);

  CREATE TABLE calibrations (
    id          BIGSERIAL PRIMARY KEY,
    model_id    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    target_fpir DOUBLE PRECISION NOT NULL,
    params      TEXT NOT NULL,
    thresholds  TEXT NOT NULL,
    metric      BYTEA
  );
  CREATE INDEX calibrations_by_model ON calibrations (model_id, id);

  -- Kept image bytes, content-addressed; removed once no sample names them.
  CREATE TABLE images (
    sha256 TEXT PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes  BYTEA NOT NULL
  );
`;

/** Provenance of imported samples and algorithms (the SQLite store's v4). */
const V2 = `
  CREATE TABLE bundles (
    id              TEXT PRIMARY KEY,
    sha256          TEXT NOT NULL UNIQUE,
    publisher       TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    software        TEXT NOT NULL,
    exported_at     TEXT NOT NULL,
    imported_at     TEXT NOT NULL
  );
  ALTER TABLE algorithms ADD COLUMN bundle_id TEXT REFERENCES bundles (id);
  ALTER TABLE algorithms ADD COLUMN source_id TEXT;
  ALTER TABLE samples ADD COLUMN bundle_id TEXT REFERENCES bundles (id);
  ALTER TABLE samples ADD COLUMN source_id TEXT;
  CREATE INDEX samples_by_bundle ON samples (bundle_id) WHERE bundle_id IS NOT NULL;
`;

/** The audit trail (append-only: triggers refuse UPDATE and DELETE) and the attributions kept for feedback (the SQLite store's v5). */
const V3 = `
  CREATE TABLE audit (
    seq     BIGSERIAL PRIMARY KEY,
    at      TEXT NOT NULL,
    key_id  TEXT,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT NOT NULL
  );
  CREATE INDEX audit_by_time ON audit (at);
  CREATE FUNCTION dfg_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
  CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION dfg_audit_append_only();
  CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION dfg_audit_append_only();

  CREATE TABLE attributions (
    id                   TEXT PRIMARY KEY,
    created_at           TEXT NOT NULL,
    expires_at           TEXT NOT NULL,
    key_id               TEXT,
    model_id             TEXT NOT NULL,
    decision             TEXT NOT NULL CHECK (decision IN ('attributed', 'unknown', 'authentic')),
    algorithm_id         TEXT,
    score                DOUBLE PRECISION NOT NULL,
    threshold            DOUBLE PRECISION NOT NULL,
    candidates           TEXT NOT NULL,
    sha256               TEXT NOT NULL,
    width                INTEGER NOT NULL,
    height               INTEGER NOT NULL,
    verdict              TEXT CHECK (verdict IN ('confirm', 'reject', 'relabel')),
    verdict_algorithm_id TEXT,
    verdict_key_id       TEXT,
    verdict_at           TEXT,
    enrolled_sample_id   TEXT
  );
  CREATE INDEX attributions_expiry ON attributions (expires_at) WHERE verdict IS NULL;
  CREATE INDEX attributions_verdicts ON attributions (model_id, verdict_at) WHERE verdict IS NOT NULL;
  CREATE TABLE attribution_vectors (
    attribution_id TEXT NOT NULL REFERENCES attributions (id) ON DELETE CASCADE,
    model_id       TEXT NOT NULL,
    vector         BYTEA NOT NULL,
    dim            INTEGER NOT NULL CHECK (dim > 0 AND length(vector) = 4 * dim),
    PRIMARY KEY (attribution_id, model_id)
  );
`;

/** Index i brings the schema from version i to version i + 1. */
export const PG_MIGRATIONS: readonly string[] = [V1, V2, V3];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Session advisory lock key of the migration (any process, any host). */
const MIGRATE_LOCK = 0x44_46_47_00;

/**
 * Brings the database to PG_SCHEMA_VERSION once, whichever process gets here first: under a
 * session advisory lock, in one transaction. Refuses a database migrated by a newer release.
 */
export async function migratePg(client: pg.ClientBase): Promise<{ from: number; to: number }> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
  try {
    await client.query('BEGIN');
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const from = Number((await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v);
      if (from > PG_SCHEMA_VERSION) throw dfgError('DFG_ERR_GALLERY_SCHEMA_UNSUPPORTED', from, PG_SCHEMA_VERSION);
      for (let v = from; v < PG_SCHEMA_VERSION; v++) {
        await client.query(PG_MIGRATIONS[v]!);
        if (v === 0) await client.query("INSERT INTO meta (key, value) VALUES ('gallery_id', $1)", [randomBytes(12).toString('hex')]);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
      }
      await client.query('COMMIT');
      return { from, to: PG_SCHEMA_VERSION };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => undefined);
  }
}
