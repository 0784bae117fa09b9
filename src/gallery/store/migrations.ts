/**
 * Schema migrations of the SQLite store, tracked in `PRAGMA user_version`. Append a function to
 * MIGRATIONS for each change; never edit a released one.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { dfgError } from '../../errors.js';
import { ARCHITECTURES, FORGERY_TYPES } from '../types.js';

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

function v1(db: Database.Database): void {
  db.exec(`
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );

    CREATE TABLE algorithms (
      id           TEXT PRIMARY KEY,
      name         TEXT NOT NULL COLLATE NOCASE UNIQUE,
      forgery_type TEXT NOT NULL CHECK (forgery_type IN (${list(FORGERY_TYPES)})),
      architecture TEXT NOT NULL CHECK (architecture IN (${list(ARCHITECTURES)})),
      description  TEXT NOT NULL DEFAULT '',
      reference    TEXT NOT NULL DEFAULT '',
      enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
      threshold    REAL CHECK (threshold IS NULL OR (threshold >= -1 AND threshold <= 1)),
      created_at   TEXT NOT NULL,
      updated_at   TEXT NOT NULL
    );

    -- The change log: its seq is the gallery version. AUTOINCREMENT so a seq is never reused,
    -- which lets an index replay everything after the seq of its snapshot.
    -- add:       a sample was enrolled; its HNSW label is this row's seq (label stays NULL).
    -- delete:    a sample was removed; label = the seq of its add row.
    -- algorithm:   an algorithm was created, changed or deleted (model_id NULL).
    -- calibration: a calibration of model_id was saved (algorithm_id NULL).
    -- Every row bumps the gallery version, since each can change an answer.
    CREATE TABLE changes (
      seq          INTEGER PRIMARY KEY AUTOINCREMENT,
      kind         TEXT NOT NULL CHECK (kind IN ('add', 'delete', 'algorithm', 'calibration')),
      sample_id    TEXT,
      model_id     TEXT,
      algorithm_id TEXT,
      label        INTEGER,
      created_at   TEXT NOT NULL
    );

    CREATE TABLE samples (
      id           TEXT PRIMARY KEY,
      algorithm_id TEXT NOT NULL REFERENCES algorithms (id),
      model_id     TEXT NOT NULL,
      sha256       TEXT NOT NULL,
      vector       BLOB NOT NULL,
      dim          INTEGER NOT NULL CHECK (dim > 0 AND length(vector) = 4 * dim),
      width        INTEGER NOT NULL,
      height       INTEGER NOT NULL,
      filename     TEXT,
      created_at   TEXT NOT NULL,
      seq          INTEGER NOT NULL UNIQUE,
      UNIQUE (algorithm_id, model_id, sha256)
    );
    CREATE INDEX samples_by_model_seq ON samples (model_id, seq);
    CREATE INDEX samples_by_model_sha ON samples (model_id, sha256);

    -- id is the calibration version; the highest per model is the current calibration.
    CREATE TABLE calibrations (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      model_id    TEXT NOT NULL,
      created_at  TEXT NOT NULL,
      target_fpir REAL NOT NULL,
      params      TEXT NOT NULL,
      thresholds  TEXT NOT NULL
    );
    CREATE INDEX calibrations_by_model ON calibrations (model_id, id);
  `);
  // Snapshots record this id, so an index written for another store file is never replayed onto this one.
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('gallery_id', randomBytes(12).toString('hex'));
}

/**
 * v2: a sample is one image of one algorithm; its vectors, one per model id, live in `vectors`.
 * v1 had one sample row per (algorithm, model, sha256): rows of one image under several models
 * merge into the oldest one (its id and seq survive; the others' ids disappear, and an index
 * snapshot still holding them fails its check and is rebuilt). Each vector keeps the seq of the
 * change that added it, so an index knows which vectors existed at its snapshot's seq.
 * The change log keeps its kinds: an `add` row now means "vectors were added to sample_id"
 * (model_id NULL at enrolment, the model id when a re-embedding adds one later).
 */
function v2(db: Database.Database): void {
  db.exec(`
    ALTER TABLE samples RENAME TO samples_v1;
    CREATE TABLE samples (
      id           TEXT PRIMARY KEY,
      algorithm_id TEXT NOT NULL REFERENCES algorithms (id),
      sha256       TEXT NOT NULL,
      width        INTEGER NOT NULL,
      height       INTEGER NOT NULL,
      filename     TEXT,
      created_at   TEXT NOT NULL,
      seq          INTEGER NOT NULL UNIQUE,
      UNIQUE (algorithm_id, sha256)
    );
    CREATE INDEX samples_by_sha ON samples (sha256);
    CREATE TABLE vectors (
      sample_id TEXT NOT NULL REFERENCES samples (id) ON DELETE CASCADE,
      model_id  TEXT NOT NULL,
      vector    BLOB NOT NULL,
      dim       INTEGER NOT NULL CHECK (dim > 0 AND length(vector) = 4 * dim),
      seq       INTEGER NOT NULL,
      PRIMARY KEY (sample_id, model_id)
    );
    CREATE INDEX vectors_by_model ON vectors (model_id, seq);
    INSERT INTO samples (id, algorithm_id, sha256, width, height, filename, created_at, seq)
      SELECT id, algorithm_id, sha256, width, height, filename, created_at, seq FROM samples_v1 o
      WHERE o.seq = (SELECT min(seq) FROM samples_v1 t WHERE t.algorithm_id = o.algorithm_id AND t.sha256 = o.sha256);
    INSERT INTO vectors (sample_id, model_id, vector, dim, seq)
      SELECT n.id, o.model_id, o.vector, o.dim, o.seq FROM samples_v1 o
      JOIN samples n ON n.algorithm_id = o.algorithm_id AND n.sha256 = o.sha256;
    DROP TABLE samples_v1;
  `);
}

/**
 * v3: a calibration may carry the gallery-adapted metric it was computed in (its thresholds are
 * in that metric's similarity): `metric` holds the numbers (float32), `params.metric` the header.
 */
function v3(db: Database.Database): void {
  db.exec('ALTER TABLE calibrations ADD COLUMN metric BLOB');
}

/**
 * v4: provenance of imported samples and algorithms. `bundles` records each signed bundle something
 * was imported from (one row per bundle file, by its sha256); a sample or algorithm it created names
 * it in `bundle_id`, with its id in the exporting gallery in `source_id` (both NULL otherwise).
 */
function v4(db: Database.Database): void {
  db.exec(`
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
  `);
}

/**
 * v5: the audit trail and the attributions kept for feedback.
 * `audit`: one row per change of the registry, written in the change's transaction; append-only
 * (the triggers refuse UPDATE and DELETE). Its seq is its own, not the change log's: an audit row
 * changes no answer, so it must not bump the gallery version.
 * `attributions`: recent /v1/attribute answers (decision, candidates, the query's vectors per
 * model, never image bytes) until `expires_at`; an answer that received feedback keeps its verdict
 * and is kept as calibration evidence.
 */
function v5(db: Database.Database): void {
  db.exec(`
    CREATE TABLE audit (
      seq     INTEGER PRIMARY KEY AUTOINCREMENT,
      at      TEXT NOT NULL,
      key_id  TEXT,
      action  TEXT NOT NULL,
      subject TEXT,
      detail  TEXT NOT NULL
    );
    CREATE INDEX audit_by_time ON audit (at);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

    CREATE TABLE attributions (
      id                   TEXT PRIMARY KEY,
      created_at           TEXT NOT NULL,
      expires_at           TEXT NOT NULL,
      key_id               TEXT,
      model_id             TEXT NOT NULL,
      decision             TEXT NOT NULL CHECK (decision IN ('attributed', 'unknown', 'authentic')),
      algorithm_id         TEXT,
      score                REAL NOT NULL,
      threshold            REAL NOT NULL,
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
      vector         BLOB NOT NULL,
      dim            INTEGER NOT NULL CHECK (dim > 0 AND length(vector) = 4 * dim),
      PRIMARY KEY (attribution_id, model_id)
    );
  `);
}

/** Index i brings the schema from version i to version i + 1. */
export const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [v1, v2, v3, v4, v5];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION inside one IMMEDIATE transaction, so two processes
 * opening a new file at once cannot both migrate. Refuses a file written by a newer release.
 */
export function migrate(db: Database.Database): { from: number; to: number } {
  return db
    .transaction(() => {
      const from = db.pragma('user_version', { simple: true }) as number;
      if (from > SCHEMA_VERSION) throw dfgError('DFG_ERR_GALLERY_SCHEMA_UNSUPPORTED', from, SCHEMA_VERSION);
      for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
      if (from !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return { from, to: SCHEMA_VERSION };
    })
    .immediate();
}
