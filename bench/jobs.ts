/**
 * Enrolment throughput through batch jobs against the raw pipeline, on the same cores, in one run:
 * - raw embed: the embedder's thread pool fed directly (decode + preprocess + ONNX);
 * - raw enrol: enrolImages in chunks, as `dfg enrol` does (embed + one store commit per chunk);
 * - one `dfg worker` process, then two, processing an archive submitted through the job client
 *   (chunks in Redis, embedding in the workers, commits to the shared SQLite store).
 * Every run enrols into a fresh algorithm, so dedupe never skips work.
 *
 * Run: `npm run build && node dist/bench/jobs.js [images] [side]` (needs Redis at REDIS_URL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { Redis } from 'ioredis';
import { loadConfig, threadCount, type Config } from '../src/config/index.js';
import { startServices } from '../src/services.js';
import { enrolImages } from '../src/enrol.js';
import { createJobClient } from '../src/jobs/client.js';
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
  note: string;
}

export interface JobsBenchOptions {
  /** Images per run (default 384). */
  images?: number;
  /** Side of the square JPEGs (default 512). */
  side?: number;
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
  const jobs = createJobClient(config, log);
  try {
    await services.whenReady;
    const { embedder, gallery } = services.need();
    progress(`generating ${n} ${side}x${side} JPEGs`);
    const images = await Promise.all(Array.from({ length: n }, (_, i) => jpeg(side, side, 70_000 + i, 90)));
    const threads = threadCount(config);
    let algSeq = 0;
    const newAlgorithm = () => gallery.createAlgorithm({ name: `bench-${Date.now()}-${algSeq++}` }).id;

    // Warm-up: the first inferences of each thread pay for allocations and arena growth.
    await Promise.all(images.slice(0, Math.min(n, 64)).map((b) => embedder.embed(b)));

    progress('raw embed');
    let t0 = performance.now();
    await Promise.all(images.map((b) => embedder.embed(b)));
    const rawS = (performance.now() - t0) / 1000;
    const rawRate = n / rawS;
    const row = (setup: string, seconds: number, note: string): JobsBenchRow => ({
      setup, images: String(n), seconds: seconds.toFixed(2), imagesPerSecond: (n / seconds).toFixed(1),
      vsRawEmbed: `${((n / seconds / rawRate) * 100).toFixed(0)}%`, note,
    });
    rows.push(row(`raw embed pipeline (${threads} threads)`, rawS, 'embedder.embed on every image at once'));

    progress('raw enrol');
    const rawAlg = newAlgorithm();
    t0 = performance.now();
    for (let i = 0; i < n; i += config.DFG_JOB_CHUNK_SIZE) {
      await enrolImages({ embedder, gallery }, rawAlg, images.slice(i, i + config.DFG_JOB_CHUNK_SIZE).map((bytes, k) => ({ filename: `${i + k}.jpg`, bytes })));
    }
    rows.push(row('raw enrol (enrolImages per chunk)', (performance.now() - t0) / 1000, `chunks of ${config.DFG_JOB_CHUNK_SIZE}, one commit each, in this process`));

    try {
      await jobs.available();
    } catch (err) {
      rows.push({ setup: 'job workers', images: '-', seconds: '-', imagesPerSecond: '-', vsRawEmbed: '-', note: `skipped: ${(err as Error).message}` });
      return rows;
    }
    const archive = path.join(dir, 'bench.zip');
    fs.writeFileSync(archive, zip(images.map((data, i) => ({ name: `${i}.jpg`, data, store: true }))));

    const viaWorkers = async (label: string, workers: number, workerThreads: number) => {
      progress(label);
      const procs = await Promise.all(Array.from({ length: workers }, () => startWorker({ ...process.env, ...env, LOG_LEVEL: 'info', DFG_THREADS: String(workerThreads) })));
      try {
        const alg = newAlgorithm();
        const s0 = performance.now();
        const submitted = await jobs.submitArchive({ kind: 'enrol', algorithmId: alg, file: archive, name: 'bench.zip' });
        const submitS = (performance.now() - s0) / 1000;
        let view = submitted;
        while (!['completed', 'failed', 'cancelled'].includes(view.state)) {
          await new Promise((r) => setTimeout(r, 100));
          view = await jobs.get(submitted.id, { errorLimit: 5 });
        }
        if (view.counts.created !== n) throw new Error(`expected ${n} created, got ${JSON.stringify(view.counts)} ${JSON.stringify(view.errors)}`);
        const endToEnd = (performance.now() - s0) / 1000;
        const r = row(label, view.timings.runMs! / 1000, `first chunk start to last commit; with archive upload to Redis (${submitS.toFixed(2)} s) ${(n / endToEnd).toFixed(1)} img/s`);
        rows.push(r);
        return n / (view.timings.runMs! / 1000);
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
  printJobsTable(await runJobsBench({ images, side }));
  process.exit(0);
}
