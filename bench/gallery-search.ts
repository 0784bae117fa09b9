/**
 * Gallery search at scale: N unit vectors (default 100k x 256) enrolled through the real gallery
 * (SQLite commits + HNSW), then k=50 queries timed against a brute-force scan over the same
 * vectors in the same run, and recall of HNSW against that exact answer.
 *
 * Data: `random` (the default) is i.i.d. Gaussian directions: the worst case for any graph index,
 * since in 256 dimensions every point is about as far as every other and the "true" 10 nearest
 * are barely nearer than the rest. `clustered` puts the vectors in N/100 clusters (samples of a
 * generator: pairwise cosine about 0.6 inside a cluster), which is what a gallery looks like.
 * Queries: `random` directions, and `near-sample` ones (a stored vector plus noise, cosine about
 * 0.8 to it), for which "rank-1 = source" says whether the sample that matters is found first.
 *
 * Run: `npm run build && node dist/bench/gallery-search.js [n] [dim] [random|clustered]`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_EF_SEARCH, openGallery } from '../src/gallery/gallery.js';
import { readHnswIndex } from '../src/gallery/index/hnsw.js';
import { snapshotPaths } from '../src/gallery/index/snapshot.js';
import { seededRandom as rng } from '../src/math/random.js';

export interface GallerySearchBenchOptions {
  /** Vectors in the gallery (default 100 000). */
  n?: number;
  /** Dimension (default 256). */
  dim?: number;
  /** Queries per measurement (default 200). */
  queries?: number;
  k?: number;
  /** HNSW ef values to sweep (default 64, 128, 256). */
  efs?: number[];
  seed?: number;
  /** Vector distribution (default random). */
  data?: 'random' | 'clustered';
  /** Progress lines go here (default stderr). */
  progress?: (line: string) => void;
}

export interface GallerySearchRow {
  metric: string;
  hnsw: string;
  bruteForce: string;
  ratio: string;
  note: string;
}


const gaussian = (rand: () => number): number => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());

/**
 * `count` unit vectors packed row after row: Gaussian directions, or `around` rows of `data`
 * (chosen at random, recorded in `sources`) plus Gaussian noise of `noise` per coordinate.
 */
export function unitVectors(count: number, dim: number, rand: () => number, around?: { data: Float32Array; noise: number; sources?: number[] }): Float32Array {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const row = out.subarray(i * dim, (i + 1) * dim);
    const src = around ? Math.floor(rand() * (around.data.length / dim)) : -1;
    around?.sources?.push(src);
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      row[j] = around ? around.data[src * dim + j]! + around.noise * gaussian(rand) : gaussian(rand);
      norm += row[j]! * row[j]!;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) row[j]! /= norm;
  }
  return out;
}

/** Exact top-k by dot product (all vectors are unit length), best first. */
export function bruteForce(data: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const n = data.length / dim;
  const bestIdx: number[] = [];
  const bestSim: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    const off = i * dim;
    for (let j = 0; j < dim; j++) s += data[off + j]! * q[j]!;
    if (bestSim.length === k && s <= bestSim[k - 1]!) continue;
    let p = bestSim.length === k ? k - 1 : bestSim.length;
    while (p > 0 && bestSim[p - 1]! < s) {
      bestSim[p] = bestSim[p - 1]!;
      bestIdx[p] = bestIdx[p - 1]!;
      p--;
    }
    bestSim[p] = s;
    bestIdx[p] = i;
  }
  return bestIdx;
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

/** Builds the gallery, measures, removes its temporary directory, and returns the table rows. */
export async function runGallerySearchBench(opts: GallerySearchBenchOptions = {}): Promise<GallerySearchRow[]> {
  const n = opts.n ?? 100_000;
  const dim = opts.dim ?? 256;
  const nq = opts.queries ?? 200;
  const k = opts.k ?? 50;
  const efs = opts.efs ?? [64, 128, 256];
  const progress = opts.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rand = rng(opts.seed ?? 2024);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-bench-gallery-'));
  const rows: GallerySearchRow[] = [];
  try {
    const kind = opts.data ?? 'random';
    // Cluster noise: sigma^2 * dim = 2/3 gives cosine ~0.6 between two samples of one cluster.
    const data = kind === 'random'
      ? unitVectors(n, dim, rand)
      : unitVectors(n, dim, rand, { data: unitVectors(Math.max(1, Math.floor(n / 100)), dim, rand), noise: Math.sqrt(2 / 3 / dim) });
    const sources: number[] = [];
    const querySets = {
      random: unitVectors(nq, dim, rand),
      // Query noise: sigma^2 * dim = 0.64 gives cosine ~0.78 to the source sample.
      'near-sample': unitVectors(nq, dim, rand, { data, noise: 0.8 / Math.sqrt(dim), sources }),
    };

    // Enrol through the gallery: one transaction (fsync) per batch of 1000, then HNSW inserts.
    const modelId = 'bench';
    const gallery = await openGallery({ dir, modelId, dim, snapshotEvery: Number.MAX_SAFE_INTEGER });
    const algorithms: string[] = [];
    for (let i = 0; i < 100; i++) algorithms.push((await gallery.createAlgorithm({ name: `generator-${i}` })).id);
    const labelOfRow = new Map<string, number>();
    const seqToRow = new Map<number, number>();
    const batch = 1000;
    const t0 = performance.now();
    for (let start = 0; start < n; start += batch) {
      const items = [];
      for (let i = start; i < Math.min(n, start + batch); i++) {
        items.push({ sha256: i.toString(16).padStart(64, '0'), vector: data.slice(i * dim, (i + 1) * dim), width: 256, height: 256 });
      }
      const added = await gallery.addSamples(algorithms[(start / batch) % algorithms.length]!, items);
      added.forEach((r, j) => {
        labelOfRow.set(r.sample.id, start + j);
        seqToRow.set(r.sample.seq, start + j);
      });
      if ((start / batch) % 10 === 9) progress(`enrolled ${start + batch}/${n} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    const buildMs = performance.now() - t0;
    rows.push({
      metric: `enrol ${n} x ${dim} ${kind} (store commit + HNSW insert, batches of ${batch})`,
      hnsw: `${(buildMs / 1000).toFixed(1)} s`, bruteForce: '-', ratio: '-', note: `${Math.round(n / (buildMs / 1000))} vectors/s; M 16, efConstruction 200`,
    });

    const snap = await (async () => {
      const s0 = performance.now();
      const m = await gallery.snapshot();
      return { m, ms: performance.now() - s0 };
    })();
    rows.push({ metric: 'snapshot write (index + checksum + fsync + rename)', hnsw: ms(snap.ms), bruteForce: '-', ratio: '-', note: `${(snap.m.bytes / 2 ** 20).toFixed(1)} MiB` });
    await gallery.close();

    const r0 = performance.now();
    const reopened = await openGallery({ dir, modelId, dim });
    const reopenMs = performance.now() - r0;
    rows.push({ metric: 'open gallery from snapshot (verify checksum + load + map labels)', hnsw: ms(reopenMs), bruteForce: '-', ratio: '-', note: `builtFrom ${reopened.info().index.builtFrom}` });

    // Exact answers once per query set; the brute-force timings are the baseline column.
    const exact: Record<string, number[][]> = {};
    let bfLat: number[] = [];
    for (const [name, qs] of Object.entries(querySets)) {
      exact[name] = [];
      for (let i = 0; i < nq; i++) {
        const { value, ms: t } = timed(() => bruteForce(data, dim, qs.subarray(i * dim, (i + 1) * dim), k));
        exact[name]!.push(value);
        bfLat.push(t);
      }
      progress(`brute force done for ${name} queries`);
    }
    const bfRank1 = exact['near-sample']!.filter((top, i) => top[0] === sources[i]).length / nq;
    bfLat = bfLat.sort((a, b) => a - b);

    // Gallery search at its default ef, through the public API (validation, label mapping, filter check).
    {
      const lat: number[] = [];
      let hits10 = 0;
      const qs = querySets.random;
      for (let i = 0; i < nq; i++) {
        const q = qs.subarray(i * dim, (i + 1) * dim);
        const { value, ms: t } = timed(() => reopened.search(q, k));
        lat.push(t);
        const truth = new Set(exact.random![i]!.slice(0, 10));
        hits10 += value.slice(0, 10).filter((h) => truth.has(labelOfRow.get(h.sampleId)!)).length;
      }
      lat.sort((a, b) => a - b);
      rows.push({
        metric: `gallery.search k=${k} (default ef ${DEFAULT_EF_SEARCH}), p50 / p99`,
        hnsw: `${ms(pct(lat, 0.5))} / ${ms(pct(lat, 0.99))}`,
        bruteForce: `${ms(pct(bfLat, 0.5))} / ${ms(pct(bfLat, 0.99))}`,
        ratio: `${(pct(bfLat, 0.5) / pct(lat, 0.5)).toFixed(0)}x faster`,
        note: `recall@10 ${(hits10 / (nq * 10)).toFixed(3)} (random queries)`,
      });
    }
    await reopened.close();

    // The ef sweep on the raw index loaded from the snapshot (labels are enrolment seqs).
    const paths = snapshotPaths(path.join(dir, 'index'), modelId);
    const index = await readHnswIndex(paths.index, dim);
    for (const ef of efs) {
      for (const [name, qs] of Object.entries(querySets)) {
        const lat: number[] = [];
        let hits10 = 0;
        let hitsK = 0;
        let rank1 = 0;
        for (let i = 0; i < nq; i++) {
          const q = qs.subarray(i * dim, (i + 1) * dim);
          const { value, ms: t } = timed(() => index.search(q, k, ef));
          lat.push(t);
          const rowsFound = value.labels.map((l) => seqToRow.get(l)!);
          if (rowsFound[0] === sources[i]) rank1++;
          const truth10 = new Set(exact[name]![i]!.slice(0, 10));
          const truthK = new Set(exact[name]![i]!);
          hits10 += rowsFound.slice(0, 10).filter((r) => truth10.has(r)).length;
          hitsK += rowsFound.filter((r) => truthK.has(r)).length;
        }
        lat.sort((a, b) => a - b);
        rows.push({
          metric: `HNSW k=${k} ef=${ef}, ${name} queries, p50 / p99`,
          hnsw: `${ms(pct(lat, 0.5))} / ${ms(pct(lat, 0.99))}`,
          bruteForce: `${ms(pct(bfLat, 0.5))} / ${ms(pct(bfLat, 0.99))}`,
          ratio: `${(pct(bfLat, 0.5) / pct(lat, 0.5)).toFixed(0)}x faster`,
          note: `recall@10 ${(hits10 / (nq * 10)).toFixed(3)}, recall@${k} ${(hitsK / (nq * k)).toFixed(3)}`
            + (name === 'near-sample' ? `, rank-1 = source ${(rank1 / nq).toFixed(3)} (brute force ${bfRank1.toFixed(3)})` : ''),
        });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function printTable(rows: GallerySearchRow[]): void {
  const cols = Object.keys(rows[0]!) as Array<keyof GallerySearchRow>;
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  console.log('| ' + cols.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |');
  console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
  for (const r of rows) console.log('| ' + cols.map((c, i) => r[c].padEnd(w[i]!)).join(' | ') + ' |');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  const dim = process.argv[3] ? Number(process.argv[3]) : undefined;
  const data = process.argv[4] === 'clustered' ? 'clustered' : 'random';
  printTable(await runGallerySearchBench({ n, dim, data }));
}
