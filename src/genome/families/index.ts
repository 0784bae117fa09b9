/**
 * The forgery families of the simulated genome. Each family draws an algorithm's parameters
 * (its "genome": structure plus a weight seed) and renders one forged picture from a real
 * photo crop with them. Rendering reads nothing but the parameters and the per-image inputs,
 * so genome.json describes every algorithm completely.
 */
import { ACTIVATIONS, runDecoder, UPSAMPLERS, type DecoderParams, type Upsampler } from '../decoder.js';
import { cropRaster, type Raster } from '../raster.js';
import { round, type GenomeRng } from '../rng.js';
import { matchColour, pasteMasked, smoothWarp, softMask, type RegionShape } from './regions.js';
import { quantiseMultiScale, type TokenParams } from './token-quantise.js';

export interface FamilyInputs {
  /** The real photo crop, work size x work size, RGB grey levels. */
  photo: Raster;
  /** Another real photo crop of the same size (face-swap donors). */
  donor: () => Raster;
  /** Per-image randomness (positions, latent noise). */
  rng: GenomeRng;
}

export interface Family {
  name: string;
  forgeryType: 'EFS' | 'FS' | 'FE' | 'FR';
  description: string;
  /** Draws the parameters of a new algorithm of this family. */
  sample(rng: GenomeRng): Record<string, unknown>;
  /** Architecture label (benchmark taxonomy) of an algorithm with these parameters. */
  architecture(params: Record<string, unknown>): string;
  /** Renders one picture at the photo's size. */
  render(params: Record<string, unknown>, inputs: FamilyInputs): Raster;
}

function sampleDecoder(rng: GenomeRng, upsampler: Upsampler, factors: readonly number[], extra: Partial<DecoderParams> = {}): DecoderParams {
  return {
    factor: rng.pick(factors),
    channels: 3 + rng.int(4),
    upsampler,
    kernel: upsampler === 'transposed-conv' ? rng.pick([3, 4]) : 0,
    activation: rng.pick(ACTIVATIONS),
    imbalance: round(rng.uniform(0.05, 0.4)),
    residualGain: round(rng.uniform(0.03, 0.3)),
    detailGain: round(rng.uniform(0.2, 0.9)),
    latentNoise: 0,
    weightSeed: rng.seed(),
    ...extra,
  };
}

/** Whole-image synthesis through a decoder of one upsampler kind. */
function decoderFamily(name: string, upsampler: Upsampler, architecture: string, factors: readonly number[], description: string): Family {
  return {
    name,
    forgeryType: 'EFS',
    description,
    sample: (rng) => ({ decoder: sampleDecoder(rng, upsampler, factors) }),
    architecture: () => architecture,
    render: (p, { photo, rng }) => runDecoder(p.decoder as DecoderParams, photo, rng),
  };
}

interface RegionParams {
  regionFraction: number;
  shape: RegionShape;
  feather: number;
  /** Region centre moves by up to this share of the picture from the middle, per image. */
  jitter: number;
  decoder: DecoderParams;
}

function sampleRegion(rng: GenomeRng, fraction: [number, number], decoder: DecoderParams, ellipseShare: number): RegionParams {
  return {
    regionFraction: round(rng.uniform(...fraction)),
    shape: rng.chance(ellipseShare) ? 'ellipse' : 'rect',
    feather: round(rng.uniform(1, 16)),
    jitter: round(rng.uniform(0.05, 0.2)),
    decoder,
  };
}

/** Region size (a multiple of 16) and its top-left corner for one image. */
function placeRegion(p: RegionParams, size: number, rng: GenomeRng): { r: number; top: number; left: number } {
  const r = Math.max(32, Math.floor((size * p.regionFraction) / 16) * 16);
  const place = () => {
    const centre = size / 2 + rng.uniform(-p.jitter, p.jitter) * size;
    return Math.min(Math.max(Math.round(centre - r / 2), 0), size - r);
  };
  const top = place();
  return { r, top, left: place() };
}

function clone(x: Raster): Raster {
  return { c: x.c, h: x.h, w: x.w, data: x.data.slice() };
}

export const FAMILIES: readonly Family[] = [
  decoderFamily('transposed-conv', 'transposed-conv', 'GAN', [4, 8, 16],
    'GAN-style decoder upsampling with stride-2 transposed convolutions (uneven kernel overlap leaves period-2 checkerboards).'),
  decoderFamily('nearest-conv', 'nearest-conv', 'GAN', [4, 8, 16],
    'Decoder upsampling by nearest-neighbour doubling, each followed by 3x3 convolutions.'),
  decoderFamily('bilinear-conv', 'bilinear-conv', 'CNN', [4, 8, 16],
    'Decoder upsampling bilinearly, each followed by 3x3 convolutions.'),
  decoderFamily('pixel-shuffle', 'pixel-shuffle', 'CNN', [2, 4],
    'Sub-pixel convolution decoder: a low-resolution convolution produces 4 phases that pixel shuffle interleaves.'),
  {
    name: 'latent-diffusion',
    forgeryType: 'EFS',
    description: 'Latent diffusion: a 4-channel latent at 1/8 resolution, left noisy by sampling, decoded by a VAE-like decoder (nearest doubling + convolutions, three stages).',
    sample: (rng) => ({
      decoder: sampleDecoder(rng, rng.chance(0.8) ? 'nearest-conv' : 'transposed-conv', [8], {
        channels: 4,
        latentNoise: round(rng.uniform(0.02, 0.2)),
        detailGain: round(rng.uniform(0.1, 0.7)),
      }),
    }),
    architecture: () => 'Diffusion',
    render: (p, { photo, rng }) => runDecoder(p.decoder as DecoderParams, photo, rng),
  },
  {
    name: 'multiscale-vq',
    forgeryType: 'EFS',
    description: 'Visual autoregressive model: the latent (1/8 or 1/16 resolution) is tokenised coarse to fine by multi-scale residual quantisation against a random codebook, then decoded.',
    sample: (rng) => {
      const tokens: TokenParams = {
        codebookSize: rng.pick([64, 256, 1024]),
        codebookStd: round(rng.uniform(0.3, 1.2)),
        refine: round(rng.uniform(0.05, 0.4)),
        codebookSeed: rng.seed(),
      };
      const decoder = sampleDecoder(rng, rng.pick(UPSAMPLERS.filter((u) => u !== 'pixel-shuffle')), [8, 16], { detailGain: round(rng.uniform(0, 0.4)) });
      return { tokens, decoder };
    },
    architecture: () => 'VAR',
    render: (p, { photo, rng }) =>
      runDecoder(p.decoder as DecoderParams, photo, rng, (latent) => quantiseMultiScale(p.tokens as TokenParams, latent)),
  },
  {
    name: 'face-swap',
    forgeryType: 'FS',
    description: 'Region swap: a donor region is regenerated at low resolution by a small decoder, colour-matched and blended into the target with a feathered mask.',
    sample: (rng) => ({
      ...sampleRegion(rng, [0.35, 0.65], sampleDecoder(rng, rng.pick(UPSAMPLERS), [2, 4, 8]), 0.8),
      colourMatch: round(rng.uniform(0.3, 1)),
    }),
    architecture: () => 'GAN',
    render: (p, { photo, donor, rng }) => {
      const rp = p as unknown as RegionParams & { colourMatch: number };
      const { r, top, left } = placeRegion(rp, photo.w, rng);
      const d = donor();
      const dt = rng.int(d.h - r + 1);
      const dl = rng.int(d.w - r + 1);
      const face = runDecoder(rp.decoder, cropRaster(d, dt, dl, r, r), rng);
      const matched = matchColour(face, cropRaster(photo, top, left, r, r), rp.colourMatch);
      const out = clone(photo);
      pasteMasked(out, matched, softMask(r, rp.shape, rp.feather), top, left);
      return out;
    },
  },
  {
    name: 'local-edit',
    forgeryType: 'FE',
    description: 'Local editing / inpainting: a region of the photo is regenerated by a decoder (GAN or latent-diffusion style) with a colour shift and blended back; the rest is untouched.',
    sample: (rng) => {
      const diffusion = rng.chance(0.5);
      const decoder = diffusion
        ? sampleDecoder(rng, 'nearest-conv', [8], { channels: 4, latentNoise: round(rng.uniform(0.02, 0.2)) })
        : sampleDecoder(rng, rng.pick(UPSAMPLERS), [2, 4]);
      return { ...sampleRegion(rng, [0.2, 0.45], decoder, 0.5), shift: [0, 1, 2].map(() => round(rng.uniform(-12, 12))) };
    },
    architecture: (p) => ((p.decoder as DecoderParams).latentNoise > 0 ? 'Diffusion' : 'GAN'),
    render: (p, { photo, rng }) => {
      const rp = p as unknown as RegionParams & { shift: number[] };
      const { r, top, left } = placeRegion(rp, photo.w, rng);
      const region = runDecoder(rp.decoder, cropRaster(photo, top, left, r, r), rng);
      const plane = r * r;
      for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) region.data[c * plane + i] += rp.shift[c];
      const out = clone(photo);
      pasteMasked(out, region, softMask(r, rp.shape, rp.feather), top, left);
      return out;
    },
  },
  {
    name: 'reenactment',
    forgeryType: 'FR',
    description: 'Reenactment: a region is moved by a smooth sub-pixel motion field (bilinear resampling), refined by a small decoder and blended back.',
    sample: (rng) => ({
      ...sampleRegion(rng, [0.35, 0.65], sampleDecoder(rng, rng.pick(UPSAMPLERS), [2, 4]), 0.8),
      warpAmplitude: round(rng.uniform(0.5, 5)),
      warpWaves: 2 + rng.int(4),
    }),
    architecture: () => 'CNN',
    render: (p, { photo, rng }) => {
      const rp = p as unknown as RegionParams & { warpAmplitude: number; warpWaves: number };
      const { r, top, left } = placeRegion(rp, photo.w, rng);
      const moved = smoothWarp(cropRaster(photo, top, left, r, r), rp.warpAmplitude, rp.warpWaves, rng);
      const out = clone(photo);
      pasteMasked(out, runDecoder(rp.decoder, moved, rng), softMask(r, rp.shape, rp.feather), top, left);
      return out;
    },
  },
];

export const FAMILY_NAMES = FAMILIES.map((f) => f.name);

export function familyByName(name: string): Family | undefined {
  return FAMILIES.find((f) => f.name === name);
}
