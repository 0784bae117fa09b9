/**
 * residual-lda-v1: residual-v1's graph with a learned linear projection appended,
 * y = (x - mean) · matrix, from 292 residual features to a few dozen discriminant directions.
 * The projection was fitted by `dfg genome fit` on a simulated forgery genome only
 * (`dfg genome synth`: algorithms synthesised from real photos), never on validation data;
 * it is read from the committed models/residual-lda-v1/projection.json, whose provenance
 * names the genome, its seed and the fit options (recipe in models/residual-lda-v1/MODEL_CARD.md).
 *
 * The graph and manifest come from projected.ts (shared with residual-v3).
 * Unlike residual-v1, a flat crop does not give a zero vector (it maps to -mean · matrix).
 */
import type { ProjectionFile } from '../../genome/projection-file.js';
import type { Manifest } from '../../embedding/manifest-schema.js';
import { buildProjectedModel, type ProjectedModelSpec } from './projected.js';
import { buildResidualV1, defineResidualFeatures, RESIDUAL_V1_DIM, RESIDUAL_V1_ID, residualV1Manifest } from './residual-v1.js';

export const RESIDUAL_LDA_V1_ID = 'residual-lda-v1';
export const RESIDUAL_LDA_V1_VERSION = '1.0.0';
/** The projection file, relative to the repository root. */
export const RESIDUAL_LDA_V1_PROJECTION = 'models/residual-lda-v1/projection.json';

const SPEC: ProjectedModelSpec = {
  id: RESIDUAL_LDA_V1_ID,
  version: RESIDUAL_LDA_V1_VERSION,
  modelVersion: 1,
  projectionFile: RESIDUAL_LDA_V1_PROJECTION,
  base: { id: RESIDUAL_V1_ID, dim: RESIDUAL_V1_DIM, build: buildResidualV1, manifest: residualV1Manifest, defineFeatures: defineResidualFeatures },
  meanDoc: 'Mean of the training features (simulated genome).',
  matrixDoc: 'Discriminant directions, one column each.',
  outputDoc: 'Projected residual descriptor per crop.',
  graphDoc: 'residual-v1 features followed by a discriminant projection fitted on a simulated forgery genome.',
  modelDoc: 'residual-lda-v1: residual-v1 + LDA projection; see models/residual-lda-v1/MODEL_CARD.md.',
  description: (p: ProjectionFile) => `residual-v1 forensic residual features projected to ${p.outputDim} discriminant directions learned on a simulated forgery genome (LDA with shrinkage), so that cosine similarity weighs what separates generators and discounts what varies with content.`,
  training: (p: ProjectionFile) => `LDA (shrinkage ${p.fit.shrinkage}) on ${p.fit.images} images of ${p.fit.algorithms} simulated algorithms (genome ${p.fit.genome.name}, seed ${p.fit.genome.seed}, ${p.fit.genome.tool} ${p.fit.genome.version}); no validation data`,
};

/** Builds residual-lda-v1 from residual-v1's definitions and the committed projection. */
export function buildResidualLdaV1(projectionFile?: string): { onnx: Uint8Array; manifest: Manifest } {
  return buildProjectedModel(SPEC, projectionFile);
}
