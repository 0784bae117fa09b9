/**
 * Golden numbers for the resized-input preprocessing of semantic models (manifest `resize`):
 * output size, antialiased bilinear and bicubic weights (worked out by hand from the kernels),
 * then CLIP mean/std normalisation of a centre crop. Pure: no sharp, no onnxruntime.
 */
import t from 'tap';
import { resizeForModel, resizeRgb, resizedSize } from '../src/embedding/resize.js';
import { cropsToTensor, planCrops } from '../src/embedding/preprocess.js';

/** One row of grey pixels (r = g = b = v). */
const greyRow = (values: number[]) => Uint8Array.from(values.flatMap((v) => [v, v, v]));
const reds = (rgb: Uint8Array) => Array.from(rgb.filter((_, i) => i % 3 === 0));

t.test('output size: the shortest edge becomes the target, the other keeps the ratio (rounded down)', async (t) => {
  t.same(resizedSize(640, 480, 224), { width: 298, height: 224 });
  t.same(resizedSize(480, 640, 224), { width: 224, height: 298 });
  t.same(resizedSize(100, 100, 32), { width: 32, height: 32 });
  t.same(resizedSize(20, 10, 224), { width: 448, height: 224 }, 'small images are enlarged');
  t.same(resizedSize(10_000, 1, 8), { width: 80_000, height: 8 });
});

t.test('bilinear: shrinking widens the triangle (antialiasing), enlarging interpolates', async (t) => {
  // 4 -> 2: output 0 is centred on input 1.0 with a triangle of half-width 2:
  // weights 0.75, 0.75, 0.25 on inputs 0..2, i.e. (0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75 = 71.43.
  // Output 1, centred on 3.0: 0.25, 0.75, 0.75 on inputs 1..3 -> (25 + 150 + 191.25) / 1.75 = 209.29.
  t.same(reds(resizeRgb(greyRow([0, 100, 200, 255]), 4, 1, 2, 1, 'bilinear')), [71, 209]);
  // 2 -> 4: outputs centred on 0.25, 0.75, 1.25, 1.75 of the input.
  t.same(reds(resizeRgb(greyRow([0, 100]), 2, 1, 4, 1, 'bilinear')), [0, 25, 75, 100]);
});

t.test('bicubic (a = -0.5): weights 0.8672, 0.8672, 0.2266, -0.0703 when halving', async (t) => {
  // Output 0: (0 * 0.8671875 + 100 * 0.8671875 + 200 * 0.2265625 + 255 * -0.0703125) / 1.890625 = 60.35
  // Output 1: (0 * -0.0703125 + 100 * 0.2265625 + 200 * 0.8671875 + 255 * 0.8671875) / 1.890625 = 220.68
  t.same(reds(resizeRgb(greyRow([0, 100, 200, 255]), 4, 1, 2, 1, 'bicubic')), [60, 221]);
  // Overshoot is clamped to 0..255.
  t.same(reds(resizeRgb(greyRow([0, 0, 255, 255, 0, 0]), 6, 1, 12, 1, 'bicubic')).every((v) => v >= 0 && v <= 255), true);
});

t.test('a flat image stays flat in both directions, whatever the factor', async (t) => {
  for (const filter of ['bilinear', 'bicubic'] as const) {
    const flat = new Uint8Array(7 * 5 * 3).fill(137);
    const out = resizeRgb(flat, 7, 5, 3, 11, filter);
    t.equal(out.length, 3 * 11 * 3);
    t.ok(out.every((v) => v === 137), filter);
  }
});

t.test('resize, centre crop and CLIP mean/std: the tensor a CLIP export is fed', async (t) => {
  // 4x2 image, left half black, right half (255, 255, 128); shortest edge 2 = its own size: no resize.
  const px = (x: number) => (x < 2 ? [0, 0, 0] : [255, 255, 128]);
  const rgb = Uint8Array.from([0, 1].flatMap(() => [0, 1, 2, 3].flatMap(px)));
  const img = { data: rgb, width: 4, height: 2 };
  t.equal(resizeForModel(img, { shortestEdge: 2, filter: 'bicubic' }), img, 'already the right size: untouched');
  const rects = planCrops(4, 2, { size: 2, plan: 'center', count: 1, minSize: 1, multiple: 1, dynamic: false });
  t.same(rects, [{ left: 1, top: 0, width: 2, height: 2 }]);
  const input = {
    name: 'pixel_values', layout: 'NCHW' as const, channels: 3 as const, scale: 1 / 255,
    mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711],
  };
  const { data, dims } = cropsToTensor(rgb, 4, 2, rects, input);
  t.same(dims, [1, 3, 2, 2]);
  const want = [
    -1.7922625, 1.9303361, -1.7922625, 1.9303361, // R: 0 -> -0.48145466 / 0.26862954; 255 -> (1 - 0.48145466) / 0.26862954
    -1.7520971, 2.0748838, -1.7520971, 2.0748838, // G
    -1.4802197, 0.3399486, -1.4802197, 0.3399486, // B: 128 / 255 -> (0.5019608 - 0.40821073) / 0.27577711
  ];
  t.ok(want.every((w, i) => Math.abs(data[i]! - w) < 1e-5), `got ${Array.from(data).map((v) => v.toFixed(7))}`);
});

t.test('bad sizes are refused', async (t) => {
  t.throws(() => resizeRgb(new Uint8Array(5), 2, 1, 1, 1, 'bilinear'), RangeError);
  t.throws(() => resizeRgb(greyRow([1, 2]), 2, 1, 0, 1, 'bilinear'), RangeError);
  t.throws(() => resizeRgb(greyRow([1, 2]), 2, 1, 1.5, 1, 'bicubic'), RangeError);
});
