/**
 * Attributions kept for feedback, in both stores: kept with their vectors, found until they expire,
 * pruned by later writes unless judged; one verdict each, with its audit row in the same
 * transaction; judged pairs and verdict counts per index.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import pg from 'pg';
import { storeFile } from '../src/gallery/store/file.js';
import { openSqliteGalleryStore } from '../src/gallery/store/sqlite.js';
import { openPgGalleryStore } from '../src/gallery/store/pg.js';
import type { GalleryStore } from '../src/gallery/store/api.js';
import type { AttributionInput } from '../src/gallery/types.js';
import { newId } from '../src/gallery/store/rows.js';
import { randomUnit, rng, tempDir } from './helpers/gallery.js';
import { testDatabase } from './helpers/pg.js';

/** A store, and how many attribution rows (and their vector rows) it holds, read behind its back. */
type Open = (t: { teardown(fn: () => unknown): void }) => Promise<{ s: GalleryStore; rows: () => Promise<[number, number]> }>;
const backends: Array<[string, Open]> = [
  ['sqlite', async (t) => {
    const dir = tempDir();
    const s = openSqliteGalleryStore(dir);
    t.teardown(() => s.close());
    return {
      s,
      rows: async () => {
        const db = new Database(storeFile(dir), { readonly: true });
        try {
          return [db.prepare('SELECT count(*) FROM attributions').pluck().get() as number, db.prepare('SELECT count(*) FROM attribution_vectors').pluck().get() as number];
        } finally {
          db.close();
        }
      },
    };
  }],
  ['postgres', async (t) => {
    const url = await testDatabase(t);
    const s = await openPgGalleryStore(url);
    t.teardown(() => s.close());
    return {
      s,
      rows: async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          const r = await c.query('SELECT (SELECT count(*) FROM attributions)::int AS a, (SELECT count(*) FROM attribution_vectors)::int AS v');
          return [r.rows[0].a as number, r.rows[0].v as number];
        } finally {
          await c.end();
        }
      },
    };
  }],
];

const rand = rng(11);
function answer(over: Partial<AttributionInput> = {}): AttributionInput {
  const now = Date.now();
  return {
    id: newId('att'), createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 86_400_000).toISOString(), keyId: 'k1', modelId: 'm1',
    decision: 'attributed', algorithmId: 'alg_a', score: 0.91, threshold: 0.8, candidates: [{ algorithmId: 'alg_a', score: 0.91 }, { algorithmId: 'alg_b', score: 0.4 }],
    sha256: 'a'.repeat(64), width: 64, height: 48, vectors: { m1: randomUnit(8, rand), m2: randomUnit(4, rand) }, ...over,
  };
}

for (const [kind, open] of backends) {
  t.test(`${kind}: kept, judged once, pruned when expired`, async (t) => {
    const { s, rows } = await open(t);
    const a = answer();
    const b = answer({ decision: 'unknown', algorithmId: null });
    const old = answer({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    await s.recordAttributions([a, b, old]);
    t.same(await rows(), [2, 4], 'the expired one is pruned by the write itself, its vectors with it');
    const got = await s.getAttribution(a.id);
    t.match(got, { id: a.id, keyId: 'k1', modelId: 'm1', decision: 'attributed', algorithmId: 'alg_a', score: 0.91, candidates: a.candidates, verdict: null, enrolledSampleId: null });
    t.same([...got!.vectors.keys()].sort(), ['m1', 'm2']);
    t.same(got!.vectors.get('m1'), a.vectors.m1, 'vectors as they were');
    t.equal(await s.getAttribution(old.id), undefined, 'an expired answer is not found');
    t.equal(await s.getAttribution('att_nope'), undefined);

    t.equal(await s.recordFeedback(a.id, { verdict: 'reject', algorithmId: 'alg_a', enrolledSampleId: null }, { keyId: 'analyst' }), 'recorded');
    t.equal(await s.recordFeedback(a.id, { verdict: 'confirm', algorithmId: 'alg_a', enrolledSampleId: null }, { keyId: 'analyst' }), 'given', 'one verdict');
    t.equal(await s.recordFeedback(old.id, { verdict: 'confirm', algorithmId: 'alg_a', enrolledSampleId: null }), 'missing', 'expired');
    t.equal(await s.recordFeedback(b.id, { verdict: 'relabel', algorithmId: 'alg_b', enrolledSampleId: null }, { keyId: 'analyst' }), 'recorded');
    t.match(await s.getAttribution(a.id), { verdict: 'reject', verdictAlgorithmId: 'alg_a', verdictKeyId: 'analyst' });

    const audit = await s.listAudit({ afterSeq: 0, limit: 10 });
    t.same(audit.map((r) => [r.action, r.subject, r.keyId]), [['attribution.feedback', a.id, 'analyst'], ['attribution.feedback', b.id, 'analyst']], 'each verdict audited, the refused ones not');
    t.same(audit[0]!.detail, { verdict: 'reject', decision: 'attributed', attributed: 'alg_a', algorithmId: 'alg_a', enrolledSampleId: null, model: 'm1' });

    const pairs = await s.feedbackPairs('m1', 10);
    t.same(pairs.map((p) => [p.attributionId, p.algorithmId, p.genuine]).sort(), [[a.id, 'alg_a', false], [b.id, 'alg_b', true]].sort());
    t.same(pairs.find((p) => p.attributionId === a.id)!.vectors.get('m2'), a.vectors.m2);
    t.same(await s.feedbackPairs('other', 10), [], 'per index');
    t.same(await s.feedbackCounts('m1'), { confirmed: 0, rejected: 1, relabelled: 0 }, 'counts attributed answers only');

    // Expired answers go with the next write, judged ones stay however old.
    const judgedOld = answer({ expiresAt: new Date(Date.now() + 500).toISOString() });
    await s.recordAttributions([judgedOld]);
    t.equal(await s.recordFeedback(judgedOld.id, { verdict: 'confirm', algorithmId: 'alg_a', enrolledSampleId: 'smp_x' }), 'recorded');
    await new Promise((r) => setTimeout(r, 600));
    await s.recordAttributions([answer()]);
    t.match(await s.getAttribution(judgedOld.id), { verdict: 'confirm', enrolledSampleId: 'smp_x' }, 'a judged answer is kept past its expiry');
    t.same(await rows(), [4, 8], 'judged or not yet expired: kept');
    t.equal((await s.feedbackPairs('m1', 10)).length, 2, 'one that enrolled its query is not a pair (its vector is a sample)');
    t.same(await s.feedbackCounts('m1'), { confirmed: 1, rejected: 1, relabelled: 0 });
  });
}
