/**
 * Planar float images and the hand-written layers the simulated generators are made of:
 * convolutions, transposed convolutions, upsamplers, pixel shuffle, pooling, activations.
 * Pure TypeScript on Float32Array, no native code. Values are in grey levels (0..255 for
 * pictures); the networks work on any range.
 */

/** `c` planes of `h` x `w` values, plane-major then row-major: `data[(k * h + y) * w + x]`. */
export interface Raster {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly data: Float32Array;
}

export function createRaster(c: number, h: number, w: number, data?: Float32Array): Raster {
  if (!(Number.isInteger(c) && c > 0 && Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) {
    throw new RangeError(`Expected positive integer raster dimensions but received ${c}x${h}x${w}`);
  }
  const n = c * h * w;
  if (data && data.length !== n) throw new RangeError(`Expected ${n} values for a ${c}x${h}x${w} raster but received ${data.length}`);
  return { c, h, w, data: data ?? new Float32Array(n) };
}

/** Interleaved 8-bit RGB → planar float raster. */
export function fromInterleaved(rgb: Uint8Array, w: number, h: number): Raster {
  const out = createRaster(3, h, w);
  const plane = w * h;
  for (let i = 0; i < plane; i++) {
    out.data[i] = rgb[i * 3];
    out.data[plane + i] = rgb[i * 3 + 1];
    out.data[2 * plane + i] = rgb[i * 3 + 2];
  }
  return out;
}

/** Planar 3-channel raster → interleaved 8-bit RGB, rounded and clipped to 0..255. */
export function toInterleaved(r: Raster): Uint8Array {
  if (r.c !== 3) throw new RangeError(`Expected a 3-channel raster but received ${r.c} channels`);
  const plane = r.w * r.h;
  const out = new Uint8Array(plane * 3);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < plane; i++) {
      const v = Math.round(r.data[k * plane + i]);
      out[i * 3 + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

export function cropRaster(r: Raster, top: number, left: number, h: number, w: number): Raster {
  if (top < 0 || left < 0 || top + h > r.h || left + w > r.w) {
    throw new RangeError(`Crop ${w}x${h} at (${left}, ${top}) leaves the ${r.w}x${r.h} raster`);
  }
  const out = createRaster(r.c, h, w);
  for (let k = 0; k < r.c; k++) {
    for (let y = 0; y < h; y++) {
      const src = (k * r.h + top + y) * r.w + left;
      out.data.set(r.data.subarray(src, src + w), (k * h + y) * w);
    }
  }
  return out;
}

/** Mirror index into [0, n) (reflect without repeating the edge). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Same-size convolution (correlation, as deep-learning layers compute it) with reflect
 * padding. `weights` is [cout][cin][k][k] flattened, k odd; `bias` has cout values.
 */
export function conv2d(x: Raster, weights: Float32Array, k: number, cout: number, bias?: Float32Array): Raster {
  if (k % 2 !== 1) throw new RangeError(`Expected an odd kernel size but received ${k}`);
  if (weights.length !== cout * x.c * k * k) throw new RangeError(`Expected ${cout * x.c * k * k} weights but received ${weights.length}`);
  const { h, w, c } = x;
  const r = (k - 1) / 2;
  const out = createRaster(cout, h, w);
  // Reflect-padded copy of each input plane, so the inner loop has no bounds checks.
  const pw = w + 2 * r;
  const ph = h + 2 * r;
  const padded = new Float32Array(c * ph * pw);
  for (let ci = 0; ci < c; ci++) {
    for (let y = 0; y < ph; y++) {
      const sy = reflect(y - r, h);
      for (let xx = 0; xx < pw; xx++) padded[(ci * ph + y) * pw + xx] = x.data[(ci * h + sy) * w + reflect(xx - r, w)];
    }
  }
  for (let co = 0; co < cout; co++) {
    const o = out.data.subarray(co * h * w, (co + 1) * h * w);
    if (bias) o.fill(bias[co]);
    for (let ci = 0; ci < c; ci++) {
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const wt = weights[((co * c + ci) * k + dy) * k + dx];
          if (wt === 0) continue;
          for (let y = 0; y < h; y++) {
            const src = (ci * ph + y + dy) * pw + dx;
            const dst = y * w;
            for (let xx = 0; xx < w; xx++) o[dst + xx] += wt * padded[src + xx];
          }
        }
      }
    }
  }
  return out;
}

/** 1x1 convolution: `out[co] = sum_ci m[co][ci] * x[ci] + bias[co]`. */
export function mixChannels(x: Raster, m: Float32Array, cout: number, bias?: Float32Array): Raster {
  if (m.length !== cout * x.c) throw new RangeError(`Expected ${cout * x.c} mixing weights but received ${m.length}`);
  const plane = x.h * x.w;
  const out = createRaster(cout, x.h, x.w);
  for (let co = 0; co < cout; co++) {
    const o = out.data.subarray(co * plane, (co + 1) * plane);
    if (bias) o.fill(bias[co]);
    for (let ci = 0; ci < x.c; ci++) {
      const wt = m[co * x.c + ci];
      if (wt === 0) continue;
      const src = x.data.subarray(ci * plane, (ci + 1) * plane);
      for (let i = 0; i < plane; i++) o[i] += wt * src[i];
    }
  }
  return out;
}

/**
 * Stride-2 transposed convolution, depthwise (one k x k kernel per channel, `weights` is
 * [c][k][k]), output twice the size, cropped like PyTorch's `padding = (k - 2) / 2` (rounded
 * down). Uneven kernel overlap between the output phases is what leaves checkerboards.
 */
export function transposedConv2x(x: Raster, weights: Float32Array, k: number): Raster {
  if (weights.length !== x.c * k * k) throw new RangeError(`Expected ${x.c * k * k} weights but received ${weights.length}`);
  const { c, h, w } = x;
  const H = 2 * h;
  const W = 2 * w;
  const pad = Math.floor((k - 2) / 2);
  const out = createRaster(c, H, W);
  for (let ci = 0; ci < c; ci++) {
    const src = x.data.subarray(ci * h * w, (ci + 1) * h * w);
    const o = out.data.subarray(ci * H * W, (ci + 1) * H * W);
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) {
        const wt = weights[(ci * k + dy) * k + dx];
        for (let y = 0; y < h; y++) {
          const oy = 2 * y + dy - pad;
          if (oy < 0 || oy >= H) continue;
          for (let xx = 0; xx < w; xx++) {
            const ox = 2 * xx + dx - pad;
            if (ox < 0 || ox >= W) continue;
            o[oy * W + ox] += wt * src[y * w + xx];
          }
        }
      }
    }
  }
  return out;
}

export function upsampleNearest2x(x: Raster): Raster {
  const { c, h, w } = x;
  const out = createRaster(c, 2 * h, 2 * w);
  const W = 2 * w;
  for (let ci = 0; ci < c; ci++) {
    for (let y = 0; y < 2 * h; y++) {
      const src = (ci * h + (y >> 1)) * w;
      const dst = (ci * 2 * h + y) * W;
      for (let xx = 0; xx < W; xx++) out.data[dst + xx] = x.data[src + (xx >> 1)];
    }
  }
  return out;
}

/** Bilinear 2x upsampling with half-pixel centres (align_corners = false), edges clamped. */
export function upsampleBilinear2x(x: Raster): Raster {
  const { c, h, w } = x;
  const H = 2 * h;
  const W = 2 * w;
  const out = createRaster(c, H, W);
  // Output pixel i samples input coordinate (i + 0.5) / 2 - 0.5: weights 0.25 / 0.75.
  const idx = (o: number, n: number): [number, number, number] => {
    const s = (o + 0.5) / 2 - 0.5;
    const i0 = Math.floor(s);
    const f = s - i0;
    return [Math.min(Math.max(i0, 0), n - 1), Math.min(Math.max(i0 + 1, 0), n - 1), f];
  };
  const cols = Array.from({ length: W }, (_, o) => idx(o, w));
  for (let ci = 0; ci < c; ci++) {
    for (let y = 0; y < H; y++) {
      const [y0, y1, fy] = idx(y, h);
      const r0 = (ci * h + y0) * w;
      const r1 = (ci * h + y1) * w;
      const dst = (ci * H + y) * W;
      for (let xx = 0; xx < W; xx++) {
        const [x0, x1, fx] = cols[xx];
        const top = x.data[r0 + x0] * (1 - fx) + x.data[r0 + x1] * fx;
        const bottom = x.data[r1 + x0] * (1 - fx) + x.data[r1 + x1] * fx;
        out.data[dst + xx] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/** Depth-to-space: [c * r * r, h, w] → [c, h * r, w * r], sub-pixel (dy, dx) from channel c * r * r + dy * r + dx. */
export function pixelShuffle(x: Raster, r: number): Raster {
  if (x.c % (r * r) !== 0) throw new RangeError(`Expected a channel count divisible by ${r * r} but received ${x.c}`);
  const c = x.c / (r * r);
  const { h, w } = x;
  const H = h * r;
  const W = w * r;
  const out = createRaster(c, H, W);
  for (let co = 0; co < c; co++) {
    for (let dy = 0; dy < r; dy++) {
      for (let dx = 0; dx < r; dx++) {
        const src = x.data.subarray((co * r * r + dy * r + dx) * h * w, (co * r * r + dy * r + dx + 1) * h * w);
        for (let y = 0; y < h; y++) {
          const dst = (co * H + y * r + dy) * W + dx;
          for (let xx = 0; xx < w; xx++) out.data[dst + xx * r] = src[y * w + xx];
        }
      }
    }
  }
  return out;
}

/** Box average over f x f blocks (h and w must be multiples of f). */
export function downsampleArea(x: Raster, f: number): Raster {
  if (x.h % f !== 0 || x.w % f !== 0) throw new RangeError(`Expected a size divisible by ${f} but received ${x.w}x${x.h}`);
  const h = x.h / f;
  const w = x.w / f;
  const out = createRaster(x.c, h, w);
  const inv = 1 / (f * f);
  for (let ci = 0; ci < x.c; ci++) {
    for (let y = 0; y < x.h; y++) {
      const src = (ci * x.h + y) * x.w;
      const dst = (ci * h + Math.floor(y / f)) * w;
      for (let xx = 0; xx < x.w; xx++) out.data[dst + Math.floor(xx / f)] += x.data[src + xx] * inv;
    }
  }
  return out;
}

/** Element-wise map in place; returns the same raster. */
export function mapInPlace(x: Raster, fn: (v: number) => number): Raster {
  const d = x.data;
  for (let i = 0; i < d.length; i++) d[i] = fn(d[i]);
  return x;
}

/** a + s * b, element-wise, into a new raster. */
export function addScaled(a: Raster, b: Raster, s = 1): Raster {
  if (a.c !== b.c || a.h !== b.h || a.w !== b.w) throw new RangeError(`Raster shapes differ: ${a.c}x${a.h}x${a.w} vs ${b.c}x${b.h}x${b.w}`);
  const out = createRaster(a.c, a.h, a.w);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i] + s * b.data[i];
  return out;
}

/** The first `n` channels. */
export function firstChannels(x: Raster, n: number): Raster {
  return createRaster(n, x.h, x.w, x.data.slice(0, n * x.h * x.w));
}
