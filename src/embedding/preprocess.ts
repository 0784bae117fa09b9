/**
 * Manifest-driven preprocessing, pure: crop planning at native resolution, normalisation into an
 * NCHW float tensor, and pooling of per-crop embeddings. No native imports, so golden tests pin
 * the numbers without sharp or onnxruntime.
 */
import type { Manifest } from './manifest-schema.js';
import { dfgError } from '../errors.js';

export type CropSpec = Manifest['crop'];
export type InputSpec = Manifest['input'];

/** A rectangle in image pixel coordinates. */
export interface CropRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Number of grid columns and rows for `count` crops, shaped like the image (cols x rows <= count). */
function gridShape(count: number, width: number, height: number): [number, number] {
  let cols = Math.min(count, Math.max(1, Math.round(Math.sqrt((count * width) / height))));
  const rows = Math.max(1, Math.floor(count / cols));
  cols = Math.max(1, Math.floor(count / rows));
  return [cols, rows];
}

/** `n` evenly spaced offsets from 0 to `travel` inclusive (both edges reached); one offset is centred. */
function offsets(n: number, travel: number): number[] {
  if (n === 1) return [Math.floor(travel / 2)];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round((i * travel) / (n - 1)));
  return out;
}

/**
 * Plans the crops fed to the model, at native resolution (never resized).
 *
 * - Image at least `size` in both dimensions: `center` gives one centred `size` square; `grid`
 *   gives up to `count` squares on a cols x rows grid shaped like the image, evenly spaced with the
 *   outer crops touching the edges (so the four corners are covered), row-major order. Positions
 *   that would coincide (an image barely larger than `size`) are not repeated.
 * - Smaller than `size` in a dimension: a model with `dynamic` input gets one centred crop of
 *   `min(dimension, size)` cut down to a multiple of `multiple`; a fixed-size model refuses.
 * - Below `minSize` in a dimension: `DFG_ERR_IMAGE_TOO_SMALL`.
 */
export function planCrops(width: number, height: number, crop: CropSpec): CropRect[] {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Expected positive integer image dimensions but received ${width}x${height}`);
  }
  const { size } = crop;
  if (width < crop.minSize || height < crop.minSize) throw dfgError('DFG_ERR_IMAGE_TOO_SMALL', width, height, crop.minSize);

  if (width >= size && height >= size) {
    if (crop.plan === 'center') {
      return [{ left: Math.floor((width - size) / 2), top: Math.floor((height - size) / 2), width: size, height: size }];
    }
    const [wantCols, wantRows] = gridShape(crop.count, width, height);
    // An image only k pixels wider than a crop has k + 1 distinct column positions.
    const cols = Math.min(wantCols, width - size + 1);
    const rows = Math.min(wantRows, height - size + 1);
    const xs = offsets(cols, width - size);
    const ys = offsets(rows, height - size);
    const rects: CropRect[] = [];
    for (const top of ys) for (const left of xs) rects.push({ left, top, width: size, height: size });
    return rects;
  }

  if (!crop.dynamic) throw dfgError('DFG_ERR_IMAGE_TOO_SMALL', width, height, size);
  const cw = Math.floor(Math.min(width, size) / crop.multiple) * crop.multiple;
  const ch = Math.floor(Math.min(height, size) / crop.multiple) * crop.multiple;
  if (cw < crop.minSize || ch < crop.minSize || cw === 0 || ch === 0) {
    throw dfgError('DFG_ERR_IMAGE_TOO_SMALL', width, height, Math.max(crop.minSize, crop.multiple));
  }
  return [{ left: Math.floor((width - cw) / 2), top: Math.floor((height - ch) / 2), width: cw, height: ch }];
}

/** Per-channel value of a mean/std array: one entry broadcasts to every channel. */
function channelValue(values: readonly number[], c: number, name: string, channels: number): number {
  if (values.length === 1) return values[0];
  if (values.length !== channels) {
    throw new RangeError(`Expected 1 or ${channels} values for input.${name} but received ${values.length}`);
  }
  return values[c];
}

// ITU-R BT.601 luma weights, the usual RGB -> grey conversion of image libraries. Kept in float:
// a 1-channel model sees luminance without an extra 8-bit rounding.
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Builds the NCHW float tensor of the crops: each pixel value v (0..255) becomes
 * `(v * scale - mean[c]) / std[c]`. Three-channel models get R, G, B planes; one-channel models
 * get BT.601 luminance. A one-entry `mean` or `std` applies to every channel.
 */
export function cropsToTensor(
  rgb: Uint8Array,
  width: number,
  height: number,
  rects: readonly CropRect[],
  input: InputSpec,
): { data: Float32Array; dims: [number, number, number, number] } {
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`Expected ${width * height * 3} bytes of RGB for a ${width}x${height} image but received ${rgb.length}`);
  }
  if (rects.length === 0) throw new RangeError('Expected at least one crop but received none');
  const cw = rects[0].width;
  const ch = rects[0].height;
  for (const r of rects) {
    if (r.width !== cw || r.height !== ch) throw new RangeError(`Expected crops of ${cw}x${ch} but received ${r.width}x${r.height}`);
    if (r.left < 0 || r.top < 0 || r.left + r.width > width || r.top + r.height > height) {
      throw new RangeError(`Expected crops inside ${width}x${height} but received ${r.width}x${r.height}+${r.left}+${r.top}`);
    }
  }
  const channels = input.channels;
  const plane = cw * ch;
  const data = new Float32Array(rects.length * channels * plane);

  if (channels === 3) {
    // A 256-entry table per channel computes exactly (v * scale - mean) / std in double once.
    const luts = [0, 1, 2].map((c) => {
      const mean = channelValue(input.mean, c, 'mean', 3);
      const std = channelValue(input.std, c, 'std', 3);
      const lut = new Float32Array(256);
      for (let v = 0; v < 256; v++) lut[v] = (v * input.scale - mean) / std;
      return lut;
    });
    const [lr, lg, lb] = luts;
    rects.forEach((r, n) => {
      const base = n * 3 * plane;
      for (let y = 0; y < ch; y++) {
        let src = ((r.top + y) * width + r.left) * 3;
        let dst = base + y * cw;
        for (let x = 0; x < cw; x++, src += 3, dst++) {
          data[dst] = lr[rgb[src]];
          data[dst + plane] = lg[rgb[src + 1]];
          data[dst + 2 * plane] = lb[rgb[src + 2]];
        }
      }
    });
  } else {
    const mean = channelValue(input.mean, 0, 'mean', 1);
    const std = channelValue(input.std, 0, 'std', 1);
    rects.forEach((r, n) => {
      const base = n * plane;
      for (let y = 0; y < ch; y++) {
        let src = ((r.top + y) * width + r.left) * 3;
        let dst = base + y * cw;
        for (let x = 0; x < cw; x++, src += 3, dst++) {
          const luma = LUMA[0] * rgb[src] + LUMA[1] * rgb[src + 1] + LUMA[2] * rgb[src + 2];
          data[dst] = (luma * input.scale - mean) / std;
        }
      }
    });
  }
  return { data, dims: [rects.length, channels, ch, cw] };
}

/**
 * Pools `n` crop embeddings of `dim` values (row-major `outputs`) into one vector: the mean,
 * L2-normalised when `normalise` is `'l2'`. Accumulates in double precision.
 */
export function meanAndNormalise(outputs: Float32Array, n: number, dim: number, normalise: 'l2' | 'none'): Float32Array {
  if (!(n >= 1) || !(dim >= 1) || outputs.length !== n * dim) {
    throw new RangeError(`Expected ${n} x ${dim} model outputs but received ${outputs.length} values`);
  }
  const acc = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let d = 0; d < dim; d++) acc[d] += outputs[row + d];
  }
  let sq = 0;
  for (let d = 0; d < dim; d++) {
    acc[d] /= n;
    sq += acc[d] * acc[d];
  }
  if (!Number.isFinite(sq)) throw new RangeError('Expected finite model outputs but received NaN or Infinity');
  const out = new Float32Array(dim);
  const scale = normalise === 'l2' ? (sq > 0 ? 1 / Math.sqrt(sq) : 0) : 1;
  for (let d = 0; d < dim; d++) out[d] = acc[d] * scale;
  return out;
}
