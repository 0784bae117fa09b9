/**
 * `npm run bench -- scale [--samples N] [--queries Q]`: the gallery on PostgreSQL at scale, with
 * synthetic clustered vectors (256 dimensions, 100 samples per source), each number beside its
 * baseline from the same run (the SQLite store, or exact search):
 * - store insert rate (batches of 1000, one transaction each);
 * - a replica's cold start from the store alone (index built from it) and from its snapshot plus a
 *   catch-up of 1% new samples, each in a fresh process (seconds, peak RSS);
 * - search p50/p99 and recall@1 and @10 against exact search, on held-out queries near stored
 *   samples, at the service's default ef and the gallery's;
 * - the time a write on one replica takes to be searchable on another (LISTEN/NOTIFY).
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

export interface ScaleRow { metric: string; postgres: string; baseline: string; note: string }

const DIM = 256;
const BATCH = 1000;
const MODEL = 'bench';
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

/** Inserts rows [from, to) of `data` through the store, batches of BATCH; returns samples/s and the sample id of each row. */
async function insert(store: GalleryStore, algorithms: string[], data: Float32Array, from: number, to: number, ids: string[], progress: (s: string) => void): Promise<number> {
  const t0 = performance.now();
  for (let start = from; start < to; start += BATCH) {
    const items = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      items.push({ sha256: sha(i), vectors: new Map([[MODEL, data.slice(i * DIM, (i + 1) * DIM)]]), width: 8, height: 8, filename: null });
    }
    const res = await store.addSamples(algorithms[Math.floor(start / BATCH) % algorithms.length]!, items);
    res.forEach((r, j) => (ids[start + j] = r.sample.id));
    if ((start / BATCH) % 50 === 49) progress(`${store.kind}: inserted ${start + BATCH}/${to} (${sec(performance.now() - t0)})`);
  }
  return ((to - from) / (performance.now() - t0)) * 1000;
}

const CHILD = `
const { openGallery } = await import(process.env.GALLERY_MODULE);
const t0 = performance.now();
const g = await openGallery({ dir: process.env.DIR, ...(process.env.STORE ? { store: process.env.STORE } : {}), modelId: 'bench', dim: 256 });
const ms = performance.now() - t0;
const info = g.info();
await g.close();
process.stdout.write(JSON.stringify({ ms, rssKb: process.resourceUsage().maxRSS, builtFrom: info.index.builtFrom, samples: info.counts.samples }));
`;

/** Opens the gallery in a fresh process (its index: snapshot in `dir`, else built from the store); time to ready and peak RSS. */
function coldStart(dir: string, store?: string): Promise<{ ms: number; rssKb: number; builtFrom: string; samples: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, GALLERY_MODULE: new URL('../src/gallery/gallery.js', import.meta.url).href, DIR: dir, STORE: store ?? '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`cold start exited ${code}`))));
  });
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

export async function runScaleBench(progress: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<ScaleRow[]> {
  const n = arg('samples', 20_000);
  const nq = arg('queries', 200);
  const extra = Math.max(1, Math.floor(n / 100));
  const adminUrl = process.env.DFG_BENCH_PG_URL ?? process.env.DFG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `dfgbench_${process.pid}`;
  const url = (() => { const u = new URL(adminUrl); u.pathname = `/${dbName}`; return u.toString(); })();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-bench-scale-'));
  const rows: ScaleRow[] = [];
  const rand = rng(13);
  progress(`scale: ${n} samples x ${DIM} (clustered), ${nq} held-out queries`);
  const data = unitVectors(n + extra, DIM, rand, { data: unitVectors(Math.max(1, Math.floor(n / 100)), DIM, rand), noise: Math.sqrt(2 / 3 / DIM) });
  const sources: number[] = [];
  const queries = unitVectors(nq, DIM, rand, { data: data.subarray(0, n * DIM), noise: Math.sqrt(0.64 / DIM), sources });

  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    // Insert rate: PostgreSQL vs SQLite, same rows, same batches.
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
    const pgRate = await insert(pgStore, pgAlgs, data, 0, n, ids, progress);
    const liteAlgs = await algs(lite);
    const liteRate = await insert(lite, liteAlgs, data, 0, n, [], progress);
    rows.push({ metric: `store insert, ${n} samples (batches of ${BATCH}, one transaction each)`, postgres: `${Math.round(pgRate)} samples/s`, baseline: `${Math.round(liteRate)} samples/s (SQLite)`, note: 'committed before each call returns' });

    // Cold start from the store alone, then from the snapshot it wrote plus a catch-up of 1% more.
    const pgDir = path.join(tmp, 'replica');
    progress('cold start from the store (index build)');
    const fromStore = await coldStart(pgDir, url);
    const liteFromStore = await coldStart(liteDir);
    rows.push({ metric: 'replica cold start from the store alone (build the index)', postgres: `${sec(fromStore.ms)}, peak RSS ${mib(fromStore.rssKb)}`, baseline: `${sec(liteFromStore.ms)}, ${mib(liteFromStore.rssKb)} (SQLite)`, note: `${fromStore.samples} samples, ${fromStore.builtFrom}` });
    await insert(pgStore, pgAlgs, data, n, n + extra, ids, progress);
    await insert(lite, liteAlgs, data, n, n + extra, [], progress);
    const fromSnap = await coldStart(pgDir, url);
    const liteFromSnap = await coldStart(liteDir);
    rows.push({ metric: `replica cold start from its snapshot + catch-up of ${extra} samples`, postgres: `${sec(fromSnap.ms)}, peak RSS ${mib(fromSnap.rssKb)}`, baseline: `${sec(liteFromSnap.ms)}, ${mib(liteFromSnap.rssKb)} (SQLite)`, note: `${fromSnap.samples} samples, ${fromSnap.builtFrom}` });

    // Search on a replica of the PostgreSQL gallery: held-out queries near stored samples, vs exact.
    progress('exact search for the queries');
    const stored = data.subarray(0, (n + extra) * DIM);
    const exact: number[][] = [];
    const exactLat: number[] = [];
    for (let i = 0; i < nq; i++) {
      const t0 = performance.now();
      exact.push(bruteForce(stored, DIM, queries.subarray(i * DIM, (i + 1) * DIM), 10));
      exactLat.push(performance.now() - t0);
    }
    exactLat.sort((a, b) => a - b);
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    for (const ef of [...new Set([SERVICE_EF, DEFAULT_EF_SEARCH])]) {
      const g = await openGallery({ dir: pgDir, store: url, modelId: MODEL, dim: DIM, efSearch: ef });
      opened.push(g);
      const lat: number[] = [];
      let at1 = 0;
      let at10 = 0;
      for (let i = 0; i < nq; i++) {
        const q = queries.subarray(i * DIM, (i + 1) * DIM);
        const t0 = performance.now();
        const hits = g.search(q, 10, { enabledOnly: false });
        lat.push(performance.now() - t0);
        const got = hits.map((h) => rowOf.get(h.sampleId));
        if (got[0] === exact[i]![0]) at1++;
        const truth = new Set(exact[i]);
        at10 += got.filter((r) => r !== undefined && truth.has(r)).length;
      }
      lat.sort((a, b) => a - b);
      rows.push({
        metric: `search k=10 at ef ${ef}${ef === SERVICE_EF ? ' (DFG_EF_SEARCH default)' : ' (gallery default)'}, p50 / p99`,
        postgres: `${pct(lat, 0.5).toFixed(2)} / ${pct(lat, 0.99).toFixed(2)} ms`,
        baseline: `${pct(exactLat, 0.5).toFixed(1)} / ${pct(exactLat, 0.99).toFixed(1)} ms (exact)`,
        note: `recall@1 ${(at1 / nq).toFixed(3)}, recall@10 ${(at10 / (nq * 10)).toFixed(3)}`,
      });
      await g.close();
      opened.pop();
    }

    // Visibility: a write on replica A, searchable on replica B (each its own pool and listener).
    const [a, b] = [await openGallery({ dir: path.join(tmp, 'a'), store: url, modelId: MODEL, dim: DIM }), await openGallery({ dir: pgDir, store: url, modelId: MODEL, dim: DIM })];
    opened.push(a, b);
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
  } finally {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
