import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseScoreNorm } from '../src/config/score-norm-setting.js';
import {
  algorithmStats,
  normaliseScore,
  prepareNorm,
  probeStats,
  queryNormaliser,
  readScoreNormFit,
  scoreNormaliser,
  topKStats,
  Z_SCALE,
  type ScoreNormFit,
} from '../src/attribution/score-norm.js';
import { decide } from '../src/attribution/decide.js';
import { calibrateThresholds } from '../src/attribution/calibrate.js';
import { unitVector } from '../src/math/vector.js';
import { computeCalibration } from '../src/calibration/compute.js';
import { evaluateSplit } from '../src/evaluation/evaluate-split.js';
import { loadModelCohort, loadServedCohort } from '../src/embedding/cohort.js';
import { createRng } from '../src/math/random.js';
import type { Manifest } from '../src/embedding/manifest-schema.js';

const u = (...x: number[]) => unitVector(new Float32Array(x));

t.test('parseScoreNorm', async (t) => {
  t.same(parseScoreNorm('none'), { kind: 'none' });
  t.same(parseScoreNorm('asnorm'), { kind: 'asnorm', topK: 100 });
  t.same(parseScoreNorm('asnorm:20'), { kind: 'asnorm', topK: 20 });
  for (const bad of ['asnorm:0', 'asnorm:x', 'none:3', 'znorm', '', 'asnorm:100000']) t.equal(parseScoreNorm(bad), null, bad);
});

t.test('topKStats: mean and sd of the k largest (golden numbers)', async (t) => {
  t.same(topKStats([1, 5, 3, 4, 2], 3), { mean: 4, sd: Math.sqrt(2 / 3) });
  t.same(topKStats([2, 1], 5), { mean: 1.5, sd: 0.5 }, 'all of them when fewer');
  t.same(topKStats([], 5), { mean: 0, sd: 1 }, 'none: the identity');
});

t.test('probeStats and algorithmStats against a cohort', async (t) => {
  const cohort = [u(1, 0), u(0, 1), u(-1, 0)];
  const p = probeStats(u(1, 0), cohort, 2);
  t.equal(p.mean, 0.5, 'best two similarities 1 and 0');
  t.equal(p.sd, 0.5);
  const skip = probeStats(u(1, 0), cohort, 2, 0);
  t.equal(skip.mean, -0.5, 'a cohort vector left out of its own statistics: 0 and -1');
  // Algorithm with two samples, top-m 1: cohort scores are each cohort vector's best similarity.
  const a = algorithmStats([u(1, 0), u(0, 1)], cohort, 1, 3);
  t.equal(a.mean, (1 + 1 + 0) / 3);
});

t.test('normaliseScore: tanh of the symmetric z, monotone and bounded', async (t) => {
  const p = { mean: 0.5, sd: 0.1 };
  const a = { mean: 0.6, sd: 0.2 };
  const z = 0.5 * ((0.9 - 0.5) / 0.1 + (0.9 - 0.6) / 0.2);
  t.equal(normaliseScore(0.9, p, a), Math.tanh(z / Z_SCALE));
  t.ok(normaliseScore(0.95, p, a) > normaliseScore(0.9, p, a), 'monotone');
  t.ok(Math.abs(normaliseScore(1, { mean: 0, sd: 0 }, { mean: 0, sd: 0 })) <= 1, 'a degenerate cohort stays in range');
  const fit: ScoreNormFit = { kind: 'asnorm', topK: 2, cohort: { count: 3, model: 'm', version: 'v' }, perAlgorithm: { A: a } };
  const f = scoreNormaliser(fit, p);
  t.equal(f('A', 0.9), normaliseScore(0.9, p, a));
  t.equal(f('new', 0.9), normaliseScore(0.9, p, p), 'an algorithm registered after the calibration: probe side alone');
});

t.test('readScoreNormFit refuses malformed records', async (t) => {
  const good = { kind: 'asnorm', topK: 5, cohort: { count: 2, model: 'm', version: 'v' }, perAlgorithm: { a: { mean: 0.1, sd: 0.2 } } };
  t.same(readScoreNormFit(JSON.parse(JSON.stringify(good))), good);
  t.equal(readScoreNormFit(undefined), null);
  t.equal(readScoreNormFit({ ...good, kind: 'znorm' }), null);
  t.equal(readScoreNormFit({ ...good, perAlgorithm: { a: { mean: null, sd: 1 } } }), null);
  t.equal(readScoreNormFit({ ...good, cohort: { count: 2 } }), null);
});

t.test('prepareNorm applies only to the cohort it was fitted with', async (t) => {
  const fit: ScoreNormFit = { kind: 'asnorm', topK: 2, cohort: { count: 2, model: 'm', version: 'v' }, perAlgorithm: {} };
  const cohort = { vectors: [u(1, 0), u(0, 1)], model: 'm', version: 'v' };
  t.ok(prepareNorm(fit, cohort));
  t.equal(prepareNorm(fit, { ...cohort, version: 'w' }), null, 'another model version');
  t.equal(prepareNorm(fit, { ...cohort, vectors: [u(1, 0)] }), null, 'another cohort size');
  const ctx = prepareNorm(fit, cohort)!;
  const n = queryNormaliser(ctx, u(1, 0));
  t.equal(n('x', 0.5), normaliseScore(0.5, probeStats(u(1, 0), cohort.vectors, 2), probeStats(u(1, 0), cohort.vectors, 2)));
});

t.test('decide ranks, thresholds and margins the normalised scores', async (t) => {
  const neighbours = [
    { sampleId: 'a1', algorithmId: 'A', similarity: 0.9 },
    { sampleId: 'b1', algorithmId: 'B', similarity: 0.8 },
  ];
  const algorithms = new Map([['A', { id: 'A', forgeryType: 'EFS' }], ['B', { id: 'B', forgeryType: 'EFS' }]]);
  const raw = decide(neighbours, algorithms, { threshold: 0.5, margin: 0, topM: 1 });
  t.equal(raw.algorithm!.id, 'A');
  // B's cohort statistics say 0.8 is exceptional for it, A's that 0.9 is ordinary.
  const normalise = (id: string, s: number) => (id === 'A' ? s - 0.85 : s - 0.5);
  const d = decide(neighbours, algorithms, { threshold: 0.2, margin: 0, topM: 1, normalise });
  t.equal(d.algorithm!.id, 'B', 'the normalised ranking wins');
  t.equal(d.score, 0.8 - 0.5);
  t.ok(Math.abs(d.margin - (0.3 - 0.05)) < 1e-12);
  t.same(d.candidates.map((c) => c.algorithm.id), ['B', 'A']);
  const refused = decide(neighbours, algorithms, { threshold: 0.4, margin: 0, topM: 1, normalise });
  t.equal(refused.decision, 'unknown', 'the threshold applies to the normalised score');
});

/** Two well separated algorithms and a cohort of unrelated directions, in 8 dimensions. */
function world(seed: string) {
  const rng = createRng(seed);
  const noisy = (base: number[], s: number) => unitVector(Float32Array.from(base, (x) => x + s * (rng.next() - 0.5)));
  const A = Array.from({ length: 6 }, () => noisy([1, 0.2, 0, 0, 0, 0, 0, 0], 0.3));
  const B = Array.from({ length: 6 }, () => noisy([0, 0.2, 1, 0, 0, 0, 0, 0], 0.3));
  const cohort = Array.from({ length: 40 }, () => noisy([0, 0.2, 0, 0, 1, 0.5, 0.5, 0], 1.5));
  return { A, B, cohort, noisy };
}

t.test('calibration with a cohort: normalised thresholds, cohort images as impostors', async (t) => {
  const { A, B, cohort } = world('cal');
  const plain = computeCalibration({ byAlgorithm: new Map([['A', A], ['B', B]]), negatives: [] }, { topM: 2, targetFpir: 0.05 });
  t.notOk(plain.scoreNorm, 'no cohort, no normalisation');
  const normed = computeCalibration({ byAlgorithm: new Map([['A', A], ['B', B]]), negatives: [], cohort }, { topM: 2, targetFpir: 0.05, scoreNorm: { topK: 10, model: 'm', version: 'v' } });
  t.ok(normed.scoreNorm);
  t.same(Object.keys(normed.scoreNorm!.perAlgorithm).sort(), ['A', 'B']);
  t.same(normed.scoreNorm!.cohort, { count: 40, model: 'm', version: 'v' });
  t.equal(normed.calibration.stats.perAlgorithm.A!.impostors, 6 + 40, "B's samples and the cohort are A's impostors");
  t.ok(normed.calibration.perAlgorithm.A! > -1 && normed.calibration.perAlgorithm.A! < 1, 'thresholds stay in (-1, 1)');
  t.equal(normed.calibration.perAlgorithm.A, normed.calibration.global, 'normalised scores share the global threshold');
  // The stored statistics reproduce the calibration's own scoring of a new query.
  const stats = normed.scoreNorm!.perAlgorithm.A!;
  t.same(stats, algorithmStats(A, cohort.map(unitVector), 2, 10));
  // Same thresholds through the pure calibrateThresholds with the same map.
  const direct = calibrateThresholds({
    vectorsByAlgorithm: new Map([['A', A], ['B', B]]), topM: 2, targetFpir: 0.05, negatives: cohort,
    normalise: (q, neg, id, s) => normaliseScore(s, probeStats(unitVector(q), cohort.map(unitVector), 10, neg), normed.scoreNorm!.perAlgorithm[id]!),
    sharedThreshold: true,
  });
  t.same(direct.perAlgorithm, normed.calibration.perAlgorithm);
});

t.test('evaluateSplit with a cohort: held-out generators like the cohort are rejected at least as well', async (t) => {
  const { A, B, cohort, noisy } = world('split');
  const probes = (base: number[], n: number, s: number, name: string, known: boolean) => Array.from({ length: n }, (_, i) => ({ id: `${name}${i}`, algorithm: name, vector: noisy(base, s) })).map((p) => ({ ...p, known }));
  const known = [...probes([1, 0.2, 0, 0, 0, 0, 0, 0], 8, 0.3, 'A', true), ...probes([0, 0.2, 1, 0, 0, 0, 0, 0], 8, 0.3, 'B', true)];
  const unknown = probes([0, 0.2, 0, 0, 1, 0.5, 0.5, 0], 10, 1.5, 'X', false);
  const input = { gallery: new Map([['A', A], ['B', B]]), knownProbes: known, unknownProbes: unknown, topM: 2, targetFpir: 0.05, margin: 0, maxRank: 5 };
  const raw = evaluateSplit(input);
  const normed = evaluateSplit({ ...input, scoreNorm: { cohort: cohort.map(unitVector), topK: 10 } });
  t.equal(normed.metrics.rank1, 1, 'separable classes stay ranked right');
  t.ok(normed.metrics.auroc >= raw.metrics.auroc - 1e-9, `AUROC ${normed.metrics.auroc} vs ${raw.metrics.auroc}`);
  t.ok(normed.probes.every((p) => p.bestScore > -1 && p.bestScore < 1));
});

t.test('model cohorts: loaded and checked against the manifest', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-cohort-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rows = new Float32Array([3, 4, 0, 0, 1, 0]);
  const bytes = Buffer.from(rows.buffer);
  fs.writeFileSync(path.join(dir, 'cohort.f32'), bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const manifest = {
    id: 'm', version: '1', output: { dim: 2 },
    cohort: { file: 'cohort.f32', count: 3, sha256: sha, itemsSha256: 'a'.repeat(64), source: 'test', version: '1' },
  } as unknown as Manifest;
  const loaded = await loadModelCohort(dir, manifest);
  t.same(loaded!.map((v) => [...v]), [[0.6000000238418579, 0.800000011920929], [0, 0], [1, 0]], 'unit rows (zero stays zero)');
  t.equal(await loadModelCohort(dir, { ...manifest, cohort: undefined } as Manifest), null);
  await t.rejects(loadModelCohort(dir, { ...manifest, version: '2' } as Manifest), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID' }, 'embedded by another version');
  await t.rejects(loadModelCohort(dir, { ...manifest, cohort: { ...manifest.cohort!, count: 4 } } as Manifest), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID' }, 'wrong size');
  await t.rejects(loadModelCohort(dir, { ...manifest, cohort: { ...manifest.cohort!, sha256: 'b'.repeat(64) } } as Manifest), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID' }, 'tampered');
  await t.rejects(loadModelCohort(dir, { ...manifest, cohort: { ...manifest.cohort!, file: 'missing.f32' } } as Manifest), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID' }, 'missing');
  // Fused: only when every member ships a cohort of the same images.
  fs.mkdirSync(path.join(dir, 'm'));
  fs.copyFileSync(path.join(dir, 'cohort.f32'), path.join(dir, 'm', 'cohort.f32'));
  fs.mkdirSync(path.join(dir, 'n'));
  fs.copyFileSync(path.join(dir, 'cohort.f32'), path.join(dir, 'n', 'cohort.f32'));
  const n = { ...manifest, id: 'n' } as Manifest;
  const fused = await loadServedCohort(dir, [{ manifest, weight: 1 }, { manifest: n, weight: 1 }], { id: 'm:1+n:1', version: '1+1' });
  t.equal(fused!.vectors.length, 3);
  t.equal(fused!.vectors[0]!.length, 4, 'concatenated like query vectors');
  const other = { ...n, cohort: { ...n.cohort!, itemsSha256: 'c'.repeat(64) } } as Manifest;
  t.equal(await loadServedCohort(dir, [{ manifest, weight: 1 }, { manifest: other, weight: 1 }], { id: 'x', version: 'y' }), null, 'other images: no cohort');
});
