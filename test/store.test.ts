import t from 'tap';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type CheckedSample } from '../src/gallery/store.js';
import { newId } from '../src/gallery/store-rows.js';
import { SCHEMA_VERSION } from '../src/gallery/migrations.js';
import { rng, randomUnit, sha, tempDir } from './helpers/gallery.js';

const alg = (name: string, extra: Record<string, unknown> = {}) => ({
  name, forgeryType: 'FS' as const, architecture: 'GAN' as const, description: '', reference: '', enabled: true, threshold: null, ...extra,
});

function items(n: number, dim: number, seed: number, series = 0): CheckedSample[] {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => ({ sha256: sha(i, series), vector: randomUnit(dim, rand), width: 64, height: 48, filename: `f${i}.png` }));
}

t.test('ids: prefix and 16 base32 characters', async (t) => {
  const ids = new Set(Array.from({ length: 200 }, () => newId('alg')));
  t.equal(ids.size, 200);
  for (const id of ids) t.match(id, /^alg_[a-z2-7]{16}$/);
});

t.test('schema: WAL, synchronous FULL, user_version; newer files refused', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'g.sqlite');
  const s = openStore(file);
  t.same(s.schema, { from: 0, to: SCHEMA_VERSION });
  s.close();
  const again = openStore(file);
  t.same(again.schema, { from: SCHEMA_VERSION, to: SCHEMA_VERSION }, 'no second migration');
  again.close();

  const raw = new Database(file);
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  t.throws(() => openStore(file), { code: 'DFG_ERR_GALLERY_SCHEMA_UNSUPPORTED' });

  const probe = openStore(path.join(dir, 'other.sqlite'));
  t.not(probe.galleryId, '', 'each store file gets an id');
  probe.close();
});

t.test('algorithms: unique names ignoring case, pagination with counts, update, delete', async (t) => {
  const s = openStore(path.join(tempDir(), 'g.sqlite'));
  t.teardown(() => s.close());
  const a = s.createAlgorithm(alg('SimSwap'));
  t.match(a, { name: 'SimSwap', forgeryType: 'FS', architecture: 'GAN', enabled: true, threshold: null });
  t.throws(() => s.createAlgorithm(alg('simswap')), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' });
  const names = ['B', 'C', 'D', 'E'];
  for (const n of names) s.createAlgorithm(alg(n));
  s.addSamples(a.id, 'm1', items(3, 8, 1));
  s.addSamples(a.id, 'm2', items(2, 8, 2));

  const p1 = s.listAlgorithms('m1', 2, 0);
  t.equal(p1.total, 5);
  t.same(p1.items.map((x) => x.name), ['SimSwap', 'B'], 'registration order');
  t.equal(p1.items[0]!.sampleCount, 3, 'count for the asked model only');
  t.equal(s.listAlgorithms('m2', 2, 0).items[0]!.sampleCount, 2);
  t.same(s.listAlgorithms('m1', 2, 4).items.map((x) => x.name), ['E']);
  t.same(s.listAlgorithms('m1', 2, 10).items, []);

  const b = p1.items[1]!;
  t.throws(() => s.updateAlgorithm(b.id, { name: 'SIMSWAP' }, 'm1'), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' });
  const upd = s.updateAlgorithm(b.id, { name: 'B2', enabled: false, threshold: 0.7, forgeryType: 'EFS' }, 'm1')!;
  t.match(upd, { name: 'B2', enabled: false, threshold: 0.7, forgeryType: 'EFS' });
  t.ok(upd.updatedAt >= upd.createdAt);
  t.equal(s.updateAlgorithm('alg_missing', { name: 'x' }, 'm1'), undefined);
  t.equal(s.updateAlgorithm(b.id, { threshold: null }, 'm1')!.threshold, null, 'override cleared');

  const before = s.maxSeq();
  t.same(s.deleteAlgorithm(a.id), { samples: 5 });
  const log = s.changesAfter(before, Number.MAX_SAFE_INTEGER, 'm1', 100);
  t.same(log.map((r) => r.kind), ['delete', 'delete', 'delete', 'algorithm'], 'one delete per m1 sample, then the algorithm');
  t.equal(s.changesAfter(before, Number.MAX_SAFE_INTEGER, 'm2', 100).filter((r) => r.kind === 'delete').length, 2, 'm2 deletes logged too');
  t.equal(s.getAlgorithm(a.id, 'm1'), undefined);
  t.equal(s.countSamples('m1'), 0);
  t.equal(s.deleteAlgorithm(a.id), undefined);
  t.ok(s.createAlgorithm(alg('SimSwap')), 'name free again after delete');
});

t.test('samples: dedupe per (algorithm, model, sha256), pagination, delete, re-enrol', async (t) => {
  const s = openStore(path.join(tempDir(), 'g.sqlite'));
  t.teardown(() => s.close());
  const a = s.createAlgorithm(alg('A'));
  const b = s.createAlgorithm(alg('B'));
  const batch = items(5, 8, 3);
  const first = s.addSamples(a.id, 'm1', [...batch, batch[0]!]);
  t.same(first.map((r) => r.duplicate), [false, false, false, false, false, true], 'repeat inside a batch is a duplicate');
  t.equal(first[5]!.sample.id, first[0]!.sample.id);
  const seqs = first.slice(0, 5).map((r) => r.sample.seq);
  t.same([...seqs].sort((x, y) => x - y), seqs, 'seqs increase in enrolment order');

  const again = s.addSamples(a.id, 'm1', batch.slice(0, 2));
  t.same(again.map((r) => r.duplicate), [true, true]);
  t.same(again.map((r) => r.sample.id), first.slice(0, 2).map((r) => r.sample.id));
  t.same(s.addSamples(b.id, 'm1', batch.slice(0, 1)).map((r) => r.duplicate), [false], 'same bytes, other algorithm: new sample');
  t.same(s.addSamples(a.id, 'm2', batch.slice(0, 1)).map((r) => r.duplicate), [false], 'same bytes, other model: new sample');
  t.equal(s.findBySha('m1', batch[0]!.sha256).length, 2);

  t.throws(() => s.addSamples('alg_nope', 'm1', batch), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });

  const page = s.listSamples(a.id, 'm1', 2, 1);
  t.equal(page.total, 5);
  t.same(page.items.map((x) => x.id), first.slice(1, 3).map((r) => r.sample.id));
  t.match(page.items[0], { width: 64, height: 48, filename: 'f1.png', dim: 8, modelId: 'm1', algorithmId: a.id });

  const victim = first[2]!.sample;
  t.equal(s.deleteSample(b.id, 'm1', victim.id), undefined, 'wrong algorithm: nothing deleted');
  t.equal(s.deleteSample(a.id, 'm2', victim.id), undefined, 'wrong model: nothing deleted');
  t.equal(s.deleteSample(a.id, 'm1', victim.id)!.id, victim.id);
  t.equal(s.getSample(a.id, 'm1', victim.id), undefined);
  t.equal(s.listSamples(a.id, 'm1', 50, 0).total, 4);
  const re = s.addSamples(a.id, 'm1', [batch[2]!]);
  t.equal(re[0]!.duplicate, false, 're-enrolling the bytes after a delete works');
  t.not(re[0]!.sample.id, victim.id);
  t.ok(re[0]!.sample.seq > victim.seq);
});

t.test('change log: monotonic seq, adds carry vectors, deletes carry the label', async (t) => {
  const s = openStore(path.join(tempDir(), 'g.sqlite'));
  t.teardown(() => s.close());
  const a = s.createAlgorithm(alg('A'));
  const start = s.maxSeq();
  const batch = items(3, 8, 4);
  const added = s.addSamples(a.id, 'm1', batch);
  s.addSamples(a.id, 'other', items(2, 4, 5));
  s.deleteSample(a.id, 'm1', added[1]!.sample.id);
  const rows = s.changesAfter(start, s.maxSeq(), 'm1', 100);
  t.same(rows.map((r) => r.kind), ['add', 'add', 'add', 'delete'], 'other model rows are not returned');
  t.same(rows.slice(0, 3).map((r) => r.label), added.map((r) => r.sample.seq), 'an add is labelled by its own seq');
  t.equal(rows[3]!.label, added[1]!.sample.seq, 'a delete names the label it removes');
  t.same(Array.from(rows[0]!.vector!), Array.from(batch[0]!.vector), 'vector round-trips bit for bit');
  t.equal(rows[1]!.vector, null, 'the add of a since-deleted sample has no vector to index');
  t.same(s.changesAfter(start, start + 2, 'm1', 100).map((r) => r.seq), [start + 1, start + 2], 'upper bound respected');
  t.same(s.changesAfter(start, s.maxSeq(), 'm1', 2).length, 2, 'paged');
  t.same(s.deletedAfter('m1', added[2]!.sample.seq).map((r) => r.label), [added[1]!.sample.seq]);
  t.same(s.indexedSamples('m1', 0, s.maxSeq(), 100).map((r) => r.label), [added[0]!.sample.seq, added[2]!.sample.seq]);
});

t.test('calibrations: versioned, newest is current, logged', async (t) => {
  const s = openStore(path.join(tempDir(), 'g.sqlite'));
  t.teardown(() => s.close());
  t.same(s.listCalibrations('m1', 5), []);
  const seq = s.maxSeq();
  const c1 = s.saveCalibration('m1', { targetFpir: 0.01, global: 0.5, perAlgorithm: { alg_x: 0.6 }, params: { topM: 3 } });
  const c2 = s.saveCalibration('m1', { targetFpir: 0.001, global: 0.55, perAlgorithm: {}, params: {} });
  s.saveCalibration('m2', { targetFpir: 0.01, global: 0.1, perAlgorithm: {}, params: {} });
  t.ok(c2.version > c1.version);
  const list = s.listCalibrations('m1', 5);
  t.same(list.map((c) => c.version), [c2.version, c1.version]);
  t.same(list[1], c1, 'round-trips');
  t.same(s.changesAfter(seq, s.maxSeq(), 'm1', 10).map((r) => r.kind), ['calibration', 'calibration']);
});
