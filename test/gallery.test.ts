import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { openGallery, writeSwitchRecord, type Gallery, type GalleryOptions } from '../src/gallery/gallery.js';
import { collect, cosine, findAsync, near, randomUnit, recordingLog, rng, sha, tempDir } from './helpers/gallery.js';

const DIM = 16;
const MODEL = 'test-model';

interface Teardown {
  teardown(fn: () => unknown): void;
}

async function open(t: Teardown, dir: string, extra: Partial<GalleryOptions> = {}) {
  const { log, records } = recordingLog();
  const g = await openGallery({ dir, modelId: MODEL, dim: DIM, log, ...extra });
  t.teardown(() => g.close());
  return { g, records };
}

function items(n: number, seed: number, series: number, base?: Float32Array) {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    sha256: sha(i, series),
    vector: base ? near(base, 0.15, rand) : randomUnit(DIM, rand),
    width: 32,
    height: 32,
    filename: `s${series}-${i}.png`,
  }));
}

/** Exact top-k over the given vectors, for comparing with the index. */
function bruteForce(pool: Array<{ id: string; vector: Float32Array }>, q: Float32Array, k: number): string[] {
  return pool
    .map((p) => ({ id: p.id, s: cosine(q, p.vector) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

t.test('algorithms and samples through the gallery API', async (t) => {
  const { g } = await open(t, tempDir());
  const a = await g.createAlgorithm({ name: 'FaceSwapper', forgeryType: 'FS', architecture: 'GAN', description: ' swaps faces ', reference: 'https://example.org' });
  t.match(a, { name: 'FaceSwapper', description: 'swaps faces', enabled: true, threshold: null, sampleCount: 0 });
  await t.rejects(async () => g.createAlgorithm({ name: 'faceswapper' }), { code: 'DFG_ERR_ALGORITHM_NAME_TAKEN' });
  await t.rejects(async () => g.createAlgorithm({ name: '  ' }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(async () => g.createAlgorithm({ name: 'x', forgeryType: 'XX' as never }), { code: 'DFG_ERR_REQUEST_INVALID', message: /Expected one of FS, FR/ });
  await t.rejects(async () => g.createAlgorithm({ name: 'x', threshold: 2 }), { code: 'DFG_ERR_REQUEST_INVALID' });
  const b = await g.createAlgorithm({ name: 'Painter' });
  t.match(b, { forgeryType: 'unknown', architecture: 'other' });
  await t.rejects(async () => g.getAlgorithm('alg_nope'), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  await t.rejects(async () => g.updateAlgorithm('alg_nope', { enabled: false }), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  await t.rejects(async () => g.listAlgorithms({ limit: 0 }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(async () => g.listAlgorithms({ offset: -1 }), { code: 'DFG_ERR_REQUEST_INVALID' });

  const batch = items(6, 1, 1);
  const version = g.info().version;
  const res = await g.addSamples(a.id, [...batch, batch[0]!]);
  t.same(res.map((r) => r.duplicate), [false, false, false, false, false, false, true]);
  t.ok(g.info().version > version, 'version moves with every commit');
  t.same((await g.addSamples(a.id, batch.slice(0, 2))).map((r) => r.duplicate), [true, true]);
  t.equal((await g.getAlgorithm(a.id)).sampleCount, 6);
  t.same(await g.listAlgorithms({ limit: 1, offset: 1 }), { items: [await g.getAlgorithm(b.id)], total: 2 });

  // Bad items are refused before anything is written.
  const before = g.info().version;
  await t.rejects(async () => g.addSamples(a.id, [items(1, 2, 2)[0]!, { ...items(1, 3, 3)[0]!, vector: new Float32Array(DIM + 1) }]), { code: 'DFG_ERR_GALLERY_DIMENSION_MISMATCH' });
  await t.rejects(async () => g.addSamples(a.id, [{ ...items(1, 2, 2)[0]!, vector: new Float32Array(DIM) }]), { code: 'DFG_ERR_REQUEST_INVALID', message: /non-zero/ });
  const nan = randomUnit(DIM, rng(4));
  nan[3] = Number.NaN;
  await t.rejects(async () => g.addSamples(a.id, [{ ...items(1, 2, 2)[0]!, vector: nan }]), { code: 'DFG_ERR_REQUEST_INVALID', message: /finite/ });
  await t.rejects(async () => g.addSamples(a.id, [{ ...items(1, 2, 2)[0]!, sha256: 'abc' }]), { code: 'DFG_ERR_REQUEST_INVALID', message: /sha256/ });
  await t.rejects(async () => g.addSamples(a.id, [{ ...items(1, 2, 2)[0]!, width: 0 }]), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(async () => g.addSamples('alg_nope', items(1, 2, 2)), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  t.equal(g.info().version, before, 'nothing committed');
  t.equal(g.info().counts.samples, 6);

  const page = await g.listSamples(a.id, { limit: 4, offset: 4 });
  t.equal(page.total, 6);
  t.same(page.items.map((s) => s.id), res.slice(4, 6).map((r) => r.sample.id));
  await t.rejects(async () => g.listSamples('alg_nope'), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  t.equal((await g.getSample(a.id, res[0]!.sample.id)).sha256, batch[0]!.sha256);
  await t.rejects(async () => g.getSample(b.id, res[0]!.sample.id), { code: 'DFG_ERR_SAMPLE_NOT_FOUND' });
  t.same((await g.findBySha(batch[1]!.sha256.toUpperCase())).map((s) => s.id), [res[1]!.sample.id], 'sha lookup ignores case');

  // Search: best first, similarity is the cosine.
  const hits = g.search(batch[2]!.vector, 3);
  t.equal(hits[0]!.sampleId, res[2]!.sample.id);
  t.ok(Math.abs(hits[0]!.similarity - 1) < 1e-5);
  t.ok(hits[1]!.similarity <= hits[0]!.similarity && hits[2]!.similarity <= hits[1]!.similarity);
  t.ok(Math.abs(hits[1]!.similarity - cosine(batch[2]!.vector, (await findAsync(batch, async (x) => (await g.findBySha(x.sha256))[0]!.id === hits[1]!.sampleId))!.vector)) < 1e-5);
  t.throws(() => g.search(new Float32Array(DIM - 1), 3), { code: 'DFG_ERR_GALLERY_DIMENSION_MISMATCH' });
  t.throws(() => g.search(batch[0]!.vector, 0), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.same(g.search(new Float32Array(DIM), 2).map((h) => h.similarity), [0, 0], 'a zero query matches nothing well');

  // Delete a sample, re-enrol its bytes.
  await g.deleteSample(a.id, res[2]!.sample.id);
  await t.rejects(async () => g.deleteSample(a.id, res[2]!.sample.id), { code: 'DFG_ERR_SAMPLE_NOT_FOUND' });
  t.notOk(g.search(batch[2]!.vector, 6).some((h) => h.sampleId === res[2]!.sample.id), 'deleted sample never matches');
  const re = await g.addSamples(a.id, [batch[2]!]);
  t.equal(re[0]!.duplicate, false);
  t.equal(g.search(batch[2]!.vector, 1)[0]!.sampleId, re[0]!.sample.id);

  // Delete the algorithm: its samples leave the index.
  t.same(await g.deleteAlgorithm(a.id), { deletedSamples: 6 });
  t.same(g.search(batch[0]!.vector, 5), []);
  await t.rejects(async () => g.addSamples(a.id, batch), { code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  t.match(g.info(), { counts: { algorithms: 1, enabledAlgorithms: 1, samples: 0 } });

  await g.close();
  t.throws(() => g.search(batch[0]!.vector, 1), { code: 'DFG_ERR_SERVER_NOT_READY' });
  await t.rejects(async () => g.createAlgorithm({ name: 'late' }), { code: 'DFG_ERR_SERVER_NOT_READY' });
});

t.test('disabled algorithms never match, even when most of the gallery is disabled', async (t) => {
  const rand = rng(11);
  // exactBelow 0 and a small ef force the approximate path: the filter, not an exhaustive scan, must keep them out.
  const { g } = await open(t, tempDir(), { exactBelow: 0, efSearch: 16 });
  const algs: Awaited<ReturnType<Gallery["createAlgorithm"]>>[] = [];
  for (let i = 0; i < 10; i++) algs.push(await g.createAlgorithm({ name: `alg-${i}` }));
  for (const [i, a] of algs.entries()) await g.addSamples(a.id, items(60, 100 + i, i, randomUnit(DIM, rand)));
  const pool = (await collect(g.vectors())).map((v) => ({ id: v.sampleId, algorithmId: v.algorithmId, vector: v.vector }));
  t.equal(pool.length, 600);

  const q = randomUnit(DIM, rand);
  t.equal(g.search(q, 10).length, 10);
  for (const a of algs.slice(1)) await g.updateAlgorithm(a.id, { enabled: false });
  t.match(g.info().counts, { algorithms: 10, enabledAlgorithms: 1, samples: 600 });
  const enabledPool = pool.filter((p) => p.algorithmId === algs[0]!.id);
  for (let i = 0; i < 10; i++) {
    const query = randomUnit(DIM, rand);
    const hits = g.search(query, 10);
    t.equal(hits.length, 10, 'k results although 90% is disabled');
    t.ok(hits.every((h) => h.algorithmId === algs[0]!.id), 'only the enabled algorithm');
    const exact = bruteForce(enabledPool, query, 10);
    const overlap = hits.filter((h) => exact.includes(h.sampleId)).length;
    t.ok(overlap >= 9, `recall@10 ${overlap}/10 among enabled samples`);
  }
  const all = g.search(q, 50, { enabledOnly: false });
  t.ok(new Set(all.map((h) => h.algorithmId)).size > 1, 'enabledOnly: false searches everything');
  await g.updateAlgorithm(algs[0]!.id, { enabled: false });
  t.same(g.search(q, 10), [], 'all disabled: nothing');
  await g.updateAlgorithm(algs[3]!.id, { enabled: true });
  t.ok(g.search(q, 5).every((h) => h.algorithmId === algs[3]!.id), 're-enabled algorithm is back');
});

t.test('small galleries are searched exactly', async (t) => {
  const rand = rng(12);
  const { g } = await open(t, tempDir());
  const a = await g.createAlgorithm({ name: 'a' });
  const added = await g.addSamples(a.id, items(400, 13, 1));
  const stored = new Map((await collect(g.vectors())).map((v) => [v.sampleId, v.vector]));
  const pool = added.map((r) => ({ id: r.sample.id, vector: stored.get(r.sample.id)! }));
  for (let i = 0; i < 20; i++) {
    const q = randomUnit(DIM, rand);
    t.same(g.search(q, 50).map((h) => h.sampleId), bruteForce(pool, q, 50));
  }
});

t.test('snapshot plus replay of adds and deletes made after it', async (t) => {
  const dir = tempDir();
  const idx = path.join(dir, 'index');
  const first = await openGallery({ dir, modelId: MODEL, dim: DIM, snapshotEvery: 1_000_000 });
  const a = await first.createAlgorithm({ name: 'a' });
  const b = await first.createAlgorithm({ name: 'b' });
  const early = await first.addSamples(a.id, items(30, 21, 1));
  const manifest = await first.snapshot();
  t.equal(manifest.lastSeq, first.info().version);
  t.equal(first.info().index.snapshotSeq, manifest.lastSeq);
  const saved = ['hnsw', 'json'].map((ext) => fs.readFileSync(path.join(idx, `${MODEL}.${ext}`)));

  const late = await first.addSamples(b.id, items(12, 22, 2));
  await first.deleteSample(a.id, early[0]!.sample.id);
  await first.deleteSample(a.id, early[1]!.sample.id);
  await first.deleteSample(b.id, late[0]!.sample.id);
  const reAdded = await first.addSamples(a.id, [items(30, 21, 1)[0]!]);
  const expected = first.search(items(30, 21, 1)[5]!.vector, 40).map((h) => h.sampleId);
  const version = first.info().version;
  await first.close();
  // Put the older snapshot back, as if the process had died before writing a newer one.
  ['hnsw', 'json'].forEach((ext, i) => fs.writeFileSync(path.join(idx, `${MODEL}.${ext}`), saved[i]!));

  const { g, records } = await open(t, dir);
  const info = g.info();
  t.equal(info.index.builtFrom, 'snapshot');
  t.equal(info.index.snapshotSeq, manifest.lastSeq);
  t.equal(info.version, version, 'caught up to the store');
  t.equal(info.counts.samples, 30 - 2 + 12 - 1 + 1);
  t.equal(info.index.deleted, 2, 'deletes of snapshotted samples replayed as tombstones');
  t.same(g.search(items(30, 21, 1)[5]!.vector, 40).map((h) => h.sampleId), expected, 'same answers as before the restart');
  const ids = new Set(g.search(items(30, 21, 1)[0]!.vector, 50).map((h) => h.sampleId));
  t.notOk(ids.has(early[0]!.sample.id) || ids.has(early[1]!.sample.id) || ids.has(late[0]!.sample.id), 'deleted samples stay deleted');
  t.ok(ids.has(reAdded[0]!.sample.id) && ids.has(late[1]!.sample.id), 'later adds present');
  t.notOk(records.some((r) => r.level === 'warn'), 'no rebuild warning');
  t.same(fs.readdirSync(idx).sort(), [`${MODEL}.hnsw`, `${MODEL}.json`], 'no temporary links or files left behind');
});

t.test('a corrupt, torn or foreign snapshot is never loaded: rebuilt from the store', async (t) => {
  const dir = tempDir();
  const idx = path.join(dir, 'index');
  const q = items(1, 99, 9)[0]!.vector;
  let expected: string[];
  {
    const g = await openGallery({ dir, modelId: MODEL, dim: DIM });
    const a = await g.createAlgorithm({ name: 'a' });
    await g.addSamples(a.id, items(50, 31, 1));
    expected = g.search(q, 10).map((h) => h.sampleId);
    await g.close();
  }
  const file = path.join(idx, `${MODEL}.hnsw`);
  const manifestFile = path.join(idx, `${MODEL}.json`);
  const good = fs.readFileSync(file);
  const goodManifest = fs.readFileSync(manifestFile);

  const cases: Array<[string, () => void, RegExp]> = [
    ['flipped byte', () => { const b = Buffer.from(good); b[b.length >> 1] ^= 0x55; fs.writeFileSync(file, b); }, /checksum/],
    ['truncated index', () => fs.writeFileSync(file, good.subarray(0, good.length - 100)), /checksum/],
    ['missing index', () => fs.rmSync(file), /unreadable/],
    ['garbage manifest', () => fs.writeFileSync(manifestFile, 'garbage'), /JSON/],
    ['missing manifest', () => fs.rmSync(manifestFile), /no snapshot/],
    ['manifest for another dimension', () => fs.writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(goodManifest.toString()), dim: DIM * 2 })), /dimension/],
  ];
  for (const [name, damage, reason] of cases) {
    fs.writeFileSync(file, good);
    fs.writeFileSync(manifestFile, goodManifest);
    damage();
    const { log, records } = recordingLog();
    const g = await openGallery({ dir, modelId: MODEL, dim: DIM, log });
    t.equal(g.info().index.builtFrom, 'rebuild', name);
    t.ok(records.some((r) => r.level === 'warn' && reason.test(String(r.obj.reason))), `${name}: logged why`);
    t.same(g.search(q, 10).map((h) => h.sampleId), expected, `${name}: same answers`);
    await g.close();
    const again = await openGallery({ dir, modelId: MODEL, dim: DIM });
    t.equal(again.info().index.builtFrom, 'snapshot', `${name}: the rebuilt index was snapshotted`);
    await again.close();
  }

  // The snapshot of another model placed under this model's name is refused.
  fs.copyFileSync(file, path.join(idx, 'other-model.hnsw'));
  fs.copyFileSync(manifestFile, path.join(idx, 'other-model.json'));
  const { log, records } = recordingLog();
  const other = await openGallery({ dir, modelId: 'other-model', dim: DIM, log });
  t.equal(other.info().index.builtFrom, 'rebuild');
  t.ok(records.some((r) => /snapshot is for model test-model, not other-model/.test(String(r.obj.reason))));
  t.same(other.search(q, 5), [], "another model's vectors are never mixed in");
  await other.close();

  // Same model id, other dimension (a changed model): refused, and the old vectors are not indexed.
  const { log: log2, records: rec2 } = recordingLog();
  const wide = await openGallery({ dir, modelId: MODEL, dim: DIM * 2, log: log2 });
  t.equal(wide.info().index.builtFrom, 'rebuild');
  t.ok(rec2.some((r) => /dimension/.test(String(r.obj.reason))));
  t.equal(wide.info().counts.samples, 0);
  const dimErrors = rec2.filter((r) => r.level === 'error' && /another dimension/.test(r.msg ?? ''));
  t.equal(dimErrors.length, 1, 'one error line, not one per vector');
  t.equal(dimErrors[0]!.obj.count, 50);
  await wide.close();
});

t.test('compaction rebuilds without tombstones past the ratio', async (t) => {
  const { g } = await open(t, tempDir(), { compactRatio: 0.2 });
  const a = await g.createAlgorithm({ name: 'a' });
  const added = await g.addSamples(a.id, items(40, 41, 1));
  for (const r of added.slice(0, 8)) await g.deleteSample(a.id, r.sample.id);
  await g.idle();
  t.match(g.info().index, { deleted: 8, size: 40 }, '20% is not past the ratio');
  await g.deleteSample(a.id, added[8]!.sample.id);
  await g.idle();
  t.match(g.info().index, { deleted: 0, size: 31, builtFrom: 'rebuild', state: 'ready' }, 'compacted');
  t.equal(g.info().index.snapshotSeq, g.info().version, 'and snapshotted');
  const hits = g.search(items(40, 41, 1)[20]!.vector, 40);
  t.equal(hits.length, 31);
  t.equal(hits[0]!.sampleId, added[20]!.sample.id);
});

t.test('rebuild while adding: nothing committed during the build is lost', async (t) => {
  const { g } = await open(t, tempDir());
  const a = await g.createAlgorithm({ name: 'a' });
  await g.addSamples(a.id, items(300, 51, 1));
  const building = g.rebuild();
  t.equal(g.info().index.state, 'rebuilding');
  const during = await g.addSamples(a.id, items(5, 52, 2));
  await building;
  t.equal(g.info().index.state, 'ready');
  t.equal(g.info().counts.samples, 305);
  t.equal(g.search(items(5, 52, 2)[3]!.vector, 1)[0]!.sampleId, during[3]!.sample.id);
});

t.test('close() during a rebuild cancels it and still leaves a loadable snapshot', async (t) => {
  const dir = tempDir();
  const g = await openGallery({ dir, modelId: MODEL, dim: DIM });
  const a = await g.createAlgorithm({ name: 'a' });
  await g.addSamples(a.id, items(3000, 81, 1));
  const building = g.rebuild().then(() => 'finished', (err: Error) => err.constructor.name);
  await g.close();
  t.match(await building, /^(finished|BuildCancelled)$/);
  const { g: again } = await open(t, dir);
  t.equal(again.info().index.builtFrom, 'snapshot');
  t.equal(again.info().counts.samples, 3000);
});

t.test('calibrations and effective thresholds', async (t) => {
  const { g } = await open(t, tempDir());
  const a = await g.createAlgorithm({ name: 'a' });
  const b = await g.createAlgorithm({ name: 'b', threshold: 0.9 });
  t.equal(g.currentCalibration(), null);
  t.same(g.effectiveThresholds(), { perAlgorithm: { [b.id]: 0.9 } });
  const version = g.info().version;
  const c1 = await g.saveCalibration({ targetFpir: 0.01, global: 0.42, perAlgorithm: { [a.id]: 0.61, [b.id]: 0.7 }, params: { topM: 3 } });
  t.ok(g.info().version > version, 'a calibration bumps the gallery version');
  t.same(g.currentCalibration(), c1);
  t.same(g.effectiveThresholds(), { global: 0.42, perAlgorithm: { [a.id]: 0.61, [b.id]: 0.9 } }, 'manual override wins');
  await g.updateAlgorithm(b.id, { threshold: null });
  t.equal(g.effectiveThresholds().perAlgorithm[b.id], 0.7, 'calibrated value once the override is cleared');
  const c2 = await g.saveCalibration({ targetFpir: 0.001, global: 0.5, perAlgorithm: {} });
  t.ok(c2.version > c1.version);
  t.same((await g.listCalibrations()).map((c) => c.version), [c2.version, c1.version]);
  await t.rejects(async () => g.saveCalibration({ targetFpir: 2, global: 0.5, perAlgorithm: {} }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(async () => g.saveCalibration({ targetFpir: 0.01, global: 0.5, perAlgorithm: { x: 7 } }), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.same(g.algorithmSummary(a.id), { id: a.id, name: 'a', forgeryType: 'unknown', architecture: 'other', enabled: true });
  t.equal(g.algorithmSummary('alg_nope'), undefined);
});

t.test('open refuses bad options', async (t) => {
  const dir = tempDir();
  await t.rejects(openGallery({ dir, modelId: '../escape', dim: DIM }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(openGallery({ dir, modelId: MODEL, dim: 0 }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(openGallery({ dir, modelId: MODEL, dim: DIM, compactRatio: 0 }), { code: 'DFG_ERR_REQUEST_INVALID' });
});

// ---- several processes on one gallery -------------------------------------------------------

const GALLERY_MODULE = new URL('../src/gallery/gallery.js', import.meta.url).href;

/** The child: runs `ops` from a JSON job file, prints ACK with the results, then either closes or keeps writing until killed. */
const CHILD = `
const fs = await import('node:fs');
const { openGallery } = await import(process.env.GALLERY_MODULE);
const job = JSON.parse(fs.readFileSync(process.env.JOB, 'utf8'));
const g = await openGallery({ dir: job.dir, modelId: job.modelId, dim: job.dim, snapshotEvery: 1000000 });
const toItems = (list) => list.map((x) => ({ sha256: x.sha256, vector: new Float32Array(x.vector), width: 8, height: 8 }));
const out = [];
for (const op of job.ops) {
  if (op.add) out.push((await g.addSamples(op.add.algorithmId, toItems(op.add.items))).map((r) => r.sample.id));
  if (op.deleteSample) await g.deleteSample(op.deleteSample.algorithmId, op.deleteSample.sampleId);
  if (op.disable) await g.updateAlgorithm(op.disable, { enabled: false });
}
process.stdout.write('ACK ' + JSON.stringify(out) + '\\n');
if (job.keepWriting) {
  let i = 0;
  const more = async () => {
    const v = new Float32Array(job.dim).fill(1); v[i % job.dim] = 2;
    await g.addSamples(job.keepWriting, [{ sha256: (1e9 + i).toString(16).padStart(64, 'f'), vector: v, width: 8, height: 8 }]);
    i++;
    setImmediate(more);
  };
  more();
} else {
  await g.close();
}
`;

interface ChildOp {
  add?: { algorithmId: string; items: Array<{ sha256: string; vector: number[] }> };
  deleteSample?: { algorithmId: string; sampleId: string };
  disable?: string;
}

/** Runs the child; resolves with its ACK payload once it printed it (killing it with SIGKILL at once when `kill`). */
function runChild(dir: string, ops: ChildOp[], opts: { kill?: boolean; keepWriting?: string } = {}): Promise<{ ack: string[][]; signal: NodeJS.Signals | null; code: number | null }> {
  const jobFile = path.join(dir, `job-${process.hrtime.bigint()}.json`);
  fs.writeFileSync(jobFile, JSON.stringify({ dir, modelId: MODEL, dim: DIM, ops, keepWriting: opts.keepWriting }));
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, GALLERY_MODULE, JOB: jobFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let ack: string[][] | undefined;
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ACK (.*)$/m.exec(out);
      if (m && !ack) {
        ack = JSON.parse(m[1]!) as string[][];
        if (opts.kill) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!ack) reject(new Error(`child exited (${code ?? signal}) without ACK: ${err}`));
      else resolve({ ack, signal, code });
    });
  });
}

const asJson = (list: ReturnType<typeof items>) => list.map((x) => ({ sha256: x.sha256, vector: Array.from(x.vector) }));

t.test('kill -9 right after an acknowledged addSamples loses nothing', async (t) => {
  const dir = tempDir();
  let algorithmId: string;
  let other: string;
  {
    const g = await openGallery({ dir, modelId: MODEL, dim: DIM });
    algorithmId = (await g.createAlgorithm({ name: 'victim' })).id;
    other = (await g.createAlgorithm({ name: 'background' })).id;
    await g.close();
  }
  const batch = items(40, 61, 1);
  const { ack, signal } = await runChild(dir, [{ add: { algorithmId, items: asJson(batch) } }], { kill: true, keepWriting: other });
  t.equal(signal, 'SIGKILL', 'killed, not closed');
  t.equal(ack[0]!.length, 40);

  const raw = new Database(path.join(dir, 'gallery.sqlite'), { 'readonly': true });
  t.equal(raw.pragma('integrity_check', { simple: true }), 'ok', 'store intact after kill -9');
  const storeCount = raw.prepare('SELECT count(*) FROM samples').pluck().get() as number;
  raw.close();

  const { g } = await open(t, dir);
  const page = await g.listSamples(algorithmId, { limit: 100 });
  t.equal(page.total, 40, 'every acknowledged sample is there');
  t.same(new Set(page.items.map((s) => s.id)), new Set(ack[0]));
  t.equal(g.info().counts.samples, storeCount, 'index agrees with the store (including writes after the ACK)');
  t.equal(g.search(batch[7]!.vector, 1)[0]!.sampleId, ack[0]![7]);
});

t.test('two processes enrolling at the same time: every commit lands once, in seq order', async (t) => {
  const dir = tempDir();
  let ids: string[];
  {
    const g = await openGallery({ dir, modelId: MODEL, dim: DIM });
    ids = [(await g.createAlgorithm({ name: 'p1' })).id, (await g.createAlgorithm({ name: 'p2' })).id];
    await g.close();
  }
  fs.rmSync(path.join(dir, 'index'), { recursive: true });
  // Both children also rebuild and publish a snapshot at open, at the same time.
  const ops = (i: number): ChildOp[] =>
    Array.from({ length: 20 }, (_, b) => ({ add: { algorithmId: ids[i]!, items: asJson(items(5, 1000 * i + b, 100 * (i + 1) + b)) } }));
  const [r1, r2] = await Promise.all([runChild(dir, ops(0)), runChild(dir, ops(1))]);
  t.equal(r1.code, 0);
  t.equal(r2.code, 0);
  const { g } = await open(t, dir);
  t.equal(g.info().counts.samples, 200);
  const seqs = [];
  for (const id of ids) seqs.push(...(await g.listSamples(id, { limit: 200 })).items.map((s) => s.seq));
  t.equal(new Set(seqs).size, 200, 'unique seqs');
  t.same(new Set((await g.listSamples(ids[0]!, { limit: 200 })).items.map((s) => s.id)), new Set(r1.ack.flat()));
  const probe = items(5, 1000 + 7, 200 + 7)[3]!;
  t.equal(g.search(probe.vector, 1)[0]!.sampleId, (await g.findBySha(probe.sha256))[0]!.id);
});

t.test('refresh() in one process applies adds, deletes and disables made by another', async (t) => {
  const dir = tempDir();
  const { g } = await open(t, dir);
  const a = await g.createAlgorithm({ name: 'a' });
  const b = await g.createAlgorithm({ name: 'b' });
  const mine = await g.addSamples(a.id, items(10, 71, 1));
  await g.addSamples(b.id, items(10, 72, 2));
  t.same(await g.refresh(), { applied: 0, version: g.info().version }, 'nothing new');

  const theirs = items(5, 73, 3);
  const version = g.info().version;
  const { ack } = await runChild(dir, [
    { add: { algorithmId: a.id, items: asJson(theirs) } },
    { deleteSample: { algorithmId: a.id, sampleId: mine[0]!.sample.id } },
    { disable: b.id },
  ]);
  t.notOk(g.search(theirs[0]!.vector, 1).some((h) => ack[0]!.includes(h.sampleId)), 'not visible before refresh');
  const r = await g.refresh();
  t.equal(r.applied, 6, '5 adds and 1 delete');
  t.ok(r.version > version);
  t.equal(g.info().version, r.version);
  t.equal(g.search(theirs[2]!.vector, 1)[0]!.sampleId, ack[0]![2], 'their samples are found');
  t.notOk(g.search(items(10, 71, 1)[0]!.vector, 30).some((h) => h.sampleId === mine[0]!.sample.id), 'their delete applied');
  t.ok(g.search(items(10, 72, 2)[0]!.vector, 30).every((h) => h.algorithmId === a.id), 'their disable applied');
  t.match(g.info().counts, { algorithms: 2, enabledAlgorithms: 1, samples: 24 });
  t.equal((await g.refresh()).applied, 0);
});

t.test('enrolments fenced to a model switch record commit only while it is the store\'s last', async (t) => {
  const dir = tempDir();
  const { g } = await open(t, dir);
  const a = await g.createAlgorithm({ name: 'A', forgeryType: 'EFS', architecture: 'GAN' });
  t.equal(await g.lastSwitch(), null);
  g.expectSwitch(null);
  t.equal((await g.addSamples(a.id, items(1, 1, 1))).length, 1, 'no record, as expected');

  // Another process records a switch: nothing more commits under the old fence.
  const first = await writeSwitchRecord(dir, 'other-model', false);
  t.same(await g.lastSwitch(), first);
  const before = g.info().version;
  await t.rejects(async () => g.addSamples(a.id, items(2, 2, 2)), { code: 'DFG_ERR_MODEL_SWITCHED', statusCode: 503, message: /other-model/ });
  t.equal(g.info().version, before, 'nothing written');
  t.equal((await g.getAlgorithm(a.id)).sampleCount, 1);

  g.expectSwitch(first);
  t.equal((await g.addSamples(a.id, items(2, 2, 2))).length, 2, 'fenced to the new record');
  // Same list again, forced this time: another record.
  await writeSwitchRecord(dir, 'other-model', true);
  await t.rejects(async () => g.addSamples(a.id, items(1, 3, 3)), { code: 'DFG_ERR_MODEL_SWITCHED' });
  // No fence (a process pinned by DFG_MODEL): every record is ignored.
  g.expectSwitch(undefined);
  t.equal((await g.addSamples(a.id, items(1, 3, 3))).length, 1);
  t.equal((await g.getAlgorithm(a.id)).sampleCount, 4);
});
