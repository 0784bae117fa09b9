/**
 * residual-v2 (the base of the default, residual-v3, which projects it to 256 dims): residual-v1's residual descriptor plus, per colour
 * channel, the block-DCT energy profile and the share of near-zero DCT coefficients per
 * frequency; every group is scaled to unit length so that cosine similarity weighs the seven
 * groups equally. Like residual-v1 it is written as an ONNX
 * graph from the definitions below: no training, no fitted statistics, no downloaded weights.
 *
 * Why the DCT profile: the processing chain an image went through (the generator's decoder,
 * chroma subsampling, the authors' resizing and JPEG settings) shapes how much energy is left
 * at each spatial frequency of each colour channel; the chroma channels are where pipelines
 * differ most (subsampling, colour-space conversions), while their content varies less than
 * luma's. Per 16 x 16 block (periods up to 16 px: VQ decoders with 16x downsampling, 8x8
 * JPEG and VAE grids as harmonics), the mean |DCT coefficient| per frequency is taken as a
 * log, minus its mean over the frequencies, so the profile is scale-free (image contrast
 * cancels) and zero for a flat crop. The soft share of coefficients under one grey level,
 * per frequency, adds what the log profile discards: how many coefficients a quantiser or a
 * smoothing decoder zeroed (it depends on contrast, like residual-v1's `busy`).
 *
 * Input `image` [N, 3, H, W]: N crops of one image, RGB in grey levels 0..255; H and W any
 * multiples of 16 from 64 up. Output `embedding` [N, 1822]: see `FEATURE_GROUPS_V2`.
 */
import type { Manifest } from '../../embedding/manifest-schema.js';
import { attr, createGraphBuilder, encodeModel, OPSET, type GraphBuilder, type Value } from '../onnx-writer/index.js';
import { COLOUR, defineResidualFeatures, RESIDUAL_V1_DIM, RESIDUAL_V1_ID, residualV1Manifest } from './residual-v1.js';

export const RESIDUAL_V2_ID = 'residual-v2';
export const RESIDUAL_V2_VERSION = '2.0.0';

/** Side of the DCT blocks; also the crop multiple, so that every crop splits into whole blocks. */
export const DCT_BLOCK = 16;
/** AC frequencies per channel: every (v, u) of the block but DC. */
export const DCT_FREQUENCIES = DCT_BLOCK * DCT_BLOCK - 1;

/** Stabiliser of the log, in DCT coefficient units (grey levels): far below any textured block. */
const EPS = 1e-3;
/**
 * Floor of the group norms. A flat crop's features are float rounding (up to ~0.02 in
 * residual-v1), which plain unit scaling would blow up into a direction; textured crops stay
 * well above it (on wild-dev, real photos and a simulated genome the smallest residual-v1
 * norm seen was 2.9 and the smallest DCT-profile norm 4.9), so for them the groups are unit length.
 */
const NORM_FLOOR = 1;
/**
 * Largest mean |DCT coefficient| (grey levels) below which a channel counts as flat. 8-bit
 * rounding alone leaves about 0.23 at every frequency of a textured block; float rounding of a
 * flat or grey channel stays near 1e-5.
 */
const SIGNAL_FLOOR = 0.01;

export interface FeatureGroupV2 {
  name: string;
  offset: number;
  length: number;
  description: string;
}

/** Layout of the output vector (also written into the manifest's provenance). */
export const FEATURE_GROUPS_V2: FeatureGroupV2[] = (() => {
  const groups: Array<[string, number, string]> = [
    ['residual', RESIDUAL_V1_DIM, `The ${RESIDUAL_V1_DIM} residual-v1 features of the crop (layout in models/residual-v1/model.json), divided by their L2 norm (at least 1).`],
    ...(['Y', 'Cb', 'Cr'] as const).map((c): [string, number, string] => [
      `dct-${c}`,
      DCT_FREQUENCIES,
      `${c}: log(mean |DCT(v, u)| + eps) over the crop's aligned ${DCT_BLOCK}x${DCT_BLOCK} blocks (orthonormal DCT-II) at the ${DCT_FREQUENCIES} AC frequencies in order 16v + u (DC dropped), minus its mean over them (zero when no frequency reaches ${SIGNAL_FLOOR}: a flat channel), divided by its L2 norm (at least 1).`,
    ]),
    ...(['Y', 'Cb', 'Cr'] as const).map((c): [string, number, string] => [
      `small-${c}`,
      DCT_FREQUENCIES,
      `${c}: mean over the same blocks of min(|DCT(v, u)|, 1) per AC frequency (same order), divided by its L2 norm (at least 1): low where coefficients are near zero (quantised away by JPEG, smoothed by a decoder or a resize).`,
    ]),
  ];
  let offset = 0;
  return groups.map(([name, length, description]) => {
    const g = { name, offset, length, description };
    offset += length;
    return g;
  });
})();

/** Output dimension. */
export const RESIDUAL_V2_DIM = FEATURE_GROUPS_V2.reduce((n, g) => n + g.length, 0);

/** Orthonormal DCT-II basis, transposed for a right multiplication: [j, k] = c_k cos(pi (2j + 1) k / 2n). */
export function dctBasisTransposed(n = DCT_BLOCK): number[] {
  const out: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      const scale = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
      const v = scale * Math.cos((Math.PI * (2 * j + 1) * k) / (2 * n));
      out.push(Math.abs(v) < 1e-12 ? 0 : v);
    }
  }
  return out;
}

/** x / max(||x||, NORM_FLOOR) along axis 1 of [N, D]: unit length, except (near-)zero groups stay small. */
function unitRows(g: GraphBuilder, x: Value): Value {
  const norm = g.sqrt(g.reduceSum(g.mul(x, x), [1], true));
  return g.div(x, g.max(norm, g.scalar(NORM_FLOOR)));
}

/**
 * The DCT energy profiles [N, 3 * 255] of the Y, Cb, Cr channels of `x` [N, 3, H, W]
 * (H, W multiples of DCT_BLOCK), each already centred and unit length.
 */
function defineDctProfiles(g: GraphBuilder, x: Value): Value[] {
  return g.scope('dct', () => {
    const B = DCT_BLOCK;
    const colour = g.constant('colour', [...COLOUR.Y, ...COLOUR.Cb, ...COLOUR.Cr], [3, 3, 1, 1], 'RGB to Y, Cb, Cr (BT.601, no offsets).');
    // The crop mean is taken out first: AC coefficients do not depend on it, but float rounding
    // of a large DC would leak into them and give flat crops a profile.
    const converted = g.conv(x, colour);
    const ycc = g.sub(converted, g.reduceMean(converted, [2, 3], true)); // [N, 3, H, W]
    const basis = g.constant('basis', dctBasisTransposed(B), [B, B], 'Orthonormal DCT-II basis, [j, k].');
    // Along the rows: [N, 3, H, W/B, B(j)] · basis → [N, 3, H, W/B, B(u)].
    const rows = g.matMul(g.reshape(ycc, [0, 0, 0, -1, B]), basis);
    // Bring H last, split it into blocks and transform it too: [N, 3, W/B, u, H/B, B(v)].
    const cols = g.matMul(g.reshape(g.transpose(rows, [0, 1, 3, 4, 2]), [0, 0, 0, 0, -1, B]), basis);
    // Per-frequency means over the blocks, laid out (v, u) → 16v + u, DC (index 0) dropped.
    const perFrequency = (blocks: Value) => {
      const mean = g.reduceMean(blocks, [2, 4], false); // [N, 3, u, v]
      return g.slice(g.reshape(g.transpose(mean, [0, 1, 3, 2]), [0, 0, B * B]), [1], [B * B], [2]); // [N, 3, 255]
    };
    const energy = perFrequency(g.abs(cols));
    const logE = g.log(g.add(energy, g.scalar(EPS)));
    // A channel without signal (a flat crop; Cb and Cr of a grey image) would otherwise get a
    // profile of float rounding, which unit scaling or the runtime's L2 turns into a direction:
    // it is zeroed when no frequency reaches SIGNAL_FLOOR.
    const peak = g.op('ReduceMax', [energy], { axes: attr.ints([2]), keepdims: attr.int(1) })[0]!;
    const hasSignal = g.op('Cast', [g.op('Greater', [peak, g.scalar(SIGNAL_FLOOR)])[0]!], { to: attr.int(1) })[0]!;
    const profile = g.mul(g.sub(logE, g.reduceMean(logE, [2], true)), hasSignal);
    // mean(min(|c|, 1)) = mean(|clip(c, -1, 1)|).
    const small = perFrequency(g.abs(g.clip(cols, -1, 1)));
    const channels = (x: Value) => [0, 1, 2].map((c) => unitRows(g, g.reshape(g.slice(x, [c], [c + 1], [1]), [0, DCT_FREQUENCIES])));
    return [...channels(profile), ...channels(small)];
  });
}

/**
 * Declares the input `image` and the residual-v2 descriptor [N, RESIDUAL_V2_DIM] of each crop,
 * without a graph output (residual-v3 appends its projection to it).
 */
export function defineResidualV2Features(g: GraphBuilder): Value {
  const residual = defineResidualFeatures(g); // declares the input `image`
  const image: Value = { name: 'image' };
  const groups = [g.scope('residual', () => unitRows(g, residual)), ...defineDctProfiles(g, image)];
  return g.concat(groups, 1);
}

function defineGraph(g: GraphBuilder): void {
  g.output(defineResidualV2Features(g), 'embedding', ['N', RESIDUAL_V2_DIM], 'float32', 'Per-crop descriptor; see FEATURE_GROUPS_V2.');
}

/**
 * Default decision margin: none. Chosen on the simulated genome (`dfg genome`, 60 algorithms,
 * `dfg eval --margin`, 10 repeats), never on wild-dev: at the calibrated per-algorithm thresholds
 * macro-F1 fell with every step of margin (0: 0.438, 0.005: 0.415, 0.01: 0.378, 0.02: 0.297),
 * because residual-v2's per-algorithm scores sit closer together than residual-v1's and the
 * thresholds (FPIR 1%) already hold impostors back. See MODEL_CARD.md, "Decision defaults".
 */
export const RESIDUAL_V2_MARGIN = 0;

/**
 * Default threshold before a gallery is calibrated, in plain cosine: the calibrated global
 * threshold (target FPIR 0.01) averaged over `dfg eval --data GENOME --model residual-v2
 * --metric cosine --repeats 10` on the same simulated genome (0.971 ± 0.001), never on wild-dev.
 * The descriptor's cosines all sit near 1, so the generic 0.5 would attribute every image.
 */
export const RESIDUAL_V2_THRESHOLD = 0.97;

/** The manifest of residual-v2: residual-v1's preprocessing, crops cut to multiples of 16. */
export function residualV2Manifest(): Manifest {
  const base = residualV1Manifest();
  return {
    ...base,
    id: RESIDUAL_V2_ID,
    version: RESIDUAL_V2_VERSION,
    description:
      'Forensic descriptor built from documented definitions (no training, nothing fitted): residual-v1 residual statistics plus the 16x16 block-DCT energy profile and near-zero coefficient share of Y, Cb and Cr, seven unit-length groups weighed equally, pooled over native-resolution crops.',
    provenance: {
      builder: 'src/model-build/models/residual-v2.ts',
      training: 'none: every constant is defined in the builders (residual-v2.ts, residual-v1.ts)',
      opset: OPSET,
      base: { id: RESIDUAL_V1_ID, version: base.version },
      features: FEATURE_GROUPS_V2,
    },
    output: { name: 'embedding', dim: RESIDUAL_V2_DIM, normalise: 'l2' },
    crop: { ...base.crop, multiple: DCT_BLOCK },
    decision: { margin: RESIDUAL_V2_MARGIN, threshold: RESIDUAL_V2_THRESHOLD },
  };
}

/** Builds residual-v2: ONNX bytes and manifest, both deterministic. */
export function buildResidualV2(): { onnx: Uint8Array; manifest: Manifest } {
  const g = createGraphBuilder(RESIDUAL_V2_ID);
  defineGraph(g);
  const onnx = encodeModel({
    // The doc string is part of the shipped ONNX bytes, whose SHA-256 the projections of the derived
    // models pin: it keeps the builder's path at build time (src/embedding/models/, now src/model-build/models/).
    graph: g.build('residual-v1 features plus Y/Cb/Cr block-DCT energy profiles and near-zero shares; definitions in src/embedding/models/residual-v2.ts.'),
    opset: OPSET,
    producerName: 'deepfake-genome',
    producerVersion: RESIDUAL_V2_VERSION,
    domain: 'deepfake-genome',
    modelVersion: 2,
    doc: 'residual-v2: no training; features documented in models/residual-v2/MODEL_CARD.md.',
    metadata: { 'dfg.model.id': RESIDUAL_V2_ID, 'dfg.model.version': RESIDUAL_V2_VERSION },
  });
  return { onnx, manifest: residualV2Manifest() };
}
