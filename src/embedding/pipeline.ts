/**
 * The in-process embedding pipeline (decode → crops → tensor → session → pooled vector), shared
 * by the worker threads and by benchmarks that want the raw cost without a pool.
 */
import { performance } from 'node:perf_hooks';
import { decodeImage, type DecodedImage, type DecodeLimits } from './decode.js';
import { loadManifest, type Manifest } from './manifest.js';
import { createSession, type OnnxSession } from './onnx-session.js';
import { cropsToTensor, meanAndNormalise, planCrops, type CropRect } from './preprocess.js';
import { resizeForModel } from './resize.js';
import { dfgError } from '../errors.js';

export interface EmbedResult {
  /** The image embedding, `manifest.output.dim` values (unit length when the manifest says `l2`). */
  vector: Float32Array;
  /** Decoded size after EXIF orientation. */
  width: number;
  height: number;
  format: string;
  /** Crops averaged into the vector (summed over the models for several). */
  crops: number;
  decodeMs: number;
  /** Crop planning, tensor building, inference and pooling. */
  embedMs: number;
}

export interface LoadedModel {
  readonly manifest: Manifest;
  readonly session: OnnxSession;
  readonly limits: DecodeLimits;
  release(): Promise<void>;
}

export interface LoadModelOptions {
  modelsDir: string;
  modelId: string;
  limits: DecodeLimits;
  /** onnxruntime intra-op threads (1 per pool worker). */
  intraOpThreads: number;
}

/** The dimension a declared input shape fixes, or null when symbolic/undeclared. */
function fixedDim(shape: ReadonlyArray<number | string>, i: number): number | null {
  const d = shape[i];
  return typeof d === 'number' && d > 0 ? d : null;
}

/**
 * Loads the manifest and the ONNX session and proves they agree by running one zero crop of the
 * manifest's size: rank-4 input, channels, fixed H/W against `crop.size`/`crop.dynamic`, and an
 * output of `output.dim` values per crop. Rejects with the manifest errors or
 * `DFG_ERR_MODEL_LOAD_FAILED`.
 */
export async function loadModel(opts: LoadModelOptions): Promise<LoadedModel> {
  const { manifest, onnxPath } = await loadManifest(opts.modelsDir, opts.modelId);
  const session = await createSession(onnxPath, {
    intraOpThreads: opts.intraOpThreads,
    inputName: manifest.input.name,
    outputName: manifest.output.name,
    label: manifest.id,
  });
  const fail = async (why: string): Promise<never> => {
    await session.release().catch(() => undefined);
    throw dfgError('DFG_ERR_MODEL_LOAD_FAILED', manifest.id, why);
  };
  const shape = session.inputShape;
  const { channels } = manifest.input;
  const { size } = manifest.crop;
  if (shape.length !== 0) {
    if (shape.length !== 4) await fail(`input ${manifest.input.name} has rank ${shape.length}, expected 4 (NCHW)`);
    const c = fixedDim(shape, 1);
    if (c !== null && c !== channels) await fail(`input has ${c} channels, manifest says ${channels}`);
    const h = fixedDim(shape, 2);
    const w = fixedDim(shape, 3);
    if ((h !== null && h !== size) || (w !== null && w !== size)) {
      await fail(`input is ${h ?? '?'}x${w ?? '?'}, manifest crop.size is ${size}`);
    }
    if (manifest.crop.dynamic && (h !== null || w !== null)) await fail('manifest says crop.dynamic but the model input has fixed H or W');
  }
  try {
    const probe = await session.run(new Float32Array(channels * size * size), [1, channels, size, size]);
    if (probe.data.length !== manifest.output.dim) {
      await fail(`output ${manifest.output.name} has ${probe.data.length} values per crop (dims ${JSON.stringify(probe.dims)}), manifest output.dim is ${manifest.output.dim}`);
    }
  } catch (err) {
    if ((err as { code?: unknown }).code === 'DFG_ERR_MODEL_LOAD_FAILED') throw err;
    await fail(`test inference failed: ${(err as Error).message.split('\n')[0]}`);
  }
  return { manifest, session, limits: opts.limits, release: () => session.release() };
}

/** Result of embedding one image with several models (decoded once). */
export interface MultiEmbedResult extends Omit<EmbedResult, 'vector'> {
  /** One vector per model, in the order of the models given. */
  vectors: Float32Array[];
}

/**
 * Embeds one encoded image in the calling thread. Rejects with the image errors of
 * `decodeImage` and `planCrops`, and `DFG_ERR_IMAGE_NO_SIGNAL` when an L2-normalised model
 * gives the zero vector.
 */
export async function embedInProcess(bytes: Uint8Array, loaded: LoadedModel): Promise<EmbedResult> {
  const t0 = performance.now();
  const img = await decodeImage(bytes, loaded.limits);
  const t1 = performance.now();
  const { vector, crops } = await embedDecoded(img, loaded);
  return { vector, width: img.width, height: img.height, format: img.format, crops, decodeMs: t1 - t0, embedMs: performance.now() - t1 };
}

/** Decodes once and embeds with every model (each with its own preprocessing). Same errors as embedInProcess. */
export async function embedWithModels(bytes: Uint8Array, models: readonly LoadedModel[]): Promise<MultiEmbedResult> {
  const t0 = performance.now();
  const img = await decodeImage(bytes, models[0]!.limits);
  const t1 = performance.now();
  const vectors: Float32Array[] = [];
  let crops = 0;
  for (const m of models) {
    const r = await embedDecoded(img, m);
    vectors.push(r.vector);
    crops += r.crops;
  }
  return { vectors, crops, width: img.width, height: img.height, format: img.format, decodeMs: t1 - t0, embedMs: performance.now() - t1 };
}

/** True when every pixel of the crop has the colour of its first pixel (stops at the first that differs). */
function isFlatCrop(data: Uint8Array, width: number, r: CropRect): boolean {
  const first = (r.top * width + r.left) * 3;
  const [c0, c1, c2] = [data[first], data[first + 1], data[first + 2]];
  for (let y = r.top; y < r.top + r.height; y++) {
    const row = (y * width + r.left) * 3;
    for (let i = row, end = row + r.width * 3; i < end; i += 3) {
      if (data[i] !== c0 || data[i + 1] !== c1 || data[i + 2] !== c2) return false;
    }
  }
  return true;
}

/** Preprocesses (optional resize, crops, normalisation), runs the session and pools the crop embeddings. */
async function embedDecoded(decoded: DecodedImage, loaded: LoadedModel): Promise<{ vector: Float32Array; crops: number }> {
  const { manifest, session } = loaded;
  // Semantic models (CLIP, DINOv2) see a resized image; forensic models (no `resize`) native pixels.
  const img = manifest.resize ? resizeForModel(decoded, manifest.resize) : decoded;
  const rects = planCrops(img.width, img.height, manifest.crop);
  // Checked on the pixels, not the output: on a flat crop the model's output is rounding noise
  // (exactly zero only for some colours), which normalisation would blow up to a unit vector that
  // matches every other flat image (a 6000x6000 flat colour was attributed with score 0.99).
  if (rects.every((r) => isFlatCrop(img.data, img.width, r))) {
    throw dfgError('DFG_ERR_IMAGE_NO_SIGNAL', manifest.id, `every pixel of the ${rects.length} crop(s) has the same colour`);
  }
  const tensor = cropsToTensor(img.data, img.width, img.height, rects, manifest.input);
  const out = await session.run(tensor.data, tensor.dims);
  const n = rects.length;
  const dim = manifest.output.dim;
  if (out.data.length !== n * dim) {
    throw dfgError('DFG_ERR_MODEL_LOAD_FAILED', manifest.id, `output has ${out.data.length} values for ${n} crops of dimension ${dim}`);
  }
  const vector = meanAndNormalise(out.data, n, dim, manifest.output.normalise);
  // A zero vector has no direction: in a cosine gallery it would match nothing (or everything),
  // and enrolled it would poison the index. Feature models give it for perfectly flat images.
  if (manifest.output.normalise === 'l2' && vector.every((v) => v === 0)) {
    throw dfgError('DFG_ERR_IMAGE_NO_SIGNAL', manifest.id, `the ${n} crop embedding(s) average to the zero vector`);
  }
  return { vector, crops: n };
}
