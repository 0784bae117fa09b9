/**
 * What `dfg models cohort` does (its options: ../commands/core.ts), apart from `models list` so
 * that listing models loads no embedder.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { loadConfig, threadCount } from '../../config/index.js';
import { writeFileDurably } from '../../lib/durable-fs.js';
import { loadManifest, type Manifest } from '../../embedding/manifest.js';
import { createEmbedder } from '../../embedding/index.js';
import { readDatasetImage, scanDataset } from '../../evaluation/dataset.js';
import { sha256Hex } from '../../use-cases/enrol.js';
import { progressBar } from '../progress.js';

export interface CohortCommandOptions { data: string; source?: string; threads?: number }

/**
 * `dfg models cohort <id> --data DIR`: embeds every image of a dataset folder with the model and
 * writes them as the model's score-normalisation cohort (`cohort.f32` beside model.json, whose
 * `cohort` field it fills in). The images must belong to no algorithm a gallery will register:
 * other generators and real photos (attribution/score-norm.ts).
 */
export async function cohort(id: string, o: CohortCommandOptions): Promise<void> {
  const config = loadConfig();
  const { manifest, dir } = await loadManifest(config.DFG_MODELS_DIR, id);
  const dataset = await scanDataset(path.resolve(o.data));
  const files = dataset.algorithms.flatMap((a) => a.files);
  if (files.length === 0) throw new Error(`no images in ${o.data}`);
  const limits = { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS };
  const embedder = await createEmbedder({ modelsDir: config.DFG_MODELS_DIR, modelId: id, threads: o.threads ?? threadCount(config), maxQueue: 1_000_000, limits, cohort: false });
  const bar = progressBar(`cohort ${id}`, files.length);
  const rows: { sha: string; vector: Float32Array }[] = [];
  try {
    // A few in flight keep every worker busy; results are kept in dataset order.
    const out = new Array<{ sha: string; vector: Float32Array } | null>(files.length).fill(null);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < files.length; i = next++) {
        const bytes = await readDatasetImage(files[i]!.path, limits.maxBytes);
        try {
          out[i] = { sha: sha256Hex(bytes), vector: (await embedder.embed(bytes)).vector };
        } catch (err) {
          if (!(err as { code?: string }).code?.startsWith('DFG_ERR_IMAGE_')) throw err;
        }
        bar.tick(1, files[i]!.rel);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    for (const r of out) if (r) rows.push(r);
  } finally {
    bar.stop();
    await embedder.close();
  }
  const data = new Float32Array(rows.length * manifest.output.dim);
  rows.forEach((r, i) => data.set(r.vector, i * manifest.output.dim));
  const bytes = new Uint8Array(data.buffer);
  const file = 'cohort.f32';
  await writeFileDurably(path.join(dir, file), bytes);
  const updated: Manifest = {
    ...manifest,
    cohort: {
      file,
      count: rows.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      itemsSha256: createHash('sha256').update(rows.map((r) => r.sha).join('\n')).digest('hex'),
      source: o.source ?? `${path.basename(path.resolve(o.data))}: ${rows.length} images of ${dataset.algorithms.length} folders`,
      version: manifest.version,
    },
  };
  await writeFileDurably(path.join(dir, 'model.json'), `${JSON.stringify(updated, null, 2)}\n`);
  console.log(`${id}: cohort of ${rows.length} images written to ${path.join(dir, file)} (${files.length - rows.length} unreadable left out)`);
}
