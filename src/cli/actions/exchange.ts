/**
 * `dfg gallery export | import` (their options: ../commands/exchange.ts). `dfg keys signing create`,
 * which needs no gallery, is in signing.ts.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { exportBundle, importBundle, readSigningKey, readTrustList, type ConflictMode, type ImportProgress } from '../../exchange/index.js';
import { loadConfig } from '../../config/index.js';
import { withServices } from './core.js';
import { CLI_AUDIT } from '../audit-note.js';

export interface ExportOptions { algorithms: string; out: string; key: string; images?: boolean; json?: boolean }

/** `dfg gallery export` */
export async function galleryExport(o: ExportOptions): Promise<void> {
  const refs = o.algorithms.split(',').map((s) => s.trim()).filter(Boolean);
  if (refs.length === 0) throw new Error(`Expected algorithm ids or names for --algorithms but received ${JSON.stringify(o.algorithms)}`);
  const signing = await readSigningKey(o.key);
  await withServices(async ({ gallery, embedder }) => {
    const models = embedder.models.map((m) => ({ id: m.id, version: m.version, dim: m.dim }));
    const { stream, summary } = await exportBundle(gallery, { algorithms: refs, models, images: o.images, signer: { publisher: signing.id, key: signing.key } });
    // Written beside the target and renamed when complete: a failed export leaves no partial bundle.
    const tmp = `${o.out}.${process.pid}.tmp`;
    try {
      await pipeline(stream, fs.createWriteStream(tmp, { flags: 'wx' }));
      await fsp.rename(tmp, o.out);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    const size = (await fsp.stat(o.out)).size;
    if (o.json) console.log(JSON.stringify({ file: o.out, bytes: size, publisher: signing.id, ...summary }, null, 2));
    else {
      console.log(`${o.out}: ${summary.algorithms} algorithms, ${summary.samples} samples, ${summary.images} images, ${size} bytes, signed by ${signing.id}`);
      if (summary.skipped.length) console.error(`  ${summary.skipped.length} samples left out: they lack a vector of a served model (dfg gallery reembed)`);
      if (summary.imagesNotKept.length) console.error(`  ${summary.imagesNotKept.length} images not kept: their samples travel without bytes`);
    }
  });
}

export interface ImportOptions { onConflict: ConflictMode; create?: boolean; json?: boolean }

/** `dfg gallery import <bundle>` */
export async function galleryImport(file: string, o: ImportOptions): Promise<void> {
  const trust = await readTrustList(loadConfig().DFG_TRUSTED_PUBLISHERS); // before the model loads: a missing trust list is refused at once
  await fsp.access(file).catch(() => { throw new Error(`Bundle ${file} cannot be read`); });
  await withServices(async ({ gallery, embedder }) => {
    // A progress line on a terminal (stderr, so --json output stays clean): images embedded, then samples written.
    const tty = process.stderr.isTTY && !o.json;
    let last = 0;
    const onProgress = (p: ImportProgress) => {
      if (!tty || p.phase === 'verified' || (Date.now() - last < 100 && p.done < p.total)) return;
      last = Date.now();
      const width = 30;
      const filled = p.total ? Math.round((width * p.done) / p.total) : width;
      process.stderr.write(`\r${p.phase === 'embedding' ? 'embedding images' : 'writing samples '} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}`);
      if (p.done >= p.total) process.stderr.write('\n');
    };
    const summary = await importBundle({ gallery, embedder }, file, { trust, onConflict: o.onConflict, onProgress, audit: CLI_AUDIT });
    if (o.json) console.log(JSON.stringify(summary, null, 2));
    else {
      for (const a of summary.algorithms) {
        console.log(a.action === 'skipped' ? `${a.name}: skipped (the gallery has one of that name)` : `${a.name} -> ${a.galleryName} (${a.id}): ${a.action}, ${a.created} samples added, ${a.duplicates} duplicates`);
      }
      const how = Object.entries(summary.models).map(([id, s]) => `${id} ${s === 'bundle' ? 'vectors from the bundle' : 'embedded from its images'}`).join(', ');
      console.log(`imported from ${summary.publisher} (bundle ${summary.bundleId}, sha256 ${summary.bundleSha256}): ${summary.created} of ${summary.total} samples added, ${summary.duplicates} duplicates, ${summary.skipped} skipped, ${summary.reembedded} images embedded again; ${how}`);
    }
  }, { create: o.create });
}
