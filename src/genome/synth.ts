/**
 * `dfg genome synth`: a simulated forgery genome. N algorithms are drawn from the families
 * (balanced, in a seed-shuffled order), each with its own parameters and random weights and
 * its own post-processing (work size and resize kernel, noise, JPEG quality and chroma
 * subsampling); each renders M pictures from real photos chosen per image. The output is a
 * dataset folder `OUT/<algorithm>/<algorithm>-NNN.{png,jpg}` plus `OUT/genome.json`, so
 * `dfg eval` and `dfg genome fit` read it directly. Same options and photos, same bytes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../errors.js';
import { FAMILIES, familyByName, type Family } from './families/index.js';
import { cropRgb, decodeRgb, encodeRgb, resizeRgb, type ResizeKernel, type Rgb } from './image-io.js';
import { listImageFiles } from './photos.js';
import { fromInterleaved, toInterleaved } from './raster.js';
import { createGenomeRng, round, type GenomeRng } from './rng.js';

export const GENOME_VERSION = '1.0.0';

export interface SynthOptions {
  /** Folder of real photos (searched recursively). */
  realDir: string;
  /** Output folder; must be absent or empty. */
  outDir: string;
  algorithms: number;
  perAlgorithm: number;
  seed: string;
  /** Output side in pixels (multiple of 16, 64..1024). Default 256. */
  size?: number;
  /** Restrict to these families (default: all). */
  families?: string[];
  onProgress?: (done: number, total: number, algorithm: string) => void;
}

/** Post-processing of one algorithm, applied to every picture it renders. */
export interface PostParams {
  /** The generator runs at this size; the picture is then resized to the output size. */
  workSize: number;
  resizeKernel: ResizeKernel | null;
  /** Gaussian noise in grey levels added after resizing (0: none). */
  noiseSigma: number;
  /** JPEG quality of the saved file, or null for PNG. */
  jpegQuality: number | null;
  chromaSubsampling: '4:2:0' | '4:4:4' | null;
}

export interface GenomeAlgorithm {
  forgeryType: string;
  architecture: string;
  family: string;
  parameters: Record<string, unknown> & { post: PostParams };
  images: number;
}

export interface GenomeFile {
  name: string;
  description: string;
  generator: { tool: string; version: string };
  seed: string;
  size: number;
  perAlgorithm: number;
  realPhotos: number;
  families: Record<string, { forgeryType: string; description: string }>;
  algorithms: Record<string, GenomeAlgorithm>;
}

const RESIZE_KERNELS: readonly ResizeKernel[] = ['linear', 'cubic', 'mitchell', 'lanczos3'];
const MAX_ALGORITHMS = 10_000;
const MAX_PER_ALGORITHM = 10_000;

const invalid = (why: string) => dfgError('DFG_ERR_GENOME_INVALID', why);

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`Expected an integer in [${min}, ${max}] for ${name} but received ${JSON.stringify(v)}`);
}

function samplePost(rng: GenomeRng, size: number): PostParams {
  const workSize = rng.chance(0.5) ? size : Math.round((size * rng.pick([0.75, 1.25, 1.5])) / 16) * 16;
  const jpeg = rng.chance(0.5);
  return {
    workSize,
    resizeKernel: workSize === size ? null : rng.pick(RESIZE_KERNELS),
    noiseSigma: rng.chance(0.3) ? round(rng.uniform(0.5, 3), 3) : 0,
    jpegQuality: jpeg ? 60 + rng.int(39) : null,
    chromaSubsampling: jpeg ? rng.pick(['4:2:0', '4:4:4'] as const) : null,
  };
}

/** A few decoded photos kept in memory (most runs reuse patches many times). */
function photoCache(files: string[], limit = 64) {
  const cache = new Map<number, Promise<Rgb>>();
  return (i: number): Promise<Rgb> => {
    let p = cache.get(i);
    if (p) {
      cache.delete(i);
    } else {
      p = decodeRgb(files[i]).catch((err: unknown) => {
        throw invalid(`real photo ${files[i]} cannot be decoded: ${(err as Error).message}`);
      });
    }
    cache.set(i, p);
    if (cache.size > limit) cache.delete(cache.keys().next().value!);
    return p;
  };
}

/** A random work-size square of the photo; a photo smaller than that is first scaled up to cover it. */
async function photoCrop(photo: Rgb, work: number, rng: GenomeRng): Promise<Rgb> {
  let img = photo;
  if (Math.min(img.width, img.height) < work) {
    const s = work / Math.min(img.width, img.height);
    img = await resizeRgb(img, Math.max(work, Math.ceil(img.width * s)), Math.max(work, Math.ceil(img.height * s)), 'lanczos3');
  }
  return cropRgb(img, rng.int(img.width - work + 1), rng.int(img.height - work + 1), work, work);
}

async function renderImage(
  family: Family, params: GenomeAlgorithm['parameters'], size: number, photos: (i: number) => Promise<Rgb>, photoCount: number, rng: GenomeRng,
): Promise<{ bytes: Buffer; ext: string }> {
  const post = params.post;
  const photo = await photoCrop(await photos(rng.int(photoCount)), post.workSize, rng);
  const donorRgb = await photoCrop(await photos(rng.int(photoCount)), post.workSize, rng);
  const raster = family.render(params, {
    photo: fromInterleaved(photo.data, photo.width, photo.height),
    donor: () => fromInterleaved(donorRgb.data, donorRgb.width, donorRgb.height),
    rng,
  });
  let out: Rgb = { data: toInterleaved(raster), width: raster.w, height: raster.h };
  if (post.resizeKernel) out = await resizeRgb(out, size, size, post.resizeKernel);
  if (post.noiseSigma > 0) {
    for (let i = 0; i < out.data.length; i++) out.data[i] = Math.min(255, Math.max(0, Math.round(out.data[i] + post.noiseSigma * rng.normal())));
  }
  const bytes = post.jpegQuality === null
    ? await encodeRgb(out, { format: 'png' })
    : await encodeRgb(out, { format: 'jpeg', quality: post.jpegQuality, chromaSubsampling: post.chromaSubsampling ?? '4:2:0' });
  return { bytes, ext: post.jpegQuality === null ? 'png' : 'jpg' };
}

/** Validates the options, draws the algorithms and writes the genome; resolves to genome.json's content. */
export async function synthGenome(o: SynthOptions): Promise<GenomeFile> {
  const size = o.size ?? 256;
  checkInt('--algorithms', o.algorithms, 1, MAX_ALGORITHMS);
  checkInt('--per-algorithm', o.perAlgorithm, 1, MAX_PER_ALGORITHM);
  checkInt('--size', size, 64, 1024);
  if (size % 16 !== 0) throw invalid(`Expected a multiple of 16 for --size but received ${size}`);
  if (typeof o.seed !== 'string' || o.seed.length === 0) throw invalid('Expected a non-empty string for --seed');
  const families = (o.families && o.families.length > 0 ? o.families : FAMILIES.map((f) => f.name)).map((name) => {
    const f = familyByName(name);
    if (!f) throw invalid(`Unknown family ${JSON.stringify(name)}; expected one of ${FAMILIES.map((x) => x.name).join(', ')}`);
    return f;
  });
  const photoFiles = await listImageFiles(o.realDir).catch((err: unknown) => {
    throw invalid(`--real ${o.realDir} cannot be read: ${(err as Error).message}`);
  });
  if (photoFiles.length === 0) throw invalid(`--real ${o.realDir} holds no .png, .jpg, .jpeg or .webp photos`);
  const existing = await fs.readdir(o.outDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw invalid(`--out ${o.outDir} cannot be used: ${err.message}`);
  });
  if (existing.length > 0) throw invalid(`--out ${o.outDir} is not empty; choose a new folder`);

  const order = [...families];
  const shuffle = createGenomeRng(`${o.seed}:families`);
  for (let i = order.length - 1; i > 0; i--) {
    const j = shuffle.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const digits = String(o.algorithms - 1).length < 3 ? 3 : String(o.algorithms - 1).length;
  const algorithms: Record<string, GenomeAlgorithm> = {};
  const plan: Array<{ name: string; family: Family; params: GenomeAlgorithm['parameters'] }> = [];
  for (let a = 0; a < o.algorithms; a++) {
    const family = order[a % order.length];
    const rng = createGenomeRng(`${o.seed}:algorithm:${a}`);
    const params = { ...family.sample(rng), post: samplePost(rng, size) };
    const name = `${String(a).padStart(digits, '0')}-${family.name}`;
    plan.push({ name, family, params });
    algorithms[name] = { forgeryType: family.forgeryType, architecture: family.architecture(params), family: family.name, parameters: params, images: o.perAlgorithm };
  }

  await fs.mkdir(o.outDir, { recursive: true });
  const photos = photoCache(photoFiles);
  const total = o.algorithms * o.perAlgorithm;
  let done = 0;
  for (const { name, family, params } of plan) {
    const dir = path.join(o.outDir, name);
    await fs.mkdir(dir);
    for (let i = 0; i < o.perAlgorithm; i++) {
      const rng = createGenomeRng(`${o.seed}:image:${name}:${i}`);
      const { bytes, ext } = await renderImage(family, params, size, photos, photoFiles.length, rng);
      await fs.writeFile(path.join(dir, `${name}-${String(i).padStart(3, '0')}.${ext}`), bytes);
      o.onProgress?.(++done, total, name);
    }
  }
  const genome: GenomeFile = {
    name: `dfg-genome-${o.seed}`,
    description: `Simulated forgery genome: ${o.algorithms} algorithms x ${o.perAlgorithm} images synthesised from ${photoFiles.length} real photos (dfg genome synth).`,
    generator: { tool: 'dfg genome synth', version: GENOME_VERSION },
    seed: o.seed,
    size,
    perAlgorithm: o.perAlgorithm,
    realPhotos: photoFiles.length,
    families: Object.fromEntries(families.map((f) => [f.name, { forgeryType: f.forgeryType, description: f.description }])),
    algorithms,
  };
  // Written last: a genome.json means the folder is complete.
  await fs.writeFile(path.join(o.outDir, 'genome.json'), `${JSON.stringify(genome, null, 2)}\n`);
  return genome;
}
