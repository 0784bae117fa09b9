/**
 * Models made of a base model's graph followed by a committed linear projection,
 * y = (x - mean) · matrix, read from a projection file that `dfg genome fit` wrote
 * (residual-lda-v1: residual-v1 + LDA; residual-v3: residual-v2 + PCA). The projection is
 * linear and applied per crop, so the runtime's crop averaging before L2 normalisation is
 * unchanged: the mean of projected crops is the projection of the mean.
 *
 * The file is checked against the base build it was fitted on (its ONNX sha256), and its own
 * hash is part of the model version, so embedding caches never mix two fits.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dfgError } from '../../errors.js';
import { projectionErrors, type ProjectionFile } from '../../genome/projection-file.js';
import type { Manifest } from '../../embedding/manifest-schema.js';
import { createGraphBuilder, encodeModel, OPSET, type GraphBuilder, type Value } from '../onnx-writer/index.js';

export interface ProjectedModelSpec {
  id: string;
  /** Semantic version; the projection's hash is appended as `+p<12 hex>`. */
  version: string;
  /** ONNX model_version field. */
  modelVersion: number;
  /** The projection file, relative to the repository root (POSIX separators). */
  projectionFile: string;
  base: {
    id: string;
    dim: number;
    /** The base build, whose ONNX bytes the projection must have been fitted on. */
    build: () => { onnx: Uint8Array };
    manifest: () => Manifest;
    /** Declares the input `image` and returns the base features [N, dim] (no graph output). */
    defineFeatures: (g: GraphBuilder) => Value;
  };
  /** Doc strings of the mean and matrix constants. */
  meanDoc: string;
  matrixDoc: string;
  outputDoc: string;
  graphDoc: string;
  modelDoc: string;
  /** Manifest description and provenance.training from the loaded projection. */
  description: (p: ProjectionFile) => string;
  training: (p: ProjectionFile) => string;
  /** Decision defaults of the projected model (default: the base model's). */
  decision?: Manifest['decision'];
}

/** The repository root: the nearest folder above this module with a package.json (works from src/ and dist/). */
function repositoryRoot(id: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw dfgError('DFG_ERR_MODEL_NOT_FOUND', id, 'a repository root (no package.json above the builder)');
    dir = up;
  }
}

/** Reads and checks a projection: schema, shape, and that it was fitted on the current base build. */
export function loadProjection(spec: ProjectedModelSpec, file?: string): { projection: ProjectionFile; sha256: string } {
  const { id, base } = spec;
  const where = file ?? path.join(repositoryRoot(id), ...spec.projectionFile.split('/'));
  let text: string;
  try {
    text = fs.readFileSync(where, 'utf8');
  } catch {
    throw dfgError('DFG_ERR_MODEL_NOT_FOUND', id, `${where} (its projection; produce it with dfg genome fit, see the model card)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', id, `projection ${where} is not JSON: ${(err as Error).message}`);
  }
  const errors = projectionErrors(value);
  if (errors.length > 0) throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', id, `projection ${where}: ${errors.join('; ')}`);
  const projection = value as ProjectionFile;
  if (projection.baseModel !== base.id || projection.inputDim !== base.dim) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', id, `projection ${where} is for ${projection.baseModel} (${projection.inputDim} features), expected ${base.id} (${base.dim})`);
  }
  const baseSha = createHash('sha256').update(base.build().onnx).digest('hex');
  if (projection.baseOnnxSha256 !== baseSha) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', id, `projection ${where} was fitted on another build of ${base.id} (${projection.baseOnnxSha256.slice(0, 12)}…, current ${baseSha.slice(0, 12)}…); fit it again`);
  }
  return { projection, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Builds the base graph plus the projection: ONNX bytes and manifest, both deterministic. */
export function buildProjectedModel(spec: ProjectedModelSpec, file?: string): { onnx: Uint8Array; manifest: Manifest } {
  const { projection: p, sha256 } = loadProjection(spec, file);
  const version = `${spec.version}+p${sha256.slice(0, 12)}`;
  const g = createGraphBuilder(spec.id);
  const features = spec.base.defineFeatures(g);
  const projected = g.scope('projection', () => {
    // An uncentred projection (all-zero mean) needs no subtraction: zero stays zero.
    const input = p.mean.every((v) => v === 0) ? features : g.sub(features, g.constant('mean', p.mean, [p.inputDim], spec.meanDoc));
    return g.matMul(input, g.constant('matrix', p.matrix, [p.inputDim, p.outputDim], spec.matrixDoc));
  });
  g.output(projected, 'embedding', ['N', p.outputDim], 'float32', spec.outputDoc);
  const onnx = encodeModel({
    graph: g.build(spec.graphDoc),
    opset: OPSET,
    producerName: 'deepfake-genome',
    producerVersion: version,
    domain: 'deepfake-genome',
    modelVersion: spec.modelVersion,
    doc: spec.modelDoc,
    metadata: { 'dfg.model.id': spec.id, 'dfg.model.version': version, 'dfg.projection.sha256': sha256 },
  });
  const base = spec.base.manifest();
  const manifest: Manifest = {
    ...base,
    id: spec.id,
    version,
    description: spec.description(p),
    provenance: {
      builder: `src/model-build/models/${spec.id}.ts`,
      training: spec.training(p),
      opset: OPSET,
      base: { id: base.id, version: base.version, onnxSha256: p.baseOnnxSha256 },
      projection: { file: spec.projectionFile, sha256, method: p.method, inputDim: p.inputDim, outputDim: p.outputDim },
    },
    output: { ...base.output, dim: p.outputDim },
    ...(spec.decision ? { decision: spec.decision } : {}),
  };
  return { onnx, manifest };
}
