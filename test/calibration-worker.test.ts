import t from 'tap';
import { computeCalibration, computeInWorker, type CalibrationVectors } from '../src/calibration/index.js';
import { isDfgError } from '../src/errors.js';
import { near, randomUnit, rng } from './helpers/gallery.js';

/** Clusters of unit vectors around random centres, one per algorithm, and loose negatives. */
function clusters(algorithms: number, perAlgorithm: number, dim: number, negatives: number, seed = 1): CalibrationVectors {
  const rand = rng(seed);
  const byAlgorithm = new Map<string, Float32Array[]>();
  for (let a = 0; a < algorithms; a++) {
    const centre = randomUnit(dim, rand);
    byAlgorithm.set(`alg-${a}`, Array.from({ length: perAlgorithm }, () => near(centre, 0.08, rand)));
  }
  return { byAlgorithm, negatives: Array.from({ length: negatives }, () => randomUnit(dim, rand)) };
}

t.test('the worker computes what the in-process step computes', async (t) => {
  const vectors = clusters(3, 10, 32, 6);
  const opts = { topM: 3, targetFpir: 0.05, metric: { kind: 'wccn', shrinkage: 0.2 } as const };
  const local = computeCalibration(vectors, opts);
  const remote = await computeInWorker(vectors, opts);
  t.equal(remote.calibration.global, local.calibration.global);
  t.same({ ...remote.calibration.perAlgorithm }, { ...local.calibration.perAlgorithm }, 'same thresholds');
  t.same(JSON.parse(JSON.stringify(remote.calibration.stats)), JSON.parse(JSON.stringify(local.calibration.stats)), 'same statistics');
  t.equal(Object.getPrototypeOf(remote.calibration.perAlgorithm), null, 'records keyed by algorithm id keep their null prototype');
  t.ok(local.metric, 'a metric is fitted');
  const [a, b] = [local.metric!, remote.metric!];
  t.ok(b.basis instanceof Float32Array && b.coeffs instanceof Float32Array);
  t.same({ dim: b.dim, shrinkage: b.shrinkage, samples: b.samples, algorithms: b.algorithms, n: b.basis.length }, { dim: a.dim, shrinkage: a.shrinkage, samples: a.samples, algorithms: a.algorithms, n: a.basis.length });
  const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
  t.ok(maxDiff(a.basis, b.basis) < 1e-6, 'same basis');
  t.ok(maxDiff(a.coeffs, b.coeffs) < 1e-6, 'same coefficients');
  t.equal(vectors.byAlgorithm.get('alg-0')![0]!.length, 32, 'the caller\'s vectors are copied, not detached');

  const cosine = await computeInWorker(vectors, { topM: 3, targetFpir: 0.05 });
  t.equal(cosine.metric, undefined, 'cosine: no metric');
  t.same({ ...cosine.calibration.perAlgorithm }, { ...computeCalibration(vectors, { topM: 3, targetFpir: 0.05 }).calibration.perAlgorithm });
});

t.test('errors come back as the same coded errors', async (t) => {
  const one = clusters(1, 5, 16, 0);
  const err = await computeInWorker(one, { topM: 3, targetFpir: 0.05 }).then(() => null, (e: unknown) => e);
  t.ok(isDfgError(err, 'DFG_ERR_CALIBRATION_INSUFFICIENT'), 'DFG_ERR_CALIBRATION_INSUFFICIENT');
  t.equal((err as { statusCode: number }).statusCode, 422);
  t.throws(() => computeCalibration(one, { topM: 3, targetFpir: 0.05 }), { code: 'DFG_ERR_CALIBRATION_INSUFFICIENT', message: (err as Error).message });
  const bad = await computeInWorker(clusters(2, 4, 8, 0), { topM: 0, targetFpir: 0.05 }).then(() => null, (e: unknown) => e);
  t.ok(isDfgError(bad, 'DFG_ERR_CALIBRATION_INSUFFICIENT'), 'argument errors too');
});

t.test('the event loop keeps running during a calibration, and an abort ends it', async (t) => {
  const big = clusters(4, 150, 128, 50, 7);
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 5);
  const t0 = performance.now();
  await computeInWorker(big, { topM: 3, targetFpir: 0.01, metric: { kind: 'wccn', shrinkage: 0.2 } });
  const ms = performance.now() - t0;
  clearInterval(timer);
  t.ok(ticks > 0, `timers fired during ${Math.round(ms)} ms of calibration (${ticks})`);

  const controller = new AbortController();
  const reason = new Error('stop');
  const running = computeInWorker(big, { topM: 3, targetFpir: 0.01, metric: { kind: 'wccn', shrinkage: 0.2 } }, controller.signal);
  setTimeout(() => controller.abort(reason), 20);
  await t.rejects(running, reason, 'rejects with the abort reason');
  await t.rejects(computeInWorker(big, { topM: 3, targetFpir: 0.01 }, AbortSignal.abort(reason)), reason, 'an aborted signal starts nothing');
});
