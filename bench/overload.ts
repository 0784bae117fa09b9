/**
 * `npm run bench -- overload`: goodput under overload. One `dfg serve` child; closed-loop clients
 * POST /v1/attribute (a 256x256 JPEG) for a fixed time, first at the connections that saturate the
 * service (the baseline), then at 4x those connections, in the same run, twice: shed requests (503)
 * retried at once (the worst case: no client honours Retry-After), then after Retry-After; the
 * three phases take turns (DFG_BENCH_ROUNDS, default 3) so that other load on the machine weighs on
 * each alike. Printed side
 * by side: served attributions/s, p99 of served requests, /livez and /readyz latency (probed every
 * 100 ms meanwhile, from a thread of their own), the server's RSS.
 *
 * Targets (issue 12): goodput at 4x >= 90% of the baseline, served p99 within 2x, health probes
 * under 100 ms, RSS bounded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { jpeg, generatorImage } from '../test/helpers/images.js';
import { multipart } from '../test/helpers/multipart.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export interface OverloadOptions {
  /** Inference threads of the server (default: 2). */
  threads?: number;
  /** Connections of the baseline (default: 2 per thread, what keeps every worker busy). */
  connections?: number;
  seconds?: number;
  /** The phases take turns this many times, each for seconds / rounds (default 3). */
  rounds?: number;
}

interface Phase {
  connections: number;
  served: number;
  /** Shed requests per second. */
  shed: number;
  other: number;
  goodput: number;
  p50: number;
  p99: number;
  livezP99: number;
  livezP50: number;
  readyzP99: number;
  readyzP50: number;
  rssPeakMb: number;
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** DFG_BENCH_CPU_PROF=DIR: the server runs with --cpu-prof into DIR (one .cpuprofile per thread, written when it stops). */
const CPU_PROF_DIR = process.env.DFG_BENCH_CPU_PROF;

async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const cli = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');
  const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR)}`] : [];
  const child = spawn(process.execPath, [...profile, cli, 'serve'], { env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
      if (m) { child.stdout!.off('data', onData); child.stdout!.resume(); resolve(m[1]!); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  for (let i = 0; i < 900; i++) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) return { child, url };
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('server not ready');
}

/** What one slice of a phase saw, before its statistics are taken over every round. */
interface Slice {
  seconds: number;
  lat: number[];
  shed: number;
  other: number;
  livez: number[];
  readyz: number[];
  rssPeak: number;
}

async function phase(url: string, pid: number, connections: number, seconds: number, body: { payload: Buffer; headers: Record<string, string> }, honourRetryAfter = false): Promise<Slice> {
  const lat: number[] = [];
  let shed = 0;
  let other = 0;
  const end = performance.now() + seconds * 1000;
  let rssPeak = rssOf(pid);
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssOf(pid)); }, 100);
  // Probes from a thread of their own (probe-worker.ts): their time is the server's, not this event loop's.
  const prober = new Promise<Record<'livez' | 'readyz', number[]>>((resolve, reject) => {
    const w = new Worker(new URL('./probe-worker.js', import.meta.url), { workerData: { url, seconds } });
    w.once('message', (m: Record<'livez' | 'readyz', number[]>) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  });
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/v1/attribute`, { method: 'POST', headers: body.headers, body: new Uint8Array(body.payload) });
        await res.arrayBuffer();
        if (res.status === 200) lat.push(performance.now() - t0);
        else if (res.status === 503) {
          shed++;
          // A well-behaved client waits as told (but never past the end of the phase).
          if (honourRetryAfter) await new Promise((r) => setTimeout(r, Math.min(Number(res.headers.get('retry-after') ?? 1) * 1000, Math.max(0, end - performance.now()))));
        } else other++;
      } catch {
        // A shed upload's connection is closed before its body is read: counted as shed.
        shed++;
      }
    }
  }));
  const probes = await prober;
  clearInterval(sampler);
  return { seconds, lat, shed, other, livez: probes.livez, readyz: probes.readyz, rssPeak };
}

/** One phase's figures over all its slices. */
function summarise(connections: number, slices: Slice[]): Phase {
  const all = (pick: (s: Slice) => number[]) => slices.flatMap(pick).sort((a, b) => a - b);
  const sum = (pick: (s: Slice) => number) => slices.reduce((n, s) => n + pick(s), 0);
  const lat = all((s) => s.lat);
  const lz = all((s) => s.livez);
  const rz = all((s) => s.readyz);
  const seconds = sum((s) => s.seconds);
  return {
    connections, served: lat.length, shed: sum((s) => s.shed) / seconds, other: sum((s) => s.other), goodput: lat.length / seconds, p50: pct(lat, 0.5), p99: pct(lat, 0.99),
    livezP99: pct(lz, 0.99), livezP50: pct(lz, 0.5), readyzP99: pct(rz, 0.99), readyzP50: pct(rz, 0.5), rssPeakMb: Math.max(...slices.map((s) => s.rssPeak)) / 1024 / 1024,
  };
}

export async function runOverloadBench(opts: OverloadOptions = {}): Promise<Array<Record<string, string>>> {
  const threads = opts.threads ?? 2;
  const base = opts.connections ?? 2 * threads;
  const seconds = opts.seconds ?? 15;
  const rounds = Math.max(1, Math.floor(opts.rounds ?? 3));
  const galleryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-bench-overload-'));
  const env = {
    DFG_GALLERY_DIR: galleryDir, DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: String(threads), DFG_AUTO_CALIBRATE_MS: '0',
    // Admission: as many uploads in flight as the baseline's connections keep busy.
    DFG_MAX_INFLIGHT_UPLOADS: String(base),
    ...(process.env.DFG_MODEL ? { DFG_MODEL: process.env.DFG_MODEL } : {}),
  };
  const { child, url } = await startServer({ ...env, LOG_LEVEL: 'info' } as Record<string, string>);
  try {
    // A small gallery so that attributions search something.
    const alg = await (await fetch(`${url}/v1/algorithms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', forgeryType: 'EFS', architecture: 'GAN' }) })).json() as { id: string };
    for (let i = 0; i < 4; i++) {
      const files = await Promise.all(Array.from({ length: 5 }, async (_, s) => ({ name: 'files', filename: `${s}.png`, data: await generatorImage('nearest2', i * 10 + s) })));
      const form = multipart(files);
      await fetch(`${url}/v1/algorithms/${alg.id}/samples`, { method: 'POST', headers: form.headers, body: new Uint8Array(form.payload) });
    }
    const body = multipart([{ name: 'file', filename: 'probe.jpg', data: await jpeg(256, 256, 77, 90) }]);
    await phase(url, child.pid!, base, 3, body); // warm-up
    // The three phases take turns, `rounds` times, each for its share of `seconds`: a machine whose
    // other load changes during the run (a shared one) then weighs on all three alike.
    const slices: Slice[][] = [[], [], []];
    for (let r = 0; r < rounds; r++) {
      slices[0]!.push(await phase(url, child.pid!, base, seconds / rounds, body));
      slices[1]!.push(await phase(url, child.pid!, 4 * base, seconds / rounds, body));
      slices[2]!.push(await phase(url, child.pid!, 4 * base, seconds / rounds, body, true));
    }
    const a = summarise(base, slices[0]!);
    const b = summarise(4 * base, slices[1]!);
    const c = summarise(4 * base, slices[2]!);
    const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const r2 = (x: number, y: number) => f(x / y, 2);
    const rows: Array<Record<string, string>> = [
      { metric: 'connections', saturated: String(a.connections), '4x, retry at once': String(b.connections), 'ratio': '4.00', '4x, Retry-After honoured': String(c.connections), 'ratio ': '4.00', target: '' },
      { metric: 'served attributions/s', saturated: f(a.goodput), '4x, retry at once': f(b.goodput), 'ratio': r2(b.goodput, a.goodput), '4x, Retry-After honoured': f(c.goodput), 'ratio ': r2(c.goodput, a.goodput), target: '>= 0.90' },
      { metric: 'shed (503) /s', saturated: f(a.shed), '4x, retry at once': f(b.shed), 'ratio': '', '4x, Retry-After honoured': f(c.shed), 'ratio ': '', target: '' },
      { metric: 'served p50 ms', saturated: f(a.p50), '4x, retry at once': f(b.p50), 'ratio': r2(b.p50, a.p50), '4x, Retry-After honoured': f(c.p50), 'ratio ': r2(c.p50, a.p50), target: '' },
      { metric: 'served p99 ms', saturated: f(a.p99), '4x, retry at once': f(b.p99), 'ratio': r2(b.p99, a.p99), '4x, Retry-After honoured': f(c.p99), 'ratio ': r2(c.p99, a.p99), target: '<= 2.00' },
      { metric: '/livez p99 (p50) ms', saturated: `${f(a.livezP99)} (${f(a.livezP50)})`, '4x, retry at once': `${f(b.livezP99)} (${f(b.livezP50)})`, 'ratio': '', '4x, Retry-After honoured': `${f(c.livezP99)} (${f(c.livezP50)})`, 'ratio ': '', target: '< 100' },
      { metric: '/readyz p99 (p50) ms', saturated: `${f(a.readyzP99)} (${f(a.readyzP50)})`, '4x, retry at once': `${f(b.readyzP99)} (${f(b.readyzP50)})`, 'ratio': '', '4x, Retry-After honoured': `${f(c.readyzP99)} (${f(c.readyzP50)})`, 'ratio ': '', target: '< 100' },
      { metric: 'server RSS peak MB', saturated: f(a.rssPeakMb, 0), '4x, retry at once': f(b.rssPeakMb, 0), 'ratio': r2(b.rssPeakMb, a.rssPeakMb), '4x, Retry-After honoured': f(c.rssPeakMb, 0), 'ratio ': r2(c.rssPeakMb, a.rssPeakMb), target: 'bounded' },
      { metric: 'other statuses', saturated: String(a.other), '4x, retry at once': String(b.other), 'ratio': '', '4x, Retry-After honoured': String(c.other), 'ratio ': '', target: '0' },
    ];
    return rows;
  } finally {
    // A profiled server stops gracefully, so that its profiles are written.
    if (CPU_PROF_DIR) await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
    else child.kill('SIGKILL');
    fs.rmSync(galleryDir, { recursive: true, force: true });
  }
}
