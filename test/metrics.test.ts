import t from 'tap';
import { auroc, averagePrecision, cmc, dirAtFpir, macroF1, meanStd, oscr, oscrCurve, rocCurve } from '../src/evaluation/metrics.js';
import { nextUp, thresholdAtFpir } from '../src/math/threshold.js';
import { createRng } from '../src/math/random.js';

const close = (tt: { ok: (v: boolean, m: string) => unknown }, got: number, want: number, msg: string, eps = 1e-12) =>
  tt.ok(Math.abs(got - want) <= eps, `${msg}: got ${got}, want ${want}`);

t.test('auroc', async (t) => {
  t.equal(auroc([0.9, 0.8], [0.1, 0.2]), 1, 'perfect separation');
  t.equal(auroc([0.1], [0.9]), 0, 'perfectly wrong');
  t.equal(auroc([0.5], [0.5]), 0.5, 'a tie counts one half');
  // pairs: (.8,.6)=1 (.8,.4)=1 (.4,.6)=0 (.4,.4)=1/2
  t.equal(auroc([0.8, 0.4], [0.6, 0.4]), 0.625, 'hand-computed with a tie');
  t.equal(auroc([0.7], [0.2, 0.9, 0.7]), 0.5, 'one-sample positive class');
  t.ok(Number.isNaN(auroc([], [0.1])), 'no positives: undefined');
  t.ok(Number.isNaN(auroc([0.1], [])), 'no negatives (no unknowns): undefined');
  t.equal(auroc([-Infinity, 0.3], [-Infinity]), 0.75, '-Infinity sorts last and ties with itself');
  const rng = createRng('auroc-random');
  const pos = Array.from({ length: 3000 }, () => rng.next());
  const neg = Array.from({ length: 3000 }, () => rng.next());
  t.ok(Math.abs(auroc(pos, neg) - 0.5) < 0.03, `random scores give about 0.5 (${auroc(pos, neg)})`);
});

t.test('rocCurve', async (t) => {
  const c = rocCurve([0.9, 0.5], [0.7, 0.5]);
  t.same(c.map((p) => [p.fpr, p.tpr]), [[0, 0], [0, 0.5], [0.5, 0.5], [1, 1]], 'one point per distinct threshold, tie moves both rates');
  t.same(c.map((p) => p.threshold), [Infinity, 0.9, 0.7, 0.5]);
  let area = 0;
  for (let i = 1; i < c.length; i += 1) area += (c[i].fpr - c[i - 1].fpr) * (c[i].tpr + c[i - 1].tpr) / 2;
  t.equal(area, auroc([0.9, 0.5], [0.7, 0.5]), 'trapezoid area equals the rank statistic');
  t.same(rocCurve([], [0.1]), [], 'empty side: no curve');
});

t.test('averagePrecision', async (t) => {
  close(t, averagePrecision([0.9, 0.8, 0.7, 0.6], [true, false, true, false]), (1 + 2 / 3) / 2, 'P@1 = 1, P@3 = 2/3');
  t.equal(averagePrecision([0.5, 0.5], [true, false]), 0.5, 'a tie group is one step');
  t.equal(averagePrecision([0.5, 0.5], [false, true]), 0.5, 'independent of the order of tied items');
  t.equal(averagePrecision([0.1, 0.2, 0.3], [true, true, true]), 1, 'all relevant');
  t.equal(averagePrecision([0.3, 0.2, 0.1], [false, false, true]), 1 / 3, 'single relevant item ranked last');
  t.ok(Number.isNaN(averagePrecision([0.3], [false])), 'nothing relevant: undefined');
});

t.test('cmc', async (t) => {
  t.same(cmc([1, 2, 2, Infinity], 3), [0.25, 0.75, 0.75], 'cumulative, an unranked class never counts');
  t.same(cmc([1, 1], 2), [1, 1], 'perfect');
  t.ok(cmc([], 2).every(Number.isNaN), 'no probes: undefined');
});

t.test('oscr', async (t) => {
  const known = [{ correct: true, score: 0.9 }, { correct: true, score: 0.4 }];
  t.equal(oscr(known, [0.6, 0.4]), auroc([0.9, 0.4], [0.6, 0.4]), 'every known probe correct: equals AUROC');
  t.equal(oscr([{ correct: true, score: 0.9 }, { correct: false, score: 0.8 }], [0.5]), 0.5, 'a misranked known probe never counts, however high');
  t.equal(oscr([{ correct: true, score: 0.5 }], [0.5]), 0.5, 'tie with an unknown probe counts one half');
  t.equal(oscr([{ correct: true, score: 0.1 }], [0.5]), 0, 'correct but below every unknown: no area');
  const curve = oscrCurve([{ correct: true, score: 0.1 }], [0.5]);
  t.same(curve.at(-1), { threshold: 0.1, fpr: 1, ccr: 1 }, 'the curve still ends at the closed-set rate');
  t.equal(oscr([{ correct: true, score: 0.9 }, { correct: true, score: 0.8 }], [0.1, 0.2]), 1, 'perfect');
  t.ok(Number.isNaN(oscr(known, [])), 'no unknowns: undefined');
  t.ok(Number.isNaN(oscr([], [0.5])), 'all unknowns: undefined');
});

t.test('thresholdAtFpir and nextUp', async (t) => {
  t.equal(nextUp(1), 1 + 2 ** -52);
  t.equal(nextUp(-1), -1 + 2 ** -53);
  t.equal(nextUp(0), Number.MIN_VALUE);
  t.equal(nextUp(-Infinity), -Number.MAX_VALUE);
  const u = Array.from({ length: 100 }, (_, i) => i / 100);
  t.equal(thresholdAtFpir(u, 0.01), nextUp(0.98), 'accepts exactly the top 1 of 100');
  t.equal(u.filter((s) => s >= thresholdAtFpir(u, 0.29)).length, 29, '0.29 × 100 lands on 29 despite float rounding');
  t.equal(thresholdAtFpir(u, 0), nextUp(0.99), 'zero tolerance: above the highest impostor');
  t.equal(thresholdAtFpir([0.5, 0.5, 0.1], 0.34), nextUp(0.5), 'ties at the cut are all rejected (achieved rate 0 <= target)');
  t.equal(thresholdAtFpir([0.3, 0.2], 1), -Infinity, 'tolerating every impostor accepts everything');
  t.ok(Number.isNaN(thresholdAtFpir([], 0.01)), 'no impostors: undefined');
});

t.test('dirAtFpir', async (t) => {
  const u = Array.from({ length: 100 }, (_, i) => i / 100);
  const known = [{ correct: true, score: 0.985 }, { correct: true, score: 0.98 }, { correct: false, score: 0.995 }, { correct: true, score: 0.5 }];
  t.equal(dirAtFpir(known, u, 0.01), 0.25, 'only the correct probe above 0.98 counts');
  t.equal(dirAtFpir(known, u, 0.001), 0, 'at 0.1% of 100 unknowns nothing above 0.99 is correct');
  t.equal(dirAtFpir([{ correct: true, score: 0.995 }], u, 0.001), 1);
  t.ok(Number.isNaN(dirAtFpir(known, [], 0.01)), 'no unknowns: undefined');
  t.ok(Number.isNaN(dirAtFpir([], u, 0.01)), 'no known probes: undefined');
});

t.test('macroF1', async (t) => {
  // a: tp1 fn1 -> 2/3; b: tp1 fp1 -> 2/3; unknown (''): tp1 -> 1
  close(t, macroF1(['a', 'a', 'b', ''], ['a', 'b', 'b', '']), (2 / 3 + 2 / 3 + 1) / 3, 'hand-computed');
  close(t, macroF1(['a', 'a'], ['a', 'c']), 1 / 3, 'a label only predicted counts with F1 0');
  t.equal(macroF1(['a', 'b', ''], ['a', 'b', '']), 1, 'perfect');
  t.equal(macroF1(['', ''], ['', '']), 1, 'all unknown and all rejected');
  t.equal(macroF1(['', ''], ['a', 'a']), 0, 'all unknown, all falsely attributed');
  t.ok(Number.isNaN(macroF1([], [])), 'empty: undefined');
  t.ok(Number.isNaN(macroF1(['a'], [])), 'length mismatch: undefined');
});

t.test('meanStd', async (t) => {
  const m = meanStd([1, 2, 3, 4]);
  t.equal(m.mean, 2.5);
  close(t, m.std, Math.sqrt(5 / 3), 'sample standard deviation');
  t.same(meanStd([NaN, 2]), { mean: 2, std: 0, n: 1 }, 'undefined values skipped');
  const e = meanStd([NaN]);
  t.ok(Number.isNaN(e.mean) && Number.isNaN(e.std) && e.n === 0, 'nothing defined: NaN');
});
