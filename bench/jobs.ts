/**
 * Enrolment throughput through batch jobs against the raw pipeline, on the same cores, in one run:
 * - raw embed: the embedder's thread pool fed directly (decode + preprocess + ONNX);
 * - raw enrol: enrolImages in chunks, as `dfg enrol` does (embed + one store commit per chunk);
 * - one `dfg worker` process, then two, processing an archive submitted through the job client
 *   (chunks in Redis, embedding in the workers, commits to the shared SQLite store).
 * Every run enrols into a fresh algorithm, so dedupe never skips work.
 *
 * Each setup runs `repeats` times and reports its best run: a shared host makes single runs noisy.
 *
 * Run: `npm run build && node dist/bench/jobs.js [images] [side] [repeats]` (needs Redis at REDIS_URL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { Redis } from 'ioredis';
import { loadConfig, threadCount, type Config } from '../src/config/index.js';
import { startServices } from '../src/serving/services.js';
import { enrolImages } from '../src/use-cases/enrol.js';
import { JobClient } from '../src/jobs/client.js';
import { jpeg } from '../test/helpers/images.js';
import { zip } from '../test/helpers/jobs.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

export interface JobsBenchRow {
  setup: string;
  images: string;
  seconds: string;
  imagesPerSecond: string;
  vsRawEmbed: string;
  /** CPU time spent per image (all threads of the process(es) doing the work): robust to a noisy host. */
  cpuMsPerImage: string;
  note: string;
}

/** CPU milliseconds used so far by processes (Linux /proc; null elsewhere). */
function cpuMsOf(pids: number[]): number | null {
  try {
    let ticks = 0;
    for (const pid of pids) {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    }
    return (ticks / CLK_TCK) * 1000;
  } catch {
    return null;
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface JobsBenchOptions {
  /** Images per run (default 384). */
  images?: number;
  /** Side of the square JPEGs (default 512). */
  side?: number;
  /** Runs per setup; the best is reported (default 3: the host may be shared and noisy). */
  repeats?: number;
  /** Progress lines (default stderr). */
  progress?: (line: string) => void;
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('"msg":"worker ready"')) { clearInterval(timer); resolve(); }
      if (child.exitCode !== null) { clearInterval(timer); reject(new Error(`worker exited:\n${out}`)); }
    }, 50);
  });
  return {
    child,
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

export async function runJobsBench(opts: JobsBenchOptions = {}): Promise<JobsBenchRow[]> {
  const n = opts.images ?? 384;
  const side = opts.side ?? 512;
  const repeats = Math.max(1, opts.repeats ?? 3);
  /** Runs fn `repeats` times; fn returns wall seconds and CPU ms. Best wall time, and the lowest CPU per run. */
  const best = async (fn: () => Promise<{ s: number; cpuMs: number | null }>): Promise<{ best: number; all: number[]; cpuMs: number | null }> => {
    const all: number[] = [];
    let cpuMs: number | null = null;
    for (let i = 0; i < repeats; i++) {
      const r = await fn();
      all.push(r.s);
      if (r.cpuMs !== null) cpuMs = cpuMs === null ? r.cpuMs : Math.min(cpuMs, r.cpuMs);
    }
    return { best: Math.min(...all), all, cpuMs };
  };
  const ownCpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const spread = (all: number[]) => (all.length > 1 ? `; runs ${all.map((x) => x.toFixed(2)).join(' / ')} s` : '');
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const cores = os.availableParallelism();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-bench-jobs-'));
  const prefix = `dfgbench-${process.pid}`;
  const env: Record<string, string> = {
    DFG_GALLERY_DIR: dir, DFG_MODELS_DIR: path.join(ROOT, 'models'), LOG_LEVEL: 'warn', DFG_JOB_PREFIX: prefix,
    DFG_MAX_QUEUE: String(Math.max(1000, n)), ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  };
  const config: Config = loadConfig(env);
  const log = pino({ level: 'warn' });
  const rows: JobsBenchRow[] = [];
  const services = startServices(config, log, { refreshMs: 0 });
  const jobs = new JobClient(config, log);
  try {
    await services.whenReady;
    const { embedder, gallery } = services.need();
    progress(`generating ${n} ${side}x${side} JPEGs`);
    const images = await Promise.all(Array.from({ length: n }, (_, i) => jpeg(side, side, 70_000 + i, 90)));
    const threads = threadCount(config);
    let algSeq = 0;
    const newAlgorithm = async () => (await gallery.createAlgorithm({ name: `bench-${Date.now()}-${algSeq++}` })).id;

    // Warm-up: the first inferences of each thread pay for allocations and arena growth.
    await Promise.all(images.slice(0, Math.min(n, 64)).map((b) => embedder.embed(b)));

    progress('raw embed');
    const raw = await best(async () => {
      const t0 = performance.now();
      const c0 = ownCpuMs();
      await Promise.all(images.map((b) => embedder.embed(b)));
      return { s: (performance.now() - t0) / 1000, cpuMs: ownCpuMs() - c0 };
    });
    const rawS = raw.best;
    const rawRate = n / rawS;
    const row = (setup: string, seconds: number, cpuMs: number | null, note: string): JobsBenchRow => ({
      setup, images: String(n), seconds: seconds.toFixed(2), imagesPerSecond: (n / seconds).toFixed(1),
      vsRawEmbed: `${((n / seconds / rawRate) * 100).toFixed(0)}%`, cpuMsPerImage: cpuMs === null ? '-' : (cpuMs / n).toFixed(1), note,
    });
    rows.push(row(`raw embed pipeline (${threads} threads)`, rawS, raw.cpuMs, `embedder.embed on every image at once${spread(raw.all)}`));

    progress('raw enrol');
    const rawEnrol = await best(async () => {
      const alg = await newAlgorithm();
      const t0 = performance.now();
      const c0 = ownCpuMs();
      for (let i = 0; i < n; i += config.DFG_JOB_CHUNK_SIZE) {
        await enrolImages({ embedder, gallery }, alg, images.slice(i, i + config.DFG_JOB_CHUNK_SIZE).map((bytes, k) => ({ filename: `${i + k}.jpg`, bytes })));
      }
      return { s: (performance.now() - t0) / 1000, cpuMs: ownCpuMs() - c0 };
    });
    rows.push(row('raw enrol (enrolImages per chunk)', rawEnrol.best, rawEnrol.cpuMs, `chunks of ${config.DFG_JOB_CHUNK_SIZE}, one commit each, in this process${spread(rawEnrol.all)}`));

    try {
      await jobs.available();
    } catch (err) {
      rows.push({ setup: 'job workers', images: '-', seconds: '-', imagesPerSecond: '-', vsRawEmbed: '-', cpuMsPerImage: '-', note: `skipped: ${(err as Error).message}` });
      return rows;
    }
    const archive = path.join(dir, 'bench.zip');
    fs.writeFileSync(archive, zip(images.map((data, i) => ({ name: `${i}.jpg`, data, store: true }))));

    const viaWorkers = async (label: string, workers: number, workerThreads: number) => {
      progress(label);
      const procs = await Promise.all(Array.from({ length: workers }, () => startWorker({ ...process.env, ...env, LOG_LEVEL: 'info', DFG_THREADS: String(workerThreads) })));
      try {
        let submitS = 0;
        let endToEnd = Infinity;
        const run = await best(async () => {
          const alg = await newAlgorithm();
          const pids = procs.map((p) => p.child.pid!);
          const c0 = cpuMsOf(pids);
          const s0 = performance.now();
          const submitted = await jobs.submitArchive({ kind: 'enrol', algorithmId: alg, file: archive, name: 'bench.zip' });
          const submitted1 = (performance.now() - s0) / 1000;
          let view = submitted;
          while (!['completed', 'failed', 'cancelled'].includes(view.state)) {
            await new Promise((r) => setTimeout(r, 50));
            view = await jobs.get(submitted.id, { errorLimit: 5 });
          }
          if (view.counts.created !== n) throw new Error(`expected ${n} created, got ${JSON.stringify(view.counts)} ${JSON.stringify(view.errors)}`);
          const e2e = (performance.now() - s0) / 1000;
          if (e2e < endToEnd) { endToEnd = e2e; submitS = submitted1; }
          const c1 = cpuMsOf(pids);
          return { s: view.timings.runMs! / 1000, cpuMs: c0 === null || c1 === null ? null : c1 - c0 };
        });
        rows.push(row(label, run.best, run.cpuMs, `first chunk start to last commit${spread(run.all)}; with the archive upload to Redis (${submitS.toFixed(2)} s) ${(n / endToEnd).toFixed(1)} img/s`));
        return n / run.best;
      } finally {
        await Promise.all(procs.map((p) => p.stop()));
      }
    };
    const one = await viaWorkers(`1 worker (${cores} threads, concurrency ${cores})`, 1, cores);
    const two = await viaWorkers(`2 workers (${cores} threads each)`, 2, cores);
    rows[rows.length - 1]!.note += `; scaling ${(two / one).toFixed(2)}x of 1 worker`;
    if (cores >= 2) {
      const half = Math.max(1, Math.floor(cores / 2));
      const split = await viaWorkers(`2 workers (${half} threads each)`, 2, half);
      rows[rows.length - 1]!.note += `; scaling ${(split / one).toFixed(2)}x of 1 worker`;
    }
    return rows;
  } finally {
    await dropPrefix(config.REDIS_URL, prefix).catch(() => {});
    await jobs.close();
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Deletes the bench's queue and job keys. */
async function dropPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, enableOfflineQueue: false });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function printJobsTable(rows: JobsBenchRow[]): void {
  const cols = Object.keys(rows[0]!) as Array<keyof JobsBenchRow>;
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  console.log('| ' + cols.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |');
  console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
  for (const r of rows) console.log('| ' + cols.map((c, i) => r[c].padEnd(w[i]!)).join(' | ') + ' |');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const images = process.argv[2] ? Number(process.argv[2]) : undefined;
  const side = process.argv[3] ? Number(process.argv[3]) : undefined;
  const repeats = process.argv[4] ? Number(process.argv[4]) : undefined;
  printJobsTable(await runJobsBench({ images, side, repeats }));
  process.exit(0);
}
