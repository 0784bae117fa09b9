/**
 * A model's score-normalisation cohort (manifest `cohort`, attribution/score-norm.ts): loaded and
 * checked here, fused like query vectors when several models are served.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../errors.js';
import { fuseVectors, fusionIndexId } from '../math/fusion.js';
import { loadManifest } from './manifest.js';
import type { Manifest } from './manifest-schema.js';

/** The cohort of the served model(s): unit vectors in the index space. */
export interface ServedCohort {
  vectors: Float32Array[];
  /** Index id and version of the space (as Embedder.model). */
  model: string;
  version: string;
}

function unit(v: Float32Array): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i += 1) ss += v[i]! * v[i]!;
  if (ss === 0) return v;
  const inv = 1 / Math.sqrt(ss);
  return v.map((x) => x * inv);
}

/**
 * Reads one model's cohort, or null when its manifest names none. Rejects with
 * DFG_ERR_MODEL_MANIFEST_INVALID when the file is missing, of the wrong size or hash, or was
 * embedded by another version of the model.
 */
export async function loadModelCohort(modelDir: string, manifest: Manifest): Promise<Float32Array[] | null> {
  const c = manifest.cohort;
  if (!c) return null;
  const file = path.join(modelDir, c.file);
  const bad = (why: string) => dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', path.join(modelDir, 'model.json'), `cohort: ${why}`);
  if (c.version !== manifest.version) throw bad(`embedded with version ${c.version}, the model is ${manifest.version}; rebuild it with dfg models cohort`);
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw bad(`${file} cannot be read (${err.code ?? err.message})`);
  });
  const dim = manifest.output.dim;
  if (bytes.length !== c.count * dim * 4) throw bad(`${file} has ${bytes.length} bytes, expected ${c.count} × ${dim} float32`);
  if (createHash('sha256').update(bytes).digest('hex') !== c.sha256) throw bad(`${file} does not match its sha256`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return Array.from({ length: c.count }, (_, i) => unit(all.slice(i * dim, (i + 1) * dim)));
}

/**
 * The served space's cohort: one model's as it is; for a fusion, each image's member vectors
 * fused with the served weights, only when every member ships a cohort of the same images.
 * Null otherwise (scores are then not normalised).
 */
export async function loadServedCohort(
  modelsDir: string,
  members: readonly { manifest: Manifest; weight: number }[],
  space: { id: string; version: string },
): Promise<ServedCohort | null> {
  const items = members.map((m) => m.manifest.cohort?.itemsSha256);
  if (items.some((i) => i === undefined) || new Set(items).size !== 1) return null;
  const parts = await Promise.all(members.map((m) => loadModelCohort(path.join(path.resolve(modelsDir), m.manifest.id), m.manifest)));
  const first = parts[0]!;
  const vectors = members.length === 1 ? first : first.map((_, i) => fuseVectors(parts.map((p) => p![i]!), members.map((m) => m.weight)));
  return { vectors, model: space.id, version: space.version };
}

/** loadServedCohort for a model list by id and weight, reading the manifests (no embedder needed: the CLI). */
export async function loadCohortFor(modelsDir: string, choices: readonly { id: string; weight: number }[]): Promise<ServedCohort | null> {
  const members = [];
  for (const c of choices) members.push({ manifest: (await loadManifest(modelsDir, c.id)).manifest, weight: c.weight });
  const space = members.length === 1
    ? { id: members[0]!.manifest.id, version: members[0]!.manifest.version }
    : { id: fusionIndexId(choices), version: members.map((m) => m.manifest.version).join('+') };
  return loadServedCohort(modelsDir, members, space);
}
