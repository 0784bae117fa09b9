/**
 * The smaller hardening fixes, one test each: IPv4-compatible IPv6 addresses are private, `?key=`
 * never reaches the log, x-request-id is bounded, a register-only key reads its own jobs, algorithm
 * names refuse bidi overrides and non-strings, flat images are NO_SIGNAL at every size, /metrics and
 * /docs can be protected, the keys file is reloaded while serving, onnxruntime's empty debug logs
 * and crash leftovers are swept, URL queries never reach job results.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import pino from 'pino';
import { buildTestApp, tempDir, testConfig } from './helpers/app.js';
import { jobHarness, zip } from './helpers/jobs.js';
import { multipart, files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { isPrivateAddress } from '../src/jobs/sources/urls.js';
import { displayName } from '../src/jobs/sources/images.js';
import { createLogger, redactQuery } from '../src/logger.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { startServer } from '../src/server.js';
import { removeOnnxDebugLogs } from '../src/embedding/onnx-debug-log.js';
import { sweepCrashLeftovers } from '../src/gallery/store/sweep.js';

function capture(): { stream: Writable; lines(): Array<Record<string, unknown>> } {
  let out = '';
  const stream = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  return { stream, lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

t.test('IPv4-compatible and IPv4-mapped IPv6 forms of private addresses are private', async (t) => {
  for (const a of ['::a9fe:a9fe', '::7f00:1', '::127.0.0.1', '::ffff:a9fe:a9fe', '::ffff:127.0.0.1', '[::ffff:10.0.0.1]', '::', '::1', '::0a00:0001']) {
    t.ok(isPrivateAddress(a), `${a} is private`);
  }
  for (const a of ['8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) t.notOk(isPrivateAddress(a), `${a} is public`);
});

t.test('request log: credential query values redacted, x-request-id bounded', async (t) => {
  t.equal(redactQuery('/v1/x?key=abc&limit=2&X-Amz-Signature=s&token=q'), '/v1/x?key=[redacted]&limit=2&X-Amz-Signature=[redacted]&token=[redacted]');
  t.equal(redactQuery('/livez'), '/livez');
  const log = capture();
  const { app } = await buildTestApp(t, { logger: createLogger(testConfig({ LOG_LEVEL: 'info' }), log.stream) });
  await app.inject({ method: 'GET', url: '/v1/algorithms?key=sekrit-key-value&api_key=other-secret', headers: { 'x-request-id': 'client-id-123' } });
  const long = 'x'.repeat(5000);
  // (Not /livez: health probes write no log line.)
  await app.inject({ method: 'GET', url: '/v1/algorithms', headers: { 'x-request-id': long } });
  await app.inject({ method: 'GET', url: '/v1/algorithms', headers: { 'x-request-id': 'bad id\n{"forged":1}' } });
  await new Promise((r) => setTimeout(r, 50));
  const lines = log.lines().filter((l) => l.msg === 'request completed');
  t.equal(lines.length, 3);
  const text = JSON.stringify(lines);
  t.notMatch(text, /sekrit-key-value|other-secret/, 'no key value in the log');
  t.match(lines[0], { reqId: 'client-id-123', req: { url: '/v1/algorithms?key=[redacted]&api_key=[redacted]' } }, 'a short token id is kept');
  t.ok(typeof lines[1]!.reqId === 'string' && (lines[1]!.reqId as string).length <= 128, 'a 5000-character id is replaced');
  t.notMatch(text, /forged/, 'an id with spaces and newlines is replaced');
});

t.test('jobs: a register-only key reads its enrolment job; each kind is readable by the scope that submits it', async (t) => {
  const reg = generateKey('reg', ['register']);
  const att = generateKey('att', ['attribute']);
  const h = await jobHarness(t, { name: 'scopes', worker: false, keys: [reg.entry, att.entry] });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const alg = (await h.app.inject({ method: 'POST', url: '/v1/algorithms', headers: as(reg.key), payload: { name: 'j', forgeryType: 'EFS', architecture: 'GAN' } })).json() as { id: string };
  const archive = zip([{ name: 'a.png', data: await generatorImage('nearest2', 1) }]);
  const form = multipart([{ name: 'algorithmId', data: alg.id }, { name: 'archive', filename: 'a.zip', contentType: 'application/zip', data: archive }]);
  const enrol = await h.app.inject({ method: 'POST', url: '/v1/jobs/enrolments', headers: { ...form.headers, ...as(reg.key) }, payload: form.payload });
  t.equal(enrol.statusCode, 202, enrol.body);
  const enrolId = enrol.json().jobId as string;
  t.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${enrolId}`, headers: as(reg.key) })).statusCode, 200, 'register-only key reads its enrolment job');
  t.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${enrolId}/results`, headers: as(reg.key) })).statusCode, 200, 'and its results');
  t.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${enrolId}`, headers: as(att.key) })).statusCode, 403, 'an attribute-only key does not');
  const list = (await h.app.inject({ method: 'GET', url: '/v1/jobs', headers: as(reg.key) })).json() as { items: Array<{ id: string }> };
  t.ok(list.items.some((j) => j.id === enrolId), 'listed for the register key');

  // A body whose boundary is not the one its header names: malformed, a coded 400.
  const mismatched = await h.app.inject({ method: 'POST', url: '/v1/jobs/audits', headers: { ...multipart([{ name: 'archive', filename: 'b.zip', data: archive }]).headers, ...as(att.key) }, payload: multipart([{ name: 'archive', filename: 'b.zip', data: archive }]).payload });
  t.equal(mismatched.statusCode, 400, mismatched.body);
  t.equal(mismatched.json().code, 'DFG_ERR_UPLOAD_MALFORMED');
  const auditForm = multipart([{ name: 'archive', filename: 'b.zip', data: archive }]);
  const audit = await h.app.inject({ method: 'POST', url: '/v1/jobs/audits', headers: { ...auditForm.headers, ...as(att.key) }, payload: auditForm.payload });
  t.equal(audit.statusCode, 202, audit.body);
  const auditId = audit.json().jobId as string;
  t.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${auditId}`, headers: as(att.key) })).statusCode, 200, 'attribute key reads its audit');
  t.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${auditId}`, headers: as(reg.key) })).statusCode, 403, 'a register-only key does not read audits');
  t.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${auditId}` })).statusCode, 401, 'no key: 401');
});

t.test('algorithm names: bidi overrides, controls and non-string types are refused', async (t) => {
  const { app, services } = await buildTestApp(t);
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/algorithms', payload: payload as object });
  for (const name of ['evil\u202egnp.exe', 'a\u2066b', 'zero\u200bwidth', 'c1\u0085x', 'bom\ufeff', 'nl\nx']) {
    const res = await post({ name, forgeryType: 'EFS', architecture: 'GAN' });
    t.equal(res.statusCode, 400, `${JSON.stringify(name)} refused`);
    t.equal(res.json().code, 'DFG_ERR_REQUEST_INVALID');
  }
  for (const name of [42, ['x'], true, { a: 1 }, null]) {
    const res = await post({ name, forgeryType: 'EFS', architecture: 'GAN' });
    t.equal(res.statusCode, 400, `name ${JSON.stringify(name)} refused, not coerced`);
  }
  t.equal((await post({ name: 'ok', forgeryType: 'EFS', architecture: 'GAN', description: 7 })).statusCode, 400, 'numeric description refused');
  t.equal(services.peek().gallery!.info().counts.algorithms, 0, 'nothing registered');
  const good = await post({ name: 'Müller-GAN v2 (日本)', forgeryType: 'EFS', architecture: 'GAN' });
  t.equal(good.statusCode, 201, 'ordinary Unicode names are fine');
  const patch = await app.inject({ method: 'PATCH', url: `/v1/algorithms/${good.json().id}`, payload: { name: ['y'] } });
  t.equal(patch.statusCode, 400, 'PATCH refuses a non-string name too');
});

t.test('flat images are NO_SIGNAL at every size and colour, enrolment included', async (t) => {
  const { app, services } = await buildTestApp(t);
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'f', forgeryType: 'EFS', architecture: 'GAN' } })).json() as { id: string };
  for (const [size, bg] of [[512, { r: 128, g: 128, b: 128 }], [512, { r: 200, g: 30, b: 90 }], [3000, { r: 255, g: 255, b: 255 }], [3000, { r: 13, g: 200, b: 7 }]] as const) {
    const png = await sharp({ create: { width: size, height: size, channels: 3, background: bg } }).png().toBuffer();
    const res = await app.inject({ method: 'POST', url: '/v1/attribute', ...multipart([{ name: 'file', filename: 'f.png', data: png }]) });
    t.equal(res.statusCode, 422, `${size}px ${JSON.stringify(bg)}: ${res.statusCode}`);
    t.equal(res.json().code, 'DFG_ERR_IMAGE_NO_SIGNAL');
    const enrol = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['f.png', png]) });
    t.notOk(enrol.statusCode === 201, 'not enrolled');
  }
  t.equal(services.peek().gallery!.info().counts.samples, 0, 'no flat sample in the gallery');
});

t.test('DFG_PROTECT_OPS: /metrics and /docs need an admin key; off, they stay public', async (t) => {
  const admin = generateKey('admin', ['admin']);
  const att = generateKey('att', ['attribute']);
  const on = (await buildTestApp(t, { env: { DFG_PROTECT_OPS: 'true' }, keys: [admin.entry, att.entry] })).app;
  for (const url of ['/metrics', '/docs', '/docs/json', '/docs/static/index.html']) {
    t.equal((await on.inject({ method: 'GET', url })).statusCode, 401, `${url} without a key`);
    t.equal((await on.inject({ method: 'GET', url, headers: { 'x-api-key': att.key } })).statusCode, 403, `${url} with an attribute key`);
  }
  t.equal((await on.inject({ method: 'GET', url: '/metrics', headers: { 'x-api-key': admin.key } })).statusCode, 200, '/metrics with an admin key');
  t.equal((await on.inject({ method: 'GET', url: '/docs/json', headers: { 'x-api-key': admin.key } })).statusCode, 200, '/docs/json with an admin key');
  t.equal((await on.inject({ method: 'GET', url: '/livez' })).statusCode, 200, 'health stays public');
  const off = (await buildTestApp(t, { keys: [admin.entry] })).app;
  t.equal((await off.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'default: /metrics public');
});

t.test('the keys file is reloaded while serving: revocation needs no restart; a broken file keeps the keys', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'keys.json');
  const a = generateKey('a', ['admin']);
  const b = generateKey('b', ['admin']);
  fs.writeFileSync(file, JSON.stringify({ keys: [a.entry] }));
  const server = await startServer(testConfig({ PORT: '0', DFG_API_KEYS_FILE: file }), pino({ level: 'silent' }));
  t.teardown(() => server.close());
  await server.services.whenReady;
  const status = async (key: string) => (await fetch(`${server.address}/v1/algorithms`, { headers: { authorization: `Bearer ${key}` } })).status;
  t.equal(await status(a.key), 200);
  t.equal(await status(b.key), 401);
  fs.writeFileSync(file, JSON.stringify({ keys: [b.entry] }));
  let revoked = false;
  for (let i = 0; i < 40 && !revoked; i++) {
    await new Promise((r) => setTimeout(r, 100));
    revoked = (await status(a.key)) === 401;
  }
  t.ok(revoked, 'key a revoked without a restart');
  t.equal(await status(b.key), 200, 'key b added');
  fs.writeFileSync(file, '{ not json');
  t.equal(server.reloadKeys(), false, 'a broken file is refused');
  t.equal(await status(b.key), 200, 'the previous keys stay');
  fs.writeFileSync(file, JSON.stringify({ keys: [] }));
  t.equal(server.reloadKeys(), true);
  t.equal(await status(b.key), 401, 'every key revoked: locked, not opened');
  t.equal((await fetch(`${server.address}/v1/algorithms`)).status, 401, 'no key: still 401');
});

t.test("onnxruntime's empty debug logs: dead processes' swept at start, this one's at close; content kept", async (t) => {
  const dir = tempDir();
  const dead = deadPid();
  const touch = (name: string, body = '') => fs.writeFileSync(path.join(dir, name), body);
  touch(`mat-debug-${dead}.log`);
  touch(`mat-debug-${dead + 1000000}.log`, 'traced');
  touch(`mat-debug-${process.pid}.log`);
  touch('mat-debug-x.log');
  t.same(removeOnnxDebugLogs({ own: false, dir }), [`mat-debug-${dead}.log`]);
  t.same(removeOnnxDebugLogs({ own: true, dir }), [`mat-debug-${process.pid}.log`]);
  t.same(fs.readdirSync(dir).sort(), [`mat-debug-${dead + 1000000}.log`, 'mat-debug-x.log'].sort());
});

t.test('crash leftovers: temporary files of dead processes and old unreferenced blobs are swept', async (t) => {
  const dir = tempDir();
  const dead = deadPid();
  const sha = (c: string) => c.repeat(64);
  fs.mkdirSync(path.join(dir, 'index'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'blobs', 'aa'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'blobs', 'bb'), { recursive: true });
  const put = (rel: string, ageMs = 0) => {
    const f = path.join(dir, rel);
    fs.writeFileSync(f, 'x');
    const when = new Date(Date.now() - ageMs);
    fs.utimesSync(f, when, when);
  };
  put(`index/hnsw.bin.tmp-${dead}-0123abcd`);
  put(`blobs/aa/${sha('a')}.tmp-${dead}-89abcdef`);
  put(`index/hnsw.bin.tmp-${process.pid}-0123abcd`);
  put(`blobs/aa/${sha('a')}`, 3_600_000);
  put(`blobs/bb/${sha('b')}`, 3_600_000);
  put(`blobs/bb/${sha('b').slice(0, 63)}c`, 1000);
  put('gallery.sqlite', 3_600_000);
  const res = await sweepCrashLeftovers(dir, { isReferenced: (s) => s === sha('a') });
  t.same(res, { tempFiles: 2, orphanBlobs: 1 });
  t.ok(fs.existsSync(path.join(dir, `index/hnsw.bin.tmp-${process.pid}-0123abcd`)), "a live process's temp file stays");
  t.ok(fs.existsSync(path.join(dir, `blobs/aa/${sha('a')}`)), 'a referenced blob stays');
  t.notOk(fs.existsSync(path.join(dir, `blobs/bb/${sha('b')}`)), 'an old orphan blob is removed');
  t.ok(fs.existsSync(path.join(dir, `blobs/bb/${sha('b').slice(0, 63)}c`)), 'a young orphan blob stays (an enrolment may be writing it)');
  t.ok(fs.existsSync(path.join(dir, 'gallery.sqlite')), 'the store is untouched');
});

t.test('URL items: query strings and fragments never reach job results or sample names', async (t) => {
  t.equal(displayName('https://cdn.example.com/a/b.png?X-Amz-Signature=abc&X-Amz-Credential=k#frag'), 'https://cdn.example.com/a/b.png');
  t.equal(displayName('http://h:8080/x.jpg?sig=1'), 'http://h:8080/x.jpg');
  t.equal(displayName('set/a?b.png'), 'set/a?b.png', 'archive entry names are unchanged');
});
