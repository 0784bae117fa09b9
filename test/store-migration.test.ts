/**
 * Migration of a v1 store (one sample row per algorithm, model and sha256, vector inline) to v2
 * (a sample per image, a vector per model): ids, seqs and vectors survive, rows of one image
 * under two models merge, and the gallery opens, searches and enrols on the migrated file.
 */
import t from 'tap';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/gallery/store/migrations.js';
import { openStore } from '../src/gallery/store/sqlite-sync.js';
import { vectorToBlob } from '../src/gallery/store/rows.js';
import { openGallery } from '../src/gallery/gallery.js';
import { randomUnit, rng, sha, tempDir } from './helpers/gallery.js';

const DIM = 8;

/** Writes a store the way release v1 did: schema version 1 and its rows, through its own SQL. */
function writeV1Store(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.transaction(() => {
    MIGRATIONS[0]!(db);
    db.pragma('user_version = 1');
  })();
  const ts = '2026-01-01T00:00:00.000Z';
  db.prepare("INSERT INTO algorithms (id, name, forgery_type, architecture, created_at, updated_at) VALUES ('alg_a', 'A', 'FS', 'GAN', ?, ?)").run(ts, ts);
  db.prepare("INSERT INTO changes (kind, algorithm_id, created_at) VALUES ('algorithm', 'alg_a', ?)").run(ts);
  const rand = rng(7);
  const rows: Array<{ id: string; model: string; sha: string; vector: Float32Array; seq: number }> = [];
  const add = (id: string, model: string, shaValue: string, dim = DIM) => {
    const vector = randomUnit(dim, rand);
    const seq = Number(db.prepare("INSERT INTO changes (kind, sample_id, model_id, algorithm_id, created_at) VALUES ('add', ?, ?, 'alg_a', ?)").run(id, model, ts).lastInsertRowid);
    db.prepare(`INSERT INTO samples (id, algorithm_id, model_id, sha256, vector, dim, width, height, filename, created_at, seq)
      VALUES (?, 'alg_a', ?, ?, ?, ?, 64, 48, ?, ?, ?)`).run(id, model, shaValue, vectorToBlob(vector), dim, `${id}.png`, ts, seq);
    rows.push({ id, model, sha: shaValue, vector, seq });
  };
  add('smp_one', 'm1', sha(1));
  add('smp_two', 'm1', sha(2));
  add('smp_gone', 'm1', sha(3));
  add('smp_two_m2', 'm2', sha(2), 4);
  // A deleted sample, as v1 logged it.
  const gone = rows.find((r) => r.id === 'smp_gone')!;
  db.prepare('DELETE FROM samples WHERE id = ?').run(gone.id);
  db.prepare("INSERT INTO changes (kind, sample_id, model_id, algorithm_id, label, created_at) VALUES ('delete', ?, 'm1', 'alg_a', ?, ?)").run(gone.id, gone.seq, ts);
  db.prepare("INSERT INTO calibrations (model_id, created_at, target_fpir, params, thresholds) VALUES ('m1', ?, 0.01, '{}', ?)").run(ts, JSON.stringify({ global: 0.42, perAlgorithm: {} }));
  db.prepare("INSERT INTO changes (kind, model_id, created_at) VALUES ('calibration', 'm1', ?)").run(ts);
  const maxSeq = db.prepare('SELECT max(seq) FROM changes').pluck().get() as number;
  db.close();
  return { rows, maxSeq };
}

t.test('a v1 store migrates: samples merge per image, vectors and seqs survive', async (t) => {
  const file = path.join(tempDir(), 'gallery.sqlite');
  const { rows, maxSeq } = writeV1Store(file);
  const s = openStore(file);
  t.teardown(() => s.close());
  t.same(s.schema, { from: 1, to: SCHEMA_VERSION });
  t.equal(s.maxSeq(), maxSeq, 'the change log is kept');
  t.equal(s.countSamples(), 2, 'the two rows of one image became one sample');
  const one = s.getSample('alg_a', 'smp_one')!;
  const two = s.getSample('alg_a', 'smp_two')!;
  t.match(one, { sha256: sha(1), models: ['m1'], seq: rows[0]!.seq, width: 64, height: 48, filename: 'smp_one.png' });
  t.match(two, { sha256: sha(2), models: ['m1', 'm2'], seq: rows[1]!.seq }, 'the oldest row keeps its id and seq');
  t.equal(s.getSample('alg_a', 'smp_two_m2'), undefined);
  const v = s.sampleVectors('smp_two', ['m1', 'm2'], maxSeq);
  t.same(Array.from(v.get('m1')!), Array.from(rows[1]!.vector), 'vectors bit for bit');
  t.same(Array.from(v.get('m2')!), Array.from(rows[3]!.vector));
  t.equal(s.sampleVectors('smp_two', ['m2'], rows[3]!.seq - 1).size, 0, 'a vector keeps the seq it was added at');
  t.same(s.listCalibrations('m1', 1).map((c) => c.global), [0.42]);

  // New rows continue the sequence, never reusing a seq.
  const added = s.addSamples('alg_a', [{ sha256: sha(9), vectors: new Map([['m1', randomUnit(DIM, rng(1))]]), width: 8, height: 8, filename: null }]);
  t.ok(added[0]!.sample.seq > maxSeq);
});

t.test('a gallery opens on a migrated v1 store and serves its samples', async (t) => {
  const dir = tempDir();
  const { rows } = writeV1Store(path.join(dir, 'gallery.sqlite'));
  const g = await openGallery({ dir, modelId: 'm1', dim: DIM });
  t.teardown(() => g.close());
  t.equal(g.info().counts.samples, 2);
  t.equal(g.search(rows[1]!.vector, 1)[0]!.sampleId, 'smp_two', 'old sample ids come back as evidence');
  t.equal(g.currentCalibration()?.global, 0.42, 'the calibration of the model id still applies');
  t.same(await g.coverage(), { stored: 2, incomplete: 0, missing: { m1: 0 } });
  await g.close();

  const fused = await openGallery({ dir, models: [{ id: 'm1', dim: DIM }, { id: 'm2', dim: 4, weight: 0.5 }] });
  t.teardown(() => fused.close());
  t.equal(fused.modelId, 'm1:1+m2:0.5');
  t.equal(fused.info().counts.samples, 1, 'only the sample with both vectors is in the fused index');
  t.same(await fused.coverage(), { stored: 2, incomplete: 1, missing: { m1: 0, m2: 1 } });
  t.equal(fused.currentCalibration(), null, 'calibration is per index id');
});
