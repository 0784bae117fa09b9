/**
 * Admission control before the body is read: 20 concurrent large batch uploads against a small
 * upload budget are answered 413/503 (never buffered beyond the budget) and the server's RSS stays
 * bounded; a chunked body that outgrows the budget is refused while streaming; per-key rate limits.
 */
import t from 'tap';
import fs from 'node:fs';
import http from 'node:http';
import { tempDir } from './helpers/app.js';
import { buildTestApp } from './helpers/app.js';
import { serve, stop } from './helpers/serve.js';
import { generatorImage } from './helpers/images.js';
import { files } from './helpers/multipart.js';
import { generateKey } from '../src/http/plugins/auth.js';

const MiB = 1024 * 1024;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** POSTs a multipart body with one file part of `fileBytes` (declared Content-Length, or chunked); resolves with the status and body. */
function post(url: string, fileBytes: Buffer, opts: { chunked?: boolean; declare?: number; parts?: number } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const head = Buffer.from('--bnd\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n');
  const tail = Buffer.from('\r\n--bnd--\r\n');
  // parts × (head, file, CRLF), then the closing boundary.
  const parts = opts.parts ?? 1;
  const length = opts.declare ?? parts * (head.length + fileBytes.length + 2) + tail.length - 2;
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      // A fresh connection each: Node's keep-alive agent could hand out a socket the server is closing after a shed.
      agent: false,
      headers: { 'content-type': 'multipart/form-data; boundary=bnd', ...(opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(length) }) },
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      res.on('error', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    // The server may answer and close before the body is sent: that is the point.
    req.on('error', (err) => resolve({ status: -1, body: err.message, headers: {} }));
    if (opts.declare !== undefined && opts.declare < head.length + fileBytes.length) return void req.write(head);
    const step = 256 * 1024;
    let part = 0;
    let off = -1;
    const pump = () => {
      while (part < parts) {
        if (off < 0) { req.write(head); off = 0; }
        while (off < fileBytes.length) {
          const ok = req.write(fileBytes.subarray(off, off + step));
          off += step;
          if (!ok) return void req.once('drain', pump);
        }
        req.write('\r\n');
        part++;
        off = -1;
      }
      req.end(tail.subarray(2));
    };
    pump();
  });
}

t.test('20 concurrent 25 MiB batch uploads: 413/503 before buffering, RSS bounded, budget released', async (t) => {
  const BUDGET = 64 * MiB;
  const p = await serve(tempDir(), { DFG_UPLOAD_BUDGET_BYTES: String(BUDGET), DFG_MAX_INFLIGHT_UPLOADS: '8' });
  t.teardown(() => { p.child.kill('SIGKILL'); });
  const pid = p.child.pid!;
  const base = rssOf(pid);
  let peak = base;
  const sampler = setInterval(() => { try { peak = Math.max(peak, rssOf(pid)); } catch { /* exited */ } }, 20);

  const big = Buffer.alloc(25 * MiB - 4096, 7);
  const answers = await Promise.all(Array.from({ length: 20 }, () => post(`${p.url}/v1/attribute/batch`, big)));
  clearInterval(sampler);
  const statuses = answers.map((a) => a.status);
  const shed = answers.filter((a) => a.status === 503);
  // -1: the server answered 503 and closed before the client had sent its body (EPIPE or reset on the client side).
  const refused = answers.filter((a) => a.status === 503 || a.status === -1);
  t.ok(shed.length >= 1, 'shed with a 503');
  t.ok(refused.length >= 20 - Math.floor(BUDGET / (25 * MiB)), `at most ${Math.floor(BUDGET / (25 * MiB))} admitted at once: ${JSON.stringify(statuses)}`);
  t.ok(statuses.every((s) => s === 200 || s === 503 || s === 413 || s === -1), 'each answered 200 (per-file errors), 503 or 413');
  t.match(JSON.parse(shed[0]!.body), { statusCode: 503, code: 'DFG_ERR_SERVER_OVERLOADED', message: /upload budget|in flight/ });
  t.ok(Number(shed[0]!.headers['retry-after']) >= 1, 'Retry-After on shed uploads');
  t.equal(shed[0]!.headers.connection, 'close', 'a shed upload\'s connection is closed, its body not drained');
  const grew = peak - base;
  t.ok(grew < BUDGET + 160 * MiB, `RSS grew ${Math.round(grew / MiB)} MiB (budget ${BUDGET / MiB} MiB + 160 MiB margin)`);

  // A declared body larger than any request may be: 413 before a byte of it is sent.
  const huge = await post(`${p.url}/v1/attribute/batch`, Buffer.alloc(0), { declare: 2 * 1024 * MiB });
  t.equal(huge.status, 413);
  t.match(JSON.parse(huge.body), { code: 'DFG_ERR_UPLOAD_TOO_LARGE' });

  // A chunked body (no Content-Length) is charged while it streams: past the budget, 503.
  const chunked = await post(`${p.url}/v1/attribute/batch`, Buffer.alloc(24 * MiB, 1), { chunked: true, parts: 3 });
  t.ok(chunked.status === 503 || chunked.status === -1, `chunked body over the budget refused (${chunked.status})`);
  if (chunked.status === 503) t.match(JSON.parse(chunked.body), { code: 'DFG_ERR_SERVER_OVERLOADED', message: /upload budget/ });

  // Everything was released: a real upload is served, and the shed counter says why requests were refused.
  const ok = await post(`${p.url}/v1/attribute/batch`, await generatorImage('nearest2', 1));
  t.equal(ok.status, 200, 'served after the burst: the budget was given back');
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  t.match(metrics, /dfg_requests_shed_total\{reason="(budget|inflight)"\} [1-9]/);
  await stop(p, 'SIGKILL');
});

t.test('per-key rate limit: 429 DFG_ERR_RATE_LIMITED with Retry-After, per key', async (t) => {
  const a = generateKey('a', ['admin']);
  const b = generateKey('b', ['admin']);
  const { app } = await buildTestApp(t, { env: { DFG_RATE_LIMIT_PER_MIN: '3' }, keys: [a.entry, b.entry] });
  const get = (key: string) => app.inject({ method: 'GET', url: '/v1/algorithms', headers: { authorization: `Bearer ${key}` } });
  for (let i = 0; i < 3; i++) t.equal((await get(a.key)).statusCode, 200, `request ${i + 1} of key a served`);
  const limited = await get(a.key);
  t.equal(limited.statusCode, 429);
  t.match(limited.json(), { statusCode: 429, code: 'DFG_ERR_RATE_LIMITED', error: 'Too Many Requests' });
  t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After');
  t.equal((await get(b.key)).statusCode, 200, 'another key has its own budget');
  t.equal((await app.inject({ method: 'GET', url: '/livez' })).statusCode, 200, 'health routes are never limited');
  // A bad upload is shed before its body is read; the limit applies to uploads as to the rest.
  const form = files(['x.png', Buffer.from('not an image')]);
  const up = await app.inject({ method: 'POST', url: '/v1/attribute', headers: { ...form.headers, authorization: `Bearer ${a.key}` }, payload: form.payload });
  t.equal(up.statusCode, 429);
});
