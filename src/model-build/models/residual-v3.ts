/**
 * residual-v3: residual-v2's graph with a fixed linear projection appended, y = x · matrix,
 * from 1822 features to the 256 leading principal axes of residual-v2 descriptors of data that
 * is not validation data: a simulated forgery genome (`dfg genome synth`) and the real-photo
 * patches it was synthesised from (`dfg genome photos`). Fitted by `dfg genome fit --method pca`
 * and read from the committed models/residual-v3/projection.json, whose provenance names the
 * genome, its seed and the fit (recipe in models/residual-v3/MODEL_CARD.md).
 *
 * Why: residual-v2's 1822 values keep about 98% of their variance in 256 directions, and
 * retrieval on them is as good as on the full vector, while gallery search, snapshots and
 * enrolment cost grow with the dimension (7x smaller vectors). The projection is uncentred, so
 * a flat crop still gives a zero vector (refused as DFG_ERR_IMAGE_NO_SIGNAL), and it is applied
 * per crop, so the runtime's crop averaging and L2 normalisation are unchanged.
 */
import type { ProjectionFile } from '../../genome/projection-file.js';
import type { Manifest } from '../../embedding/manifest-schema.js';
import { buildProjectedModel, type ProjectedModelSpec } from './projected.js';
import { buildResidualV2, defineResidualV2Features, RESIDUAL_V2_DIM, RESIDUAL_V2_ID, RESIDUAL_V2_MARGIN, residualV2Manifest } from './residual-v2.js';

export const RESIDUAL_V3_ID = 'residual-v3';
export const RESIDUAL_V3_VERSION = '3.0.0';
/** The projection file, relative to the repository root. */
export const RESIDUAL_V3_PROJECTION = 'models/residual-v3/projection.json';

/**
 * Default threshold before a gallery is calibrated, in plain cosine: the calibrated global
 * threshold (target FPIR 0.01) averaged over `dfg eval --data GENOME --metric cosine --repeats 10`
 * on the simulated genome of MODEL_CARD.md (0.972 ± 0.001), never on wild-dev. Every residual
 * descriptor sits near 1 in cosine, so the generic 0.5 would attribute every image to something.
 */
export const RESIDUAL_V3_THRESHOLD = 0.97;

const SPEC: ProjectedModelSpec = {
  id: RESIDUAL_V3_ID,
  version: RESIDUAL_V3_VERSION,
  modelVersion: 3,
  projectionFile: RESIDUAL_V3_PROJECTION,
  base: { id: RESIDUAL_V2_ID, dim: RESIDUAL_V2_DIM, build: buildResidualV2, manifest: residualV2Manifest, defineFeatures: defineResidualV2Features },
  decision: { margin: RESIDUAL_V2_MARGIN, threshold: RESIDUAL_V3_THRESHOLD }, // v2's margin, its own threshold
  meanDoc: 'Mean of the fitting features (simulated genome and real-photo patches).',
  matrixDoc: 'Principal axes of the fitting features, one column each, leading first.',
  outputDoc: 'residual-v2 descriptor per crop projected onto its principal axes.',
  graphDoc: 'residual-v2 features followed by a principal-axis projection fitted on a simulated forgery genome and real-photo patches.',
  modelDoc: 'residual-v3: residual-v2 + PCA projection; see models/residual-v3/MODEL_CARD.md.',
  description: (p: ProjectionFile) => `residual-v2 forensic descriptor (residual statistics, block-DCT energy profiles and near-zero shares of Y, Cb, Cr) projected onto its ${p.outputDim} leading principal axes, fitted on a simulated forgery genome and real-photo patches: the same retrieval at 1/${Math.round(p.inputDim / p.outputDim)} of the size, so gallery search and storage are faster.`,
  training: (p: ProjectionFile) => `${p.method}; fitted on ${p.fit.images} images: ${p.fit.genomeImages ?? p.fit.images} of ${p.fit.algorithms} simulated algorithms (genome ${p.fit.genome.name}, seed ${p.fit.genome.seed}, ${p.fit.genome.tool} ${p.fit.genome.version})${p.fit.real ? ` and ${p.fit.real.patches} real-photo patches (${p.fit.real.tool})` : ''}; ${((p.fit.explained ?? 0) * 100).toFixed(1)}% of the variance kept; no labels, no validation data`,
};

/** Builds residual-v3 from residual-v2's definitions and the committed projection. */
export function buildResidualV3(projectionFile?: string): { onnx: Uint8Array; manifest: Manifest } {
  return buildProjectedModel(SPEC, projectionFile);
}
