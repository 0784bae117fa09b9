/**
 * Golden numbers for the pure preprocessing: crop plans, NCHW normalisation over several manifest
 * shapes (the classic bug is std used as the mean, or a scalar broadcast wrongly), and pooling.
 * Expected values are literals worked out by hand (float32-rounded), not recomputed by the formula.
 */
import t from 'tap';
import { cropsToTensor, meanAndNormalise, planCrops, type CropSpec, type InputSpec } from '../src/embedding/preprocess.js';

const crop = (over: Partial<CropSpec> = {}): CropSpec => ({
  size: 64, plan: 'grid', count: 4, minSize: 16, multiple: 8, dynamic: true, ...over,
});
const input = (over: Partial<InputSpec> = {}): InputSpec => ({
  name: 'image', layout: 'NCHW', channels: 3, scale: 1, mean: [0], std: [1], ...over,
});

/** RGB bytes from a list of [r, g, b] pixels, row-major. */
const rgbOf = (pixels: number[][]) => Uint8Array.from(pixels.flat());

const close = (t: { ok: (ok: boolean, message: string) => unknown }, actual: ArrayLike<number>, expected: number[], msg: string, eps = 1e-6) => {
  const diffs = expected.map((e, i) => Math.abs(actual[i] - e));
  t.ok(actual.length === expected.length && diffs.every((d) => d <= eps), `${msg}: got [${Array.from(actual).map((v) => +v.toFixed(7))}]`);
};

t.test('center plan: one centred square', async (t) => {
  t.same(planCrops(300, 200, crop({ plan: 'center' })), [{ left: 118, top: 68, width: 64, height: 64 }]);
  t.same(planCrops(64, 64, crop({ plan: 'center' })), [{ left: 0, top: 0, width: 64, height: 64 }]);
  t.same(planCrops(65, 64, crop({ plan: 'center' })), [{ left: 0, top: 0, width: 64, height: 64 }], 'odd slack rounds down');
});

t.test('grid plan: evenly spread, corners included, row-major, deterministic', async (t) => {
  const r = planCrops(300, 200, crop({ count: 4 }));
  t.same(r.map((c) => [c.left, c.top]), [[0, 0], [236, 0], [0, 136], [236, 136]], '2x2 at the four corners');
  t.ok(r.every((c) => c.width === 64 && c.height === 64));
  t.same(planCrops(300, 200, crop({ count: 4 })), r, 'same input, same plan');

  const nine = planCrops(1000, 1000, crop({ size: 256, count: 9 }));
  t.same(nine.map((c) => [c.left, c.top]), [
    [0, 0], [372, 0], [744, 0],
    [0, 372], [372, 372], [744, 372],
    [0, 744], [372, 744], [744, 744],
  ], '3x3 with the centre crop in the middle');

  const wide = planCrops(400, 200, crop({ count: 6 }));
  t.same(wide.map((c) => [c.left, c.top]), [[0, 0], [168, 0], [336, 0], [0, 136], [168, 136], [336, 136]], '2:1 image gets 3 columns x 2 rows');
  const tall = planCrops(200, 400, crop({ count: 6 }));
  t.same(tall.map((c) => [c.left, c.top]), [[0, 0], [136, 0], [0, 168], [136, 168], [0, 336], [136, 336]], '1:2 image gets 2 columns x 3 rows');

  t.same(planCrops(300, 300, crop({ count: 5 })).length, 4, 'count is an upper bound: 5 on a square gives a 2x2 grid');
  t.same(planCrops(300, 300, crop({ count: 1 })), [{ left: 118, top: 118, width: 64, height: 64 }], 'count 1 is centred');
  t.same(planCrops(64, 64, crop({ count: 16 })), [{ left: 0, top: 0, width: 64, height: 64 }], 'no repeated crop when the image is exactly one crop');
  t.same(planCrops(65, 64, crop({ count: 4 })).map((c) => c.left), [0, 1], 'one pixel of slack: two distinct columns, one row');
  for (const c of planCrops(1001, 333, crop({ count: 12 }))) {
    t.ok(c.left >= 0 && c.top >= 0 && c.left + 64 <= 1001 && c.top + 64 <= 333, `crop ${c.left},${c.top} inside the image`);
  }
});

t.test('smaller than size: one centred crop cut to a multiple', async (t) => {
  t.same(planCrops(100, 50, crop()), [{ left: 18, top: 1, width: 64, height: 48 }], 'wide side capped at size, short side cut to a multiple of 8');
  t.same(planCrops(37, 37, crop()), [{ left: 2, top: 2, width: 32, height: 32 }]);
  t.same(planCrops(16, 200, crop()), [{ left: 0, top: 68, width: 16, height: 64 }], 'exactly minSize is accepted');
  t.same(planCrops(100, 50, crop({ plan: 'center' })), [{ left: 18, top: 1, width: 64, height: 48 }], 'same for the center plan');
});

t.test('too small is refused with IMAGE_TOO_SMALL', async (t) => {
  t.throws(() => planCrops(15, 200, crop()), { code: 'DFG_ERR_IMAGE_TOO_SMALL', message: /15x200 .* 16 px/ });
  t.throws(() => planCrops(200, 1, crop()), { code: 'DFG_ERR_IMAGE_TOO_SMALL' });
  t.throws(() => planCrops(63, 500, crop({ dynamic: false })), { code: 'DFG_ERR_IMAGE_TOO_SMALL', message: /64 px/ }, 'a fixed-size model needs a whole crop');
  t.same(planCrops(64, 500, crop({ dynamic: false, plan: 'center' })).length, 1);
  t.throws(() => planCrops(0, 10, crop()), RangeError);
  t.throws(() => planCrops(10.5, 10, crop()), RangeError);
});

// A 4x3 test image: R = 10 + 20x + 60y, G = 20 + x + y, B = 30 + 5x.
const W = 4;
const H = 3;
const img = rgbOf(Array.from({ length: W * H }, (_, i) => {
  const x = i % W;
  const y = Math.floor(i / W);
  return [10 + 20 * x + 60 * y, 20 + x + y, 30 + 5 * x];
}));

t.test('NCHW layout: planes in R, G, B order, rows then columns', async (t) => {
  const { data, dims } = cropsToTensor(img, W, H, [{ left: 1, top: 1, width: 2, height: 2 }], input());
  t.same(dims, [1, 3, 2, 2]);
  t.same(Array.from(data), [90, 110, 150, 170, 22, 23, 23, 24, 35, 40, 35, 40]);

  const two = cropsToTensor(img, W, H, [{ left: 0, top: 0, width: 2, height: 1 }, { left: 2, top: 2, width: 2, height: 1 }], input());
  t.same(two.dims, [2, 3, 1, 2]);
  t.same(Array.from(two.data), [10, 30, 20, 21, 30, 35, 170, 190, 24, 25, 40, 45], 'second crop follows the first');
});

t.test('ImageNet-style per-channel mean/std with scale 1/255', async (t) => {
  const px = rgbOf([[255, 0, 128], [10, 20, 30]]);
  const { data } = cropsToTensor(px, 2, 1, [{ left: 0, top: 0, width: 2, height: 1 }],
    input({ scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }));
  close(t, data, [2.2489083, -1.9466563, -2.0357144, -1.6855742, 0.42649236, -1.2815686], 'golden values');
});

t.test('scalar mean and std broadcast to every channel', async (t) => {
  const px = rgbOf([[255, 0, 51]]);
  const one = { left: 0, top: 0, width: 1, height: 1 };
  close(t, cropsToTensor(px, 1, 1, [one], input({ scale: 1 / 255, mean: [0.5], std: [0.5] })).data, [1, -1, -0.6], '[-1, 1] scaling');
  close(t, cropsToTensor(px, 1, 1, [one], input({ scale: 1, mean: [127.5], std: [127.5] })).data, [1, -1, -0.6], 'same on a 0..255 scale');
  // std must divide and mean must subtract: swapped they would give 1.5 and -0.5 here.
  close(t, cropsToTensor(rgbOf([[200, 0, 150]]), 1, 1, [one], input({ mean: [100], std: [50] })).data, [2, -2, 1], 'mean subtracts, std divides');
  close(t, cropsToTensor(rgbOf([[14, 24, 34]]), 1, 1, [one], input({ mean: [10, 20, 30], std: [2] })).data, [2, 2, 2], 'per-channel mean, scalar std');
  close(t, cropsToTensor(rgbOf([[9, 9, 9]]), 1, 1, [one], input({ mean: [1], std: [1, 2, 4] })).data, [8, 4, 2], 'scalar mean, per-channel std');
});

t.test('one-channel models get BT.601 luminance', async (t) => {
  const px = rgbOf([[10, 20, 30], [200, 100, 50], [255, 0, 0]]);
  const all = [{ left: 0, top: 0, width: 3, height: 1 }];
  const a = cropsToTensor(px, 3, 1, all, input({ channels: 1, scale: 1 / 255 }));
  t.same(a.dims, [1, 1, 1, 3]);
  close(t, a.data, [0.07117647, 0.48705882, 0.299], 'luma/255');
  const b = cropsToTensor(px, 3, 1, all, input({ channels: 1, mean: [127.5], std: [127.5] }));
  close(t, b.data, [-0.85764706, -0.025882352, -0.40200001], 'centred luma');
});

t.test('cropsToTensor refuses inconsistent arguments', async (t) => {
  const one = [{ left: 0, top: 0, width: 2, height: 2 }];
  t.throws(() => cropsToTensor(img.subarray(1), W, H, one, input()), RangeError, 'buffer size');
  t.throws(() => cropsToTensor(img, W, H, [{ left: 3, top: 0, width: 2, height: 2 }], input()), RangeError, 'crop outside');
  t.throws(() => cropsToTensor(img, W, H, [one[0], { left: 0, top: 0, width: 1, height: 2 }], input()), RangeError, 'mixed crop sizes');
  t.throws(() => cropsToTensor(img, W, H, [], input()), RangeError, 'no crops');
  t.throws(() => cropsToTensor(img, W, H, one, input({ mean: [1, 2] })), { message: /input.mean/ }, 'two means for three channels');
  t.throws(() => cropsToTensor(img, W, H, one, input({ channels: 1, std: [1, 2, 3] })), { message: /input.std/ }, 'three stds for one channel');
});

t.test('meanAndNormalise pools crop embeddings', async (t) => {
  const out = Float32Array.from([1, 2, 2, 3, 2, 2]);
  close(t, meanAndNormalise(out, 2, 3, 'none'), [2, 2, 2], 'mean');
  const v = meanAndNormalise(out, 2, 3, 'l2');
  close(t, v, [0.57735027, 0.57735027, 0.57735027], 'unit length');
  close(t, meanAndNormalise(Float32Array.from([3, 4]), 1, 2, 'l2'), [0.6, 0.8], 'single crop');
  close(t, meanAndNormalise(Float32Array.from([1, -1, -1, 1]), 2, 2, 'l2'), [0, 0], 'a zero mean stays zero instead of NaN');
  t.throws(() => meanAndNormalise(out, 2, 2, 'l2'), RangeError, 'size mismatch');
  t.throws(() => meanAndNormalise(Float32Array.from([NaN, 1]), 1, 2, 'l2'), RangeError, 'NaN refused');
  t.throws(() => meanAndNormalise(Float32Array.from([Infinity, 1]), 1, 2, 'none'), RangeError, 'Infinity refused');
});
