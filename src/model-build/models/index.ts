/**
 * The models this project defines itself and `dfg models build` writes into the models
 * directory as `<id>/model.onnx` + `<id>/model.json`. Builds are deterministic: the committed
 * files under models/ must equal a fresh build byte for byte (test/model-build.test.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { dfgError } from '../../errors.js';
import { ManifestSchema, type Manifest } from '../../embedding/manifest-schema.js';
import { buildResidualV1, RESIDUAL_V1_ID } from './residual-v1.js';
import { buildResidualLdaV1, RESIDUAL_LDA_V1_ID } from './residual-lda-v1.js';
import { buildResidualV2, RESIDUAL_V2_ID } from './residual-v2.js';
import { buildResidualV3, RESIDUAL_V3_ID } from './residual-v3.js';

export interface BuiltModel {
  onnx: Uint8Array;
  manifest: Manifest;
}

/** Model id → builder. Each builder is pure and returns the same bytes on every call. */
export const MODEL_BUILDERS: Readonly<Record<string, () => BuiltModel>> = Object.freeze({
  [RESIDUAL_V1_ID]: buildResidualV1,
  [RESIDUAL_LDA_V1_ID]: () => buildResidualLdaV1(),
  [RESIDUAL_V2_ID]: buildResidualV2,
  [RESIDUAL_V3_ID]: () => buildResidualV3(),
});

export interface BuildResult {
  id: string;
  onnxPath: string;
  manifestPath: string;
  /** sha256 (hex) of model.onnx. */
  sha256: string;
}

/** The manifest file exactly as written: the manifest plus the model's sha256 in provenance. */
export function manifestText(built: BuiltModel, cohort?: Manifest['cohort']): string {
  const sha256 = createHash('sha256').update(built.onnx).digest('hex');
  const manifest: Manifest = { ...built.manifest, provenance: { ...built.manifest.provenance, onnxSha256: sha256 }, ...(cohort ? { cohort } : {}) };
  const errors = [...Value.Errors(ManifestSchema, manifest)];
  if (errors.length > 0) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', manifest.id, errors.map((e) => `${e.path || '/'} ${e.message}`).join('; '));
  }
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * The cohort of the manifest already in place when it was embedded by this very version (the
 * cohort is data `dfg models cohort` made, not part of the definition): a rebuild keeps it.
 */
async function keptCohort(manifestPath: string, version: string): Promise<Manifest['cohort']> {
  try {
    const old = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as Partial<Manifest>;
    return old.cohort?.version === version ? old.cohort : undefined;
  } catch {
    return undefined;
  }
}

export async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/**
 * Builds the given models (default: all of MODEL_BUILDERS) into `modelsDir/<id>/`. Unknown
 * ids fail with DFG_ERR_MODEL_NOT_FOUND before anything is written.
 */
export async function buildModels(modelsDir: string, ids?: string[]): Promise<BuildResult[]> {
  const wanted = ids ?? Object.keys(MODEL_BUILDERS);
  for (const id of wanted) {
    if (!Object.hasOwn(MODEL_BUILDERS, id)) throw dfgError('DFG_ERR_MODEL_NOT_FOUND', id, 'the project model builders');
  }
  const results: BuildResult[] = [];
  for (const id of [...new Set(wanted)]) {
    const built = MODEL_BUILDERS[id]!();
    const dir = path.join(modelsDir, id);
    await fs.mkdir(dir, { recursive: true });
    const onnxPath = path.join(dir, 'model.onnx');
    const manifestPath = path.join(dir, 'model.json');
    const text = manifestText(built, await keptCohort(manifestPath, built.manifest.version));
    await writeAtomic(onnxPath, built.onnx);
    await writeAtomic(manifestPath, text);
    results.push({ id, onnxPath, manifestPath, sha256: createHash('sha256').update(built.onnx).digest('hex') });
  }
  return results;
}
