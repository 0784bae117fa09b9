import t from 'tap';
import { buildTestApp, testConfig } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage, type Family } from './helpers/images.js';
import { generateKey } from '../src/http/plugins/auth.js';

t.test('POST /v1/calibration stores versioned thresholds that /v1/gallery shows and /v1/attribute uses', async (t) => {
  const admin = generateKey('ops', ['admin']);
  const reg = generateKey('tns', ['register', 'attribute']);
  const { app } = await buildTestApp(t, { keys: [admin.entry, reg.entry] });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const upload = (key: string, mp: { payload: Buffer; headers: Record<string, string> }) => ({ payload: mp.payload, headers: { ...mp.headers, ...as(key) } });
  const ids: Record<string, string> = {};
  for (const [i, fam] of (['nearest2', 'bilinear4', 'jpeg50'] as Family[]).entries()) {
    const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', headers: as(reg.key), payload: { name: fam, forgeryType: 'EFS', architecture: 'GAN' } })).json();
    ids[fam] = alg.id;
    const imgs = await Promise.all([0, 1, 2, 3, 4, 5].map((s) => generatorImage(fam, 100 * i + s + 1)));
    const r = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...upload(reg.key, files(...imgs.map((b, j) => [`${j}.png`, b] as [string, Buffer]))) });
    t.equal(r.statusCode, 201);
  }

  t.equal((await app.inject({ method: 'POST', url: '/v1/calibration', headers: as(reg.key), payload: {} })).statusCode, 403, 'admin scope needed');
  const bad = await app.inject({ method: 'POST', url: '/v1/calibration', headers: as(admin.key), payload: { targetFpir: 2 } });
  t.equal(bad.statusCode, 400);

  // Uncalibrated: the default model's own threshold (residual-v3: 0.97, chosen on the genome), not the generic 0.5.
  const before = (await app.inject({ url: '/v1/gallery', headers: as(reg.key) })).json();
  t.equal(before.decision.threshold, 0.97);
  const first = (await app.inject({ method: 'POST', url: '/v1/attribute', ...upload(reg.key, files(['p.png', await generatorImage('jpeg50', 777)])) })).json();
  t.equal(first.threshold, 0.97, 'an answer before calibration uses the model default');

  const none = await app.inject({ url: '/v1/calibration', headers: as(reg.key) });
  t.equal(none.statusCode, 404);
  t.equal(none.json().code, 'DFG_ERR_CALIBRATION_NOT_FOUND');

  const dry = await app.inject({ method: 'POST', url: '/v1/calibration', headers: as(admin.key), payload: { dryRun: true } });
  t.equal(dry.statusCode, 200);
  t.equal(dry.json().version, null);
  t.equal((await app.inject({ url: '/v1/gallery', headers: as(reg.key) })).json().calibration, null, 'dry run stores nothing');

  const res = await app.inject({ method: 'POST', url: '/v1/calibration', headers: as(admin.key), payload: { targetFpir: 0.05 } });
  t.equal(res.statusCode, 201);
  const cal = res.json();
  t.equal(cal.version, 1);
  t.equal(cal.targetFpir, 0.05);
  t.equal(cal.perAlgorithm.length, 3);
  t.equal(cal.metric.kind, 'wccn', 'DFG_METRIC default: the gallery-adapted metric');
  t.equal(cal.metric.shrinkage, 0.2);
  t.equal(cal.metric.samples, 18);
  t.ok(cal.metric.directions > 0);
  for (const row of cal.perAlgorithm) {
    t.ok(row.threshold >= -1 && row.threshold <= 1);
    t.equal(row.samples, 6);
    t.ok(row.looRank1 >= 0 && row.looRank1 <= 1, 'leave-one-out rank-1 is a share');
    if (row.confusedWith) t.ok(Object.values(ids).includes(row.confusedWith.algorithmId) && row.confusedWith.algorithmId !== row.algorithmId, 'confused with another registered algorithm');
  }

  // GET /v1/calibration: the stored calibration with what POST answered.
  const stored = await app.inject({ url: '/v1/calibration', headers: as(reg.key) });
  t.equal(stored.statusCode, 200);
  const got = stored.json();
  t.equal(got.version, 1);
  t.equal(got.automatic, false);
  t.equal(got.targetFpir, 0.05);
  t.equal(got.global, cal.global);
  t.equal(got.negatives, cal.negatives);
  t.same(got.metric, cal.metric);
  t.same(got.perAlgorithm, cal.perAlgorithm, 'same rows, names and statistics as the POST answer');
  t.ok(!Number.isNaN(Date.parse(got.createdAt)));

  const gallery = (await app.inject({ url: '/v1/gallery', headers: as(reg.key) })).json();
  t.equal(gallery.calibration.version, 1);
  t.equal(gallery.calibration.targetFpir, 0.05);
  t.equal(gallery.calibration.global, cal.global);
  t.same(gallery.calibration.metric, cal.metric);

  const probe = await generatorImage('nearest2', 999);
  const answer = (await app.inject({ method: 'POST', url: '/v1/attribute', ...upload(reg.key, files(['p.png', probe])) })).json();
  const best = answer.candidates[0].algorithm.id;
  const row = cal.perAlgorithm.find((r: { algorithmId: string }) => r.algorithmId === best);
  t.equal(answer.threshold, row.threshold, 'the calibrated threshold of the best algorithm is applied');

  // An explicit per-algorithm threshold wins over calibration.
  await app.inject({ method: 'PATCH', url: `/v1/algorithms/${best}`, headers: as(reg.key), payload: { threshold: 0.99 } });
  const overridden = (await app.inject({ method: 'POST', url: '/v1/attribute', ...upload(reg.key, files(['p.png', probe])) })).json();
  t.equal(overridden.threshold, 0.99);

  const again = (await app.inject({ method: 'POST', url: '/v1/calibration', headers: as(admin.key), payload: {} })).json();
  t.equal(again.version, 2, 'versions increase');
});

t.test('DFG_METRIC=cosine calibrates in the plain cosine; an invalid DFG_METRIC is a config error', async (t) => {
  const { app } = await buildTestApp(t, { env: { DFG_METRIC: 'cosine' } });
  for (const [i, fam] of (['nearest2', 'bilinear4'] as Family[]).entries()) {
    const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: fam, forgeryType: 'EFS', architecture: 'GAN' } })).json();
    const imgs = await Promise.all([0, 1, 2, 3].map((s) => generatorImage(fam, 50 * i + s + 1)));
    t.equal((await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(...imgs.map((b, j) => [`${j}.png`, b] as [string, Buffer])) })).statusCode, 201);
  }
  const cal = (await app.inject({ method: 'POST', url: '/v1/calibration', payload: { targetFpir: 0.1 } })).json();
  t.same(cal.metric, { kind: 'cosine', shrinkage: null, directions: 0, samples: 0 });
  t.same((await app.inject({ url: '/v1/gallery' })).json().calibration.metric, cal.metric);
  for (const bad of ['lda', 'wccn:0', 'wccn:2']) {
    t.throws(() => testConfig({ DFG_METRIC: bad }), { code: 'DFG_ERR_CONFIG_INVALID' }, bad);
  }
});

t.test('calibration of an empty gallery is a coded 422', async (t) => {
  const { app } = await buildTestApp(t);
  const res = await app.inject({ method: 'POST', url: '/v1/calibration', payload: {} });
  t.equal(res.statusCode, 422);
  t.equal(res.json().code, 'DFG_ERR_CALIBRATION_INSUFFICIENT');
});

t.test('score normalisation: the default model\'s cohort normalises calibrated scores; DFG_SCORE_NORM=none keeps them raw', async (t) => {
  const enrolAll = async (app: Awaited<ReturnType<typeof buildTestApp>>['app']) => {
    for (const [i, fam] of (['nearest2', 'bilinear4', 'jpeg50'] as Family[]).entries()) {
      const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: fam, forgeryType: 'EFS', architecture: 'GAN' } })).json();
      const imgs = await Promise.all([0, 1, 2, 3, 4].map((s) => generatorImage(fam, 300 * i + s + 1)));
      t.equal((await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(...imgs.map((b, j) => [`${j}.png`, b] as [string, Buffer])) })).statusCode, 201);
    }
  };
  const { app } = await buildTestApp(t);
  const gallery = (await app.inject({ url: '/v1/gallery' })).json();
  t.equal(gallery.calibration, null);
  await enrolAll(app);
  const cal = (await app.inject({ method: 'POST', url: '/v1/calibration', payload: { targetFpir: 0.05 } })).json();
  t.same(cal.scoreNorm, { kind: 'asnorm', topK: 100, cohort: 1688 }, 'residual-v3 ships a cohort of 1688 wild-train images');
  const thresholds = new Set(cal.perAlgorithm.map((r: { threshold: number }) => r.threshold));
  t.same([...thresholds], [cal.global], 'normalised scores share the global threshold');
  t.ok(cal.perAlgorithm.every((r: { source: string }) => r.source === 'global (normalised scores share the global threshold)'));
  t.same((await app.inject({ url: '/v1/calibration' })).json().scoreNorm, cal.scoreNorm);
  t.same((await app.inject({ url: '/v1/gallery' })).json().calibration.scoreNorm, cal.scoreNorm);
  const probe = await generatorImage('bilinear4', 999);
  const a = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();
  t.equal(a.threshold, cal.global);
  t.ok(a.score > -1 && a.score < 1, 'a normalised score stays in (-1, 1)');
  t.equal(a.candidates[0].algorithm.name, 'bilinear4', 'ranked by the normalised score, right');
  t.ok(a.candidates.every((c: { score: number }, i: number, all: { score: number }[]) => i === 0 || all[i - 1]!.score >= c.score), 'best first');

  const raw = await buildTestApp(t, { env: { DFG_SCORE_NORM: 'none' } });
  await enrolAll(raw.app);
  const rawCal = (await raw.app.inject({ method: 'POST', url: '/v1/calibration', payload: { targetFpir: 0.05 } })).json();
  t.same(rawCal.scoreNorm, { kind: 'none', topK: null, cohort: 0 });
  const b = (await raw.app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();
  t.equal(b.candidates[0].algorithm.name, 'bilinear4');
  t.not(b.score, a.score, 'raw and normalised scores differ');
  t.ok(b.candidates[0].score > 0.9, 'raw: a cosine near 1, as residual descriptors are');
});
