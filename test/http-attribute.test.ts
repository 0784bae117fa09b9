import t from 'tap';
import { buildTestApp } from './helpers/app.js';
import { createLogger } from '../src/logger.js';
import { files } from './helpers/multipart.js';
import { generatorImage, type Family } from './helpers/images.js';

async function register(app: Awaited<ReturnType<typeof buildTestApp>>['app'], name: string, family: Family, seeds: number[], forgeryType = 'EFS') {
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name, forgeryType, architecture: forgeryType === 'authentic' ? 'authentic' : 'GAN' } })).json();
  const imgs = await Promise.all(seeds.map((s) => generatorImage(family, s)));
  const r = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(...imgs.map((b, i) => [`${name}-${i}.png`, b] as [string, Buffer])) });
  if (r.statusCode !== 201) throw new Error(r.body);
  return alg;
}

t.test('attribute: nearest registered algorithm, unknown on empty gallery, batch form', async (t) => {
  const { app } = await buildTestApp(t, { env: { DFG_THRESHOLD: '0.3' } });
  const probe = await generatorImage('nearest2', 900);

  const empty = await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) });
  t.equal(empty.statusCode, 200);
  t.match(empty.json(), { decision: 'unknown', algorithm: null, candidates: [] });

  const nn = await register(app, 'nearest-x2', 'nearest2', [1, 2, 3, 4, 5]);
  const bl = await register(app, 'bilinear-x4', 'bilinear4', [11, 12, 13, 14, 15]);
  await register(app, 'camera', 'camera', [21, 22, 23, 24, 25], 'authentic');

  const res = await app.inject({ method: 'POST', url: '/v1/attribute?k=3', ...files(['p.png', probe]) });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.decision, 'attributed');
  t.equal(body.algorithm.id, nn.id);
  t.equal(body.candidates[0].algorithm.id, nn.id);
  t.ok(body.candidates.length <= 3 && body.candidates.length >= 2);
  t.ok(body.candidates[0].evidence.length >= 1);
  t.ok(body.score >= body.threshold);
  t.ok(body.margin > 0);
  t.equal(body.model.id, 'residual-v3');
  t.ok(body.galleryVersion > 0);
  for (const k of ['decodeMs', 'embedMs', 'searchMs', 'totalMs']) t.type(body.timings[k], 'number');

  const strict = (await app.inject({ method: 'POST', url: '/v1/attribute?threshold=1', ...files(['p.png', probe]) })).json();
  t.equal(strict.decision, 'unknown', 'threshold override 1 rejects');
  t.equal(strict.threshold, 1);

  const camera = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['c.png', await generatorImage('camera', 901)]) })).json();
  t.equal(camera.decision, 'authentic');

  // Disabled algorithms never match.
  await app.inject({ method: 'PATCH', url: `/v1/algorithms/${nn.id}`, payload: { enabled: false } });
  const disabled = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', probe]) })).json();
  t.not(disabled.algorithm?.id, nn.id);
  t.notOk(disabled.candidates.some((c: { algorithm: { id: string } }) => c.algorithm.id === nn.id));

  const batch = await app.inject({ method: 'POST', url: '/v1/attribute/batch', ...files(['a.png', await generatorImage('bilinear4', 902)], ['bad.png', Buffer.from('not an image')]) });
  t.equal(batch.statusCode, 200);
  const results = batch.json().results;
  t.equal(results.length, 2);
  t.equal(results[0].result.algorithm.id, bl.id);
  t.equal(results[1].error.code, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT');

  const two = await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['a.png', probe], ['b.png', probe]) });
  t.equal(two.statusCode, 413);
  t.equal(two.json().code, 'DFG_ERR_UPLOAD_TOO_MANY_FILES');

  const gallery = (await app.inject({ url: '/v1/gallery' })).json();
  t.match(gallery, { model: { id: 'residual-v3' }, counts: { algorithms: 3, samples: 15, enabledAlgorithms: 2 } });
  t.equal(gallery.index.size - gallery.index.deleted, 15);
  t.equal(gallery.decision.margin, 0, "DFG_MARGIN unset: the default model's own margin (models/residual-v3/model.json, inherited from residual-v2)");

  const metrics = await app.inject({ url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(metrics.body, /dfg_decisions_total\{decision="attributed"\} \d/);
  t.match(metrics.body, /dfg_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/attribute"/);
  t.match(metrics.body, /dfg_gallery_samples 15/);
  t.match(metrics.body, /dfg_embed_seconds_count/);
});

t.test('health and docs', async (t) => {
  const { app } = await buildTestApp(t);
  t.same((await app.inject({ url: '/livez' })).json(), { status: 'ok' });
  const ready = await app.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.equal(ready.json().status, 'ready');
  const docs = await app.inject({ url: '/docs/' });
  t.equal(docs.statusCode, 200);
  t.match(docs.body, /swagger/i);
  const notFound = await app.inject({ url: '/v1/nope' });
  t.equal(notFound.statusCode, 404);
  t.equal(notFound.json().code, 'DFG_ERR_ROUTE_NOT_FOUND');
});

t.test('one log line per request, with the decision and without the image', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ LOG_LEVEL: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const { app } = await buildTestApp(t, { logger });
  const image = await generatorImage('nearest2', 3);
  const res = await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', image]) });
  t.equal(res.statusCode, 200);
  const mine = lines.filter((l) => l.reqId !== undefined);
  t.equal(mine.length, 1, 'a single line for the request');
  t.match(mine[0], { msg: 'request completed', req: { method: 'POST', url: '/v1/attribute' }, res: { statusCode: 200 }, decision: 'unknown' });
  t.type(mine[0]!.responseTime, 'number');
  t.notOk(JSON.stringify(lines).includes(image.subarray(0, 64).toString('base64')), 'no image bytes in the log');
});

t.test('DFG_MARGIN set overrides the model default margin', async (t) => {
  const { app } = await buildTestApp(t, { env: { DFG_MARGIN: '0.05' } });
  t.equal((await app.inject({ url: '/v1/gallery' })).json().decision.margin, 0.05);
});
