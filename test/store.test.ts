import t from 'tap';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type CheckedSample } from '../src/gallery/store/sqlite-sync.js';
import { newId } from '../src/gallery/store/rows.js';
import { SCHEMA_VERSION } from '../src/gallery/store/migrations.js';
import { rng, randomUnit, sha, tempDir } from './helpers/gallery.js';

const alg = (name: string, extra: Record<string, unknown> = {}) => ({
  name, forgeryType: 'FS' as const, architecture: 'GAN' as const, description: '', reference: '', enabled: true, threshold: null, ...extra,
});

function items(n: number, dim: number, seed: number, series = 0, models = ['m1']): CheckedSample[] {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    sha256: sha(i, series), vectors: new Map(models.map((m) => [m, randomUnit(dim, rand)])), width: 64, height: 48, filename: `f${i}.png`,
  }));
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
  s.addSamples(a.id, items(3, 8, 1, 0, ['m1', 'm2']));
  s.addSamples(a.id, items(2, 8, 2, 1, ['m2']));

  const p1 = s.listAlgorithms(2, 0);
  t.equal(p1.total, 5);
  t.same(p1.items.map((x) => x.name), ['SimSwap', 'B'], 'registration order');
  t.equal(p1.items[0]!.sampleCount, 5, 'samples under any model');
  t.same(s.listAlgorithms(2, 4).items.map((x) => x.name), ['E']);
  t.same(s.listAlgorithms(2, 10).items, []);
  t.equal(s.countComplete(['m1', 'm2']), 3);
  t.equal(s.countMissing('m1'), 2);

  const b = p1.items[1]!;
  t.throws(() => s.updateAlgorithm(b.id, { name: 'SIMSWAP' }), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' });
  const upd = s.updateAlgorithm(b.id, { name: 'B2', enabled: false, threshold: 0.7, forgeryType: 'EFS' })!;
  t.match(upd, { name: 'B2', enabled: false, threshold: 0.7, forgeryType: 'EFS' });
  t.ok(upd.updatedAt >= upd.createdAt);
  t.equal(s.updateAlgorithm('alg_missing', { name: 'x' }), undefined);
  t.equal(s.updateAlgorithm(b.id, { threshold: null })!.threshold, null, 'override cleared');

  const before = s.maxSeq();
  const deleted = s.deleteAlgorithm(a.id)!;
  t.equal(deleted.samples, 5);
  t.same([...deleted.sha256s].sort(), [sha(0), sha(1), sha(2), sha(0, 1), sha(1, 1)], 'the images the deleted samples named (their kept bytes may go)');
  const log = s.changesAfter(before, Number.MAX_SAFE_INTEGER, 100);
  t.same(log.map((r) => r.kind), ['delete', 'delete', 'delete', 'delete', 'delete', 'algorithm'], 'one delete per sample, then the algorithm');
  t.equal(s.getAlgorithm(a.id), undefined);
  t.equal(s.countSamples(), 0);
  t.equal(s.countMissing('m1'), 0, 'vectors went with their samples');
  t.equal(s.deleteAlgorithm(a.id), undefined);
  t.ok(s.createAlgorithm(alg('SimSwap')), 'name free again after delete');
});

t.test('samples: dedupe per (algorithm, sha256), vectors per model, pagination, delete, re-enrol', async (t) => {
  const s = openStore(path.join(tempDir(), 'g.sqlite'));
  t.teardown(() => s.close());
  const a = s.createAlgorithm(alg('A'));
  const b = s.createAlgorithm(alg('B'));
  const batch = items(5, 8, 3);
  const first = s.addSamples(a.id, [...batch, batch[0]!]);
  t.same(first.map((r) => r.duplicate), [false, false, false, false, false, true], 'repeat inside a batch is a duplicate');
  t.equal(first[5]!.sample.id, first[0]!.sample.id);
  const seqs = first.slice(0, 5).map((r) => r.sample.seq);
  t.same([...seqs].sort((x, y) => x - y), seqs, 'seqs increase in enrolment order');

  const again = s.addSamples(a.id, batch.slice(0, 2));
  t.same(again.map((r) => r.duplicate), [true, true]);
  t.same(again.map((r) => r.sample.id), first.slice(0, 2).map((r) => r.sample.id));
  t.same(s.addSamples(b.id, batch.slice(0, 1)).map((r) => r.duplicate), [false], 'same bytes, other algorithm: new sample');
  const m2 = items(1, 4, 9, 0, ['m2'])[0]!;
  const other = s.addSamples(a.id, [m2]);
  t.same(other.map((r) => [r.duplicate, r.sample.id, r.sample.models]), [[true, first[0]!.sample.id, ['m1', 'm2']]], 'same bytes, other model: the sample gains a vector');
  t.same(Array.from(s.sampleVectors(first[0]!.sample.id, ['m2'], s.maxSeq()).get('m2')!), Array.from(m2.vectors.get('m2')!));
  t.equal(s.findBySha(batch[0]!.sha256).length, 2);
  t.throws(() => s.addSamples(a.id, [{ ...batch[0]!, vectors: new Map() }]), { code: 'DFG_ERR_REQUEST_INVALID' });

  t.throws(() => s.addSamples('alg_nope', batch), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });

  const page = s.listSamples(a.id, 2, 1);
  t.equal(page.total, 5);
  t.same(page.items.map((x) => x.id), first.slice(1, 3).map((r) => r.sample.id));
  t.match(page.items[0], { width: 64, height: 48, filename: 'f1.png', models: ['m1'], algorithmId: a.id });

  const victim = first[2]!.sample;
  t.equal(s.deleteSample(b.id, victim.id), undefined, 'wrong algorithm: nothing deleted');
  t.equal(s.deleteSample(a.id, victim.id)!.id, victim.id);
  t.equal(s.getSample(a.id, victim.id), undefined);
  t.equal(s.sampleVectors(victim.id, ['m1'], s.maxSeq()).size, 0, 'its vectors are gone');
  t.equal(s.listSamples(a.id, 50, 0).total, 4);
  const re = s.addSamples(a.id, [batch[2]!]);
  t.equal(re[0]!.duplicate, false, 're-enrolling the bytes after a delete works');
  t.not(re[0]!.sample.id, victim.id);
  t.ok(re[0]!.sample.seq > victim.seq);

  // Re-embedding: vectors of a new model for existing samples, once each.
  t.same(s.samplesMissing('m3', 0, 100).length, 6);
  const vec = randomUnit(4, rng(5));
  t.equal(s.addVectors('m3', [{ sampleId: first[0]!.sample.id, vector: vec }, { sampleId: first[0]!.sample.id, vector: vec }, { sampleId: 'smp_gone', vector: vec }]), 1);
  t.same(s.samplesMissing('m3', 0, 100).map((x) => x.id).includes(first[0]!.sample.id), false);
});

t.test('change log: monotonic seq, adds name their sample, deletes carry the label', async (t) => {
  const s = openStore(path.join(tempDir(), 'g.sqlite'));
  t.teardown(() => s.close());
  const a = s.createAlgorithm(alg('A'));
  const start = s.maxSeq();
  const batch = items(3, 8, 4);
  const added = s.addSamples(a.id, batch);
  s.deleteSample(a.id, added[1]!.sample.id);
  s.addVectors('m2', [{ sampleId: added[0]!.sample.id, vector: randomUnit(4, rng(1)) }]);
  const rows = s.changesAfter(start, s.maxSeq(), 100);
  t.same(rows.map((r) => r.kind), ['add', 'add', 'add', 'delete', 'add']);
  t.same(rows.slice(0, 3).map((r) => r.label), [added[0]!.sample.seq, 0, added[2]!.sample.seq], 'an add is labelled by its sample seq (0 once deleted)');
  t.same(added.map((r) => r.sample.seq), rows.slice(0, 3).map((r) => r.seq), 'enrolment: the sample seq is its add row');
  t.equal(rows[3]!.label, added[1]!.sample.seq, 'a delete names the label it removes');
  t.match(rows[4], { modelId: 'm2', label: added[0]!.sample.seq, sample: { sampleId: added[0]!.sample.id } }, 'a later vector names its sample');
  t.equal(rows[1]!.sample, null, 'the add of a since-deleted sample has nothing to index');
  t.same(Array.from(s.sampleVectors(added[0]!.sample.id, ['m1'], s.maxSeq()).get('m1')!), Array.from(batch[0]!.vectors.get('m1')!), 'vector round-trips bit for bit');
  t.equal(s.sampleVectors(added[0]!.sample.id, ['m2'], rows[3]!.seq).size, 0, 'a vector is not there before its seq');
  t.same(s.changesAfter(start, start + 2, 100).map((r) => r.seq), [start + 1, start + 2], 'upper bound respected');
  t.same(s.changesAfter(start, s.maxSeq(), 2).length, 2, 'paged');
  t.same(s.deletedAfter(added[2]!.sample.seq).map((r) => r.label), [added[1]!.sample.seq]);
  t.same(s.indexedSamples(['m1'], 0, s.maxSeq(), 100).map((r) => r.label), [added[0]!.sample.seq, added[2]!.sample.seq]);
  t.same(s.indexedSamples(['m1', 'm2'], 0, s.maxSeq(), 100).map((r) => r.label), [added[0]!.sample.seq], 'complete samples only');
  t.same(s.indexedSamples(['m1', 'm2'], 0, rows[3]!.seq, 100), [], 'complete at the asked seq');
  const withVectors = s.indexedVectors(['m1', 'm2'], 0, s.maxSeq(), 100);
  t.same(withVectors.map((r) => [...r.vectors.keys()].sort()), [['m1', 'm2']]);
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
  t.same(s.changesAfter(seq, s.maxSeq(), 10).map((r) => [r.kind, r.modelId]), [['calibration', 'm1'], ['calibration', 'm1'], ['calibration', 'm2']]);
});
