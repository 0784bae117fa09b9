/**
 * `dfg gallery migrate`: a SQLite gallery (kept images, a deleted sample, a calibration, a switch
 * record) into PostgreSQL and back, verified by counts and digests; an interrupted copy resumes;
 * a target that differs is reported, not called verified.
 */
import t from 'tap';
import pg from 'pg';
import crypto from 'node:crypto';
import { openGallery } from '../src/gallery/gallery.js';
import { writeSwitchRecord } from '../src/gallery/store/switch-record.js';
import { migrateStore } from '../src/gallery/store/copy.js';
import { dfg } from './helpers/cli.js';
import { randomUnit, rng, tempDir } from './helpers/gallery.js';
import { testDatabase } from './helpers/pg.js';

const DIM = 8;

t.test('SQLite → PostgreSQL → SQLite, kept bytes included, resumable, verified', async (t) => {
  const dir = tempDir();
  const url = await testDatabase(t);
  const rand = rng(7);
  const g = await openGallery({ dir, modelId: 'm', dim: DIM, keepImages: true });
  const a = await g.createAlgorithm({ name: 'alpha' });
  const b = await g.createAlgorithm({ name: 'beta', enabled: false });
  const images = Array.from({ length: 30 }, (_, i) => Buffer.from(`image ${i}`));
  const sha = (x: Buffer) => crypto.createHash('sha256').update(x).digest('hex');
  await g.keepImages(images.map((bytes) => ({ sha256: sha(bytes), bytes })));
  const added = await g.addSamples(a.id, images.slice(0, 20).map((x) => ({ sha256: sha(x), vector: randomUnit(DIM, rand), width: 8, height: 8, filename: 'a.png' })));
  await g.addSamples(b.id, images.slice(20).map((x) => ({ sha256: sha(x), vector: randomUnit(DIM, rand), width: 8, height: 8 })));
  await g.deleteSample(a.id, added[3]!.sample.id);
  await g.saveCalibration({ targetFpir: 0.01, global: 0.6, perAlgorithm: { [a.id]: 0.5 } });
  const probe = randomUnit(DIM, rng(99));
  const before = g.search(probe, 5, { enabledOnly: false });
  await g.close();
  const record = await writeSwitchRecord(dir, 'm', false);

  const run = await dfg(['gallery', 'migrate', '--to', url, '--json'], { DFG_GALLERY_DIR: dir });
  t.equal(run.code, 0, run.out);
  const first = JSON.parse(run.stdout);
  t.equal(first.verified, true);
  t.match(first.copied, { algorithms: 2, samples: 29, vectors: 29, calibrations: 1, meta: 1, audit: 7, images: 29 }, 'the audit trail too');
  t.equal(first.source.changes.count, first.target.changes.count);

  // Interrupted: part of it lost on the target. Running again copies only what is missing.
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  await db.query('DELETE FROM images WHERE sha256 IN (SELECT sha256 FROM images ORDER BY sha256 LIMIT 5)');
  await db.query('DELETE FROM changes WHERE seq > 20');
  const again = await migrateStore({ dir }, { url });
  t.equal(again.verified, true, 'resumed to a verified copy');
  t.same(again.copied, { bundles: 0, algorithms: 0, samples: 0, vectors: 0, changes: first.target.changes.count - 20, calibrations: 0, meta: 0, audit: 0, attributions: 0, attribution_vectors: 0, images: 5 });

  // The PostgreSQL gallery serves the same answers, ids and switch record.
  const onPg = await openGallery({ dir: tempDir(), store: url, modelId: 'm', dim: DIM, keepImages: true });
  t.same(onPg.search(probe, 5, { enabledOnly: false }), before, 'same neighbours, same ids');
  t.same(await onPg.lastSwitch(), record);
  t.equal(onPg.currentCalibration()?.global, 0.6);
  t.same(await onPg.readImage(sha(images[0]!)), images[0]);
  t.equal(await onPg.readImage(sha(images[3]!)), null, 'the deleted sample\'s bytes were not kept');
  // Its sequences continue after the copied rows.
  const c = await onPg.createAlgorithm({ name: 'gamma' });
  t.equal((await onPg.listAlgorithms()).items.map((x) => x.name).join(), 'alpha,beta,gamma');
  await onPg.keepImages([{ sha256: sha(Buffer.from('new')), bytes: Buffer.from('new') }]);
  await onPg.addSamples(c.id, [{ sha256: sha(Buffer.from('new')), vector: randomUnit(DIM, rand), width: 8, height: 8 }]);
  await onPg.close().catch(() => undefined);

  // And back into a new SQLite folder.
  const back = tempDir();
  const run2 = await dfg(['gallery', 'migrate', '--from', url], { DFG_GALLERY_DIR: back });
  t.equal(run2.code, 0, run2.out);
  t.match(run2.stdout, /verified: counts and SHA-256 digests agree/);
  const onSqlite = await openGallery({ dir: back, modelId: 'm', dim: DIM, keepImages: true });
  t.equal(onSqlite.info().counts.samples, 30);
  t.same(await onSqlite.readImage(sha(images[0]!)), images[0]);
  await onSqlite.close();

  // A target that differs from its source is never reported verified.
  await db.query("UPDATE samples SET filename = 'tampered.png' WHERE seq = (SELECT min(seq) FROM samples)");
  const tampered = await migrateStore({ dir: back }, { url });
  t.equal(tampered.verified, false);
  t.not(tampered.source.samples!.sha256, tampered.target.samples!.sha256);

  const refused = await dfg(['gallery', 'migrate', '--to', 'mysql://x'], { DFG_GALLERY_DIR: dir });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /Expected a postgres:\/\/ URL/);
});
