/**
 * Re-embedding as a background job on a real Redis: the API queues the samples lacking a vector
 * of the model, a worker embeds their kept images with it, the vectors join the same samples, and
 * samples without kept bytes are reported per item. The API keeps serving its own model.
 */
import t from 'tap';
import { dfg } from './helpers/cli.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { jobHarness } from './helpers/jobs.js';
import { ROOT, tempDir } from './helpers/app.js';
import { writeTinyModel } from './helpers/tiny-model.js';

t.test('reembed job: kept images embedded with a new model, not-kept ones reported', async (t) => {
  const models = tempDir('dfg-models-');
  fs.cpSync(path.join(ROOT, 'models', 'residual-v1'), path.join(models, 'residual-v1'), { recursive: true });
  writeTinyModel(models, 'tiny-clip');
  const h = await jobHarness(t, { name: 'reembed', env: { DFG_MODELS_DIR: models, DFG_MODEL: 'residual-v1' } });
  const { app } = h;
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'X', forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const imgs = await Promise.all([1, 2, 3, 4, 5].map((s) => generatorImage('nearest2', s)));
  const enrolled = (await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(...imgs.map((b, i) => [`x${i}.png`, b] as [string, Buffer])) })).json();
  const lostSha = crypto.createHash('sha256').update(imgs[4]!).digest('hex');
  fs.rmSync(path.join(h.config.DFG_GALLERY_DIR, 'blobs', lostSha.slice(0, 2), lostSha));

  t.equal((await app.inject({ method: 'POST', url: '/v1/jobs/reembeddings', payload: { modelId: 'no-such-model' } })).json().code, 'DFG_ERR_MODEL_NOT_FOUND');
  t.equal((await app.inject({ method: 'POST', url: '/v1/jobs/reembeddings', payload: { modelId: '../escape' } })).json().code, 'DFG_ERR_REQUEST_INVALID');

  const res = await app.inject({ method: 'POST', url: '/v1/jobs/reembeddings', payload: { modelId: 'tiny-clip' } });
  t.equal(res.statusCode, 202, res.body);
  t.match(res.json(), { kind: 'reembed', total: 5 });
  const job = await h.finished(res.json().jobId, 60_000);
  t.equal(job.state, 'completed');
  t.same(job.counts, { stored: 4, present: 0, 'not-kept': 1, error: 0 });
  t.match(job.source, { type: 'gallery', name: 'tiny-clip' });
  t.same(job.errors!.items.map((e) => [e.name, e.code]), [[enrolled.results[4].sampleId, 'DFG_ERR_SAMPLE_NOT_REEMBEDDABLE']]);

  const samples = (await app.inject({ method: 'GET', url: `/v1/algorithms/${alg.id}/samples` })).json().items;
  t.same(samples.map((s: { models: string[] }) => s.models), [...Array(4).fill(['residual-v1', 'tiny-clip']), ['residual-v1']], 'vectors joined the same samples');
  const csv = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?format=csv` })).body;
  t.match(csv.split('\r\n')[0], 'name,sha256,outcome,error,message');
  t.equal(csv.split('\r\n').filter((l) => l.includes(',stored,')).length, 4);

  // The API still serves residual-v1 alone; a second job has only the sample without bytes left.
  t.match((await app.inject({ method: 'GET', url: '/v1/gallery' })).json(), { model: { id: 'residual-v1' }, counts: { samples: 5, needsReembedding: 0 } });
  const again = await app.inject({ method: 'POST', url: '/v1/jobs/reembeddings', payload: { modelId: 'tiny-clip' } });
  t.match(again.json(), { total: 1 });
  t.same((await h.finished(again.json().jobId, 60_000)).counts, { stored: 0, present: 0, 'not-kept': 1, error: 0 });

  // The same through `dfg jobs reembed`, which follows the job and exits 1 when items failed.
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const cli = await dfg(['jobs', 'reembed', 'tiny-clip', '--url', url, '--json']);
  t.equal(cli.code, 1, 'the sample without kept bytes fails the run');
  t.match(cli.out, /submitted re-embedding for tiny-clip as \S+ \(1 samples\)/);
  t.match(cli.out, /DFG_ERR_SAMPLE_NOT_REEMBEDDABLE/);
  t.match(cli.out, /"kind": "reembed"/);
  const unknown = await dfg(['jobs', 'reembed', 'no-such-model', '--url', url]);
  t.equal(unknown.code, 1);
  t.match(unknown.out, /DFG_ERR_MODEL_NOT_FOUND/);

  // --switch: an incomplete re-embedding never switches; a complete one does, without a restart.
  const refused = await dfg(['jobs', 'reembed', 'tiny-clip', '--url', url, '--switch', 'residual-v1,tiny-clip:0.5']);
  t.equal(refused.code, 1);
  t.match(refused.out, /not switching: the job ended completed with 1 failed sample/);
  t.equal((await app.inject({ method: 'GET', url: '/v1/gallery' })).json().model.id, 'residual-v1', 'still serving the old list');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${alg.id}/samples/${enrolled.results[4].sampleId}` })).statusCode, 204);
  const switched = await dfg(['jobs', 'reembed', 'tiny-clip', '--url', url, '--switch', 'residual-v1,tiny-clip:0.5']);
  t.equal(switched.code, 0, switched.out);
  t.match(switched.out, /serving residual-v1,tiny-clip:0\.5 \(was residual-v1\)/);
  t.match((await app.inject({ method: 'GET', url: '/v1/gallery' })).json(), { model: { id: 'residual-v1:1+tiny-clip:0.5' }, counts: { samples: 4, needsReembedding: 0 } });
  t.equal((await dfg(['jobs', 'reembed', 'tiny-clip', '--url', url, '--switch', '--no-wait'])).code, 1, '--switch needs to wait');
  const done = await app.inject({ method: 'POST', url: '/v1/jobs/reembeddings', payload: { modelId: 'tiny-clip' } });
  t.equal(done.statusCode, 409);
  t.equal(done.json().code, 'DFG_ERR_REEMBED_NOTHING_LEFT', 'nothing left to re-embed');
});
