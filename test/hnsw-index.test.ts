import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHnswIndex, readHnswIndex } from '../src/gallery/index/hnsw.js';
import { checkSnapshot, publishSnapshot, snapshotPaths } from '../src/gallery/index/snapshot.js';
import { tempPath } from '../src/lib/durable-fs.js';
import { cosine, randomUnit, rng, tempDir } from './helpers/gallery.js';

const DIM = 24;

function bruteForce(data: Map<number, Float32Array>, q: Float32Array, k: number): number[] {
  return [...data.entries()]
    .map(([label, v]) => ({ label, s: cosine(q, v) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.label);
}

t.test('grows past its capacity and is exact with ef >= size', async (t) => {
  const rand = rng(7);
  const ix = createHnswIndex(DIM, 10);
  const data = new Map<number, Float32Array>();
  for (let i = 0; i < 600; i++) {
    const v = randomUnit(DIM, rand);
    const label = 1000 + i * 3;
    ix.add(label, v);
    data.set(label, v);
  }
  t.equal(ix.size(), 600);
  t.ok(ix.capacity() >= 600, 'resized');
  for (let q = 0; q < 20; q++) {
    const query = randomUnit(DIM, rand);
    const res = ix.search(query, 10, 600);
    t.same(res.labels, bruteForce(data, query, 10), `query ${q} exact`);
    t.ok(Math.abs(1 - res.distances[0]! - cosine(query, data.get(res.labels[0]!)!)) < 1e-5, 'distance = 1 - cosine');
  }
});

t.test('markDeleted hides labels; filter drops labels before k', async (t) => {
  const rand = rng(8);
  const ix = createHnswIndex(DIM, 64);
  const vs = Array.from({ length: 50 }, () => randomUnit(DIM, rand));
  vs.forEach((v, i) => ix.add(i + 1, v));
  t.equal(ix.markDeleted(1), true);
  t.equal(ix.markDeleted(1), false, 'already deleted');
  t.equal(ix.markDeleted(999), false, 'absent');
  const r = ix.search(vs[0]!, 50, 100);
  t.notOk(r.labels.includes(1));
  t.equal(r.labels.length, 49);
  t.equal(ix.size(), 50, 'deleted elements still occupy the graph');
  t.ok(ix.labels().includes(1), 'labels() lists deleted ones too');
  const even = ix.search(vs[1]!, 5, 100, (l) => l % 2 === 0);
  t.equal(even.labels.length, 5);
  t.ok(even.labels.every((l) => l % 2 === 0));
  const none = ix.search(vs[1]!, 5, 100, () => false);
  t.same(none.labels, []);
  t.same(createHnswIndex(DIM, 4).search(vs[0]!, 3, 10).labels, [], 'empty index');
  t.throws(() => ix.add(2 ** 32, vs[0]!), { code: 'DFG_ERR_INTERNAL' }, 'labels above 32 bits would wrap');
});

t.test('writeSync/readHnswIndex round-trip keeps labels, deletions, answers; reloaded index grows', async (t) => {
  const rand = rng(9);
  const dir = tempDir();
  const ix = createHnswIndex(DIM, 32);
  const vs = Array.from({ length: 40 }, () => randomUnit(DIM, rand));
  vs.forEach((v, i) => ix.add(i + 10, v));
  ix.markDeleted(12);
  const file = path.join(dir, 'x.hnsw');
  ix.writeSync(file);
  const back = await readHnswIndex(file, DIM);
  t.equal(back.size(), 40);
  const q = randomUnit(DIM, rand);
  t.same(back.search(q, 10, 100), ix.search(q, 10, 100));
  t.equal(back.markDeleted(12), false, 'deletion survived');
  back.add(500, vs[0]!);
  t.equal(back.size(), 41, 'can add after load (capacity was exactly the count)');
  const empty = createHnswIndex(DIM, 8);
  empty.writeSync(path.join(dir, 'e.hnsw'));
  const e2 = await readHnswIndex(path.join(dir, 'e.hnsw'), DIM);
  e2.add(1, vs[0]!);
  t.equal(e2.search(vs[0]!, 1, 10).labels[0], 1);
  await t.rejects(readHnswIndex(path.join(dir, 'missing.hnsw'), DIM));
});

t.test('snapshot manifests: published atomically, every mismatch has a reason', async (t) => {
  const rand = rng(10);
  const dir = tempDir();
  const paths = snapshotPaths(dir, 'model-a');
  const ix = createHnswIndex(DIM, 16);
  for (let i = 0; i < 10; i++) ix.add(i + 1, randomUnit(DIM, rand));
  const expect = { modelId: 'model-a', dim: DIM, galleryId: 'g1', maxSeq: 10 };

  t.match(await checkSnapshot(paths, expect), { ok: false, reason: 'no snapshot' });
  const tmp = tempPath(paths.index);
  ix.writeSync(tmp);
  const manifest = await publishSnapshot(paths, tmp, {
    modelId: 'model-a', dim: DIM, hnsw: { m: 16, efConstruction: 200, seed: 100 }, galleryId: 'g1', lastSeq: 10, count: 10, deleted: 0,
  });
  t.same(fs.readdirSync(dir).sort(), ['model-a.hnsw', 'model-a.json'], 'no temporary files left');
  t.equal(manifest.bytes, fs.statSync(paths.index).size);
  t.match(await checkSnapshot(paths, expect), { ok: true, manifest: { lastSeq: 10, count: 10, sha256: manifest.sha256 } });

  t.match(await checkSnapshot(paths, { ...expect, modelId: 'model-b' }), { ok: false, reason: /model model-a, not model-b/ });
  t.match(await checkSnapshot(paths, { ...expect, dim: DIM + 1 }), { ok: false, reason: /dimension/ });
  t.match(await checkSnapshot(paths, { ...expect, galleryId: 'g2' }), { ok: false, reason: /another store/ });
  t.match(await checkSnapshot(paths, { ...expect, maxSeq: 9 }), { ok: false, reason: /ahead of the store/ });

  const bytes = fs.readFileSync(paths.index);
  bytes[bytes.length - 5] ^= 0xff;
  fs.writeFileSync(paths.index, bytes);
  t.match(await checkSnapshot(paths, expect), { ok: false, reason: /checksum/ }, 'one flipped byte is caught');
  fs.writeFileSync(paths.index, 'garbage');
  t.match(await checkSnapshot(paths, expect), { ok: false, reason: /checksum/ });
  fs.writeFileSync(paths.manifest, '{"format":1,');
  t.match(await checkSnapshot(paths, expect), { ok: false, reason: /not valid JSON/ });
  fs.writeFileSync(paths.manifest, JSON.stringify({ ...manifest, lastSeq: -1 }));
  t.match(await checkSnapshot(paths, expect), { ok: false, reason: /malformed/ });
});
