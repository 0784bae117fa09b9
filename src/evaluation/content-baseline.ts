/**
 * The content-only baseline of the report: a 16×16 colour thumbnail, compared by correlation.
 * It sees layout and colour, nothing of the generator's fine traces, so a forensic model should
 * beat it by a wide margin; when it does not, the dataset's folders differ by content (subjects,
 * sizes, palettes) more than by generator, and the model's numbers mean little.
 */
import { decodeImage, type DecodeLimits } from '../embedding/decode.js';

export const CONTENT_SIDE = 16;

export const CONTENT_BASELINE = { id: 'content-thumb16', version: '1', dim: CONTENT_SIDE * CONTENT_SIDE * 3 } as const;

/**
 * Area weights of each output cell over the source pixels along one axis: output cell o covers
 * source interval [o·n/side, (o+1)·n/side), and each source pixel counts by its overlap.
 */
function axisWeights(n: number, side: number): { start: number; weights: number[] }[] {
  const cells: { start: number; weights: number[] }[] = [];
  for (let o = 0; o < side; o += 1) {
    const a = (o * n) / side;
    const b = ((o + 1) * n) / side;
    const start = Math.floor(a);
    const weights: number[] = [];
    for (let i = start; i < b && i < n; i += 1) weights.push(Math.min(b, i + 1) - Math.max(a, i));
    cells.push({ start, weights });
  }
  return cells;
}

/**
 * Area-averaged `side`×`side` RGB thumbnail of an interleaved RGB image (aspect ratio not kept),
 * centred (its mean removed) and scaled to unit norm, so cosine similarity is the Pearson
 * correlation of two thumbnails. A flat image gives the zero vector. Pure.
 */
export function thumbnailVector(rgb: Uint8Array, width: number, height: number, side = CONTENT_SIDE): Float32Array {
  const xs = axisWeights(width, side);
  const ys = axisWeights(height, side);
  // Rows first: every source row reduced to `side` cells, then the rows of each output cell.
  const rows = new Float64Array(height * side * 3);
  for (let y = 0; y < height; y += 1) {
    for (let ox = 0; ox < side; ox += 1) {
      const { start, weights } = xs[ox];
      let r = 0;
      let g = 0;
      let b = 0;
      let w = 0;
      for (let k = 0; k < weights.length; k += 1) {
        const p = (y * width + start + k) * 3;
        r += rgb[p] * weights[k];
        g += rgb[p + 1] * weights[k];
        b += rgb[p + 2] * weights[k];
        w += weights[k];
      }
      const q = (y * side + ox) * 3;
      rows[q] = r / w;
      rows[q + 1] = g / w;
      rows[q + 2] = b / w;
    }
  }
  const out = new Float64Array(side * side * 3);
  for (let oy = 0; oy < side; oy += 1) {
    const { start, weights } = ys[oy];
    const w = weights.reduce((s, x) => s + x, 0);
    for (let ox = 0; ox < side; ox += 1) {
      for (let c = 0; c < 3; c += 1) {
        let acc = 0;
        for (let k = 0; k < weights.length; k += 1) acc += rows[((start + k) * side + ox) * 3 + c] * weights[k];
        out[(oy * side + ox) * 3 + c] = acc / w;
      }
    }
  }
  const mean = out.reduce((s, x) => s + x, 0) / out.length;
  let ss = 0;
  for (let i = 0; i < out.length; i += 1) {
    out[i] -= mean;
    ss += out[i] * out[i];
  }
  // Below this the image is flat up to rounding: no direction to keep.
  const result = new Float32Array(out.length);
  if (ss < 1e-9) return result;
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < out.length; i += 1) result[i] = out[i] * inv;
  return result;
}

/** Decodes image bytes (with the service's limits and errors) and returns its content vector. */
export async function contentEmbedding(bytes: Uint8Array, limits: DecodeLimits): Promise<Float32Array> {
  const img = await decodeImage(bytes, limits);
  return thumbnailVector(img.data, img.width, img.height);
}
