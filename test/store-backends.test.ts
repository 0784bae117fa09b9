/**
 * The GalleryStore interface, run against both backends: SQLite in a temp gallery directory and
 * PostgreSQL in a database created for the test (see helpers/pg.ts) and dropped after it.
 */
import t from 'tap';
import crypto from 'node:crypto';
import { openSqliteGalleryStore } from '../src/gallery/store/sqlite.js';
import { openPgGalleryStore } from '../src/gallery/store/pg.js';
import type { CheckedSample, GalleryStore } from '../src/gallery/store/api.js';
import { rng, randomUnit, sha, tempDir } from './helpers/gallery.js';
import { testDatabase } from './helpers/pg.js';
import { PG_SCHEMA_VERSION } from '../src/gallery/store/pg-schema.js';

const alg = (name: string, extra: Record<string, unknown> = {}) => ({
  name, forgeryType: 'FS' as const, architecture: 'GAN' as const, description: '', reference: '', enabled: true, threshold: null, ...extra,
});

function items(n: number, dim: number, seed: number, series = 0, models = ['m1']): CheckedSample[] {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    sha256: sha(i, series), vectors: new Map(models.map((m) => [m, randomUnit(dim, rand)])), width: 64, height: 48, filename: `f${i}.png`,
  }));
}

const hex = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

type Open = (t: { teardown(fn: () => unknown): void }) => Promise<GalleryStore>;

const backends: Array<[string, Open]> = [
  ['sqlite', async (t) => {
    const s = openSqliteGalleryStore(tempDir());
    t.teardown(() => s.close());
    return s;
  }],
  ['postgres', async (t) => {
    const s = await openPgGalleryStore(await testDatabase(t));
    // Closed before the database is dropped (teardowns run last-registered first).
    t.teardown(() => s.close());
    return s;
  }],
];

for (const [kind, open] of backends) {
  t.test(`${kind}: algorithms, samples, vectors, change log`, async (t) => {
    const s = await open(t);
    t.equal(s.kind, kind);
    t.match(s.galleryId, /^[0-9a-f]{24}$/);
    t.equal(await s.maxSeq(), 0);

    const a = await s.createAlgorithm(alg('FaceSwap'));
    const b = await s.createAlgorithm(alg('Painter', { enabled: false, threshold: 0.5 }));
    await t.rejects(s.createAlgorithm(alg('faceswap')), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' }, 'names are unique, case-insensitive');
    await t.rejects(s.updateAlgorithm(b.id, { name: 'FACESWAP' }), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' });
    t.same((await s.listAlgorithms(10, 0)).items.map((x) => x.name), ['FaceSwap', 'Painter'], 'registration order');
    t.same((await s.algorithmSummaries()).find((x) => x.id === b.id), { id: b.id, name: 'Painter', forgeryType: 'FS', architecture: 'GAN', enabled: false, threshold: 0.5 });
    t.equal((await s.updateAlgorithm(b.id, { enabled: true, description: 'd' }))?.enabled, true);
    t.equal(await s.updateAlgorithm('alg_nope', { enabled: true }), undefined);

    const batch = items(5, 8, 1);
    const res = await s.addSamples(a.id, [...batch, batch[0]!]);
    t.same(res.map((r) => r.duplicate), [false, false, false, false, false, true], 'a repeat within the batch is a duplicate');
    t.equal(res[5]!.sample.id, res[0]!.sample.id);
    await t.rejects(s.addSamples('alg_nope', items(1, 8, 2, 9)), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
    // Another model's vector for a stored image: the duplicate gains it.
    const again = await s.addSamples(a.id, [{ ...batch[1]!, vectors: new Map([['m2', randomUnit(4, rng(3))]]) }]);
    t.same(again[0]!.sample.models, ['m1', 'm2']);
    t.equal((await s.getAlgorithm(a.id))?.sampleCount, 5);
    const page = await s.listSamples(a.id, 2, 1);
    t.same(page.items.map((x) => x.id), [res[1]!.sample.id, res[2]!.sample.id]);
    t.equal(page.total, 5);
    t.same(await s.getSample(a.id, res[0]!.sample.id), res[0]!.sample);
    t.equal(await s.getSample(b.id, res[0]!.sample.id), undefined);
    t.same((await s.sampleById(res[3]!.sample.id))?.sha256, batch[3]!.sha256);
    t.same((await s.findBySha(batch[2]!.sha256)).map((x) => x.id), [res[2]!.sample.id]);
    t.same(await s.coverage(['m1', 'm2']), { stored: 5, incomplete: 4, missing: { m1: 0, m2: 4 } });
    t.equal(await s.countMissing('m2'), 4);
    t.same((await s.samplesMissing('m2', 0, 2)).map((x) => x.id), [res[0]!.sample.id, res[2]!.sample.id]);
    t.equal(await s.addVectors('m2', [{ sampleId: res[0]!.sample.id, vector: randomUnit(4, rng(4)) }, { sampleId: 'smp_gone', vector: randomUnit(4, rng(5)) }]), 1);
    t.equal(await s.addVectors('m2', [{ sampleId: res[0]!.sample.id, vector: randomUnit(4, rng(4)) }]), 0, 'a vector is stored once');
    t.equal(await s.countComplete(['m1', 'm2']), 2);

    const head = await s.maxSeq();
    const changes = await s.changesAfter(0, head, 100);
    t.same(changes.map((c) => c.seq), Array.from({ length: changes.length }, (_, i) => i + 1), 'seqs without gaps');
    t.same(changes.map((c) => c.kind), ['algorithm', 'algorithm', 'algorithm', 'add', 'add', 'add', 'add', 'add', 'add', 'add']);
    t.equal(changes[3]!.label, res[0]!.sample.seq, 'an add is labelled by its sample seq');
    const vecs = await s.indexedVectors(['m1'], 0, head, 3);
    t.same(vecs.map((v) => v.sampleId), res.slice(0, 3).map((r) => r.sample.id));
    t.same([...vecs[0]!.vectors.get('m1')!], [...batch[0]!.vectors.get('m1')!], 'vectors round-trip bit for bit');
    const of = await s.vectorsOf([res[0]!.sample.id, res[1]!.sample.id], ['m2'], res[1]!.sample.seq);
    t.same([...of.keys()], [res[0]!.sample.id, res[1]!.sample.id]);
    t.equal(of.get(res[0]!.sample.id)!.size, 0, 'a vector added after the asked seq is not there');
    t.equal(of.get(res[1]!.sample.id)!.size, 0);
    t.same((await s.indexedSamples(['m1', 'm2'], 0, head, 100)).map((x) => x.sampleId).sort(), [res[0]!.sample.id, res[1]!.sample.id].sort());

    const gone = await s.deleteSample(a.id, res[3]!.sample.id);
    t.equal(gone?.id, res[3]!.sample.id);
    t.equal(await s.deleteSample(a.id, res[3]!.sample.id), undefined);
    t.same(await s.deletedAfter(head), [{ label: res[3]!.sample.seq, sampleId: res[3]!.sample.id, algorithmId: a.id }]);
    const del = (await s.changesAfter(head, await s.maxSeq(), 10))[0]!;
    t.match(del, { kind: 'delete', label: res[3]!.sample.seq, sample: null });
    const dropped = await s.deleteAlgorithm(a.id);
    t.equal(dropped?.samples, 4);
    t.equal(await s.deleteAlgorithm(a.id), undefined);
    t.equal(await s.countSamples(), 0);
    t.same((await s.changesAfter(head + 1, await s.maxSeq(), 10)).map((c) => c.kind), ['delete', 'delete', 'delete', 'delete', 'algorithm']);
  });

  t.test(`${kind}: calibrations, the switch record and its fence, kept images`, async (t) => {
    const s = await open(t);
    const a = await s.createAlgorithm(alg('a'));
    const cal = await s.saveCalibration('m1', { targetFpir: 0.01, global: 0.4, perAlgorithm: { [a.id]: 0.3 }, params: { topM: 3 } });
    await s.saveCalibration('other', { targetFpir: 0.01, global: 0.1, perAlgorithm: {}, params: {} });
    const cal2 = await s.saveCalibration('m1', { targetFpir: 0.05, global: 0.5, perAlgorithm: {}, params: {} });
    t.ok(cal2.version > cal.version);
    t.same((await s.listCalibrations('m1', 10)).map((c) => c.global), [0.5, 0.4], 'newest first');
    t.same((await s.listCalibrations('m1', 10))[1], cal, 'round-trips');

    t.equal(await s.lastSwitch(), null);
    const rec = await s.recordSwitch('m1,m2:0.5', false);
    t.same(await s.lastSwitch(), rec);
    await t.rejects(s.addSamples(a.id, items(1, 4, 1), { fence: null }), { code: 'DFG_ERR_MODEL_SWITCHED', statusCode: 503 }, 'fenced to no record');
    t.equal((await s.addSamples(a.id, items(1, 4, 1), { fence: rec })).length, 1, 'fenced to the current record');

    const img = Buffer.from('some image bytes');
    const other = Buffer.from('other image bytes');
    await t.rejects(s.putImage(hex(other), img), { code: 'DFG_ERR_REQUEST_INVALID' }, 'bytes must hash to their name');
    await t.rejects(s.addSamples(a.id, [{ ...items(1, 4, 2)[0]!, sha256: hex(img) }], { keptBytes: true }), { code: 'DFG_ERR_IMAGE_NOT_KEPT' });
    await s.putImage(hex(img), img);
    await s.putImage(hex(img), img);
    await s.putImage(hex(other), other);
    t.same(await s.getImage(hex(img)), img);
    t.equal(await s.getImage(hex(Buffer.from('never'))), null);
    const [added] = await s.addSamples(a.id, [{ ...items(1, 4, 2)[0]!, sha256: hex(img) }], { keptBytes: true });
    await s.dropUnreferenced([hex(img), hex(other)]);
    t.same(await s.getImage(hex(img)), img, 'still named by a sample');
    t.equal(await s.getImage(hex(other)), null, 'named by none: removed');
    await s.deleteSample(a.id, added!.sample.id);
    await s.dropUnreferenced([hex(img)]);
    t.equal(await s.getImage(hex(img)), null);
  });
}

t.test('postgres: one migration whichever opens first; named locks across processes; 503 when unreachable', async (t) => {
  const url = await testDatabase(t);
  const [x, y] = await Promise.all([openPgGalleryStore(url), openPgGalleryStore(url)]);
  t.teardown(async () => {
    await x.close();
    await y.close();
  });
  t.same([x.schema.from, y.schema.from].sort(), [0, PG_SCHEMA_VERSION], 'one of them migrated, the other found it done');
  t.equal(x.galleryId, y.galleryId);

  // Writes from two stores interleave into one gap-free change log.
  const a = await x.createAlgorithm(alg('a'));
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? x : y).addSamples(a.id, items(3, 4, i, i))));
  const rows = await y.changesAfter(0, await y.maxSeq(), 1000);
  t.same(rows.map((r) => r.seq), Array.from({ length: 31 }, (_, i) => i + 1));

  let release!: () => void;
  const held = x.tryExclusive('calibration', () => new Promise<string>((resolve) => (release = () => resolve('ran'))));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await y.tryExclusive('calibration', async () => 'also ran'), undefined, 'held elsewhere: not run');
  t.equal(await y.tryExclusive('other', async () => 'other ran'), 'other ran', 'another name is free');
  release();
  t.equal(await held, 'ran');
  t.equal(await y.tryExclusive('calibration', async () => 'now'), 'now', 'released');

  let notified = 0;
  const off = y.onChange(() => notified++);
  await new Promise((r) => setTimeout(r, 300));
  const before = notified;
  await x.createAlgorithm(alg('b'));
  const t0 = Date.now();
  while (notified === before && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
  t.ok(notified > before, `another store's commit is notified (${Date.now() - t0} ms)`);
  off();

  const down = new URL(url);
  down.port = '1';
  await t.rejects(openPgGalleryStore(down.toString(), { connectTimeoutMs: 1000 }), { code: 'DFG_ERR_STORE_UNAVAILABLE', statusCode: 503 });
});

for (const [kind, open] of backends) {
  t.test(`${kind}: provenance of imported samples and algorithms`, async (t) => {
    const s = await open(t);
    t.equal(await s.hasBundles(), false);
    const input = { sha256: 'ab'.repeat(32), publisher: 'org-a', keyFingerprint: 'cd'.repeat(32), software: 'deepfake-genome', exportedAt: '2026-01-02T03:04:05.000Z' };
    const first = await s.recordBundle(input);
    t.match(first, { created: true, bundle: { ...input, id: /^bnd_/, importedAt: /^\d{4}-/ } });
    const again = await s.recordBundle(input);
    t.same(again, { created: false, bundle: first.bundle }, 'one row per bundle file');
    t.equal(await s.hasBundles(), true);
    const id = first.bundle.id;
    const expected = (sourceId: string) => ({ bundleId: id, bundleSha256: input.sha256, publisher: 'org-a', keyFingerprint: input.keyFingerprint, software: input.software, exportedAt: input.exportedAt, importedAt: first.bundle.importedAt, sourceId });

    const imported = await s.createAlgorithm(alg('Imported'), { bundleId: id, sourceId: 'alg_far' });
    t.same(imported.provenance, expected('alg_far'));
    const local = await s.createAlgorithm(alg('Local'));
    t.equal(local.provenance, null);
    t.same((await s.getAlgorithm(imported.id))?.provenance, expected('alg_far'));
    t.same((await s.listAlgorithms(10, 0)).items.map((a) => a.provenance?.sourceId ?? null), ['alg_far', null]);

    const batch = items(3, 8, 7);
    const added = await s.addSamples(imported.id, batch.map((it, i) => ({ ...it, origin: i < 2 ? { bundleId: id, sourceId: `smp_far${i}` } : null })));
    t.same(added.map((r) => r.sample.provenance?.sourceId ?? null), ['smp_far0', 'smp_far1', null], 'as added');
    t.same(await s.getSample(imported.id, added[0]!.sample.id), added[0]!.sample, 'read back as added');
    t.same((await s.sampleById(added[1]!.sample.id))?.provenance, expected('smp_far1'));
    t.same((await s.listSamples(imported.id, 10, 0)).items.map((x) => x.provenance?.sourceId ?? null), ['smp_far0', 'smp_far1', null]);
    t.same((await s.findBySha(batch[0]!.sha256))[0]?.provenance, expected('smp_far0'));
    const prov = await s.provenanceOf([added[0]!.sample.id, added[2]!.sample.id, 'smp_none']);
    t.same([...prov.entries()], [[added[0]!.sample.id, expected('smp_far0')]], 'only imported samples have provenance');
    await t.rejects(s.addSamples(imported.id, items(1, 8, 8, 5).map((it) => ({ ...it, origin: { bundleId: 'bnd_nope', sourceId: 'x' } }))), { code: 'DFG_ERR_REQUEST_INVALID' }, 'an unrecorded bundle is refused');

    t.equal(await s.forgetBundle(id), false, 'kept while rows name it');
    await s.deleteAlgorithm(imported.id);
    t.equal(await s.forgetBundle(id), true, 'and removed once nothing names it');
    t.equal(await s.hasBundles(), false);
  });
}

for (const [kind, open] of backends) {
  t.test(`${kind}: an import lands whole or not at all`, async (t) => {
    const s = await open(t);
    const existing = await s.createAlgorithm(alg('Existing'));
    await s.addSamples(existing.id, items(1, 8, 20));
    const bundle = { sha256: 'ef'.repeat(32), publisher: 'org-b', keyFingerprint: '01'.repeat(32), software: 'deepfake-genome', exportedAt: '2026-02-03T04:05:06.000Z' };
    const before = { seq: await s.maxSeq(), samples: await s.countSamples(), algorithms: (await s.listAlgorithms(10, 0)).total };
    const created = items(3, 8, 21, 1);
    const merged = items(2, 8, 22, 2);
    const parts = (mergeInto: string) => [
      { create: { input: alg('Imported'), sourceId: 'alg_far' }, items: created.map((sample, i) => ({ sample, sourceId: `smp_c${i}` })) },
      { algorithmId: mergeInto, items: merged.map((sample, i) => ({ sample, sourceId: `smp_m${i}` })) },
    ];

    // The second part fails after the first one's algorithm and samples were written in the transaction.
    await t.rejects(s.applyImport(bundle, parts('alg_gone')), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
    t.same({ seq: await s.maxSeq(), samples: await s.countSamples(), algorithms: (await s.listAlgorithms(10, 0)).total }, before, 'nothing of it landed, not even the change log');
    t.equal(await s.hasBundles(), false, 'nor the bundle\'s record');
    await t.rejects(s.applyImport(bundle, parts(existing.id), { keptBytes: ['aa'.repeat(32)] }), { code: 'DFG_ERR_IMAGE_NOT_KEPT' }, 'bytes that must be kept are checked under the lock');
    t.same((await s.listAlgorithms(10, 0)).total, before.algorithms);

    const applied = await s.applyImport(bundle, parts(existing.id));
    t.equal(applied.recorded, true);
    t.same(applied.parts.map((p) => [p.created, p.results.length]), [[true, 3], [false, 2]]);
    t.equal(applied.parts[1]!.algorithmId, existing.id);
    t.same(applied.parts[0]!.results.map((r) => r.sample.provenance?.sourceId), ['smp_c0', 'smp_c1', 'smp_c2'], 'every sample names the bundle\'s record');
    t.equal((await s.getAlgorithm(applied.parts[0]!.algorithmId))?.provenance?.bundleId, applied.bundle.id);
    t.equal(await s.countSamples(), before.samples + 5);

    // Again: every sample a duplicate, no new algorithm (merge into both): nothing added, the record stays as it was.
    const again = await s.applyImport(bundle, [{ algorithmId: applied.parts[0]!.algorithmId, items: created.map((sample, i) => ({ sample, sourceId: `smp_c${i}` })) }]);
    t.same({ recorded: again.recorded, id: again.bundle.id, dup: again.parts[0]!.results.every((r) => r.duplicate) }, { recorded: false, id: applied.bundle.id, dup: true });
    // A new bundle that adds nothing leaves no record behind.
    const empty = await s.applyImport({ ...bundle, sha256: '23'.repeat(32) }, [{ algorithmId: existing.id, items: merged.map((sample, i) => ({ sample, sourceId: `smp_m${i}` })) }]);
    t.equal(empty.recorded, false);
    t.equal((await s.listAlgorithms(10, 0)).total, before.algorithms + 1);
  });
}
