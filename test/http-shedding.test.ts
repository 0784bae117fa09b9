/**
 * Cheap shedding on a real socket (inject shows neither keep-alive nor waiting): an upload that
 * finds every slot taken waits for one, newest first; a shed upload with a small body keeps its
 * connection for the client's retry, a large one is closed unread; shed requests and health probes
 * write no log line of their own (a summary line, and counters, instead); rate-limited requests
 * are refused the same way (429).
 */
import t from 'tap';
import http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildTestApp } from './helpers/app.js';
import { multipart } from './helpers/multipart.js';
import { jpeg } from './helpers/images.js';
import { DRAIN_MAX_BYTES } from '../src/http/plugins/admission.js';

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; reusedSocket: boolean; doneAt: number }

/** A log that keeps its lines. */
function captureLog(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const dest = new Writable({ write(chunk: Buffer, _enc, cb) { out.push(chunk.toString()); cb(); } });
  return { logger: pino({ level: 'info' }, dest), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Sends `head`, then (when given) `rest`; resolves with the answer. */
function send(url: string, opts: { method?: string; headers?: Record<string, string>; head?: Buffer; agent?: http.Agent | false }): { req: http.ClientRequest; answer: Promise<Answer> } {
  const req = http.request(url, { method: opts.method ?? 'POST', headers: opts.headers, agent: opts.agent ?? false });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, reusedSocket: req.reusedSocket, doneAt: performance.now() }));
    });
    req.on('error', reject);
  });
  if (opts.head) req.write(opts.head);
  else req.flushHeaders();
  return { req, answer };
}

/** An upload of `image` whose body stops after its first `held` bytes until `finish()`: it holds an upload slot meanwhile. */
function heldUpload(url: string, image: Buffer, held = 100) {
  const form = multipart([{ name: 'file', filename: 'held.jpg', data: image }]);
  const { req, answer } = send(`${url}/v1/attribute`, { headers: { ...form.headers, 'content-length': String(form.payload.length) }, head: form.payload.subarray(0, held) });
  return { answer, finish: () => { req.end(form.payload.subarray(held)); return answer; } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('every slot taken: a small upload waits, then gets a keep-alive 503; a large one a closed one; no log line for either', async (t) => {
  const WAIT_MS = 150;
  const log = captureLog();
  const { app } = await buildTestApp(t, { env: { DFG_MAX_INFLIGHT_UPLOADS: '1', DFG_ADMISSION_WAIT_MS: String(WAIT_MS) }, logger: log.logger });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const image = await jpeg(64, 64, 3);
  const holder = heldUpload(url, image);
  await sleep(200);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const form = multipart([{ name: 'file', filename: 'x.jpg', data: image }]);
  const t0 = performance.now();
  const small = send(`${url}/v1/attribute`, { headers: { ...form.headers, 'content-length': String(form.payload.length) }, head: form.payload, agent });
  small.req.end();
  const shed = await small.answer;
  t.equal(shed.status, 503);
  t.ok(shed.doneAt - t0 >= WAIT_MS - 20, `waited for a slot first (${Math.round(shed.doneAt - t0)} ms)`);
  t.match(JSON.parse(shed.body), { statusCode: 503, code: 'DFG_ERR_SERVER_OVERLOADED', error: 'Service Unavailable', message: /in flight/ });
  t.ok(Number(shed.headers['retry-after']) >= 1, 'Retry-After');
  t.not(shed.headers.connection, 'close', 'the connection is kept (the small body was read and dropped)');
  const next = send(`${url}/livez`, { method: 'GET', agent });
  next.req.end();
  const probe = await next.answer;
  t.equal(probe.status, 200);
  t.ok(probe.reusedSocket, 'the next request on the same connection is served');

  const big = send(`${url}/v1/attribute`, { headers: { ...form.headers, 'content-length': String(DRAIN_MAX_BYTES + 1) } });
  const closed = await big.answer;
  t.equal(closed.status, 503);
  t.equal(closed.headers.connection, 'close', 'a large unread body is not drained: the connection is closed');
  big.req.destroy();

  t.equal((await holder.finish()).status, 200, 'the held upload is served once its body arrives');
  const served = await send(`${url}/v1/attribute`, { headers: { ...form.headers, 'content-length': String(form.payload.length) }, head: form.payload }).answer;
  t.equal(served.status, 200, 'its slot went back');

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /dfg_requests_shed_total\{reason="inflight"\} 2/);
  await app.close();
  const lines = log.lines();
  t.same(lines.filter((l) => (l.res as { statusCode?: number } | undefined)?.statusCode === 503), [], 'no completion line for a shed request');
  t.equal(lines.filter((l) => (l.res as { statusCode?: number } | undefined)?.statusCode === 200 && (l.req as { url?: string }).url === '/v1/attribute').length, 2, 'served uploads are logged');
  t.match(lines.find((l) => l.msg === 'requests shed by admission control (503)'), { level: 40, shed: { inflight: 2, queue: 0, budget: 0 } }, 'one summary line counts them');
  t.notOk(lines.some((l) => (l.req as { url?: string } | undefined)?.url === '/livez'), 'no line for a health probe');
});

t.test('a freed slot goes to the newest waiting upload', async (t) => {
  const { app } = await buildTestApp(t, { env: { DFG_MAX_INFLIGHT_UPLOADS: '1', DFG_ADMISSION_WAIT_MS: '10000' } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const image = await jpeg(64, 64, 5);
  const holder = heldUpload(url, image);
  await sleep(200);
  const form = multipart([{ name: 'file', filename: 'w.jpg', data: image }]);
  const post = () => { const s = send(`${url}/v1/attribute`, { headers: { ...form.headers, 'content-length': String(form.payload.length) }, head: form.payload }); s.req.end(); return s.answer; };
  const older = post();
  await sleep(100);
  const newer = post();
  await sleep(100);
  await holder.finish();
  const [a, b] = await Promise.all([older, newer]);
  t.same([a.status, b.status], [200, 200], 'both waited and were served');
  t.ok(b.doneAt < a.doneAt, 'the newer one first');
});

t.test('health probes: counted, outside the latency histogram, not logged', async (t) => {
  const log = captureLog();
  const { app } = await buildTestApp(t, { logger: log.logger });
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/livez' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  await app.inject({ method: 'GET', url: '/metrics' });
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /dfg_health_probes_total\{probe="livez"\} 3/);
  t.match(metrics, /dfg_health_probes_total\{probe="readyz"\} 1/);
  t.notMatch(metrics, /dfg_http_request_duration_seconds_count\{[^}]*route="\/(livez|readyz)"/, 'not timed');
  t.match(metrics, /dfg_http_request_duration_seconds_count\{[^}]*route="\/metrics"/, 'other routes are');
  t.notOk(log.lines().some((l) => /\/(livez|readyz)/.test(String((l.req as { url?: string } | undefined)?.url))), 'no log line');
});

t.test('a rate-limited request is refused as cheaply: prepared 429, connection kept, one summary line', async (t) => {
  const { generateKey } = await import('../src/http/plugins/auth.js');
  const k = generateKey('greedy', ['admin']);
  const log = captureLog();
  const { app } = await buildTestApp(t, { env: { DFG_RATE_LIMIT_PER_MIN: '2' }, keys: [k.entry], logger: log.logger });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const get = async () => {
    const r = send(`${url}/v1/algorithms`, { method: 'GET', headers: { authorization: `Bearer ${k.key}` }, agent });
    r.req.end();
    return r.answer;
  };
  t.equal((await get()).status, 200);
  t.equal((await get()).status, 200);
  const refused = await get();
  t.equal(refused.status, 429);
  t.match(JSON.parse(refused.body), { statusCode: 429, code: 'DFG_ERR_RATE_LIMITED', error: 'Too Many Requests', message: 'Rate limit of 2 requests per minute exceeded' });
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After');
  t.not(refused.headers.connection, 'close');
  const again = await get();
  t.equal(again.status, 429);
  t.ok(again.reusedSocket, 'the refused client keeps its connection');
  const big = send(`${url}/v1/algorithms`, { method: 'POST', headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json', 'content-length': String(DRAIN_MAX_BYTES + 1) } });
  const closed = await big.answer;
  t.equal(closed.status, 429);
  t.equal(closed.headers.connection, 'close', 'a large unread body is not drained');
  big.req.destroy();
  await app.close();
  const lines = log.lines();
  t.same(lines.filter((l) => (l.res as { statusCode?: number } | undefined)?.statusCode === 429), [], 'no completion line per refusal');
  t.match(lines.find((l) => l.msg === 'requests refused by the rate limit (429)'), { level: 40, shed: { rate: 3 } }, 'one summary line counts them');
});
