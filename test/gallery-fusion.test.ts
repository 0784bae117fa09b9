/**
 * A gallery over several models: one index over the fused vector, whose similarity is the
 * weighted mean of the per-model cosines; samples lacking a model's vector stay out until a
 * re-embedding adds it; the index id names models and weights, so a change of either rebuilds.
 */
import t from 'tap';
import { openGallery, fuseVectors } from '../src/gallery/gallery.js';
import { cosine, randomUnit, recordingLog, rng, sha, tempDir } from './helpers/gallery.js';

const A = { id: 'model-a', dim: 12 };
const B = { id: 'model-b', dim: 6 };

function sample(i: number, rand: () => number, models = [A, B]) {
  return {
    sha256: sha(i, 7),
    vectors: Object.fromEntries(models.map((m) => [m.id, randomUnit(m.dim, rand)])),
    width: 32,
    height: 32,
  };
}

t.test('fused search scores are the weighted mean of per-model cosines', async (t) => {
  const dir = tempDir();
  const g = await openGallery({ dir, models: [{ ...A, weight: 1 }, { ...B, weight: 0.5 }] });
  t.teardown(() => g.close());
  t.equal(g.modelId, 'model-a:1+model-b:0.5');
  t.equal(g.dim, 18);
  const alg = await g.createAlgorithm({ name: 'X' });
  const rand = rng(3);
  const items = Array.from({ length: 8 }, (_, i) => sample(i, rand));
  const added = await g.addSamples(alg.id, items);
  t.same(added[0]!.sample.models, ['model-a', 'model-b']);
  const probe = { 'model-a': randomUnit(A.dim, rand), 'model-b': randomUnit(B.dim, rand) };
  const q = g.fuse(probe);
  t.same(Array.from(q), Array.from(fuseVectors([probe['model-a'], probe['model-b']], [1, 0.5])), 'fuse is math/fusion.ts');
  const hits = g.search(q, 8);
  t.equal(hits.length, 8);
  for (const h of hits) {
    const it = items[added.findIndex((r) => r.sample.id === h.sampleId)]!;
    const expected = (1 * cosine(probe['model-a'], it.vectors['model-a']!) + 0.5 * cosine(probe['model-b'], it.vectors['model-b']!)) / 1.5;
    t.ok(Math.abs(h.similarity - expected) < 1e-5, `similarity ${h.similarity} = weighted mean ${expected}`);
  }

  // Hostile input: a missing model, an unknown model, a wrong dimension; nothing written.
  const before = g.info().version;
  await t.rejects(async () => g.addSamples(alg.id, [{ ...sample(20, rand), vectors: { 'model-a': randomUnit(A.dim, rand) } }]), { code: 'DFG_ERR_REQUEST_INVALID', message: /model-b/ });
  await t.rejects(async () => g.addSamples(alg.id, [{ ...sample(21, rand), vectors: { ...sample(21, rand).vectors, other: randomUnit(3, rand) } }]), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(async () => g.addSamples(alg.id, [{ ...sample(22, rand), vectors: { 'model-a': randomUnit(A.dim, rand), 'model-b': randomUnit(4, rand) } }]), { code: 'DFG_ERR_GALLERY_DIMENSION_MISMATCH' });
  await t.rejects(async () => g.addSamples(alg.id, [{ sha256: sha(23, 7), vector: randomUnit(A.dim, rand), width: 3, height: 3 }]), { code: 'DFG_ERR_REQUEST_INVALID' }, 'a single vector is not enough for two models');
  t.throws(() => g.fuse({ 'model-a': randomUnit(A.dim, rand) }), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.equal(g.info().version, before);
  await t.rejects(openGallery({ dir: tempDir(), models: [A, A] }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(openGallery({ dir: tempDir(), models: [{ ...A, weight: 0 }] }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(openGallery({ dir: tempDir(), models: [{ ...A, weight: Number.NaN }] }), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(openGallery({ dir: tempDir(), models: [] }), { code: 'DFG_ERR_REQUEST_INVALID' });
});

t.test('samples lacking a model vector wait outside the fused index until re-embedded', async (t) => {
  const dir = tempDir();
  const rand = rng(5);
  // Enrolled with model A only (the service used to run A alone).
  const single = await openGallery({ dir, modelId: A.id, dim: A.dim });
  const alg = await single.createAlgorithm({ name: 'Y' });
  const items = Array.from({ length: 5 }, (_, i) => sample(i, rand));
  const old = await single.addSamples(alg.id, items.map((it) => ({ ...it, vectors: undefined, vector: it.vectors['model-a'] })));
  await single.close();

  const { log, records: fusedRecords } = recordingLog();
  const fused = await openGallery({ dir, models: [A, B], log });
  t.teardown(() => fused.close());
  t.equal(fused.info().counts.samples, 0, 'nothing complete yet');
  t.same(fusedRecords.filter((r) => r.level === 'warn').map((r) => r.msg), [], 'no snapshot and nothing to index: no warning');
  t.ok(fusedRecords.some((r) => r.level === 'info' && r.msg === 'new index: no snapshot, and no sample to index yet'));
  t.same(await fused.coverage(), { stored: 5, incomplete: 5, missing: { 'model-a': 0, 'model-b': 5 } });
  t.same((await fused.samplesMissing(B.id, 0, 2)).map((s) => s.id), old.slice(0, 2).map((r) => r.sample.id));

  // A second process (a re-embedding job) adds B vectors; the serving gallery picks them up on refresh.
  const worker = await openGallery({ dir, modelId: A.id, dim: A.dim });
  t.equal(await worker.addVectors(B.id, B.dim, old.slice(0, 3).map((r, i) => ({ sampleId: r.sample.id, vector: items[i]!.vectors['model-b']! }))), 3);
  t.equal(await worker.addVectors(B.id, B.dim, [{ sampleId: old[0]!.sample.id, vector: items[0]!.vectors['model-b']! }]), 0, 'a vector is stored once');
  await t.rejects(async () => worker.addVectors(B.id, B.dim + 1, [{ sampleId: old[0]!.sample.id, vector: items[0]!.vectors['model-b']! }]), { code: 'DFG_ERR_GALLERY_DIMENSION_MISMATCH' });
  await worker.close();
  t.equal((await fused.refresh()).applied, 3);
  t.equal(fused.info().counts.samples, 3);
  const hit = fused.search(fused.fuse(items[1]!.vectors), 1)[0]!;
  t.equal(hit.sampleId, old[1]!.sample.id, 'the stable sample id is the evidence');
  t.ok(hit.similarity > 0.9999);

  // Re-enrolling the bytes with both vectors completes a sample too (a duplicate that gains B).
  const again = await fused.addSamples(alg.id, [items[3]!]);
  t.same(again.map((r) => [r.duplicate, r.sample.id]), [[true, old[3]!.sample.id]]);
  t.equal(fused.info().counts.samples, 4);
  await fused.snapshot();
  await fused.close();

  // The snapshot is reloaded for the same models and weights, and never for other weights.
  const { log: log2, records } = recordingLog();
  const reopened = await openGallery({ dir, models: [A, B], log: log2 });
  t.equal(reopened.info().index.builtFrom, 'snapshot');
  t.equal(reopened.info().counts.samples, 4);
  await reopened.close();
  const reweighted = await openGallery({ dir, models: [A, { ...B, weight: 2 }], log: log2 });
  t.equal(reweighted.modelId, 'model-a:1+model-b:2');
  t.equal(reweighted.info().index.builtFrom, 'rebuild');
  t.equal(reweighted.info().counts.samples, 4);
  t.ok(records.some((r) => r.msg === 'index snapshot not used; rebuilding from the store'));
  await reweighted.close();
  const alone = await openGallery({ dir, modelId: A.id, dim: A.dim });
  t.equal(alone.info().counts.samples, 5, 'model A alone still serves every sample');
  await alone.close();
});
