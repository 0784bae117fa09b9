/** `npm run bench`: every benchmark, each printed side by side with its baseline from the same run. */
import { runHttpBench, type Row } from './http.js';
import { runGallerySearchBench } from './gallery-search.js';
import { runJobsBench } from './jobs.js';
import { runScaleBench } from './scale.js';
import { runOverloadBench } from './overload.js';
import { loadConfig, modelList } from '../src/config/index.js';
import { loadManifest } from '../src/embedding/manifest.js';

function table(title: string, rows: Array<Record<string, string>>): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  console.log(`\n## ${title}\n`);
  console.log('| ' + cols.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |');
  console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|');
  for (const r of rows) console.log('| ' + cols.map((c, i) => (r[c] ?? '').padEnd(w[i]!)).join(' | ') + ' |');
}

// Benchmark names; options (`--samples 1000000`) are read by the benchmark that takes them.
const only = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('http')) table('/v1/attribute vs raw pipeline (1024x1024 JPEG)', (await runHttpBench()) as unknown as Row[] as never);
if (want('gallery')) {
  // Searched vectors have the dimension of the model the service runs (the first of DFG_MODEL,
  // default from the config; with a fusion each model has its own index of its own dimension).
  const config = loadConfig();
  const { manifest } = await loadManifest(config.DFG_MODELS_DIR, modelList(config)[0]!.id);
  const dim = manifest.output.dim;
  const rows = await runGallerySearchBench({ n: 100_000, dim, k: 50, efs: [64, 128, 256], data: 'clustered' });
  table(`gallery search, 100k samples x ${dim} dims (${manifest.id}, clustered), HNSW vs brute force`, rows as unknown as Array<Record<string, string>>);
}
if (want('scale')) table('the gallery on PostgreSQL at scale (synthetic clustered vectors, 256 dims), beside SQLite or exact search', (await runScaleBench()) as unknown as Array<Record<string, string>>);
if (want('jobs')) table('batch enrolment: job workers vs the raw embed pipeline (same run)', (await runJobsBench()) as unknown as Array<Record<string, string>>);
if (want('overload')) {
  const seconds = Number(process.env.DFG_BENCH_SECONDS ?? 15);
  const rounds = Number(process.env.DFG_BENCH_ROUNDS ?? 3);
  table(`overload: /v1/attribute at the saturating connections vs 4x, same run (${seconds} s each, in ${rounds} turns)`, await runOverloadBench({ seconds, rounds }));
}
process.exit(0);
