/**
 * `npm run fuzz -- [--requests N] [--seed S] [--concurrency C]`: a hostile-input run against a live
 * `dfg serve` on loopback. Inputs are generated here from the seed: mutations of valid images of
 * every accepted format, decompression bombs, SVG/PDF, malformed multipart and JSON, boundary
 * query values, traversal ids, slow clients. Asserts 0 5xx (503 shedding aside), 0 crashes, 0 hung
 * requests, 0 gallery changes beyond what accepted requests reported, bounded RSS; prints a summary
 * and exits 1 when any fails. `runFuzz` is the same run for the test suite.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

export interface FuzzOptions {
  requests: number;
  seed: number;
  concurrency?: number;
  /** Largest server RSS allowed, bytes (default 1.5 GiB). */
  maxRssBytes?: number;
  /** A request not settled after this long is hung (default 20 s). */
  hangMs?: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  requests: number;
  seconds: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  serverErrors: Array<{ kind: string; status: number; body: string }>;
  uncoded: Array<{ kind: string; status: number; body: string }>;
  hung: number;
  crashed: boolean;
  unintendedWrites: number;
  gallery: { algorithms: number; samples: number; expectedAlgorithms: number; expectedSamples: number };
  rssStartBytes: number;
  rssPeakBytes: number;
  maxRssBytes: number;
  ok: boolean;
}

/** mulberry32: a small seeded generator, enough for choosing and mutating inputs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

interface Service {
  child: ChildProcess;
  url: string;
  port: number;
  exited: boolean;
}

async function startService(gallery: string): Promise<Service> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', DFG_GALLERY_DIR: gallery, DFG_MODELS_DIR: path.join(ROOT, 'models'),
      DFG_THREADS: '1', LOG_LEVEL: 'info', DFG_API_KEYS_FILE: '', DFG_AUTO_CALIBRATE_MS: '0',
      DFG_HEADERS_TIMEOUT_MS: '1000', DFG_REQUEST_TIMEOUT_MS: '5000', DFG_MAX_PIXELS: '4000000',
      DFG_UPLOAD_BUDGET_BYTES: String(64 * 1024 * 1024), DFG_MAX_IMAGE_BYTES: String(4 * 1024 * 1024), DFG_MAX_FILES: '8',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const svc: Service = { child, url: '', port: 0, exited: false };
  child.once('exit', () => { svc.exited = true; });
  let out = '';
  svc.url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out.slice(-2000)}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (svc.url) return;
      out += d.toString();
      const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service exited ${code}:\n${out.slice(-2000)}`)); });
  });
  // Keep draining its output (a full pipe would stall the service).
  child.stdout!.resume();
  svc.port = Number(new URL(svc.url).port);
  for (let i = 0; i < 900; i++) {
    const r = await fetch(`${svc.url}/readyz`).catch(() => null);
    if (r?.status === 200) return svc;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('service not ready');
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Valid seed images of every accepted format, with texture so that they embed. */
async function seedImages(r: Rand): Promise<Array<{ format: string; bytes: Buffer }>> {
  const w = 96;
  const raw = Buffer.alloc(w * w * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(r() * 256);
  const base = () => sharp(raw, { raw: { width: w, height: w, channels: 3 } });
  return [
    { format: 'png', bytes: await base().png().toBuffer() },
    { format: 'jpeg', bytes: await base().jpeg({ quality: 85 }).toBuffer() },
    { format: 'webp', bytes: await base().webp({ quality: 80 }).toBuffer() },
    { format: 'gif', bytes: await base().gif().toBuffer() },
    { format: 'tiff', bytes: await base().tiff().toBuffer() },
    { format: 'avif', bytes: await base().avif({ quality: 50 }).toBuffer() },
  ];
}

function mutate(r: Rand, src: Buffer): Buffer {
  const b = Buffer.from(src);
  switch (int(r, 0, 6)) {
    case 0: { for (let i = int(r, 1, 16); i > 0; i--) b[int(r, 0, b.length - 1)] ^= 1 << int(r, 0, 7); return b; }
    case 1: return b.subarray(0, int(r, 0, b.length - 1));
    case 2: { const at = int(r, 0, b.length); return Buffer.concat([b.subarray(0, at), Buffer.alloc(int(r, 1, 4096), int(r, 0, 255)), b.subarray(at)]); }
    case 3: { for (let i = 0; i < Math.min(64, b.length); i++) if (r() < 0.3) b[i] = int(r, 0, 255); return b; }
    case 4: { const at = int(r, 0, b.length - 1); return Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(r, 1, 2048)), b.subarray(at)]); }
    case 5: return Buffer.concat([b, b]);
    default: { for (let i = 0; i < 32; i++) { const at = int(r, 0, b.length - 4); b.writeUInt32BE(pick(r, [0, 0xffffffff, 0x7fffffff, 0x80000000, 1]), at); } return b; }
  }
}

/** A PNG whose header claims `w`x`h` over a tiny IDAT (a decompression bomb by its header). */
function pngBomb(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(65536))), chunk('IEND', Buffer.alloc(0))]);
}

const SVG = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%"/></svg>');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF');

function multipartBody(parts: Array<{ name: string; filename?: string; data: Buffer; type?: string }>, boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = p.filename !== undefined ? `form-data; name="${p.name}"; filename="${p.filename}"` : `form-data; name="${p.name}"`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.filename !== undefined ? `Content-Type: ${p.type ?? 'application/octet-stream'}\r\n` : ''}\r\n`), p.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

interface Req {
  kind: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Raw bytes written to a socket instead of fetch (framing abuse, slow clients). */
  raw?: { chunks: Buffer[]; gapMs: number };
  /** An accepted enrolment creates samples; an accepted registration an algorithm. */
  writes?: 'samples' | 'algorithm';
}

const QUERY_VALUES = ['0', '-1', '1e20', '1e300', 'Infinity', '-Infinity', 'NaN', '1.5', '0x10', '', '%00', '9007199254740993', 'a'.repeat(5000), '[]', '{}', 'null', '500', '501', '1000000000', '1000000001'];
const BAD_IDS = ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%00', 'a'.repeat(65), 'alg_' + 'x'.repeat(300), '%E2%80%AE', 'CON', '.', '%2e%2e', '\u0000'];
const JSON_BODIES: Array<string | Buffer> = [
  '{', '{"name":', 'null', '[]', '"str"', '1e999', '{"__proto__":{"polluted":1},"name":"p","forgeryType":"EFS","architecture":"GAN"}',
  '{"constructor":{"prototype":{"x":1}}}', '{"name":"' + 'x'.repeat(300) + '","forgeryType":"EFS","architecture":"GAN"}',
  '{"name":"a\u202eb","forgeryType":"EFS","architecture":"GAN"}', '{"name":42,"forgeryType":"EFS","architecture":"GAN"}',
  '{"name":["x"],"forgeryType":"EFS","architecture":"GAN"}', '{"name":"ok","forgeryType":"NOPE","architecture":"GAN"}',
  '{"name":"ok","forgeryType":"EFS","architecture":"GAN","threshold":1e309}', '{"name":"ok","forgeryType":"EFS","architecture":"GAN","extra":1}',
  '['.repeat(10000) + ']'.repeat(10000), Buffer.from([0xff, 0xfe, 0x00, 0x7b]), '{"name":"\ud800","forgeryType":"EFS","architecture":"GAN"}',
  '{"source":{"type":"directory","path":"/etc"}}', '{"source":{"type":"urls","urls":["http://169.254.169.254/latest","http://[::a9fe:a9fe]/x.png","file:///etc/passwd"]}}',
  '{"modelId":"../../x"}', JSON.stringify({ name: 'x', forgeryType: 'EFS', architecture: 'GAN', description: 'd'.repeat(5000) }),
];

function generate(r: Rand, seeds: Array<{ format: string; bytes: Buffer }>, algId: string): Req {
  const boundary = `fz${Math.floor(r() * 1e9).toString(36)}`;
  const mp = (parts: Parameters<typeof multipartBody>[0]) => ({ headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipartBody(parts, boundary) });
  const roll = r();
  if (roll < 0.32) {
    const seed = pick(r, seeds);
    const data = r() < 0.85 ? mutate(r, seed.bytes) : seed.bytes;
    const route = pick(r, ['/v1/attribute', '/v1/attribute', '/v1/attribute/batch', `/v1/algorithms/${algId}/samples`]);
    const field = route === '/v1/attribute' ? 'file' : 'files';
    return { kind: `image-${seed.format}`, method: 'POST', path: route, ...mp([{ name: field, filename: `m.${seed.format}`, data }]), writes: route.includes('/samples') ? 'samples' : undefined };
  }
  if (roll < 0.40) {
    const data = pick(r, [pngBomb(100_000, 100_000), pngBomb(65535, 65535), pngBomb(2001, 2001), SVG, PDF, Buffer.alloc(0), Buffer.from('GIF89a\xff\xff\xff\xff', 'latin1')]);
    const route = pick(r, ['/v1/attribute', `/v1/algorithms/${algId}/samples`]);
    return { kind: 'bomb', method: 'POST', path: route, ...mp([{ name: route === '/v1/attribute' ? 'file' : 'files', filename: 'b.png', data }]), writes: route.includes('/samples') ? 'samples' : undefined };
  }
  if (roll < 0.55) {
    const seed = pick(r, seeds).bytes;
    const variants: Array<() => Req> = [
      () => ({ kind: 'multipart-wrong-boundary', method: 'POST', path: '/v1/attribute', headers: { 'content-type': 'multipart/form-data; boundary=other' }, body: multipartBody([{ name: 'file', filename: 'a.png', data: seed }], boundary) }),
      () => ({ kind: 'multipart-no-boundary', method: 'POST', path: '/v1/attribute', headers: { 'content-type': 'multipart/form-data' }, body: seed }),
      () => ({ kind: 'multipart-unterminated', method: 'POST', path: '/v1/attribute/batch', headers: mp([]).headers, body: Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n`) }),
      () => ({ kind: 'multipart-no-file', method: 'POST', path: '/v1/attribute', ...mp([{ name: 'x', data: Buffer.from('y') }]) }),
      () => ({ kind: 'multipart-too-many-files', method: 'POST', path: '/v1/attribute/batch', ...mp(Array.from({ length: 12 }, (_, i) => ({ name: 'files', filename: `${i}.png`, data: seed }))) }),
      () => ({ kind: 'multipart-many-fields', method: 'POST', path: '/v1/attribute', ...mp(Array.from({ length: 60 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('v') }))) }),
      () => ({ kind: 'multipart-huge-header', method: 'POST', path: '/v1/attribute', ...mp([{ name: 'file', filename: 'x'.repeat(70_000), data: seed }]) }),
      () => ({ kind: 'multipart-wrong-type', method: 'POST', path: '/v1/attribute', headers: { 'content-type': pick(r, ['text/plain', 'application/json', 'image/png', 'multipart/mixed; boundary=x', 'application/x-www-form-urlencoded']) }, body: seed }),
      () => ({ kind: 'multipart-oversize-file', method: 'POST', path: '/v1/attribute', ...mp([{ name: 'file', filename: 'big.png', data: Buffer.concat([seed, Buffer.alloc(5 * 1024 * 1024, 1)]) }]) }),
      () => ({ kind: 'archive-garbage', method: 'POST', path: pick(r, ['/v1/jobs/audits', '/v1/jobs/enrolments']), ...mp([{ name: 'algorithmId', data: Buffer.from(algId) }, { name: 'archive', filename: 'a.zip', data: mutate(r, seed) }]) }),
      () => ({ kind: 'declared-too-large', method: 'POST', path: '/v1/attribute/batch', raw: { chunks: [Buffer.from(`POST /v1/attribute/batch HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n--${boundary}\r\n`)], gapMs: 0 } }),
      () => ({ kind: 'length-mismatch', method: 'POST', path: '/v1/attribute', raw: { chunks: [Buffer.from(`POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10\r\nConnection: close\r\n\r\n`), multipartBody([{ name: 'file', filename: 'a.png', data: seed }], boundary)], gapMs: 0 } }),
      () => ({ kind: 'bad-chunked', method: 'POST', path: '/v1/attribute', raw: { chunks: [Buffer.from(`POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nxx\r\n0\r\n\r\n`)], gapMs: 0 } }),
    ];
    return pick(r, variants)();
  }
  if (roll < 0.70) {
    const body = pick(r, JSON_BODIES);
    const target = pick(r, [
      { method: 'POST', path: '/v1/algorithms', writes: 'algorithm' as const },
      { method: 'PATCH', path: `/v1/algorithms/${algId}` },
      { method: 'POST', path: '/v1/jobs/audits' },
      { method: 'POST', path: '/v1/jobs/reembeddings' },
      { method: 'PUT', path: '/v1/model' },
      { method: 'POST', path: '/v1/calibration' },
    ]);
    // PATCH on the fuzz's own algorithm may rename it: allowed, it is not a gallery change counted here.
    return { kind: 'json', ...target, headers: { 'content-type': pick(r, ['application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1']) }, body };
  }
  if (roll < 0.85) {
    const route = pick(r, ['/v1/algorithms', `/v1/algorithms/${algId}/samples`, '/v1/jobs', '/v1/attribute']);
    const name = pick(r, ['limit', 'offset', 'k', 'topM', 'threshold', 'limit[]', 'offset[0]', '__proto__']);
    const v = pick(r, QUERY_VALUES);
    if (route === '/v1/attribute') {
      return { kind: 'query', method: 'POST', path: `${route}?${encodeURIComponent(name)}=${encodeURIComponent(v)}`, ...mp([{ name: 'file', filename: 'a.png', data: pick(r, seeds).bytes }]) };
    }
    return { kind: 'query', method: 'GET', path: `${route}?${encodeURIComponent(name)}=${encodeURIComponent(v)}${r() < 0.3 ? `&${name}=${encodeURIComponent(pick(r, QUERY_VALUES))}` : ''}` };
  }
  if (roll < 0.97) {
    const id = pick(r, BAD_IDS);
    const p = pick(r, [`/v1/algorithms/${id}`, `/v1/algorithms/${id}/samples`, `/v1/jobs/${id}`, `/v1/jobs/${id}/results`, `/v1/algorithms/${algId}/samples/${id}`, `/${id}`, `/docs/${id}`]);
    return { kind: 'ids', method: pick(r, ['GET', 'GET', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']), path: p };
  }
  // Slow clients: a header byte at a time, past the header timeout; the server must drop them.
  return { kind: 'slow-client', method: 'GET', path: '/livez', raw: { chunks: [...'GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(30)].map((c) => Buffer.from(c)), gapMs: 60 } };
}

interface Outcome { status: number; body: string; hung: boolean }

async function send(svc: Service, req: Req, hangMs: number): Promise<Outcome> {
  if (req.raw) return sendRaw(svc.port, req.raw, hangMs);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), hangMs);
  try {
    const res = await fetch(`${svc.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body as never, signal: ac.signal, redirect: 'manual' });
    const body = await res.text();
    return { status: res.status, body: body.slice(0, 500), hung: false };
  } catch (err) {
    if (ac.signal.aborted) return { status: 0, body: 'hung', hung: true };
    // The server closed the connection (refused a body it would not read): no response to judge.
    return { status: -1, body: (err as Error).message, hung: false };
  } finally {
    clearTimeout(timer);
  }
}

function sendRaw(port: number, raw: NonNullable<Req['raw']>, hangMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (o: Outcome) => { if (!done) { done = true; clearTimeout(timer); socket.destroy(); resolve(o); } };
    const timer = setTimeout(() => finish({ status: 0, body: 'hung', hung: true }), hangMs);
    socket.on('data', (d) => { data += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      finish({ status: m ? Number(m[1]) : -1, body: data.split('\r\n\r\n').slice(1).join('').slice(0, 500), hung: false });
    });
    let i = 0;
    const next = () => {
      if (done || socket.destroyed) return;
      if (i >= raw.chunks.length) return;
      socket.write(raw.chunks[i++]!);
      if (raw.gapMs > 0) setTimeout(next, raw.gapMs); else next();
    };
    socket.once('connect', next);
  });
}

function parseJson(text: string): { code?: unknown; created?: unknown } | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as { code?: unknown; created?: unknown }) : null;
  } catch {
    return null;
  }
}

async function galleryCounts(url: string, algId: string): Promise<{ algorithms: number; samples: number }> {
  const algs = await (await fetch(`${url}/v1/algorithms?limit=1`)).json() as { total: number };
  const samples = await (await fetch(`${url}/v1/algorithms/${algId}/samples?limit=1`)).json() as { total: number };
  return { algorithms: algs.total, samples: samples.total };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => {});
  const r = rng(opts.seed);
  const gallery = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-fuzz-'));
  const svc = await startService(gallery);
  const maxRss = opts.maxRssBytes ?? 1536 * 1024 * 1024;
  const hangMs = opts.hangMs ?? 20_000;
  const report: FuzzReport = {
    requests: 0, seconds: 0, byStatus: {}, byKind: {}, serverErrors: [], uncoded: [], hung: 0, crashed: false, unintendedWrites: 0,
    gallery: { algorithms: 0, samples: 0, expectedAlgorithms: 0, expectedSamples: 0 }, rssStartBytes: 0, rssPeakBytes: 0, maxRssBytes: maxRss, ok: false,
  };
  try {
    const seeds = await seedImages(r);
    const alg = await (await fetch(`${svc.url}/v1/algorithms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fuzz-target', forgeryType: 'EFS', architecture: 'GAN' }) })).json() as { id: string };
    const before = await galleryCounts(svc.url, alg.id);
    let expectedAlgorithms = before.algorithms;
    let expectedSamples = before.samples;
    report.rssStartBytes = rssOf(svc.child.pid!);
    report.rssPeakBytes = report.rssStartBytes;
    const sampler = setInterval(() => { report.rssPeakBytes = Math.max(report.rssPeakBytes, rssOf(svc.child.pid!)); }, 100);
    const t0 = performance.now();
    const reqs = Array.from({ length: opts.requests }, () => generate(r, seeds, alg.id));
    let next = 0;
    const worker = async () => {
      while (next < reqs.length && !svc.exited) {
        const req = reqs[next++]!;
        const o = await send(svc, req, hangMs);
        report.requests++;
        report.byStatus[o.status] = (report.byStatus[o.status] ?? 0) + 1;
        report.byKind[req.kind] = (report.byKind[req.kind] ?? 0) + 1;
        if (o.hung) report.hung++;
        if (o.status >= 500 && o.status !== 503) report.serverErrors.push({ kind: req.kind, status: o.status, body: o.body });
        const parsed = parseJson(o.body);
        // Node itself answers a slow or unparseable request (408, 400, 413 from its HTTP parser) before Fastify sees it.
        const fromNode = req.raw !== undefined && (o.status === 408 || o.status === 400 || o.status === 413 || o.status === 431);
        if (o.status >= 400 && !fromNode && req.method !== 'HEAD' && !(typeof parsed?.code === 'string' && parsed.code.startsWith('DFG_ERR_'))) {
          report.uncoded.push({ kind: req.kind, status: o.status, body: o.body.slice(0, 200) });
        }
        if (req.writes === 'samples' && (o.status === 201 || o.status === 200) && typeof parsed?.created === 'number') expectedSamples += parsed.created;
        if (req.writes === 'algorithm' && o.status === 201) expectedAlgorithms++;
        if (report.requests % 1000 === 0) log(`${report.requests} requests, ${Math.round((performance.now() - t0) / 1000)} s`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
    clearInterval(sampler);
    report.seconds = (performance.now() - t0) / 1000;
    report.crashed = svc.exited;
    if (!svc.exited) {
      const after = await galleryCounts(svc.url, alg.id);
      report.gallery = { ...after, expectedAlgorithms, expectedSamples };
      report.unintendedWrites = Math.abs(after.algorithms - expectedAlgorithms) + Math.abs(after.samples - expectedSamples);
    }
  } finally {
    if (!svc.exited) svc.child.kill('SIGKILL');
    fs.rmSync(gallery, { recursive: true, force: true });
  }
  report.ok = report.serverErrors.length === 0 && report.uncoded.length === 0 && report.hung === 0 && !report.crashed && report.unintendedWrites === 0 && report.rssPeakBytes <= maxRss;
  return report;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} expects a non-negative integer`);
  return v;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await runFuzz({ requests: arg('requests', 2000), seed: arg('seed', 1), concurrency: arg('concurrency', 8), log: (l) => console.error(l) });
  const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
  console.log(`fuzz: ${report.requests} requests in ${report.seconds.toFixed(1)} s (seed ${arg('seed', 1)})`);
  console.log(`  by status: ${JSON.stringify(report.byStatus)}`);
  console.log(`  by kind:   ${JSON.stringify(report.byKind)}`);
  console.log(`  5xx (503 aside): ${report.serverErrors.length}   uncoded 4xx: ${report.uncoded.length}   hung: ${report.hung}   crashed: ${report.crashed}`);
  console.log(`  gallery: ${report.gallery.algorithms} algorithms / ${report.gallery.samples} samples, expected ${report.gallery.expectedAlgorithms} / ${report.gallery.expectedSamples}: unintended writes ${report.unintendedWrites}`);
  console.log(`  server RSS: ${mb(report.rssStartBytes)} at start, peak ${mb(report.rssPeakBytes)} (limit ${mb(report.maxRssBytes)})`);
  for (const e of [...report.serverErrors, ...report.uncoded].slice(0, 10)) console.log(`  ! ${e.kind} ${e.status}: ${e.body}`);
  console.log(report.ok ? 'PASS' : 'FAIL');
  process.exit(report.ok ? 0 : 1);
}
