/** With no Redis, the API keeps serving attribution and registration; job routes fail fast with a 503 that says what to set. */
import t from 'tap';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { files, multipart } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { jobHarness, zip } from './helpers/jobs.js';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('no Redis: 503 DFG_ERR_JOBS_UNAVAILABLE on job routes, everything else works', async (t) => {
  const port = await closedPort();
  const h = await jobHarness(t, { name: 'noredis', worker: false, env: { REDIS_URL: `redis://:secret@127.0.0.1:${port}`, DFG_JOB_CONNECT_TIMEOUT_MS: '4000' } });
  const { app } = h;
  // Fastify's own start-up (plugins, schema compilation) runs on the first inject: not what is timed here.
  await app.ready();

  const t0 = performance.now();
  const res = await app.inject({ method: 'POST', url: '/v1/jobs/audits', payload: { source: { type: 'urls', urls: ['https://example.com/a.png'] } } });
  // A refused connection is known at once: the answer does not wait for the (long) connect timeout.
  t.ok(performance.now() - t0 < 3000, 'answered before the connect timeout');
  t.equal(res.statusCode, 503);
  const body = res.json();
  t.match(body, { statusCode: 503, code: 'DFG_ERR_JOBS_UNAVAILABLE', error: 'Service Unavailable', message: /REDIS_URL/ });
  t.match(body.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  t.notMatch(body.message, /secret/, 'the Redis password is not echoed');
  t.ok(res.headers['retry-after'], 'Retry-After set');

  for (const [method, url] of [['GET', '/v1/jobs'], ['GET', '/v1/jobs/job_abcdefghijkl'], ['DELETE', '/v1/jobs/job_abcdefghijkl'], ['GET', '/v1/jobs/job_abcdefghijkl/results']] as const) {
    const t1 = performance.now();
    const r = await app.inject({ method, url });
    t.match(r.json(), { statusCode: 503, code: 'DFG_ERR_JOBS_UNAVAILABLE' }, `${method} ${url}`);
    t.ok(performance.now() - t1 < 1000, `${method} ${url} fails fast once Redis is known to be down`);
  }
  const upload = await app.inject({ method: 'POST', url: '/v1/jobs/audits', ...multipart([{ name: 'archive', filename: 'a.zip', data: zip([{ name: 'a.png', data: await generatorImage('camera', 1) }]) }]) });
  t.match(upload.json(), { statusCode: 503, code: 'DFG_ERR_JOBS_UNAVAILABLE' }, 'uploads are refused before they are read');

  const alg = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'still-works', forgeryType: 'EFS', architecture: 'GAN' } });
  t.equal(alg.statusCode, 201, 'registration works');
  const img = await generatorImage('nearest2', 1);
  t.equal((await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.json().id}/samples`, ...files(['a.png', img]) })).statusCode, 201, 'enrolment works');
  t.equal((await app.inject({ method: 'GET', url: '/v1/algorithms' })).statusCode, 200);
  const attributed = await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', await generatorImage('nearest2', 2)]) });
  t.equal(attributed.statusCode, 200, 'attribution works');
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready: Redis is not needed to serve');
});

t.test('a Redis that accepts connections but never answers also gets a 503 within the connect timeout', async (t) => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => { sockets.push(s); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); silent.close(); });
  const h = await jobHarness(t, { name: 'silent', worker: false, env: { REDIS_URL: `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`, DFG_JOB_CONNECT_TIMEOUT_MS: '1000' } });
  const t0 = performance.now();
  const res = await h.app.inject({ method: 'GET', url: '/v1/jobs' });
  t.match(res.json(), { statusCode: 503, code: 'DFG_ERR_JOBS_UNAVAILABLE' });
  const waited = performance.now() - t0;
  t.ok(waited >= 900 && waited < 4000, `bounded by DFG_JOB_CONNECT_TIMEOUT_MS (${Math.round(waited)} ms)`);
  t.match(res.json().message, /no answer within 1000 ms/);
  const t1 = performance.now();
  t.match((await h.app.inject({ method: 'GET', url: '/v1/jobs' })).json(), { code: 'DFG_ERR_JOBS_UNAVAILABLE' });
  t.ok(performance.now() - t1 < 500, 'then at once');
});
