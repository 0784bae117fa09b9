/**
 * `dfg genome fit`: embeds every image of a simulated genome with a base model's raw
 * per-crop features averaged over the crops (the runtime's pooling, before any L2
 * normalisation, so the projection commutes with it), fits the discriminant projection with
 * the genome's algorithms as classes, and writes the projection file. Only folders written by
 * `dfg genome synth` are accepted, so a validation set cannot be fitted on by mistake.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { cropsToTensor, decodeImage, loadModel, meanAndNormalise, planCrops, type DecodeLimits } from '../embedding/index.js';
import { dfgError, isDfgError } from '../errors.js';
import { createEmbeddingCache, defaultCacheRoot, sha256Hex } from '../evaluation/cache.js';
import { scanDataset } from '../evaluation/dataset.js';
import { fitLda, fitNuisance } from './fit-projection.js';
import { f32, PROJECTION_FORMAT, projectionText, type ProjectionFile } from './projection-file.js';
import type { GenomeFile } from './synth.js';

export interface FitOptions {
  genomeDir: string;
  outFile: string;
  modelsDir: string;
  baseModel: string;
  /** 'lda' (default): centred discriminant projection to `dim`; 'nap' / 'wccn': geometry-keeping (see fit-projection.ts). */
  method?: 'lda' | 'nap' | 'wccn';
  dim: number;
  shrinkage: number;
  threads: number;
  limits: DecodeLimits;
  /** Feature cache folder (default: the evaluation cache root); null disables it. */
  cacheDir?: string | null;
  onProgress?: (done: number, total: number) => void;
}

const METHOD_TEXT = {
  lda: 'lda-shrinkage: centre, standardise, whiten the shrunk within-algorithm scatter, keep the {dim} leading between-algorithm directions',
  nap: 'nap: remove the {dim} leading within-algorithm scatter directions of the raw features (no centring, full dimension)',
  wccn: 'wccn: scale the raw features by the inverse square root of the shrunk within-algorithm scatter (no centring, full dimension)',
} as const;

const invalid = (why: string) => dfgError('DFG_ERR_GENOME_INVALID', why);

async function readGenome(dir: string): Promise<GenomeFile> {
  const text = await fs.readFile(path.join(dir, 'genome.json'), 'utf8').catch(() => {
    throw invalid(`--genome ${dir} has no genome.json; only folders written by \`dfg genome synth\` can be fitted on`);
  });
  let g: GenomeFile;
  try {
    g = JSON.parse(text) as GenomeFile;
  } catch (err) {
    throw invalid(`${dir}/genome.json is not JSON: ${(err as Error).message}`);
  }
  if (g?.generator?.tool !== 'dfg genome synth') {
    throw invalid(`${dir}/genome.json was not written by \`dfg genome synth\` (generator.tool is ${JSON.stringify(g?.generator?.tool)}); fitting on other folders, such as validation sets, is refused`);
  }
  return g;
}

/** Fits and writes the projection; resolves to the file's content. */
export async function fitGenomeProjection(o: FitOptions): Promise<ProjectionFile> {
  const genome = await readGenome(o.genomeDir);
  const dataset = await scanDataset(o.genomeDir);
  const classes = dataset.algorithms.length;
  if (classes < 3) throw invalid(`--genome ${o.genomeDir} has ${classes} algorithm(s); at least 3 are needed`);
  const method = o.method ?? 'lda';
  if (!['lda', 'nap', 'wccn'].includes(method)) throw invalid(`Expected --method lda, nap or wccn but received ${JSON.stringify(method)}`);
  if (method === 'lda' && (!Number.isInteger(o.dim) || o.dim < 1 || o.dim > classes - 1)) throw invalid(`Expected --dim in [1, ${classes - 1}] (algorithms - 1) but received ${o.dim}`);
  if (!(o.shrinkage >= 0 && o.shrinkage < 1)) throw invalid(`Expected --shrinkage in [0, 1) but received ${o.shrinkage}`);

  const model = await loadModel({ modelsDir: o.modelsDir, modelId: o.baseModel, limits: o.limits, intraOpThreads: o.threads });
  try {
    const { manifest } = model;
    const onnxBytes = await fs.readFile(path.join(o.modelsDir, o.baseModel, 'model.onnx'));
    const baseSha = createHash('sha256').update(onnxBytes).digest('hex');
    const dim = manifest.output.dim;
    if (!Number.isInteger(o.dim) || o.dim < 1 || o.dim >= dim) throw invalid(`Expected --dim in [1, ${dim - 1}] (below the base model's dimension) but received ${o.dim}`);
    const cache = o.cacheDir === null
      ? undefined
      : createEmbeddingCache({ root: o.cacheDir ?? defaultCacheRoot(), modelId: `${o.baseModel}.raw`, modelVersion: `${manifest.version}+${baseSha.slice(0, 16)}`, dim });
    const samples: Float32Array[] = [];
    const labels: number[] = [];
    let skipped = 0;
    const total = dataset.algorithms.reduce((n, a) => n + a.files.length, 0);
    let done = 0;
    for (const [label, alg] of dataset.algorithms.entries()) {
      for (const file of alg.files) {
        const bytes = await fs.readFile(file.path);
        const sha = sha256Hex(bytes);
        let v = await cache?.get(sha);
        if (!v) {
          try {
            const img = await decodeImage(bytes, o.limits);
            const rects = planCrops(img.width, img.height, manifest.crop);
            const tensor = cropsToTensor(img.data, img.width, img.height, rects, manifest.input);
            const out = await model.session.run(tensor.data, tensor.dims);
            v = meanAndNormalise(out.data, rects.length, dim, 'none');
          } catch (err) {
            if (!isDfgError(err)) throw err;
            // An image the runtime refuses (too small, corrupt) would be refused in service too.
            skipped++;
            o.onProgress?.(++done, total);
            continue;
          }
          await cache?.set(sha, v);
        }
        samples.push(v);
        labels.push(label);
        o.onProgress?.(++done, total);
      }
    }
    let lda;
    try {
      lda = method === 'lda'
        ? fitLda(samples, labels, { dim: o.dim, shrinkage: o.shrinkage })
        : fitNuisance(samples, labels, { method, dim: o.dim, shrinkage: o.shrinkage });
    } catch (err) {
      throw invalid(`the projection cannot be fitted on ${o.genomeDir}: ${(err as Error).message}`);
    }
    const file: ProjectionFile = {
      format: PROJECTION_FORMAT,
      method: METHOD_TEXT[method].replace('{dim}', String(o.dim)),
      baseModel: o.baseModel,
      baseVersion: manifest.version,
      baseOnnxSha256: baseSha,
      inputDim: lda.inputDim,
      outputDim: lda.outputDim,
      fit: {
        genome: {
          name: genome.name, seed: genome.seed, tool: genome.generator.tool, version: genome.generator.version,
          algorithms: Object.keys(genome.algorithms ?? {}).length, perAlgorithm: genome.perAlgorithm,
        },
        images: samples.length,
        algorithms: classes,
        shrinkage: o.shrinkage,
        eigenvalues: lda.eigenvalues.map(f32),
        skipped,
      },
      mean: Array.from(lda.mean, f32),
      matrix: Array.from(lda.matrix, f32),
    };
    await fs.mkdir(path.dirname(path.resolve(o.outFile)), { recursive: true });
    const tmp = `${o.outFile}.${process.pid}.tmp`;
    await fs.writeFile(tmp, projectionText(file));
    await fs.rename(tmp, o.outFile);
    return file;
  } finally {
    await model.release();
  }
}
