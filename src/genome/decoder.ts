/**
 * A simulated generator decoder: a low-resolution latent (the photo pooled by `factor`, mixed
 * into `channels` feature maps) is brought back to full size by log2(factor) upsampling
 * stages, each an upsampler of the chosen kind followed by a residual 3x3 convolution with a
 * nonlinearity. Weights are random per algorithm (drawn from `weightSeed`), near a smooth,
 * content-preserving base, so two algorithms of one family leave different traces while the
 * picture stays recognisable. The photo's fine detail, which the latent cannot hold, is
 * re-injected through an algorithm-specific filter, as real decoders hallucinate texture.
 */
import {
  addScaled, conv2d, createRaster, downsampleArea, firstChannels, mapInPlace, mixChannels, pixelShuffle,
  transposedConv2x, upsampleBilinear2x, upsampleNearest2x, type Raster,
} from './raster.js';
import { createGenomeRng, type GenomeRng } from './rng.js';

export const UPSAMPLERS = ['transposed-conv', 'nearest-conv', 'bilinear-conv', 'pixel-shuffle'] as const;
export type Upsampler = (typeof UPSAMPLERS)[number];
export const ACTIVATIONS = ['leaky-relu', 'tanh', 'softplus'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface DecoderParams {
  /** Latent downsampling factor: 2, 4, 8 or 16 (one upsampling stage per factor of 2). */
  factor: number;
  /** Hidden feature maps (3 to 8). */
  channels: number;
  upsampler: Upsampler;
  /** Transposed-convolution kernel size (3 or 4); ignored by the other upsamplers. */
  kernel: number;
  activation: Activation;
  /** How far the upsampling kernels stray from their balanced base (checkerboard strength). */
  imbalance: number;
  /** Gain of each stage's residual branch. */
  residualGain: number;
  /** Gain of the re-injected photo detail (0 = none: a smooth, latent-only output). */
  detailGain: number;
  /** Noise added to the latent (diffusion sampling leaves some), in normalised units. */
  latentNoise: number;
  weightSeed: number;
}

const CENTRE = 128;
const UNIT = 64;

function gaussianArray(n: number, std: number, rng: GenomeRng): Float32Array {
  return Float32Array.from({ length: n }, () => std * rng.normal());
}

/** [cout][cin][3][3] kernel: identity (channel to itself) plus a small random part. */
function nearIdentity3x3(cout: number, cin: number, std: number, rng: GenomeRng): Float32Array {
  const w = gaussianArray(cout * cin * 9, std, rng);
  for (let c = 0; c < Math.min(cout, cin); c++) w[(c * cin + c) * 9 + 4] += 1;
  return w;
}

/** 1D base taps of a balanced upsampler of kernel k: each output phase sums to 1. */
function baseTaps(k: number): number[] {
  return k === 4 ? [0.25, 0.75, 0.75, 0.25] : [0.5, 1, 0.5];
}

const ACT: Record<Activation, (v: number) => number> = {
  'leaky-relu': (v) => (v >= 0 ? v : 0.2 * v),
  tanh: Math.tanh,
  softplus: (v) => (v > 20 ? v : Math.log1p(Math.exp(v))) - Math.LN2,
};

interface StageWeights {
  up: Float32Array;
  conv: Float32Array;
  bias: Float32Array;
}

/** Draws every weight of the decoder from its seed. */
function decoderWeights(p: DecoderParams, inChannels: number) {
  const rng = createGenomeRng(`decoder:${p.weightSeed}`);
  const C = p.channels;
  // Encoder mix: the input channels pass through, the extra maps are random combinations.
  const encode = new Float32Array(C * inChannels);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < inChannels; i++) encode[c * inChannels + i] = (c === i ? 1 : 0) + (c < inChannels ? 0.1 : 0.6) * rng.normal();
  }
  const stages: StageWeights[] = [];
  for (let s = 0; s < Math.round(Math.log2(p.factor)); s++) {
    let up: Float32Array;
    if (p.upsampler === 'transposed-conv') {
      const taps = baseTaps(p.kernel);
      up = new Float32Array(C * p.kernel * p.kernel);
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < p.kernel; i++) {
          for (let j = 0; j < p.kernel; j++) up[(c * p.kernel + i) * p.kernel + j] = taps[i] * taps[j] * (1 + p.imbalance * rng.normal());
        }
      }
    } else if (p.upsampler === 'pixel-shuffle') {
      // Sub-pixel (dy, dx) of channel c reads the 3x3 low-resolution neighbourhood with the
      // bilinear weights of its phase, perturbed.
      up = new Float32Array(4 * C * C * 9);
      const phase = [[0.25, 0.75, 0], [0, 0.75, 0.25]];
      for (let c = 0; c < C; c++) {
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const co = c * 4 + dy * 2 + dx;
            for (let ci = 0; ci < C; ci++) {
              for (let i = 0; i < 3; i++) {
                for (let j = 0; j < 3; j++) {
                  const base = ci === c ? phase[dy][i] * phase[dx][j] : 0;
                  up[((co * C + ci) * 3 + i) * 3 + j] = base * (1 + p.imbalance * rng.normal()) + 0.02 * p.imbalance * rng.normal();
                }
              }
            }
          }
        }
      }
    } else {
      up = nearIdentity3x3(C, C, 0.04, rng);
    }
    stages.push({ up, conv: gaussianArray(C * C * 9, 1 / Math.sqrt(9 * C), rng), bias: gaussianArray(C, 0.1, rng) });
  }
  const decode = new Float32Array(3 * C);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < C; i++) decode[c * C + i] = (c === i ? 1 : 0) + 0.08 * rng.normal();
  }
  const detail = nearIdentity3x3(3, 3, 0.12, rng);
  return { encode, stages, decode, detail };
}

function upsample(p: DecoderParams, x: Raster, up: Float32Array): Raster {
  switch (p.upsampler) {
    case 'transposed-conv':
      return transposedConv2x(x, up, p.kernel);
    case 'pixel-shuffle':
      return pixelShuffle(conv2d(x, up, 3, 4 * x.c), 2);
    case 'nearest-conv':
      return conv2d(upsampleNearest2x(x), up, 3, x.c);
    case 'bilinear-conv':
      return conv2d(upsampleBilinear2x(x), up, 3, x.c);
  }
}

/**
 * Runs the decoder on a 3-channel picture in grey levels whose size is a multiple of
 * `factor`; returns a picture of the same size. `noiseRng` draws the per-image latent noise;
 * `transformLatent` rewrites the latent before decoding (token quantisation).
 */
export function runDecoder(p: DecoderParams, picture: Raster, noiseRng: GenomeRng, transformLatent?: (latent: Raster) => Raster): Raster {
  const { encode, stages, decode, detail } = decoderWeights(p, picture.c);
  const v = mapInPlace(createRaster(picture.c, picture.h, picture.w, picture.data.slice()), (x) => (x - CENTRE) / UNIT);
  const pooled = downsampleArea(v, p.factor);
  let x = mixChannels(pooled, encode, p.channels);
  if (p.latentNoise > 0) mapInPlace(x, (z) => z + p.latentNoise * noiseRng.normal());
  if (transformLatent) x = transformLatent(x);
  const act = ACT[p.activation];
  for (const st of stages) {
    x = upsample(p, x, st.up);
    const branch = mapInPlace(conv2d(x, st.conv, 3, p.channels, st.bias), act);
    x = addScaled(x, branch, p.residualGain);
  }
  let out = mixChannels(x, decode, 3);
  if (p.detailGain > 0) {
    // Detail the latent lost: the photo minus its pooled version brought back smoothly.
    let smooth = pooled;
    for (let s = 0; s < stages.length; s++) smooth = upsampleBilinear2x(smooth);
    out = addScaled(out, conv2d(addScaled(v, smooth, -1), detail, 3, 3), p.detailGain);
  }
  return mapInPlace(firstChannels(out, 3), (z) => CENTRE + UNIT * z);
}
