/**
 * /v1/attribute against the raw pipeline (decode + embed + search called directly in one
 * process), in the same run, on a 1024x1024 JPEG:
 * - p50 latency at concurrency 1 (target: HTTP within 1.3x of raw);
 * - throughput at concurrency 8 (target: HTTP within 80% of raw on all cores);
 * - the server's event-loop delay p99 under that load (target: under 50 ms).
 * The server runs as a child process (`dfg serve`) so the load generator does not share its loop.
 */
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import pino from 'pino';
import { loadConfig, metricSetting, scoreNormSetting, threadCount } from '../src/config/index.js';
import { startServices } from '../src/serving/services.js';
import { attributeImage } from '../src/use-cases/attribute.js';
import { enrolImages } from '../src/use-cases/enrol.js';
import { calibrateGallery, calibrationCohort } from '../src/calibration/index.js';
import { jpeg, generatorImage } from '../test/helpers/images.js';
import { multipart } from '../test/helpers/multipart.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export interface Row { metric: string; raw: string; http: string; ratio: string; target: string }

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function closedLoop(concurrency: number, seconds: number, fn: () => Promise<unknown>): Promise<{ rps: number; lat: number[] }> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await fn();
      lat.push(performance.now() - t0);
      done++;
    }
  }));
  return { rps: done / seconds, lat: lat.sort((a, b) => a - b) };
}

export async function runHttpBench(opts: { seconds?: number; gallerySamples?: number; rounds?: number } = {}): Promise<Row[]> {
  const seconds = opts.seconds ?? 5;
  const galleryDir = path.join(os.tmpdir(), `dfg-bench-${process.pid}`);
  // DFG_MODEL from the environment picks the model(s) to measure (default: the configured default).
  const env: Record<string, string> = {
    DFG_GALLERY_DIR: galleryDir, DFG_MODELS_DIR: path.join(ROOT, 'models'), LOG_LEVEL: 'warn', DFG_MAX_QUEUE: '1000',
    ...(process.env.DFG_MODEL ? { DFG_MODEL: process.env.DFG_MODEL } : {}),
  };
  const config = loadConfig(env);
  const image = await jpeg(1024, 1024, 4242, 90);

  // Raw pipeline, all cores, with a gallery of a few hundred samples.
  const services = startServices(config, pino({ level: 'warn' }), { refreshMs: 0 });
  await services.whenReady;
  const parts = services.need();
  const families = ['nearest2', 'bilinear4', 'jpeg50', 'camera'] as const;
  for (const [i, fam] of families.entries()) {
    const alg = await parts.gallery.createAlgorithm({ name: `bench-${fam}`, forgeryType: 'EFS', architecture: 'GAN' });
    const n = Math.ceil((opts.gallerySamples ?? 200) / families.length);
    const inputs = await Promise.all(Array.from({ length: n }, async (_, s) => ({ filename: `${s}.png`, bytes: await generatorImage(fam, i * 10_000 + s) })));
    await enrolImages(parts, alg.id, inputs);
  }
  // Calibrated as a deployed gallery would be, so searches take the default scoring path
  // (DFG_METRIC: the gallery-adapted re-scoring of the neighbours; DFG_SCORE_NORM: the cohort
  // normalisation, whose probe side each attribution computes).
  await calibrateGallery(parts.gallery, {
    topM: config.DFG_TOP_M, targetFpir: config.DFG_TARGET_FPIR, metric: metricSetting(config),
    cohort: calibrationCohort(parts.embedder.cohort, scoreNormSetting(config)),
  });
  const raw = () => attributeImage({ ...parts, config }, image);
  for (let i = 0; i < 5; i++) await raw();

  // The same through HTTP: the server child opens the same gallery. Both stay loaded and the
  // measurements alternate (raw, HTTP, raw, HTTP, ...) so a passing disturbance hits both sides.
  const cli = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      // Read the address, then discard the logs unread: scanning a growing buffer per chunk would
      // put this process's CPU into the server's measurement on a small machine.
      const onData = (d: Buffer) => {
        out += d;
        const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
        if (!m) return;
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        out = '';
        resolve(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    while ((await fetch(`${url}/readyz`).catch(() => null))?.status !== 200) await new Promise((r) => setTimeout(r, 100));
    const { payload, headers } = multipart([{ name: 'file', filename: 'probe.jpg', data: image }]);
    const http = async () => {
      const r = await fetch(`${url}/v1/attribute`, { method: 'POST', headers, body: new Uint8Array(payload) });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    };
    for (let i = 0; i < 5; i++) await http();

    const rounds = opts.rounds ?? 3;
    const lat = { raw: [] as number[], http: [] as number[] };
    const rps = { raw: [] as number[], http: [] as number[] };
    const lags: number[] = [];
    let errors = 0;
    for (let r = 0; r < rounds; r++) {
      lat.raw.push(...(await closedLoop(1, seconds, raw)).lat);
      lat.http.push(...(await closedLoop(1, seconds, http)).lat);
      rps.raw.push((await closedLoop(8, seconds, raw)).rps);
      await fetch(`${url}/metrics`); // resets the event-loop delay histogram
      const ac = await autocannon({ url: `${url}/v1/attribute`, method: 'POST', headers, body: payload, connections: 8, duration: seconds });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      // prom-client samples the loop every 10 ms and records whole intervals: the delay is the excess.
      lags.push(Number(/^dfg_process_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(metrics)?.[1] ?? NaN) * 1000 - 10);
      rps.http.push(ac.requests.average);
      errors += ac.non2xx + ac.errors;
    }
    await services.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    lat.raw.sort((a, b) => a - b);
    lat.http.sort((a, b) => a - b);
    const f = (n: number, d = 1) => n.toFixed(d);
    const p50r = pct(lat.raw, 0.5), p50h = pct(lat.http, 0.5);
    const rawRps = median(rps.raw), httpRps = median(rps.http);
    return [
      { metric: 'p50 latency, concurrency 1 (ms)', raw: f(p50r), http: f(p50h), ratio: f(p50h / p50r, 2) + 'x', target: '≤ 1.3x' },
      { metric: 'p99 latency, concurrency 1 (ms)', raw: f(pct(lat.raw, 0.99)), http: f(pct(lat.http, 0.99)), ratio: '', target: '' },
      { metric: `throughput, concurrency 8 (img/s, ${threadCount(config)} threads, median of ${rounds})`, raw: f(rawRps), http: f(httpRps), ratio: f((100 * httpRps) / rawRps, 0) + '%', target: '≥ 80%' },
      { metric: 'server event-loop delay p99 under load (ms, worst round)', raw: '', http: f(Math.max(...lags)), ratio: '', target: '< 50' },
      { metric: 'HTTP non-2xx + errors under load', raw: '', http: String(errors), ratio: '', target: '0' },
    ];
  } finally {
    child.kill('SIGTERM');
  }
}
