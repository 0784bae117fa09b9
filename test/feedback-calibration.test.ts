/**
 * Feedback in calibration: a rejected answer is an impostor score of the attributed algorithm (and
 * an identification impostor), a confirmed one a genuine score, beside the leave-one-out scores;
 * the worker thread computes the same as the caller's thread.
 */
import t from 'tap';
import { calibrateThresholds, DECISION_EPSILON } from '../src/attribution/calibrate.js';
import { nextUp } from '../src/math/threshold.js';
import { computeCalibration, computeInWorker } from '../src/calibration/index.js';
import { randomUnit, rng } from './helpers/gallery.js';

const v = (x: number) => new Float32Array([x]);
// Scalar embeddings with similarity -|a - b| / 16: every score is exact; comments give them times 16.
const negDistance = (a: Float32Array, b: Float32Array) => -Math.abs(a[0]! - b[0]!) / 16;
const above = (u: number) => nextUp(u) + 2 * DECISION_EPSILON;

t.test('a rejected answer raises the threshold, a confirmed one adds a genuine score', async (t) => {
  const base = {
    vectorsByAlgorithm: { A: [v(0), v(1), v(2)], B: [v(10), v(11), v(12)] }, similarity: negDistance, topM: 1, targetFpir: 0, minImpostors: 1,
  };
  const before = calibrateThresholds(base);
  // A's impostors: B's samples against A's nearest (2): -8, -9, -10.
  t.equal(before.perAlgorithm.A, above(-8 / 16));
  t.same(before.stats.perAlgorithm.A!.feedback, { genuine: 0, impostors: 0 });

  // An upload at 3 was attributed to A (score -1) and an analyst rejected it.
  const rejected = calibrateThresholds({ ...base, feedback: [{ algorithmId: 'A', vector: v(3), genuine: false }] });
  t.equal(rejected.perAlgorithm.A, above(-1 / 16), 'A now refuses what was wrongly attributed to it');
  t.equal(rejected.global, above(-1 / 16), 'and so does the global threshold');
  t.equal(rejected.perAlgorithm.B, before.perAlgorithm.B, 'B is not concerned');
  t.same(rejected.stats.perAlgorithm.A!.feedback, { genuine: 0, impostors: 1 });
  t.equal(rejected.stats.perAlgorithm.A!.impostors, before.stats.perAlgorithm.A!.impostors + 1);
  t.same(rejected.stats.global.feedback, { genuine: 0, impostors: 1 });

  const confirmed = calibrateThresholds({ ...base, feedback: [{ algorithmId: 'A', vector: v(3), genuine: true }, { algorithmId: 'gone', vector: v(5), genuine: false }] });
  t.equal(confirmed.perAlgorithm.A, before.perAlgorithm.A, 'a genuine score moves no impostor threshold');
  t.same(confirmed.stats.perAlgorithm.A!.feedback, { genuine: 1, impostors: 0 });
  t.equal(confirmed.stats.perAlgorithm.A!.genuine, before.stats.perAlgorithm.A!.genuine + 1);
  t.equal(confirmed.stats.perAlgorithm.A!.looRank1, before.stats.perAlgorithm.A!.looRank1, 'leave-one-out statistics count samples only');
  t.same(confirmed.stats.global.feedback, { genuine: 1, impostors: 0 }, 'an algorithm not calibrated is ignored');
});

t.test('the worker thread calibrates with the same feedback', async (t) => {
  const rand = rng(3);
  const byAlgorithm = new Map(['a', 'b', 'c'].map((id) => [id, Array.from({ length: 6 }, () => randomUnit(16, rand))]));
  const feedback = Array.from({ length: 5 }, (_, i) => ({ algorithmId: ['a', 'b', 'c'][i % 3]!, vector: randomUnit(16, rand), genuine: i % 2 === 0 }));
  const opts = { topM: 2, targetFpir: 0.05 };
  const here = computeCalibration({ byAlgorithm, negatives: [], feedback }, opts);
  const there = await computeInWorker({ byAlgorithm, negatives: [], feedback }, opts);
  t.same(there.calibration.perAlgorithm, here.calibration.perAlgorithm);
  t.same(there.calibration.stats.global.feedback, { genuine: 3, impostors: 2 });
  const without = computeCalibration({ byAlgorithm, negatives: [] }, opts);
  t.not(JSON.stringify(without.calibration.stats), JSON.stringify(here.calibration.stats), 'feedback made a difference');
  const wccn = computeCalibration({ byAlgorithm, negatives: [], feedback }, { ...opts, metric: { kind: 'wccn', shrinkage: 0.5 } });
  t.same(wccn.calibration.stats.global.feedback, { genuine: 3, impostors: 2 }, 'under a fitted metric too');
});
