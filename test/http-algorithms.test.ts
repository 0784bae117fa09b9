import t from 'tap';
import { buildTestApp } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';

t.test('algorithm registry CRUD, pagination, unique names, enable flag', async (t) => {
  const { app } = await buildTestApp(t);

  const created = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'SimSwap-like', forgeryType: 'FS', architecture: 'GAN', description: 'face swap', reference: 'case-17' } });
  t.equal(created.statusCode, 201);
  const alg = created.json();
  t.match(alg, { name: 'SimSwap-like', forgeryType: 'FS', architecture: 'GAN', enabled: true, sampleCount: 0, threshold: null, description: 'face swap', reference: 'case-17' });
  t.type(alg.id, 'string');

  const dup = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'simswap-LIKE', forgeryType: 'FS', architecture: 'GAN' } });
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().code, 'DFG_ERR_ALGORITHM_NAME_TAKEN');

  for (let i = 0; i < 5; i++) {
    const r = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: `gen-${i}`, forgeryType: 'EFS', architecture: 'Diffusion' } });
    t.equal(r.statusCode, 201);
  }
  const page1 = (await app.inject({ url: '/v1/algorithms?limit=4&offset=0' })).json();
  const page2 = (await app.inject({ url: '/v1/algorithms?limit=4&offset=4' })).json();
  t.equal(page1.total, 6);
  t.equal(page1.items.length, 4);
  t.equal(page2.items.length, 2);
  t.same(new Set([...page1.items, ...page2.items].map((a: { id: string }) => a.id)).size, 6, 'pages do not overlap');

  const got = await app.inject({ url: `/v1/algorithms/${alg.id}` });
  t.equal(got.statusCode, 200);
  t.equal(got.json().name, 'SimSwap-like');

  const patched = await app.inject({ method: 'PATCH', url: `/v1/algorithms/${alg.id}`, payload: { enabled: false, threshold: 0.7, name: 'SimSwap v2' } });
  t.equal(patched.statusCode, 200);
  t.match(patched.json(), { enabled: false, threshold: 0.7, name: 'SimSwap v2' });

  const clash = await app.inject({ method: 'PATCH', url: `/v1/algorithms/${alg.id}`, payload: { name: 'gen-1' } });
  t.equal(clash.statusCode, 409);
  const emptyPatch = await app.inject({ method: 'PATCH', url: `/v1/algorithms/${alg.id}`, payload: {} });
  t.equal(emptyPatch.statusCode, 400);
  t.equal(emptyPatch.json().code, 'DFG_ERR_REQUEST_INVALID');

  const del = await app.inject({ method: 'DELETE', url: `/v1/algorithms/${alg.id}` });
  t.equal(del.statusCode, 204);
  const gone = await app.inject({ url: `/v1/algorithms/${alg.id}` });
  t.equal(gone.statusCode, 404);
  t.equal(gone.json().code, 'DFG_ERR_ALGORITHM_NOT_FOUND');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${alg.id}` })).statusCode, 404);
  t.equal((await app.inject({ method: 'PATCH', url: '/v1/algorithms/alg_nope', payload: { enabled: true } })).json().code, 'DFG_ERR_ALGORITHM_NOT_FOUND');
});

t.test('samples: enrol many, dedupe by sha256, list, delete', async (t) => {
  const { app } = await buildTestApp(t);
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'nn2', forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const a = await generatorImage('nearest2', 1);
  const b = await generatorImage('nearest2', 2);

  const first = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['a.png', a], ['b.png', b], ['a-again.png', a]) });
  t.equal(first.statusCode, 201);
  const body = first.json();
  t.equal(body.created, 2);
  t.equal(body.duplicates, 1);
  t.equal(body.failed, 0);
  t.equal(body.results.length, 3);
  t.equal(body.results[2].status, 'duplicate');
  t.equal(body.results[2].sampleId, body.results[0].sampleId);
  t.match(body.results[0].sha256, /^[0-9a-f]{64}$/);

  const again = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['a.png', a]) });
  t.equal(again.statusCode, 200, 'nothing new: 200');
  t.equal(again.json().duplicates, 1);

  const list = (await app.inject({ url: `/v1/algorithms/${alg.id}/samples?limit=1` })).json();
  t.equal(list.total, 2);
  t.equal(list.items.length, 1);
  t.match(list.items[0], { algorithmId: alg.id, width: 256, height: 256 });
  t.equal((await app.inject({ url: `/v1/algorithms/${alg.id}` })).json().sampleCount, 2);

  const sampleId = body.results[1].sampleId;
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${alg.id}/samples/${sampleId}` })).statusCode, 204);
  const missing = await app.inject({ method: 'DELETE', url: `/v1/algorithms/${alg.id}/samples/${sampleId}` });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'DFG_ERR_SAMPLE_NOT_FOUND');
  t.equal((await app.inject({ url: `/v1/algorithms/${alg.id}/samples` })).json().total, 1);

  const unknownAlg = await app.inject({ method: 'POST', url: '/v1/algorithms/alg_missing/samples', ...files(['a.png', a]) });
  t.equal(unknownAlg.statusCode, 404);
  t.equal((await app.inject({ url: '/v1/algorithms/alg_missing/samples' })).statusCode, 404);
});
