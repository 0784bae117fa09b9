/**
 * residual-lda-v1: residual-v1's graph with a learned linear projection appended,
 * y = (x - mean) · matrix, from 292 residual features to a few dozen discriminant directions.
 * The projection was fitted by `dfg genome fit` on a simulated forgery genome only
 * (`dfg genome synth`: algorithms synthesised from real photos), never on validation data;
 * it is read from the committed models/residual-lda-v1/projection.json, whose provenance
 * names the genome, its seed and the fit options (recipe in models/residual-lda-v1/MODEL_CARD.md).
 *
 * The projection is linear and applied per crop, so the runtime's crop averaging before L2
 * normalisation is unchanged: the mean of projected crops is the projection of the mean.
 * Unlike residual-v1, a flat crop does not give a zero vector (it maps to -mean · matrix).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dfgError } from '../../errors.js';
import { projectionErrors, type ProjectionFile } from '../../genome/projection-file.js';
import type { Manifest } from '../manifest-schema.js';
import { createGraphBuilder, encodeModel, OPSET } from '../onnx-writer/index.js';
import { buildResidualV1, defineResidualFeatures, RESIDUAL_V1_DIM, RESIDUAL_V1_ID, residualV1Manifest } from './residual-v1.js';

export const RESIDUAL_LDA_V1_ID = 'residual-lda-v1';
export const RESIDUAL_LDA_V1_VERSION = '1.0.0';
/** The projection file, relative to the repository root. */
export const RESIDUAL_LDA_V1_PROJECTION = path.join('models', RESIDUAL_LDA_V1_ID, 'projection.json');

/** The repository root: the nearest folder above this module with a package.json (works from src/ and dist/). */
function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw dfgError('DFG_ERR_MODEL_NOT_FOUND', RESIDUAL_LDA_V1_ID, 'a repository root (no package.json above the builder)');
    dir = up;
  }
}

/** Reads and checks the projection: schema, shape, and that it was fitted on the current residual-v1. */
export function loadResidualLdaProjection(file = path.join(repositoryRoot(), RESIDUAL_LDA_V1_PROJECTION)): { projection: ProjectionFile; sha256: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw dfgError('DFG_ERR_MODEL_NOT_FOUND', RESIDUAL_LDA_V1_ID, `${file} (its projection; produce it with dfg genome fit, see the model card)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', RESIDUAL_LDA_V1_ID, `projection ${file} is not JSON: ${(err as Error).message}`);
  }
  const errors = projectionErrors(value);
  if (errors.length > 0) throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', RESIDUAL_LDA_V1_ID, `projection ${file}: ${errors.join('; ')}`);
  const projection = value as ProjectionFile;
  if (projection.baseModel !== RESIDUAL_V1_ID || projection.inputDim !== RESIDUAL_V1_DIM) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', RESIDUAL_LDA_V1_ID, `projection ${file} is for ${projection.baseModel} (${projection.inputDim} features), expected ${RESIDUAL_V1_ID} (${RESIDUAL_V1_DIM})`);
  }
  const baseSha = createHash('sha256').update(buildResidualV1().onnx).digest('hex');
  if (projection.baseOnnxSha256 !== baseSha) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', RESIDUAL_LDA_V1_ID, `projection ${file} was fitted on another build of ${RESIDUAL_V1_ID} (${projection.baseOnnxSha256.slice(0, 12)}…, current ${baseSha.slice(0, 12)}…); fit it again`);
  }
  return { projection, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Builds residual-lda-v1 from residual-v1's definitions and the committed projection. */
export function buildResidualLdaV1(projectionFile?: string): { onnx: Uint8Array; manifest: Manifest } {
  const { projection: p, sha256 } = loadResidualLdaProjection(projectionFile);
  // The projection's hash is part of the version, so embedding caches never mix two fits.
  const version = `${RESIDUAL_LDA_V1_VERSION}+p${sha256.slice(0, 12)}`;
  const g = createGraphBuilder(RESIDUAL_LDA_V1_ID);
  const features = defineResidualFeatures(g);
  const projected = g.scope('projection', () => {
    const centred = g.sub(features, g.constant('mean', p.mean, [p.inputDim], 'Mean of the training features (simulated genome).'));
    return g.matMul(centred, g.constant('matrix', p.matrix, [p.inputDim, p.outputDim], 'Discriminant directions, one column each.'));
  });
  g.output(projected, 'embedding', ['N', p.outputDim], 'float32', 'Projected residual descriptor per crop.');
  const onnx = encodeModel({
    graph: g.build('residual-v1 features followed by a discriminant projection fitted on a simulated forgery genome.'),
    opset: OPSET,
    producerName: 'deepfake-genome',
    producerVersion: version,
    domain: 'deepfake-genome',
    modelVersion: 1,
    doc: 'residual-lda-v1: residual-v1 + LDA projection; see models/residual-lda-v1/MODEL_CARD.md.',
    metadata: { 'dfg.model.id': RESIDUAL_LDA_V1_ID, 'dfg.model.version': version, 'dfg.projection.sha256': sha256 },
  });
  const base = residualV1Manifest();
  const manifest: Manifest = {
    ...base,
    id: RESIDUAL_LDA_V1_ID,
    version,
    description: `residual-v1 forensic residual features projected to ${p.outputDim} discriminant directions learned on a simulated forgery genome (LDA with shrinkage), so that cosine similarity weighs what separates generators and discounts what varies with content.`,
    provenance: {
      builder: 'src/embedding/models/residual-lda-v1.ts',
      training: `LDA (shrinkage ${p.fit.shrinkage}) on ${p.fit.images} images of ${p.fit.algorithms} simulated algorithms (genome ${p.fit.genome.name}, seed ${p.fit.genome.seed}, ${p.fit.genome.tool} ${p.fit.genome.version}); no validation data`,
      opset: OPSET,
      base: { id: base.id, version: base.version, onnxSha256: p.baseOnnxSha256 },
      projection: { file: RESIDUAL_LDA_V1_PROJECTION.split(path.sep).join('/'), sha256, method: p.method, inputDim: p.inputDim, outputDim: p.outputDim },
    },
    output: { ...base.output, dim: p.outputDim },
  };
  return { onnx, manifest };
}
