/**
 * The audit trail in both stores: each change of the registry appends its row (who, when, what) in
 * the change's own transaction; nothing can update or delete a row; reads page by seq and time;
 * `dfg gallery migrate` copies it.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openSqliteGalleryStore } from '../src/gallery/store/sqlite.js';
import { openPgGalleryStore } from '../src/gallery/store/pg.js';
import { migrateStore } from '../src/gallery/store/copy.js';
import { storeFile } from '../src/gallery/store/file.js';
import type { CheckedSample, GalleryStore } from '../src/gallery/store/api.js';
import { randomUnit, rng, sha, tempDir } from './helpers/gallery.js';
import { testDatabase } from './helpers/pg.js';

const alg = (name: string) => ({ name, forgeryType: 'FS' as const, architecture: 'GAN' as const, description: '', reference: '', enabled: true, threshold: null });
const items = (n: number, series: number): CheckedSample[] => {
  const rand = rng(series + 1);
  return Array.from({ length: n }, (_, i) => ({ sha256: sha(i, series), vectors: new Map([['m1', randomUnit(8, rand)]]), width: 8, height: 8, filename: null }));
};

type Open = (t: { teardown(fn: () => unknown): void }) => Promise<{ store: GalleryStore; raw: (sql: string) => Promise<unknown> }>;

const backends: Array<[string, Open]> = [
  ['sqlite', async (t) => {
    const dir = tempDir();
    const store = openSqliteGalleryStore(dir);
    t.teardown(() => store.close());
    return {
      store,
      raw: async (sql) => {
        const db = new Database(storeFile(dir));
        try {
          return db.prepare(sql).run();
        } finally {
          db.close();
        }
      },
    };
  }],
  ['postgres', async (t) => {
    const url = await testDatabase(t);
    const store = await openPgGalleryStore(url);
    t.teardown(() => store.close());
    return {
      store,
      raw: async (sql) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return await c.query(sql);
        } finally {
          await c.end();
        }
      },
    };
  }],
];

for (const [kind, open] of backends) {
  t.test(`${kind}: every change has its row, append-only`, async (t) => {
    const { store, raw } = await open(t);
    const who = { keyId: 'ops' };
    const a = await store.createAlgorithm(alg('FaceSwap'), null, who);
    const b = await store.createAlgorithm(alg('Painter'));
    await store.updateAlgorithm(a.id, { name: 'FaceSwap v2', threshold: 0.7, description: 'same' }, who);
    await store.updateAlgorithm(a.id, { enabled: false }, { keyId: 'reg' });
    const added = await store.addSamples(a.id, items(3, 0), {}, { keyId: 'reg', context: { job: 'job_x' } });
    await store.addSamples(a.id, items(3, 0), {}, who); // all duplicates: nothing changes, no row
    await store.addVectors('m2', [{ sampleId: added[0]!.sample.id, vector: randomUnit(4, rng(5)) }]);
    await store.deleteSample(a.id, added[1]!.sample.id, who);
    t.equal(await store.deleteSample(a.id, added[1]!.sample.id, who), undefined, 'a delete of nothing');
    await store.saveCalibration('m1', { targetFpir: 0.01, global: 0.5, perAlgorithm: { [b.id]: 0.4 }, params: { auto: true } });
    await store.recordSwitch('m1,m2', true, who);
    await store.recordSwitch('m1', false, who);
    await store.deleteAlgorithm(a.id, who);

    const rows = await store.listAudit({ afterSeq: 0, limit: 100 });
    t.same(rows.map((r) => [r.action, r.keyId]), [
      ['algorithm.create', 'ops'], ['algorithm.create', null], ['algorithm.update', 'ops'], ['algorithm.update', 'reg'], ['samples.enrol', 'reg'],
      ['vectors.add', null], ['sample.delete', 'ops'], ['calibration.save', null], ['model.switch', 'ops'], ['model.switch', 'ops'],
      ['algorithm.delete', 'ops'],
    ]);
    t.same(rows.map((r) => r.seq), rows.map((_, i) => rows[0]!.seq + i), 'seqs increase by one');
    t.match(rows[0], { subject: a.id, detail: { name: 'FaceSwap', forgeryType: 'FS', architecture: 'GAN', enabled: true, threshold: null } });
    t.same(rows[2]!.detail, { name: 'FaceSwap v2', changes: { name: ['FaceSwap', 'FaceSwap v2'], threshold: [null, 0.7], description: ['', 'same'] } }, 'what a rename and a threshold changed');
    t.same(rows[3]!.detail, { name: 'FaceSwap v2', changes: { enabled: [true, false] } });
    t.same(rows[4]!.detail, { created: 3, duplicates: 0, changes: 3, sampleIds: added.map((r) => r.sample.id), context: { job: 'job_x' } });
    t.same(rows[5], { ...rows[5], subject: 'm2', detail: { stored: 1 } });
    t.match(rows[6], { subject: added[1]!.sample.id, detail: { algorithmId: a.id, sha256: sha(1, 0) } });
    t.match(rows[7], { subject: 'm1', detail: { version: 1, targetFpir: 0.01, global: 0.5, algorithms: 1, automatic: true } });
    t.same([rows[8]!.detail, rows[9]!.detail], [{ list: 'm1,m2', forced: true, previous: null }, { list: 'm1', forced: false, previous: 'm1,m2' }]);
    t.match(rows[10], { subject: a.id, detail: { name: 'FaceSwap v2', samples: 2 } });
    for (const r of rows) t.ok(Math.abs(Date.parse(r.at) - Date.now()) < 60_000 && r.at === new Date(r.at).toISOString(), 'ISO time');

    t.same((await store.listAudit({ afterSeq: rows[8]!.seq, limit: 100 })).map((r) => r.action), ['model.switch', 'algorithm.delete'], 'after a seq');
    t.same((await store.listAudit({ afterSeq: 0, limit: 2 })).map((r) => r.seq), [rows[0]!.seq, rows[1]!.seq], 'limited');
    t.equal((await store.listAudit({ afterSeq: 0, since: rows[0]!.at, limit: 100 })).length, 11, 'since a time: inclusive');
    t.equal((await store.listAudit({ afterSeq: 0, since: '9999-01-01T00:00:00.000Z', limit: 100 })).length, 0);

    await t.rejects(raw(`UPDATE audit SET key_id = 'mallory' WHERE seq = ${rows[0]!.seq}`), /append-only/, 'rows cannot be changed');
    await t.rejects(raw('DELETE FROM audit'), /append-only/, 'nor deleted');
    t.equal((await store.listAudit({ afterSeq: 0, limit: 100 }))[0]!.keyId, 'ops');
  });

  t.test(`${kind}: a change that fails writes no audit row`, async (t) => {
    const { store } = await open(t);
    const a = await store.createAlgorithm(alg('One'));
    await t.rejects(store.createAlgorithm(alg('one'), null, { keyId: 'x' }), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' });
    await t.rejects(store.addSamples('alg_nope', items(1, 3), {}, { keyId: 'x' }), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
    await t.rejects(store.addSamples(a.id, items(1, 4), { fence: { list: 'other', at: 'x', forced: false } }, { keyId: 'x' }), { code: 'DFG_ERR_MODEL_SWITCHED' });
    t.same((await store.listAudit({ afterSeq: 0, limit: 10 })).map((r) => r.action), ['algorithm.create']);
  });
}

for (const [kind, open] of backends) {
  t.test(`${kind}: an import audits itself inside its transaction`, async (t) => {
    const { store } = await open(t);
    const existing = await store.createAlgorithm(alg('Existing'));
    const dup = items(1, 20);
    await store.addSamples(existing.id, dup);
    const bundle = { sha256: 'ef'.repeat(32), publisher: 'org-b', keyFingerprint: '01'.repeat(32), software: 'deepfake-genome', exportedAt: '2026-02-03T04:05:06.000Z' };
    const seen = (await store.listAudit({ afterSeq: 0, limit: 10 })).length;
    const parts = (mergeInto: string) => [
      { create: { input: alg('Imported'), sourceId: 'alg_far' }, items: items(2, 21).map((sample, i) => ({ sample, sourceId: `smp_c${i}` })) },
      { algorithmId: mergeInto, items: [...dup, ...items(1, 22)].map((sample, i) => ({ sample, sourceId: `smp_m${i}` })) },
    ];
    const note = { keyId: 'ops', context: { job: 'job_i' } };
    await t.rejects(store.applyImport(bundle, parts('alg_gone'), {}, { note, detail: { total: 5 } }), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
    t.equal((await store.listAudit({ afterSeq: 0, limit: 10 })).length, seen, 'a failed import leaves no audit row');

    const applied = await store.applyImport(bundle, parts(existing.id), {}, { note, detail: { total: 5, models: { m1: 'bundle' } } });
    const rows = (await store.listAudit({ afterSeq: 0, limit: 20 })).slice(seen);
    const created = applied.parts[0]!.algorithmId;
    const ctx = { job: 'job_i', import: applied.bundle.id };
    t.same(rows.map((r) => [r.action, r.keyId, r.subject, r.detail.context ?? null]), [
      ['algorithm.create', 'ops', created, ctx], ['samples.enrol', 'ops', created, ctx], ['samples.enrol', 'ops', existing.id, ctx], ['bundle.import', 'ops', applied.bundle.id, { job: 'job_i' }],
    ]);
    t.match(rows[0]!.detail, { name: 'Imported', bundleId: applied.bundle.id, sourceId: 'alg_far' });
    t.match(rows[2]!.detail, { created: 1, duplicates: 1 });
    t.same(rows[3]!.detail, {
      total: 5, models: { m1: 'bundle' }, created: 3, duplicates: 1, context: { job: 'job_i' },
      algorithms: [{ id: created, action: 'created', name: 'Imported', created: 2 }, { id: existing.id, action: 'merged', name: null, created: 1 }],
    });

    await store.applyImport(bundle, [{ algorithmId: existing.id, items: dup.map((sample) => ({ sample, sourceId: 'smp_x' })) }], {}, { note, detail: {} });
    t.equal((await store.listAudit({ afterSeq: 0, limit: 20 })).length, seen + 4, 'an import that changed nothing has no row');
  });
}

t.test('dfg gallery migrate copies the audit trail and the kept answers, SQLite to PostgreSQL', async (t) => {
  const dir = tempDir();
  const s = openSqliteGalleryStore(dir);
  const a = await s.createAlgorithm(alg('Kept'), null, { keyId: 'ops' });
  await s.addSamples(a.id, items(2, 9), {}, { keyId: 'reg' });
  const now = Date.now();
  const kept = {
    id: 'att_aaaaaaaaaaaaaaaa', createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 86_400_000).toISOString(), keyId: 'tns', modelId: 'm1',
    decision: 'attributed' as const, algorithmId: a.id, score: 0.9, threshold: 0.5, candidates: [{ algorithmId: a.id, score: 0.9 }], sha256: sha(50, 9), width: 8, height: 8,
    vectors: { m1: randomUnit(8, rng(50)) },
  };
  await s.recordAttributions([kept]);
  await s.recordFeedback(kept.id, { verdict: 'reject', algorithmId: a.id, enrolledSampleId: null }, { keyId: 'reg' });
  const judged = await s.getAttribution(kept.id);
  const before = await s.listAudit({ afterSeq: 0, limit: 10 });
  await s.close();
  const url = await testDatabase(t);
  const res = await migrateStore({ dir }, { url });
  t.equal(res.verified, true);
  t.same([res.copied.audit, res.copied.attributions, res.copied.attribution_vectors], [3, 1, 1], 'the audit trail, and the judged answer with its vector');
  const target = await openPgGalleryStore(url);
  t.teardown(() => target.close());
  t.same(await target.listAudit({ afterSeq: 0, limit: 10 }), before, 'rows as they were');
  t.same(await target.getAttribution(kept.id), judged, 'feedback evidence as it was');
  await target.createAlgorithm(alg('After'), null, { keyId: 'ops' });
  t.equal((await target.listAudit({ afterSeq: 0, limit: 10 }))[3]!.seq, before[2]!.seq + 1, 'the target continues the sequence');
});
