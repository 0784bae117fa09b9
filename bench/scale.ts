/**
 * `npm run bench -- scale [--samples N] [--queries Q]`: the gallery on PostgreSQL at scale, with
 * synthetic clustered vectors (256 dimensions, 100 samples per source), each number beside its
 * baseline from the same run (the SQLite store, or exact search):
 * - store insert rate (batches of 1000, one transaction each), then ANALYZE;
 * - a replica's cold start from the store alone (index built from it, once per run) and from its
 *   snapshot plus a catch-up of 1% new samples, each in a fresh process (seconds, CPU seconds,
 *   peak RSS); SQLite's cold starts only below SQLITE_COLD_MAX samples (the same HNSW build again);
 * - search p50/p99 and recall@1 and @10 against exact search (ground truth from one blocked pass
 *   over the stored vectors), on held-out queries near stored samples, at the service's default
 *   ef, and at higher ones (steps of 32 up to the gallery's default, then doubling) while recall@1
 *   stays under 0.99;
 * - the time a write on one replica takes to be searchable on another (LISTEN/NOTIFY).
 * Wall times come with CPU times and the load average, so a run on a loaded machine can be read;
 * progress lines (stderr) show a long run is alive.
 * PostgreSQL: DFG_BENCH_PG_URL (else DFG_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres);
 * the bench creates a database of its own and drops it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { DEFAULT_EF_SEARCH, openGallery } from '../src/gallery/gallery.js';
import { openPgGalleryStore } from '../src/gallery/store/pg.js';
import { openSqliteGalleryStore } from '../src/gallery/store/sqlite.js';
import type { GalleryStore } from '../src/gallery/store/api.js';
import { ConfigSchema } from '../src/config/index.js';
import { seededRandom as rng } from '../src/math/random.js';
import { bruteForce, pct, unitVectors } from './gallery-search.js';
import type { Gallery } from '../src/gallery/gallery-api.js';

export interface ScaleRow { metric: string; postgres: string; baseline: string; note: string }

const DIM = 256;
const BATCH = 1000;
const MODEL = 'bench';
/** From this many samples on, SQLite's cold starts (a second HNSW build of the same vectors) are skipped. */
const SQLITE_COLD_MAX = 200_000;
/** recall@1 the search must reach; below it the next ef is tried. */
const RECALL_GOAL = 0.99;
/** The service's default ef (DFG_EF_SEARCH). */
const SERVICE_EF = (ConfigSchema.properties.DFG_EF_SEARCH as unknown as { default: number }).default;

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} expects a positive integer`);
  return v;
};


const sha = (i: number) => i.toString(16).padStart(64, '0');
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (kb: number) => `${Math.round(kb / 1024)} MiB`;
/** This process's CPU time (user + system) in ms. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');
const rssMib = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

/** Wall and CPU ms of an async step. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = cpuMs();
  const value = await fn();
  return { value, ms: performance.now() - t0, cpu: cpuMs() - c0 };
}

/** Inserts rows [from, to) of `data` through the store, batches of BATCH; returns samples/s (wall) and the bench's CPU ms, and fills the sample id of each row. */
async function insert(store: GalleryStore, algorithms: string[], data: Float32Array, from: number, to: number, ids: string[], progress: (s: string) => void): Promise<{ rate: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = cpuMs();
  for (let start = from; start < to; start += BATCH) {
    const items = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      items.push({ sha256: sha(i), vectors: new Map([[MODEL, data.slice(i * DIM, (i + 1) * DIM)]]), width: 8, height: 8, filename: null });
    }
    const res = await store.addSamples(algorithms[Math.floor(start / BATCH) % algorithms.length]!, items);
    res.forEach((r, j) => (ids[start + j] = r.sample.id));
    if (((start - from) / BATCH) % 50 === 49) {
      const done = start + BATCH - from;
      const ms = performance.now() - t0;
      progress(`${store.kind}: inserted ${start + BATCH}/${to} (${sec(ms)}, ${Math.round((done / ms) * 1000)}/s, bench CPU ${sec(cpuMs() - c0)}, load ${load()})`);
    }
  }
  return { rate: ((to - from) / (performance.now() - t0)) * 1000, cpu: cpuMs() - c0 };
}

interface ColdStart { ms: number; cpuMs: number; rssKb: number; builtFrom: string; samples: number }

/** The child: opens the gallery, says how it goes every 30 s (build progress from the gallery's log, CPU, RSS), prints one JSON line. */
const CHILD = `
const { openGallery } = await import(process.env.GALLERY_MODULE);
const label = process.env.LABEL;
const t0 = performance.now();
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const say = (s) => process.stderr.write(label + ': ' + s + ' (' + ((performance.now() - t0) / 1000).toFixed(0) + ' s, CPU ' + (cpu() / 1000).toFixed(0) + ' s, RSS ' + Math.round(process.memoryUsage().rss / 1048576) + ' MiB)\\n');
const alive = setInterval(() => say('opening'), 60_000);
const log = { debug() {}, warn(o, m) { say(m + ' ' + JSON.stringify(o)); }, error(o, m) { say(m + ' ' + JSON.stringify(o)); },
  info(o, m) { if (m === 'index build progress') say('index build ' + o.indexed + '/' + o.of); else if (m === 'index rebuilt from the store' || m === 'index loaded from snapshot') say(m); } };
const g = await openGallery({ dir: process.env.DIR, ...(process.env.STORE ? { store: process.env.STORE } : {}), modelId: 'bench', dim: 256, log });
const ms = performance.now() - t0;
const cpuMs = cpu();
clearInterval(alive);
const info = g.info();
await g.close();
process.stdout.write(JSON.stringify({ ms, cpuMs, rssKb: process.resourceUsage().maxRSS, builtFrom: info.index.builtFrom, samples: info.counts.samples }));
`;

/** Opens the gallery in a fresh process (its index: snapshot in `dir`, else built from the store); time to ready, its CPU time and peak RSS. */
function coldStart(label: string, dir: string, progress: (s: string) => void, store?: string): Promise<ColdStart> {
  progress(`${label}: cold start in a fresh process (load ${load()})`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, GALLERY_MODULE: new URL('../src/gallery/gallery.js', import.meta.url).href, DIR: dir, STORE: store ?? '', LABEL: label },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`cold start exited ${code}`));
      const r = JSON.parse(out) as ColdStart;
      progress(`${label}: ready in ${sec(r.ms)}, CPU ${sec(r.cpuMs)}, peak RSS ${mib(r.rssKb)}, ${r.samples} samples, ${r.builtFrom}`);
      resolve(r);
    });
  });
}
const coldCell = (r: ColdStart) => `${sec(r.ms)} (CPU ${sec(r.cpuMs)}), peak RSS ${mib(r.rssKb)}`;

/**
 * Exact top-k of every query by dot product (unit vectors), best first: one pass over the stored
 * vectors in blocks, each block scored against all queries while it is in cache.
 */
function exactTopK(data: Float32Array, dim: number, queries: Float32Array, k: number, progress: (s: string) => void): number[][] {
  const n = data.length / dim;
  const nq = queries.length / dim;
  const idx = Array.from({ length: nq }, () => new Int32Array(k).fill(-1));
  const sim = Array.from({ length: nq }, () => new Float64Array(k).fill(-Infinity));
  const BLOCK = 256;
  const t0 = performance.now();
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const b1 = Math.min(n, b0 + BLOCK);
    for (let q = 0; q < nq; q++) {
      const qo = q * dim;
      const bi = idx[q]!;
      const bs = sim[q]!;
      for (let i = b0; i < b1; i++) {
        const off = i * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < dim; j += 4) {
          s0 += data[off + j]! * queries[qo + j]!;
          s1 += data[off + j + 1]! * queries[qo + j + 1]!;
          s2 += data[off + j + 2]! * queries[qo + j + 2]!;
          s3 += data[off + j + 3]! * queries[qo + j + 3]!;
        }
        const s = s0 + s1 + s2 + s3;
        if (s <= bs[k - 1]!) continue;
        let p = k - 1;
        while (p > 0 && bs[p - 1]! < s) {
          bs[p] = bs[p - 1]!;
          bi[p] = bi[p - 1]!;
          p--;
        }
        bs[p] = s;
        bi[p] = i;
      }
    }
    if (Math.floor(b1 / 100_000) > Math.floor(b0 / 100_000)) progress(`exact search: ${b1}/${n} stored vectors scored against ${nq} queries (${sec(performance.now() - t0)})`);
  }
  return idx.map((a) => [...a].filter((i) => i >= 0));
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function runScaleBench(progress: (s: string) => void = (s) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`)): Promise<ScaleRow[]> {
  const n = arg('samples', 20_000);
  const nq = arg('queries', 200);
  const extra = Math.max(1, Math.floor(n / 100));
  const liteCold = n < SQLITE_COLD_MAX;
  const adminUrl = process.env.DFG_BENCH_PG_URL ?? process.env.DFG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `dfgbench_${process.pid}`;
  const url = (() => { const u = new URL(adminUrl); u.pathname = `/${dbName}`; return u.toString(); })();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-bench-scale-'));
  const rows: ScaleRow[] = [];
  const rand = rng(13);
  const loadAtStart = load();
  const runStart = performance.now();
  progress(`scale: ${n} samples x ${DIM} (clustered), ${nq} held-out queries; ${os.cpus().length} cores, load average ${loadAtStart} (1 / 5 / 15 min)`);
  const data = unitVectors(n + extra, DIM, rand, { data: unitVectors(Math.max(1, Math.floor(n / 100)), DIM, rand), noise: Math.sqrt(2 / 3 / DIM) });
  const sources: number[] = [];
  const queries = unitVectors(nq, DIM, rand, { data: data.subarray(0, n * DIM), noise: Math.sqrt(0.64 / DIM), sources });

  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    // Insert rate: PostgreSQL vs SQLite, same rows, same batches. Then ANALYZE, as after any bulk load,
    // so the planner reads the million rows through their indexes.
    const pgStore = await openPgGalleryStore(url);
    opened.push(pgStore);
    const liteDir = path.join(tmp, 'sqlite');
    fs.mkdirSync(liteDir);
    const lite = openSqliteGalleryStore(liteDir);
    opened.push(lite);
    const algs = async (s: GalleryStore) => {
      const out: string[] = [];
      for (let i = 0; i < 100; i++) out.push((await s.createAlgorithm({ name: `generator-${i}`, forgeryType: 'FS', architecture: 'GAN', description: '', reference: '', enabled: true, threshold: null })).id);
      return out;
    };
    const ids: string[] = [];
    const pgAlgs = await algs(pgStore);
    const pgIns = await insert(pgStore, pgAlgs, data, 0, n, ids, progress);
    const analyzed = await timed(() => admin(url, (c) => c.query('ANALYZE')));
    progress(`postgres: ANALYZE after the bulk insert in ${sec(analyzed.ms)}`);
    const liteAlgs = await algs(lite);
    const liteIns = await insert(lite, liteAlgs, data, 0, n, [], progress);
    rows.push({
      metric: `store insert, ${n} samples (batches of ${BATCH}, one transaction each)`,
      postgres: `${Math.round(pgIns.rate)} samples/s (bench CPU ${sec(pgIns.cpu)})`,
      baseline: `${Math.round(liteIns.rate)} samples/s (SQLite, CPU ${sec(liteIns.cpu)})`,
      note: `committed before each call returns; PostgreSQL's own CPU not counted; ANALYZE after: ${sec(analyzed.ms)}`,
    });
    if (!liteCold) {
      await lite.close();
      opened.splice(opened.indexOf(lite), 1);
    }

    // Cold start from the store alone (the one HNSW build of the run), then from the snapshot it
    // wrote plus a catch-up of 1% more.
    const pgDir = path.join(tmp, 'replica');
    const skipped = `not measured at >= ${SQLITE_COLD_MAX.toLocaleString('en-US')} samples (the same HNSW build again)`;
    const fromStore = await coldStart('postgres replica, from the store', pgDir, progress, url);
    const liteFromStore = liteCold ? await coldStart('sqlite, from the store', liteDir, progress) : undefined;
    rows.push({ metric: 'replica cold start from the store alone (build the index)', postgres: coldCell(fromStore), baseline: liteFromStore ? `${coldCell(liteFromStore)} (SQLite)` : skipped, note: `${fromStore.samples} samples, ${fromStore.builtFrom}` });
    await insert(pgStore, pgAlgs, data, n, n + extra, ids, progress);
    if (liteCold) await insert(lite, liteAlgs, data, n, n + extra, [], progress);
    const fromSnap = await coldStart('postgres replica, from its snapshot', pgDir, progress, url);
    const liteFromSnap = liteCold ? await coldStart('sqlite, from its snapshot', liteDir, progress) : undefined;
    rows.push({ metric: `replica cold start from its snapshot + catch-up of ${extra} samples`, postgres: coldCell(fromSnap), baseline: liteFromSnap ? `${coldCell(liteFromSnap)} (SQLite)` : skipped, note: `${fromSnap.samples} samples, ${fromSnap.builtFrom}` });
    // Replica A of the visibility test starts from a copy of that snapshot, not from a build of its own.
    const aDir = path.join(tmp, 'a');
    fs.cpSync(pgDir, aDir, { recursive: true });

    // Search on a replica of the PostgreSQL gallery: held-out queries near stored samples, vs exact.
    const stored = data.subarray(0, (n + extra) * DIM);
    const truth = timed(async () => exactTopK(stored, DIM, queries, 10, progress));
    const exact = (await truth).value;
    progress(`exact search: ground truth for ${nq} queries in ${sec((await truth).ms)} (CPU ${sec((await truth).cpu)})`);
    // The exact scan's own latency, per query, on a few of them.
    const exactLat: number[] = [];
    for (let i = 0; i < Math.min(nq, 10); i++) {
      const t0 = performance.now();
      bruteForce(stored, DIM, queries.subarray(i * DIM, (i + 1) * DIM), 10);
      exactLat.push(performance.now() - t0);
    }
    exactLat.sort((a, b) => a - b);
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    let b: Gallery | undefined;
    for (let ef = SERVICE_EF, tries = 0; ; tries++) {
      progress(`search: opening a replica at ef ${ef} (load ${load()})`);
      const opening = await timed(() => openGallery({ dir: pgDir, store: url, modelId: MODEL, dim: DIM, efSearch: ef }));
      const g = opening.value;
      opened.push(g);
      progress(`search: replica ready in ${sec(opening.ms)} (${g.info().index.builtFrom}), RSS ${rssMib()} MiB`);
      const lat: number[] = [];
      let at1 = 0;
      let at10 = 0;
      const c0 = cpuMs();
      for (let i = 0; i < nq; i++) {
        const q = queries.subarray(i * DIM, (i + 1) * DIM);
        const t0 = performance.now();
        const hits = g.search(q, 10, { enabledOnly: false });
        lat.push(performance.now() - t0);
        const got = hits.map((h) => rowOf.get(h.sampleId));
        if (got[0] === exact[i]![0]) at1++;
        const want = new Set(exact[i]);
        at10 += got.filter((r) => r !== undefined && want.has(r)).length;
      }
      const cpuPerQuery = (cpuMs() - c0) / nq;
      lat.sort((x, y) => x - y);
      const recall1 = at1 / nq;
      progress(`search at ef ${ef}: p50 ${pct(lat, 0.5).toFixed(2)} ms, recall@1 ${recall1.toFixed(3)}`);
      rows.push({
        metric: `search k=10 at ef ${ef}${ef === SERVICE_EF ? ' (DFG_EF_SEARCH default)' : ''}, p50 / p99`,
        postgres: `${pct(lat, 0.5).toFixed(2)} / ${pct(lat, 0.99).toFixed(2)} ms (CPU ${cpuPerQuery.toFixed(2)} ms/query)`,
        baseline: `${pct(exactLat, 0.5).toFixed(1)} / ${exactLat[exactLat.length - 1]!.toFixed(1)} ms (exact scan, p50 / max of ${exactLat.length})`,
        note: `recall@1 ${recall1.toFixed(3)}, recall@10 ${(at10 / (nq * 10)).toFixed(3)}, ${nq} queries`,
      });
      if (recall1 >= RECALL_GOAL || tries === 5) {
        b = g;
        break;
      }
      await g.close();
      opened.pop();
      // Small steps up to the gallery's default ef (the least ef that reaches the goal), doubling past it.
      ef = ef < DEFAULT_EF_SEARCH ? Math.min(DEFAULT_EF_SEARCH, ef + 32) : ef * 2;
    }

    // Visibility: a write on replica A, searchable on replica B (each its own pool and listener).
    progress(`visibility: opening replica A from a copy of the snapshot (load ${load()})`);
    const a = await openGallery({ dir: aDir, store: url, modelId: MODEL, dim: DIM });
    opened.push(a);
    const alg = (await a.listAlgorithms({ limit: 1 })).items[0]!.id;
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const v = unitVectors(1, DIM, rand);
      const before = b.info().counts.samples;
      // B is watched from before the write: it may see the commit before A's call returns.
      const seen = (async () => {
        const t0 = performance.now();
        while (b.info().counts.samples === before && performance.now() - t0 < 5000) await new Promise((r) => setImmediate(r));
        return performance.now();
      })();
      await a.addSamples(alg, [{ sha256: sha(10_000_000 + i), vector: v, width: 8, height: 8 }]);
      const acked = performance.now();
      delays.push(Math.max(0, (await seen) - acked));
    }
    delays.sort((x, y) => x - y);
    rows.push({ metric: 'write acknowledged on replica A until searchable on replica B, p50 / max of 20', postgres: `${pct(delays, 0.5).toFixed(1)} / ${delays[delays.length - 1]!.toFixed(1)} ms`, baseline: 'up to 1000 ms (polling alone)', note: 'LISTEN/NOTIFY, then catch-up from the change log' });
    rows.push({ metric: 'machine: cores, load average (1 / 5 / 15 min) at start and end, run time', postgres: `${os.cpus().length} cores, ${loadAtStart} -> ${load()}`, baseline: '', note: `whole run ${sec(performance.now() - runStart)}, bench CPU ${sec(cpuMs())}` });
  } finally {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
