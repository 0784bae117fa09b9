import t from 'tap';
import { collect } from './helpers/gallery.js';
import { calibrateThresholds, DECISION_EPSILON, thresholdForDecision, topMeanScore } from '../src/attribution/calibrate.js';
import { cosineSimilarity, unitVector } from '../src/math/vector.js';
import { decide, scoreAlgorithms } from '../src/attribution/decide.js';
import { nextUp } from '../src/math/threshold.js';
import { isDfgError } from '../src/errors.js';
import { createRng } from '../src/math/random.js';

const v = (...xs: number[]) => new Float32Array(xs);
// Scalar "embeddings" with similarity -|a - b| / 16 (inside the cosine range, exact in binary):
// every score below is computable by hand; the comments give them times 16.
const negDistance = (a: Float32Array, b: Float32Array) => -Math.abs(a[0] - b[0]) / 16;
// A threshold just above impostor score u, with room for decide.ts's tolerance.
const above = (u: number) => nextUp(u) + 2 * DECISION_EPSILON;

t.test('topMeanScore is the mean of the best topM', async (t) => {
  t.equal(topMeanScore([0.1, 0.9, 0.5, 0.7], 2), 0.8);
  t.equal(topMeanScore([0.1, 0.9, 0.5, 0.7], 1), 0.9);
  t.equal(topMeanScore([0.1, 0.9, 0.5, 0.7], 10), 0.55, 'fewer than topM: mean of all');
  t.equal(topMeanScore([-3, -1, -2], 2), -1.5, 'negative similarities');
  t.ok(Number.isNaN(topMeanScore([], 3)), 'no samples: undefined');
});

t.test('topMeanScore matches the service scoring (scoreAlgorithms) exactly', async (t) => {
  const rng = createRng('score-match');
  for (let trial = 0; trial < 50; trial += 1) {
    const neighbours = Array.from({ length: 1 + rng.int(30) }, (_, i) => ({ sampleId: `s${i}`, algorithmId: `a${rng.int(4)}`, similarity: rng.next() * 2 - 1 }));
    const topM = 1 + rng.int(5);
    for (const s of scoreAlgorithms(neighbours, topM)) {
      const mine = topMeanScore(neighbours.filter((n) => n.algorithmId === s.algorithmId).map((n) => n.similarity), topM);
      if (Math.abs(mine - s.score) > 1e-12) t.fail(`trial ${trial} ${s.algorithmId}: ${mine} vs ${s.score}`);
    }
  }
  t.pass('50 random neighbour sets agree');
});

t.test('thresholds fit decide.ts: the tolerated impostor passes, the next one does not', async (t) => {
  const impostors = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
  const thr = thresholdForDecision(impostors, 0.1);
  const algorithms = { A: { id: 'A', forgeryType: 'EFS' } };
  const at = (similarity: number) => decide([{ sampleId: 's', algorithmId: 'A', similarity }], algorithms, { threshold: thr, margin: 0, topM: 1 }).decision;
  t.equal(at(0.9), 'attributed', '10% of 10 impostors: the top one is accepted');
  t.equal(at(0.8), 'unknown', 'the second is rejected despite decide.ts tolerance');
  t.equal(thresholdForDecision([1, 1], 0), 1, 'clamped to the cosine range when an impostor scores 1');
  t.equal(thresholdForDecision([0.3], 1 - 1e-12), -1, 'accepting everything is -1, not -Infinity');
});

t.test('cosine helpers', async (t) => {
  t.equal(cosineSimilarity(v(1, 0), v(0, 2)), 0);
  t.ok(Math.abs(cosineSimilarity(v(1, 1), v(2, 2)) - 1) < 1e-7);
  t.equal(cosineSimilarity(v(0, 0), v(1, 0)), 0, 'zero vector: 0, not NaN');
  const u = unitVector(v(3, 4));
  t.ok(Math.abs(u[0] - 0.6) < 1e-7 && Math.abs(u[1] - 0.8) < 1e-7);
  t.same([...unitVector(v(0, 0))], [0, 0]);
});

// A = {0, 1, 2}, B = {10, 11}, negative {5}, topM 2:
// genuine A (leave-one-out) = [-1.5, -1, -1.5]; genuine B = [-1, -1]
// impostors A = B samples [-8.5, -9.5] + negative [-3.5]
// impostors B = A samples [-10.5, -9.5, -8.5] + negative [-5.5]
// identification impostors = [-10.5, -9.5, -8.5] (A vs B), [-8.5, -9.5] (B vs A), [-3.5] (negative)
const gallery = { A: [v(0), v(1), v(2)], B: [v(10), v(11)] };
const base = { vectorsByAlgorithm: gallery, similarity: negDistance, topM: 2, negatives: [v(5)], minImpostors: 3 };

t.test('hand-computed thresholds', async (t) => {
  const c = calibrateThresholds({ ...base, targetFpir: 0.2 });
  t.equal(c.global, above(-8.5 / 16), 'global: k = floor(0.2 × 6) = 1, just above the second-highest impostor');
  t.equal(c.perAlgorithm.A, above(-3.5 / 16), 'A: k = 0 of 3, above the highest impostor');
  t.equal(c.perAlgorithm.B, above(-5.5 / 16), 'B: k = 0 of 4');
  t.same(c.stats.perAlgorithm.A, { samples: 3, genuine: 3, impostors: 3, threshold: above(-3.5 / 16), source: 'algorithm', genuineAcceptance: 1, impostorAcceptance: 0, looRank1: 1, confusedWith: null, feedback: { genuine: 0, impostors: 0 } });
  t.equal(c.stats.perAlgorithm.B.genuine, 2);
  t.equal(c.stats.perAlgorithm.B.impostors, 4);
  t.same(c.stats.global, { impostors: 6, genuine: 5, impostorAcceptance: 1 / 6, genuineAcceptance: 1, feedback: { genuine: 0, impostors: 0 } });

  const loose = calibrateThresholds({ ...base, targetFpir: 0.5 });
  t.equal(loose.perAlgorithm.B, above(-9.5 / 16), 'B at 50%: k = 2 of 4 -> above -9.5, accepting -5.5 and -8.5');
  t.equal(loose.stats.perAlgorithm.B.impostorAcceptance, 0.5);
});

t.test('leave-one-out identification: which algorithm takes whose samples', async (t) => {
  // topM 1. A10 is nearer B11 (1) than A's own 0 and 20 (10); A20 is nearer C21 (1) than A10 (10).
  const c = calibrateThresholds({ vectorsByAlgorithm: { A: [v(0), v(10), v(20)], B: [v(11), v(11.5)], C: [v(21)] }, similarity: negDistance, topM: 1, targetFpir: 0.2, minImpostors: 1 });
  t.equal(c.stats.perAlgorithm.A.looRank1, 1 / 3, 'only A0 scores A highest');
  t.same(c.stats.perAlgorithm.A.confusedWith, { algorithm: 'B', share: 1 / 3 }, 'B and C take one each: the first registered is named');
  t.equal(c.stats.perAlgorithm.B.looRank1, 1);
  t.equal(c.stats.perAlgorithm.B.confusedWith, null);
  t.ok(Number.isNaN(c.stats.perAlgorithm.C.looRank1), 'one sample: nothing to leave out');
  t.equal(c.stats.perAlgorithm.C.confusedWith, null);

  const tie = calibrateThresholds({ vectorsByAlgorithm: { A: [v(0), v(2)], B: [v(4), v(8)] }, similarity: negDistance, topM: 1, targetFpir: 0.2, minImpostors: 1 });
  t.equal(tie.stats.perAlgorithm.A.looRank1, 0.5, 'A2 ties A0 and B4: a tie is not ranked first');
  t.same(tie.stats.perAlgorithm.A.confusedWith, { algorithm: 'B', share: 0.5 });
});

t.test('fallbacks to the global threshold', async (t) => {
  const few = calibrateThresholds({ ...base, targetFpir: 0.2, minImpostors: 4 });
  t.equal(few.perAlgorithm.A, few.global, 'A has 3 impostor scores < 4');
  t.equal(few.stats.perAlgorithm.A.source, 'global');
  t.match(few.stats.perAlgorithm.A.reason, /3 impostor/);
  t.equal(few.stats.perAlgorithm.B.source, 'algorithm');

  const small = calibrateThresholds({ ...base, targetFpir: 0.2, minSamples: 3 });
  t.equal(small.perAlgorithm.B, small.global, 'B has 2 samples < 3');
  t.match(small.stats.perAlgorithm.B.reason, /2 sample/);

  const single = calibrateThresholds({ vectorsByAlgorithm: { ...gallery, C: [v(20)] }, similarity: negDistance, topM: 2, targetFpir: 0.2, minImpostors: 1 });
  t.equal(single.stats.perAlgorithm.C.genuine, 0, 'one sample: no leave-one-out score');
  t.ok(Number.isNaN(single.stats.perAlgorithm.C.genuineAcceptance));
  t.equal(single.perAlgorithm.C, single.global);
});

t.test('refuses what cannot be calibrated', async (t) => {
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return isDfgError(err) ? err.code : String(err);
    }
  };
  t.equal(code(() => calibrateThresholds({ vectorsByAlgorithm: { A: gallery.A }, similarity: negDistance, topM: 2, targetFpir: 0.01 })), 'DFG_ERR_CALIBRATION_INSUFFICIENT', 'one algorithm, no negatives');
  t.equal(code(() => calibrateThresholds({ vectorsByAlgorithm: {}, topM: 2, targetFpir: 0.01 })), 'DFG_ERR_CALIBRATION_INSUFFICIENT', 'nothing at all');
  t.equal(code(() => calibrateThresholds({ ...base, topM: 0, targetFpir: 0.01 })), 'DFG_ERR_CALIBRATION_INSUFFICIENT', 'topM 0');
  t.equal(code(() => calibrateThresholds({ ...base, targetFpir: 1 })), 'DFG_ERR_CALIBRATION_INSUFFICIENT', 'targetFpir 1');
  const withNeg = calibrateThresholds({ vectorsByAlgorithm: new Map([['A', gallery.A]]), similarity: negDistance, topM: 2, targetFpir: 0, negatives: [v(5)], minImpostors: 1 });
  t.equal(withNeg.perAlgorithm.A, above(-3.5 / 16), 'one algorithm plus negatives is enough (Map input)');
});

t.test('default cosine scoring and the achieved FPIR never exceed the target', async (t) => {
  const deg = (d: number) => v(Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180));
  const c = calibrateThresholds({ vectorsByAlgorithm: { A: [deg(0), deg(10), deg(20)], B: [deg(90), deg(100), deg(110)] }, topM: 1, targetFpir: 0, minImpostors: 1 });
  t.ok(Math.abs(c.perAlgorithm.A - Math.cos((70 * Math.PI) / 180)) < 1e-6, `A just above cos 70° (${c.perAlgorithm.A})`);
  t.equal(c.stats.perAlgorithm.A.genuineAcceptance, 1, 'cos 10° genuine scores pass');

  const rng = createRng('calibrate-random');
  const cluster = (cx: number, n: number) => Array.from({ length: n }, () => v(cx + rng.next(), rng.next(), rng.next() - 0.5, rng.next() - 0.5));
  const big = calibrateThresholds({ vectorsByAlgorithm: { A: cluster(1, 12), B: cluster(-1, 12), C: cluster(0, 12) }, topM: 3, targetFpir: 0.05, negatives: cluster(0.5, 10) });
  for (const [id, s] of Object.entries(big.stats.perAlgorithm)) {
    t.equal(s.source, 'algorithm', `${id} calibrated on its own`);
    t.ok(s.impostorAcceptance <= 0.05, `${id}: achieved ${s.impostorAcceptance} <= 0.05`);
  }
  t.ok(big.stats.global.impostorAcceptance <= 0.05);
});

t.test('calibrateGallery: a real gallery, disabled algorithms as impostors, stored as current', async (t) => {
  const { default: fs } = await import('node:fs/promises');
  const { default: os } = await import('node:os');
  const { default: path } = await import('node:path');
  const { createHash } = await import('node:crypto');
  const { openGallery } = await import('../src/gallery/gallery.js');
  const { calibrateGallery, calibrationTable } = await import('../src/cli/actions/calibrate.js');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-calibrate-'));
  const gallery = await openGallery({ dir, modelId: 'cal-test', dim: 4 });
  t.teardown(async () => {
    await gallery.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const rng = createRng('calibrate-gallery');
  let n = 0;
  const enrol = async (name: string, centre: number[], count: number) => {
    const alg = await gallery.createAlgorithm({ name });
    await gallery.addSamples(alg.id, Array.from({ length: count }, () => ({
      sha256: createHash('sha256').update(String(n++)).digest('hex'),
      vector: unitVector(new Float32Array(centre.map((c) => c + (rng.next() - 0.5) * 0.3))),
      width: 8,
      height: 8,
    })));
    return alg;
  };
  const a = await enrol('alpha', [1, 0, 0, 0], 8);
  const b = await enrol('beta', [0, 1, 0, 0], 8);
  const off = await enrol('retired', [0, 0, 1, 0], 5);
  await gallery.updateAlgorithm(off.id, { enabled: false });

  const dry = await calibrateGallery(gallery, { topM: 3, targetFpir: 0.05, save: false });
  t.equal(dry.record, undefined, 'dry run stores nothing');
  t.equal(gallery.currentCalibration(), null);
  t.same(Object.keys(dry.calibration.perAlgorithm).sort(), [a.id, b.id].sort(), 'only enabled algorithms get thresholds');
  t.equal(dry.negatives, 5, 'the disabled algorithm serves as impostors');
  t.equal(dry.calibration.stats.perAlgorithm[a.id].impostors, 8 + 5);

  const saved = await calibrateGallery(gallery, { topM: 3, targetFpir: 0.05 });
  const current = gallery.currentCalibration()!;
  t.equal(current.version, saved.record!.version, 'stored as the current calibration');
  t.equal(current.global, saved.calibration.global);
  t.same(current.perAlgorithm, { ...saved.calibration.perAlgorithm });
  t.equal(current.targetFpir, 0.05);
  t.match(calibrationTable(saved), /alpha\s+8\s+/);
  t.match(calibrationTable(saved), /similarity cosine/, 'no metric asked for');
  t.match(calibrationTable(saved), /LOO rank-1\s+most confused with/);
  t.match(calibrationTable(saved), /alpha\s+8\s+.*100\.0%\s+—/, 'separated clusters: every sample ranks its own algorithm first');
  t.ok(saved.calibration.stats.perAlgorithm[a.id].genuineAcceptance === 1, 'well-separated clusters keep their genuine scores');
});

t.test('calibrateGallery with wccn: the metric is stored with the calibration, survives a reopen and re-scores searches', async (t) => {
  const { default: fs } = await import('node:fs/promises');
  const { default: os } = await import('node:os');
  const { default: path } = await import('node:path');
  const { createHash } = await import('node:crypto');
  const { openGallery } = await import('../src/gallery/gallery.js');
  const { calibrateGallery } = await import('../src/calibration/index.js');
  const { applyMetric } = await import('../src/attribution/gallery-metric.js');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-calibrate-wccn-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  let gallery = await openGallery({ dir, modelId: 'wccn-test', dim: 6 });
  const rng = createRng('calibrate-wccn');
  let n = 0;
  // Each algorithm: a small signature on axes 1-2, a large shared "content" spread along axis 0.
  const sample = (sig: number[]) => unitVector(new Float32Array([(rng.next() - 0.5) * 4, sig[0]!, sig[1]!, 1, (rng.next() - 0.5) * 0.05, (rng.next() - 0.5) * 0.05]));
  const enrol = async (name: string, sig: number[]) => {
    const alg = await gallery.createAlgorithm({ name });
    await gallery.addSamples(alg.id, Array.from({ length: 10 }, () => ({ sha256: createHash('sha256').update(String(n++)).digest('hex'), vector: sample(sig), width: 8, height: 8 })));
    return alg;
  };
  const a = await enrol('alpha', [0.5, 0]);
  const b = await enrol('beta', [-0.5, 0]);
  const query = unitVector(new Float32Array([1.8, 0.5, 0, 1, 0, 0])); // alpha's signature, content far out on axis 0
  const before = gallery.search(query, 20);

  const cosineCal = await calibrateGallery(gallery, { topM: 3, targetFpir: 0.05, metric: { kind: 'cosine' } });
  t.equal(cosineCal.metric, undefined, 'cosine fits nothing');
  t.equal(gallery.currentCalibration()!.metric, undefined);
  t.same(gallery.search(query, 20), before, 'a cosine calibration leaves searches as they were');

  const cal = await calibrateGallery(gallery, { topM: 3, targetFpir: 0.05, metric: { kind: 'wccn', shrinkage: 0.3 } });
  t.ok(cal.metric, 'fitted');
  const { calibrationTable } = await import('../src/cli/actions/calibrate.js');
  t.match(calibrationTable(cal), /similarity wccn:0\.3 \(within-algorithm whitening of 20 samples, \d+ directions damped\)/);
  t.equal(cal.metric!.samples, 20);
  t.same(gallery.currentCalibration()!.params.metric, { kind: 'wccn', shrinkage: 0.3, dim: 6, directions: cal.metric!.coeffs.length, samples: 20, algorithms: 2 });
  const after = gallery.search(query, 20);
  t.equal(after.length, before.length, 'the same neighbours');
  t.same(after.map((x) => x.sampleId).sort(), before.map((x) => x.sampleId).sort());
  const vectors = new Map((await collect(gallery.vectors())).map((s) => [s.sampleId, s.vector]));
  const q = applyMetric(cal.metric!, query);
  for (const nb of after) {
    const x = applyMetric(cal.metric!, unitVector(vectors.get(nb.sampleId)!));
    const want = x.reduce((s, v, j) => s + v * q[j]!, 0);
    t.ok(Math.abs(nb.similarity - want) < 1e-5, 'similarity in the metric');
  }
  for (let i = 1; i < after.length; i += 1) t.ok(after[i - 1]!.similarity >= after[i]!.similarity, 'best first');
  const five = gallery.search(query, 5);
  t.equal(five.length, 5, 'k neighbours, chosen from 2k cosine candidates');
  t.same(five, after.slice(0, 5), 'the best five in the metric');
  const top = (list: typeof after) => list.slice(0, 5).filter((x) => x.algorithmId === a.id).length;
  t.ok(top(after) > top(before), `more of alpha among the best five (${top(before)} → ${top(after)})`);
  t.ok(b.id);

  await gallery.close();
  gallery = await openGallery({ dir, modelId: 'wccn-test', dim: 6 });
  t.teardown(() => gallery.close());
  const reopened = gallery.currentCalibration()!;
  t.same(Array.from(reopened.metric!.basis), Array.from(cal.metric!.basis), 'the metric survives a reopen');
  t.same(gallery.search(query, 20), after, 'and searches the same way');
});

t.test('requestedSettings: what an automatic calibration keeps from the current one', async (t) => {
  const { requestedSettings } = await import('../src/calibration/auto.js');
  const rec = (params: Record<string, unknown>, targetFpir = 0.05, version = 7) => ({ version, modelId: 'm', createdAt: '', targetFpir, global: 0.9, perAlgorithm: {}, params });
  t.equal(requestedSettings(null), undefined, 'no calibration');
  t.same(requestedSettings(rec({ maxSamplesPerAlgorithm: 50 })), { targetFpir: 0.05, maxSamplesPerAlgorithm: 50, version: 7 }, 'a requested one');
  t.equal(requestedSettings(rec({ auto: true })), undefined, 'automatic, nothing requested before');
  t.same(requestedSettings(rec({ auto: true, requested: { targetFpir: 0.02, version: 3 } }, 0.02, 9)), { targetFpir: 0.02, version: 3 }, 'carried');
  t.equal(requestedSettings(rec({ auto: true, requested: { targetFpir: 7, version: 3 } })), undefined, 'a corrupt record is ignored');
  t.same(requestedSettings(rec({ auto: true, requested: { targetFpir: 0.02, maxSamplesPerAlgorithm: -1, version: 3 } })), { targetFpir: 0.02, version: 3 }, 'a bad cap is dropped');
});
