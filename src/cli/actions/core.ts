/**
 * What `dfg enrol | attribute | gallery info | gallery rebuild` do (their options:
 * ../commands/core.ts). Loaded only when one of them runs; `dfg serve`, which loads the server, is
 * in serve.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, storeLocation, type Config } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { startServices } from '../../serving/services.js';
import { enrolImages } from '../../use-cases/enrol.js';
import { CLI_AUDIT } from '../audit-note.js';
import { attributeImage } from '../../use-cases/attribute.js';
import { expandImagePaths } from '../files.js';
import { requireGallery } from '../gallery-dir.js';
import { progressBar } from '../progress.js';
import { isDfgError } from '../../errors.js';
import type { Gallery } from '../../gallery/gallery.js';
import type { AlgorithmRecord } from '../../gallery/types.js';
import { MAX_PAGE_LIMIT } from '../../gallery/validate.js';
import { hasStore } from '../../gallery/store/open.js';

const CHUNK = 32;

/**
 * Runs `fn` on the services over DFG_GALLERY_DIR, then closes them. The gallery must exist (see
 * ../gallery-dir.ts) unless `create`: only `dfg enrol --create` makes a new one (`created` says it did).
 */
export async function withServices<T>(fn: (parts: Awaited<ReturnType<typeof open>>) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const parts = await open(opts);
  try {
    return await fn(parts);
  } finally {
    await parts.close();
  }
}

/**
 * The services' log for a command: on stderr, so stdout carries only the command's output
 * (`dfg gallery info | jq`, `dfg attribute --json`). Unless LOG_LEVEL is set, warnings only.
 */
function cliLogger(config: Config) {
  const explicit = Boolean(process.env.LOG_LEVEL);
  return { log: createLogger({ LOG_LEVEL: explicit ? config.LOG_LEVEL : 'warn' }, process.stderr), explicit };
}

async function open(opts: { create?: boolean }) {
  const config = loadConfig();
  const created = !hasStore(storeLocation(config));
  if (created && !opts.create) requireGallery(config.DFG_GALLERY_DIR, config.DFG_STORE);
  const { log, explicit } = cliLogger(config);
  // A failed start-up is printed by the CLI as its one line; logged too only when LOG_LEVEL asks for logs.
  const services = startServices(config, log, { refreshMs: 0, logStartFailure: explicit });
  await services.whenReady;
  return { config, created, ...services.need(), close: () => services.close() };
}

/** The algorithm with id `ref`, else the one named `ref` (case-insensitive), else undefined. */
export async function resolveAlgorithm(gallery: Gallery, ref: string): Promise<AlgorithmRecord | undefined> {
  try {
    return await gallery.getAlgorithm(ref);
  } catch (err) {
    if (!isDfgError(err) || err.code !== 'DFG_ERR_ALGORITHM_NOT_FOUND') throw err;
  }
  const wanted = ref.toLowerCase();
  for (let offset = 0; ; offset += MAX_PAGE_LIMIT) {
    const page = await gallery.listAlgorithms({ limit: MAX_PAGE_LIMIT, offset });
    const found = page.items.find((a) => a.name.toLowerCase() === wanted);
    if (found) return found;
    if (page.items.length < MAX_PAGE_LIMIT) return undefined;
  }
}

export interface EnrolOptions { create?: boolean; forgeryType: string; architecture: string; json?: boolean }

/** `dfg enrol <algorithm> <paths...>` */
export async function enrol(ref: string, paths: string[], o: EnrolOptions): Promise<void> {
  const files = await expandImagePaths(paths);
  if (files.length === 0) throw new Error('No image files found');
  // Without --create nothing is created: neither the algorithm nor, in a DFG_GALLERY_DIR without one, the gallery.
  await withServices(async ({ config, created, embedder, gallery }) => {
    // On stderr, so a mistyped DFG_GALLERY_DIR shows at once (stdout may be --json).
    if (created) console.error(`created a new gallery in ${config.DFG_GALLERY_DIR} (DFG_GALLERY_DIR)`);
    let alg = await resolveAlgorithm(gallery, ref);
    if (!alg) {
      if (!o.create) throw new Error(`Algorithm ${ref} not found (use --create to register it)`);
      alg = await gallery.createAlgorithm({ name: ref, forgeryType: o.forgeryType as never, architecture: o.architecture as never }, { audit: CLI_AUDIT });
    }
    const bar = progressBar(`enrol ${alg.name}`, files.length);
    const totals = { created: 0, duplicates: 0, failed: 0 };
    const results = [];
    for (let i = 0; i < files.length; i += CHUNK) {
      const chunk = files.slice(i, i + CHUNK);
      const inputs = await Promise.all(chunk.map(async (f) => ({ filename: f, bytes: await fs.readFile(f) })));
      const summary = await enrolImages({ embedder, gallery }, alg.id, inputs, { audit: CLI_AUDIT });
      totals.created += summary.created; totals.duplicates += summary.duplicates; totals.failed += summary.failed;
      results.push(...summary.results);
      bar.tick(chunk.length, `${totals.created} new, ${totals.failed} failed`);
    }
    bar.stop();
    if (o.json) console.log(JSON.stringify({ algorithm: alg, ...totals, results }, null, 2));
    else {
      for (const r of results.filter((x) => x.status === 'error')) console.error(`  ${r.filename}: ${r.error?.code} ${r.error?.message}`);
      console.log(`${alg.name} (${alg.id}): ${totals.created} enrolled, ${totals.duplicates} duplicates, ${totals.failed} failed`);
    }
    if (totals.created + totals.duplicates === 0) process.exitCode = 1;
  }, { create: o.create });
}

/** `dfg attribute <paths...>` */
export async function attribute(paths: string[], o: { json?: boolean; k: number }): Promise<void> {
  const files = await expandImagePaths(paths);
  if (files.length === 0) throw new Error('No image files found');
  await withServices(async ({ config, embedder, gallery }) => {
    const rows: string[][] = [];
    for (const f of files) {
      try {
        const r = await attributeImage({ embedder, gallery, config }, await fs.readFile(f), { k: o.k });
        if (o.json) console.log(JSON.stringify({ file: f, ...r }));
        else rows.push([path.basename(f), r.decision, r.algorithm?.name ?? '-', r.score.toFixed(3), r.threshold.toFixed(3), r.margin.toFixed(3), r.candidates.map((c) => `${c.algorithm.name}:${c.score.toFixed(3)}`).join(' ')]);
      } catch (err) {
        const msg = isDfgError(err) ? `${err.code}: ${err.message}` : String(err);
        if (o.json) console.log(JSON.stringify({ file: f, error: msg }));
        else rows.push([path.basename(f), 'error', '-', '-', '-', '-', msg]);
        process.exitCode = 1;
      }
    }
    if (!o.json) printTable(['file', 'decision', 'algorithm', 'score', 'threshold', 'margin', 'candidates'], rows);
  });
}

/** `dfg gallery info` */
export async function galleryInfo(): Promise<void> {
  await withServices(async ({ gallery: g }) => console.log(JSON.stringify({ ...g.info(), coverage: await g.coverage() }, null, 2)));
}

/** `dfg gallery rebuild` */
export async function galleryRebuild(): Promise<void> {
  await withServices(async ({ gallery: g }) => {
    const t0 = performance.now();
    await g.rebuild();
    await g.snapshot();
    console.log(`rebuilt ${g.info().index.size} entries in ${Math.round(performance.now() - t0)} ms`);
  });
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}
