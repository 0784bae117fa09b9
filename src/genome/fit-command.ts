/**
 * `dfg genome fit`: embeds every image of a simulated genome with a base model's raw
 * per-crop features averaged over the crops (the runtime's pooling, before any L2
 * normalisation, so the projection commutes with it), fits the projection (discriminant ones
 * with the genome's algorithms as classes; PCA without labels, optionally on real-photo patches
 * too) and writes the projection file. Only folders written by `dfg genome synth` (and, for
 * `--real`, patch folders of `dfg genome photos`) are accepted, so a validation set cannot be
 * fitted on by mistake.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { cropsToTensor, decodeImage, loadModel, meanAndNormalise, planCrops, type DecodeLimits } from '../embedding/index.js';
import { dfgError, isDfgError } from '../errors.js';
import { createEmbeddingCache, defaultCacheRoot, sha256Hex } from '../evaluation/cache.js';
import { scanDataset } from '../evaluation/dataset.js';
import { fitPca, type PcaProjection } from './fit-pca.js';
import { fitLda, fitNuisance } from './fit-projection.js';
import { f32, PROJECTION_FORMAT, projectionText, type ProjectionFile } from './projection-file.js';
import type { GenomeFile } from './synth.js';

export interface FitOptions {
  genomeDir: string;
  outFile: string;
  modelsDir: string;
  baseModel: string;
  /**
   * 'lda' (default): centred discriminant projection to `dim`; 'nap' / 'wccn': geometry-keeping
   * (see fit-projection.ts); 'pca': the `dim` leading principal axes, no labels used (fit-pca.ts).
   */
  method?: FitMethod;
  /** pca only: subtract the mean before projecting (default: no, zero stays zero). */
  centre?: boolean;
  /** pca only: a flat folder of real-photo patches from `dfg genome photos`, added to the fitting set. */
  realDir?: string;
  dim: number;
  shrinkage: number;
  threads: number;
  limits: DecodeLimits;
  /** Feature cache folder (default: the evaluation cache root); null disables it. */
  cacheDir?: string | null;
  onProgress?: (done: number, total: number) => void;
}

export type FitMethod = 'lda' | 'nap' | 'wccn' | 'pca';

const METHOD_TEXT = {
  lda: 'lda-shrinkage: centre, standardise, whiten the shrunk within-algorithm scatter, keep the {dim} leading between-algorithm directions',
  nap: 'nap: remove the {dim} leading within-algorithm scatter directions of the raw features (no centring, full dimension)',
  wccn: 'wccn: scale the raw features by the inverse square root of the shrunk within-algorithm scatter (no centring, full dimension)',
  pca: 'pca: the {dim} leading principal axes of the L2-normalised features (covariance about their mean), applied {centring}',
} as const;

/** What `dfg genome photos` names its patches: `<source stem>__s<scale>_<left>_<top>.png`. */
const PATCH_NAME = /^[A-Za-z0-9_-]+__s\d+_\d+_\d+\.png$/;

/**
 * The patches of a `dfg genome photos` folder. Anything else in it (sub-folders, other names, a
 * genome.json) is refused: a dataset such as a validation set must not be fitted on by mistake.
 */
async function readPatches(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => {
    throw invalid(`--real ${dir} cannot be read`);
  });
  const odd = entries.filter((e) => !e.isFile() || !PATCH_NAME.test(e.name)).map((e) => e.name);
  if (odd.length > 0) {
    throw invalid(`--real ${dir} is not a patch folder written by \`dfg genome photos\` (${odd.length} other entries, e.g. ${JSON.stringify(odd[0])}); fitting on other folders, such as validation sets, is refused`);
  }
  if (entries.length === 0) throw invalid(`--real ${dir} has no patches`);
  return entries.map((e) => path.join(dir, e.name)).sort();
}

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
  const method = o.method ?? 'lda';
  if (!['lda', 'nap', 'wccn', 'pca'].includes(method)) throw invalid(`Expected --method lda, nap, wccn or pca but received ${JSON.stringify(method)}`);
  if (method !== 'pca' && (o.realDir !== undefined || o.centre)) throw invalid('--real and --centre apply to --method pca only');
  const realFiles = o.realDir === undefined ? [] : await readPatches(o.realDir);
  const genome = await readGenome(o.genomeDir);
  const dataset = await scanDataset(o.genomeDir);
  const classes = dataset.algorithms.length;
  if (classes < 3) throw invalid(`--genome ${o.genomeDir} has ${classes} algorithm(s); at least 3 are needed`);
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
    const total = dataset.algorithms.reduce((n, a) => n + a.files.length, 0) + realFiles.length;
    let done = 0;
    const embed = async (file: string): Promise<Float32Array | undefined> => {
      const bytes = await fs.readFile(file);
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
          return undefined;
        } finally {
          o.onProgress?.(++done, total);
        }
        await cache?.set(sha, v);
      } else {
        o.onProgress?.(++done, total);
      }
      return v;
    };
    for (const [label, alg] of dataset.algorithms.entries()) {
      for (const file of alg.files) {
        const v = await embed(file.path);
        if (!v) continue;
        samples.push(v);
        labels.push(label);
      }
    }
    const genomeImages = samples.length;
    // Real patches have no algorithm; only the label-free PCA takes them (label -1).
    for (const file of realFiles) {
      const v = await embed(file);
      if (!v) continue;
      samples.push(v);
      labels.push(-1);
    }
    let lda;
    try {
      lda = method === 'lda'
        ? fitLda(samples, labels, { dim: o.dim, shrinkage: o.shrinkage })
        : method === 'pca'
          ? fitPca(samples, { dim: o.dim, centre: o.centre ?? false })
          : fitNuisance(samples, labels, { method, dim: o.dim, shrinkage: o.shrinkage });
    } catch (err) {
      throw invalid(`the projection cannot be fitted on ${o.genomeDir}: ${(err as Error).message}`);
    }
    const file: ProjectionFile = {
      format: PROJECTION_FORMAT,
      method: METHOD_TEXT[method].replace('{dim}', String(o.dim)).replace('{centring}', o.centre ? 'to the features minus their mean' : 'to the raw features (uncentred: zero stays zero)'),
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
        shrinkage: method === 'pca' ? 0 : o.shrinkage,
        ...(method === 'pca' ? { genomeImages, explained: f32((lda as PcaProjection).explained) } : {}),
        ...(o.realDir !== undefined ? { real: { folder: path.basename(path.resolve(o.realDir)), patches: samples.length - genomeImages, tool: 'dfg genome photos' } } : {}),
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
