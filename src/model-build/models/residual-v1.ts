/**
 * residual-v1: the shipped default embedding model. A fixed forensic descriptor written as an
 * ONNX graph from the definitions below: no training, no downloaded weights, every constant
 * is in this file. It looks only at noise residuals of native-resolution crops (the runtime
 * never resizes for it), because generators leave their traces there: upsampling layers and
 * VAE / VQ decoders leave periodic patterns in the local residual energy (periods 2, 4, 8),
 * JPEG leaves its 8x8 grid and chroma subsampling, and each pipeline has its own residual
 * level, spectral fall-off, tail shape and cross-channel correlation.
 *
 * Input `image` [N, 3, H, W]: N crops of one image, RGB in grey levels 0..255 (manifest
 * scale 1, mean 0, std 1); H and W are any multiples of 8 from 64 up. Output `embedding`
 * [N, 292]. Every feature is (near-)0 for a flat crop and scale-free by construction (logs of
 * ratios, correlations, shares), so the runtime can average the crop vectors and compare
 * them by cosine without a fitted centring.
 *
 * Residuals: the crop is edge-padded by one pixel on the right and bottom, converted to Y,
 * Cb, Cr (the JPEG matrix, offsets dropped) and filtered with 2x2 kernels, the colour matrix
 * folded into one convolution. Eight maps (`MAPS`): Y under h1, v1, d1 and x2; Cb and Cr
 * under h1 and v1 (`FILTERS`). h1 and v1 at even positions are exactly the NPR residual
 * x - NN-up(NN-down(x)) at 2x, at odd positions its complement across block borders, so
 * the period-2 phase statistics of h1 and v1 measure NPR.
 *
 * The features (`FEATURE_LAYOUT`) are explained in models/residual-v1/MODEL_CARD.md.
 */
import { attr, createGraphBuilder, encodeModel, OPSET, type GraphBuilder, type Value } from '../onnx-writer/index.js';
import type { Manifest } from '../../embedding/manifest-schema.js';

export const RESIDUAL_V1_ID = 'residual-v1';
export const RESIDUAL_V1_VERSION = '1.0.0';

/** Period of the phase statistics; 2 and 4 are its sub-periods (frequencies u, v in {0, 4}, {0, 2, 4, 6}). */
export const PHASE_PERIOD = 8;

/**
 * 2x2 residual kernels, row-major [x[i,j], x[i,j+1], x[i+1,j], x[i+1,j+1]], anchored at the
 * top-left pixel. Two-tap kernels keep the phase of each residual exact and cost little.
 */
export const FILTERS = {
  /** Horizontal first difference x[i, j+1] - x[i, j]. */
  h1: [-1, 1, 0, 0],
  /** Vertical first difference x[i+1, j] - x[i, j]. */
  v1: [-1, 0, 1, 0],
  /** Diagonal first difference x[i+1, j+1] - x[i, j]. */
  d1: [-1, 0, 0, 1],
  /** Mixed second difference (x[i,j] - x[i,j+1] - x[i+1,j] + x[i+1,j+1]) / 2: zero on planes, peaks on checkerboards. */
  x2: [0.5, -0.5, -0.5, 0.5],
} as const;
type FilterName = keyof typeof FILTERS;

/** Rows of the RGB to Y, Cb, Cr matrix (ITU-R BT.601 as JPEG uses it, without offsets). */
export const COLOUR = {
  Y: [0.299, 0.587, 0.114],
  Cb: [-0.168736, -0.331264, 0.5],
  Cr: [0.5, -0.418688, -0.081312],
} as const;
type ColourName = keyof typeof COLOUR;

type MapDef = readonly [ColourName, FilterName];
/** The residual maps that get phase statistics, in output order. */
export const MAPS: readonly MapDef[] = [
  ['Y', 'h1'], ['Y', 'v1'], ['Y', 'd1'], ['Y', 'x2'],
  ['Cb', 'h1'], ['Cb', 'v1'], ['Cr', 'h1'], ['Cr', 'v1'],
];
const Y_MAPS = 4;

/** Residual pairs whose correlation is reported: Y-Cb, Y-Cr, Cb-Cr under h1 and v1. */
const CORR_PAIRS: ReadonlyArray<readonly [ColourName, ColourName]> = [['Y', 'Cb'], ['Y', 'Cr'], ['Cb', 'Cr']];

/** Stabiliser in grey levels: far below one quantisation step, so it only matters for flat crops. */
const EPS = 1e-3;

/**
 * Unique non-DC frequencies (u, v) of a period x period map, one per conjugate pair (the
 * magnitude of F(u, v) equals that of F(-u, -v)), in row-major order: 33 for period 8.
 */
export function phaseFrequencies(period = PHASE_PERIOD): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let u = 0; u < period; u++) {
    for (let v = 0; v < period; v++) {
      const mirror = ((period - u) % period) * period + ((period - v) % period);
      if ((u !== 0 || v !== 0) && u * period + v <= mirror) out.push([u, v]);
    }
  }
  return out;
}

export interface FeatureGroup {
  name: string;
  offset: number;
  length: number;
  description: string;
}

const F = phaseFrequencies().length;

/** Layout of the output vector (also written into the manifest's provenance). */
export const FEATURE_LAYOUT: FeatureGroup[] = (() => {
  const groups: Array<[string, number, string]> = [
    ['phase', MAPS.length * F, `log(1 + z) per map (order of MAPS) and frequency (order of phaseFrequencies()): z = sqrt(blocks) * |DFT(u,v)| / 64 of the 8x8 map of mean |r| per pixel phase, normalised to mean 1. Shift-invariant; a crop without periodic traces gives z near 0.1.`],
    ['level', 1, 'log(1 + mean |r|) over the four Y maps, in grey levels.'],
    ['profile', MAPS.length, 'log(mean |r| + eps) of each map minus the mean of that log over the Y maps: spectral and chroma-to-luma shape.'],
    ['tails', MAPS.length, 'log((E r^2 + eps) / ((E|r|)^2 + eps)) per map: 0.45 for Gaussian residuals, larger for heavy tails.'],
    ['correlation', CORR_PAIRS.length * 2, 'Pearson correlation of the h1 and v1 residuals between Y-Cb, Y-Cr and Cb-Cr (order: pair, then h1, v1).'],
    ['scale', 3, 'log ratio of mean |Y x2 residual| after 2x2, 4x4 and 8x8 box averaging to the scale below: spectral fall-off (aligned to the crop grid, so not shift-invariant).'],
    ['busy', 2, 'mean of min(|r|, 1) for Y h1 and Y v1: 1 when no neighbour pair is within a grey level, lower for flat, clipped or NN-upsampled content.'],
  ];
  let offset = 0;
  return groups.map(([name, length, description]) => {
    const g = { name, offset, length, description };
    offset += length;
    return g;
  });
})();

/** Output dimension. */
export const RESIDUAL_V1_DIM = FEATURE_LAYOUT.reduce((n, g) => n + g.length, 0);

/** Conv weights [maps.length, 3, 2, 2] with the colour matrix folded into each kernel. */
function foldedKernels(maps: ReadonlyArray<readonly [readonly number[], FilterName]>): number[] {
  return maps.flatMap(([rgb, f]) => rgb.flatMap((w) => FILTERS[f].map((k) => w * k)));
}
const sumRows = (a: ColourName, b: ColourName) => COLOUR[a].map((w, i) => w + COLOUR[b][i]!);

/** [64, 2F] matrix: the real parts then the imaginary parts of the 8x8 DFT at the unique frequencies, scaled by 1/64. */
function dftMatrix(): number[] {
  const freqs = phaseFrequencies();
  const P = PHASE_PERIOD;
  const rows: number[] = [];
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < P; j++) {
      const angles = freqs.map(([u, v]) => (2 * Math.PI * (u * i + v * j)) / P);
      rows.push(...angles.map((a) => Math.cos(a) / (P * P)), ...angles.map((a) => -Math.sin(a) / (P * P)));
    }
  }
  return rows.map((v) => (Math.abs(v) < 1e-12 ? 0 : v));
}

/**
 * Declares the input `image` and every node of the descriptor on `g`; returns the [N, 292]
 * feature tensor (not yet a graph output), so derived models can append nodes to it.
 */
export function defineResidualFeatures(g: GraphBuilder): Value {
  const x = g.input('image', ['N', 3, 'H', 'W'], 'float32', 'RGB crops in grey levels 0..255; H, W multiples of 8, at least 64.');
  const eps = g.scalar(EPS);
  const one = g.scalar(1);
  const log1p = (v: Value) => g.log(g.add(v, one));
  const reduce = (op: string, v: Value, axes: number[]) => g.op(op, [v], { axes: attr.ints(axes), keepdims: attr.int(0) })[0]!;

  // Pixels per crop (H * W) and 8x8 blocks per crop as float scalars, and W / 8 as int64,
  // all from the dynamic input shape.
  const shape = g.op('Shape', [x])[0]!;
  const hw = g.scope('size', () => {
    const dims = g.op('Gather', [shape, g.constantInt64('hw_axes', [2, 3])], { axis: attr.int(0) })[0]!;
    return g.op('ReduceProd', [g.op('Cast', [dims], { to: attr.int(1) })[0]!], { keepdims: attr.int(0) })[0]!;
  });
  const blocks = g.div(hw, g.scalar(PHASE_PERIOD * PHASE_PERIOD));
  const P = PHASE_PERIOD;

  // Edge padding on the right and bottom so that every 2x2 residual of an H x W crop exists.
  // One convolution computes the eight MAPS and, for the correlations, the h1 and v1
  // residuals of the channel sums Y+Cb, Y+Cr, Cb+Cr.
  const padded = g.op('Pad', [x, g.constantInt64('pad', [0, 0, 0, 0, 0, 0, 1, 1])], { mode: attr.string('edge') })[0]!;
  const kernels = (name: string, maps: ReadonlyArray<readonly [readonly number[], FilterName]>) =>
    g.constant(name, foldedKernels(maps), [maps.length, 3, 2, 2]);
  const pairMaps = CORR_PAIRS.flatMap(([a, b]) => (['h1', 'v1'] as const).map((f) => [sumRows(a, b), f] as const));
  const bankMaps = [...MAPS.map(([c, f]) => [COLOUR[c], f] as const), ...pairMaps];
  const residuals = g.conv(padded, kernels('bank', bankMaps)); // [N, 14, H, W]
  const energyAll = g.div(reduce('ReduceSumSquare', residuals, [2, 3]), hw); // [N, 14] E r^2

  // Phase statistics: viewed as [N, 14, H/8, 8, W/8, 8], |r| summed over the block columns
  // and then the block rows leaves one sum per map and pixel phase (i, j), in order 8i + j.
  const phase = g.scope('phase', () => {
    const wBlocks = g.div(g.op('Gather', [shape, g.constantInt64('w_axis', [3])], { axis: attr.int(0) })[0]!, g.constantInt64('period', [P]));
    const blockShape = g.concat([g.constantInt64('lead', [0, 0, -1, P]), wBlocks, g.constantInt64('tail', [P])], 0);
    const blocked = g.op('Reshape', [residuals, blockShape])[0]!;
    const sums = g.reduceSum(reduce('ReduceL1', blocked, [4]), [2], false); // [N, 14, 8, 8]
    const perPhase = g.div(g.reshape(g.slice(sums, [0], [MAPS.length], [1]), [0, 0, P * P]), blocks); // [N, 8, 64]
    const mean = g.reduceMean(perPhase, [2], true); // [N, 8, 1] mean |r|
    const dft = g.constant('dft8', dftMatrix(), [P * P, 2 * F], 'Real then imaginary 8x8 DFT rows at the unique non-DC frequencies, / 64.');
    const spectrum = g.reshape(g.matMul(g.div(perPhase, g.add(mean, eps)), dft), [0, MAPS.length, 2, F]);
    const magnitude = g.sqrt(g.reduceSum(g.mul(spectrum, spectrum), [2], false)); // [N, 8, F]
    return { z: g.reshape(g.mul(magnitude, g.sqrt(blocks)), [0, -1]), meanAbs: g.reshape(mean, [0, MAPS.length]) };
  });
  const meanAbs = phase.meanAbs; // [N, 8]
  const energy = g.slice(energyAll, [0], [MAPS.length], [1]);

  const features: Value[] = [log1p(phase.z)];
  const logAbs = g.log(g.add(meanAbs, eps));
  features.push(log1p(g.reduceMean(g.slice(meanAbs, [0], [Y_MAPS], [1]), [1], true)));
  features.push(g.sub(logAbs, g.reduceMean(g.slice(logAbs, [0], [Y_MAPS], [1]), [1], true)));
  features.push(g.log(g.div(g.add(energy, eps), g.add(g.mul(meanAbs, meanAbs), eps))));

  // Cross-channel correlation of the h1 and v1 residuals from energies of channel sums:
  // E[ab] = (E(a+b)^2 - Ea^2 - Eb^2) / 2.
  g.scope('correlation', () => {
    const at = (i: number) => g.slice(energyAll, [i], [i + 2], [1]);
    const first = (c: ColourName) => MAPS.findIndex(([mc, f]) => mc === c && f === 'h1');
    const corr = CORR_PAIRS.map(([a, b], p) => {
      const [ea, eb] = [at(first(a)), at(first(b))];
      const cross = g.mul(g.sub(g.sub(at(MAPS.length + 2 * p), ea), eb), g.scalar(0.5));
      return g.div(cross, g.add(g.sqrt(g.mul(ea, eb)), eps));
    });
    features.push(g.concat(corr, 1));
  });

  // Spectral fall-off: level of the Y x2 residual after 2x2, 4x4 and 8x8 box averaging,
  // each relative to the scale below (native scale from the bank).
  g.scope('scale', () => {
    const kernel = kernels('x2_y', [[COLOUR.Y, 'x2']]);
    let pooled = x;
    let previous = g.slice(logAbs, [Y_MAPS - 1], [Y_MAPS], [1]);
    const ratios: Value[] = [];
    for (let s = 0; s < 3; s++) {
      pooled = g.averagePool(pooled, [2, 2]);
      const level = g.log(g.add(g.reduceMean(g.abs(g.conv(pooled, kernel)), [2, 3], false), eps));
      ratios.push(g.sub(level, previous));
      previous = level;
    }
    features.push(g.concat(ratios, 1));
  });
  // Share of Y neighbour pairs (h1, v1) that differ by a grey level or more, softly.
  // mean(min(|r|, 1)) = mean(|clip(r, -1, 1)|).
  const busy = g.clip(g.slice(residuals, [0], [2], [1]), -1, 1);
  features.push(g.div(reduce('ReduceL1', busy, [2, 3]), hw));

  return g.concat(features, 1);
}

function defineGraph(g: GraphBuilder): void {
  g.output(defineResidualFeatures(g), 'embedding', ['N', RESIDUAL_V1_DIM], 'float32', 'Per-crop residual descriptor; see FEATURE_LAYOUT.');
}

/** The manifest of residual-v1 (the runtime reads crop plan and preprocessing from it). */
export function residualV1Manifest(): Manifest {
  return {
    id: RESIDUAL_V1_ID,
    version: RESIDUAL_V1_VERSION,
    description:
      'Forensic residual descriptor built from documented definitions (no training): periodic phase statistics of noise residuals at periods 2, 4 and 8, residual levels, tails, spectral fall-off and cross-channel correlation, pooled over native-resolution crops.',
    provenance: {
      builder: 'src/model-build/models/residual-v1.ts',
      training: 'none: every constant is defined in the builder',
      opset: OPSET,
      features: FEATURE_LAYOUT,
      maps: MAPS.map(([c, f]) => `${c}.${f}`),
      phaseFrequencies: phaseFrequencies(),
    },
    input: { name: 'image', layout: 'NCHW', channels: 3, scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
    output: { name: 'embedding', dim: RESIDUAL_V1_DIM, normalise: 'l2' },
    crop: { size: 256, plan: 'grid', count: 4, minSize: 64, multiple: PHASE_PERIOD, dynamic: true },
  };
}

/** Builds residual-v1: ONNX bytes and manifest, both deterministic. */
export function buildResidualV1(): { onnx: Uint8Array; manifest: Manifest } {
  const g = createGraphBuilder(RESIDUAL_V1_ID);
  defineGraph(g);
  const onnx = encodeModel({
    // The doc string is part of the shipped ONNX bytes, whose SHA-256 the projections of the derived
    // models pin: it keeps the builder's path at build time (src/embedding/models/, now src/model-build/models/).
    graph: g.build('Forensic residual descriptor; the definitions are in src/embedding/models/residual-v1.ts.'),
    opset: OPSET,
    producerName: 'deepfake-genome',
    producerVersion: RESIDUAL_V1_VERSION,
    domain: 'deepfake-genome',
    modelVersion: 1,
    doc: 'residual-v1: no training; features documented in models/residual-v1/MODEL_CARD.md.',
    metadata: { 'dfg.model.id': RESIDUAL_V1_ID, 'dfg.model.version': RESIDUAL_V1_VERSION },
  });
  return { onnx, manifest: residualV1Manifest() };
}
