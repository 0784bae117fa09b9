/**
 * Resizing for semantic models (CLIP, DINOv2), pure: the shortest edge is scaled to a size read
 * from the manifest, with a separable bilinear or bicubic filter whose support widens when
 * shrinking (antialiasing, as Pillow and torchvision do), so a 4000-px photo is not aliased down
 * to 224 px. Forensic models never come here: resizing erases generator traces.
 */

export interface ResizeSpec {
  /** Length of the shorter side after resizing; the longer side keeps the aspect ratio (rounded down). */
  shortestEdge: number;
  filter: 'bilinear' | 'bicubic';
}

interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
}

// Keys' cubic with a = -0.5, the bicubic of Pillow and OpenCV.
const A = -0.5;
const FILTERS: Record<ResizeSpec['filter'], { support: number; fn: (x: number) => number }> = {
  bilinear: { support: 1, fn: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    fn: (x) => {
      const t = Math.abs(x);
      if (t < 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
      if (t < 2) return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
      return 0;
    },
  },
};

/** Output size: the shorter side becomes `shortestEdge`, the longer one scales with it (rounded down, at least 1). */
export function resizedSize(width: number, height: number, shortestEdge: number): { width: number; height: number } {
  if (width <= height) return { width: shortestEdge, height: Math.max(1, Math.floor((height * shortestEdge) / width)) };
  return { width: Math.max(1, Math.floor((width * shortestEdge) / height)), height: shortestEdge };
}

/** Per output index: the first input index and the normalised weights of the inputs it mixes. */
function axisWeights(inSize: number, outSize: number, filter: ResizeSpec['filter']): Array<{ start: number; weights: Float64Array }> {
  const { support, fn } = FILTERS[filter];
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const out: Array<{ start: number; weights: Float64Array }> = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const start = Math.max(0, Math.floor(centre - support * stretch));
    const end = Math.min(inSize, Math.ceil(centre + support * stretch));
    const weights = new Float64Array(end - start);
    let sum = 0;
    for (let j = start; j < end; j++) sum += weights[j - start] = fn((j + 0.5 - centre) / stretch);
    for (let k = 0; k < weights.length; k++) weights[k]! /= sum;
    out.push({ start, weights });
  }
  return out;
}

/**
 * Resizes interleaved RGB (8 bits per channel) to `outWidth` x `outHeight`: horizontal pass, then
 * vertical, in double precision, rounded and clamped to 0..255 once at the end.
 */
export function resizeRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, filter: ResizeSpec['filter']): Uint8Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`Expected ${width * height * 3} bytes of RGB but received ${rgb.length}`);
  if (!(Number.isInteger(outWidth) && Number.isInteger(outHeight) && outWidth >= 1 && outHeight >= 1)) {
    throw new RangeError(`Expected a positive integer output size but received ${outWidth}x${outHeight}`);
  }
  const xs = axisWeights(width, outWidth, filter);
  const ys = axisWeights(height, outHeight, filter);
  const mid = new Float64Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = xs[x]!;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < weights.length; k++) {
        const src = (y * width + start + k) * 3;
        const w = weights[k]!;
        r += w * rgb[src]!;
        g += w * rgb[src + 1]!;
        b += w * rgb[src + 2]!;
      }
      const dst = (y * outWidth + x) * 3;
      mid[dst] = r;
      mid[dst + 1] = g;
      mid[dst + 2] = b;
    }
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    const { start, weights } = ys[y]!;
    for (let x = 0; x < outWidth * 3; x++) {
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k]! * mid[(start + k) * outWidth * 3 + x]!;
      out[y * outWidth * 3 + x] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return out;
}

/** The image resized as the manifest's `resize` asks (same object when it already has that size). */
export function resizeForModel<T extends Raster>(img: T, spec: ResizeSpec): T {
  const size = resizedSize(img.width, img.height, spec.shortestEdge);
  if (size.width === img.width && size.height === img.height) return img;
  return { ...img, data: resizeRgb(img.data, img.width, img.height, size.width, size.height, spec.filter), ...size };
}
