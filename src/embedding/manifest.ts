/**
 * Model manifests: `models/<id>/model.json` beside `models/<id>/model.onnx`, validated against
 * ManifestSchema plus the cross-field rules a schema cannot express.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ManifestSchema, type Manifest } from './manifest-schema.js';
import { dfgError } from '../errors.js';

export type { Manifest };

export interface LoadedManifest {
  manifest: Manifest;
  /** Absolute path of `model.onnx`. */
  onnxPath: string;
  /** Absolute path of the model directory. */
  dir: string;
}

// Same pattern as ManifestSchema.id: also keeps an id from escaping modelsDir ('..', '/').
const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Violations the JSON schema cannot express: array lengths against `channels`, crop geometry. */
function crossFieldViolations(m: Manifest): string[] {
  const out: string[] = [];
  for (const key of ['mean', 'std'] as const) {
    const n = m.input[key].length;
    if (n !== 1 && n !== m.input.channels) {
      out.push(`input.${key}: Expected 1 or ${m.input.channels} values (input.channels) but received ${n}`);
    }
  }
  const c = m.crop;
  if (c.minSize > c.size) out.push(`crop.minSize: Expected at most crop.size (${c.size}) but received ${c.minSize}`);
  if (c.dynamic && c.minSize % c.multiple !== 0) {
    out.push(`crop.minSize: Expected a multiple of crop.multiple (${c.multiple}) but received ${c.minSize}`);
  }
  if (m.resize && c.size > m.resize.shortestEdge) {
    out.push(`crop.size: Expected at most resize.shortestEdge (${m.resize.shortestEdge}) but received ${c.size}`);
  }
  if (c.size % c.multiple !== 0) out.push(`crop.size: Expected a multiple of crop.multiple (${c.multiple}) but received ${c.size}`);
  return out;
}

/**
 * Reads and validates `<modelsDir>/<id>/model.json`.
 * Rejects with `DFG_ERR_MODEL_NOT_FOUND` (no such model, or an id that is not a model name),
 * `DFG_ERR_MODEL_MANIFEST_INVALID` (unparsable JSON or schema violations, all listed in the
 * message) or `DFG_ERR_MODEL_LOAD_FAILED` (the manifest is fine but `model.onnx` is missing).
 */
export async function loadManifest(modelsDir: string, id: string): Promise<LoadedManifest> {
  const root = path.resolve(modelsDir);
  if (!ID_PATTERN.test(id)) throw dfgError('DFG_ERR_MODEL_NOT_FOUND', JSON.stringify(id), root);
  const dir = path.join(root, id);
  const manifestPath = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw dfgError('DFG_ERR_MODEL_NOT_FOUND', id, root);
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', manifestPath, (err as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', manifestPath, `not JSON: ${(err as Error).message}`);
  }
  const violations = [...Value.Errors(ManifestSchema, raw)].map(
    (e) => `${e.path.slice(1).replace(/\//g, '.') || '(root)'}: ${e.message} (got ${JSON.stringify(e.value)})`,
  );
  if (violations.length === 0) {
    const m = raw as Manifest;
    violations.push(...crossFieldViolations(m));
    if (m.id !== id) violations.push(`id: Expected the directory name ${JSON.stringify(id)} but received ${JSON.stringify(m.id)}`);
  }
  if (violations.length > 0) {
    throw dfgError('DFG_ERR_MODEL_MANIFEST_INVALID', manifestPath, `\n  ${[...new Set(violations)].join('\n  ')}`);
  }
  const onnxPath = path.join(dir, 'model.onnx');
  const st = await stat(onnxPath).catch(() => null);
  if (!st?.isFile()) throw dfgError('DFG_ERR_MODEL_LOAD_FAILED', id, `${onnxPath} is missing`);
  return { manifest: raw as Manifest, onnxPath, dir };
}

/** Ids of the models under `modelsDir` whose manifest is valid and whose `model.onnx` exists, sorted. */
export async function listModels(modelsDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(path.resolve(modelsDir));
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const id of entries.sort()) {
    try {
      await loadManifest(modelsDir, id);
      ids.push(id);
    } catch {
      // Not a model directory, or a broken one: loadManifest reports it when it is asked for by id.
    }
  }
  return ids;
}
