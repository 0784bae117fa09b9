/**
 * Input checks at the gallery boundary. The HTTP layer validates with TypeBox first; these guard
 * the CLI, jobs and any other caller, so nothing malformed reaches the store. One sentence shape:
 * "Expected X for NAME but received V".
 */
import { dfgError, type DfgError } from '../errors.js';
import {
  ARCHITECTURES,
  FORGERY_TYPES,
  type AlgorithmInput,
  type AlgorithmPatch,
  type Architecture,
  type ForgeryType,
  type CalibrationInput,
  type BundleInput,
  type Origin,
  type PageOptions,
  type SampleInput,
} from './types.js';
import type { CheckedSample } from './store/samples.js';
import type { GalleryOptions } from './gallery-api.js';
import type { FusionMember } from '../math/fusion.js';
import { metricHeader, type GalleryMetric } from '../attribution/gallery-metric.js';

// Limits of an algorithm's fields, shared with the HTTP schemas (http/schemas/algorithms.ts).
export const MAX_NAME_LENGTH = 200;
export const MAX_TEXT_LENGTH = 4000;
export const MAX_REFERENCE_LENGTH = 2000;
export const MAX_FILENAME_LENGTH = 255;
export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 50;
const MAX_SIDE = 2 ** 31 - 1;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 64 ? `${s.slice(0, 61)}..."` : s;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  return typeof value;
}

/** The catalogue error for a malformed argument. */
export function invalid(expected: string, name: string, value: unknown): DfgError {
  return dfgError('DFG_ERR_REQUEST_INVALID', `Expected ${expected} for ${name} but received ${describe(value)}`);
}

// C0 and C1 controls, and the invisible format characters that reorder or hide text where a name
// is shown (bidirectional overrides and isolates, zero-width characters, line separators, BOM).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

function text(value: unknown, name: string, max: number, allowEmpty: boolean): string {
  if (typeof value !== 'string') throw invalid('a string', name, value);
  const v = value.trim();
  if ((!allowEmpty && v.length === 0) || v.length > max) {
    throw invalid(`a string of ${allowEmpty ? 0 : 1} to ${max} characters`, name, value);
  }
  if (name === 'name' && CONTROL.test(v)) throw invalid('a string without control or bidirectional-override characters', name, value);
  return v;
}

export function checkForgeryType(value: unknown): ForgeryType {
  if (!(FORGERY_TYPES as readonly unknown[]).includes(value)) throw invalid(`one of ${FORGERY_TYPES.join(', ')}`, 'forgeryType', value);
  return value as ForgeryType;
}

export function checkArchitecture(value: unknown): Architecture {
  if (!(ARCHITECTURES as readonly unknown[]).includes(value)) throw invalid(`one of ${ARCHITECTURES.join(', ')}`, 'architecture', value);
  return value as Architecture;
}

export function checkThreshold(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < -1 || value > 1) {
    throw invalid('null or a number between -1 and 1', 'threshold', value);
  }
  return value;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalid('a boolean', name, value);
  return value;
}

/** Normalised registration input with defaults filled in. */
export function checkAlgorithmInput(input: AlgorithmInput): Required<AlgorithmInput> {
  if (typeof input !== 'object' || input === null) throw invalid('an object', 'algorithm', input);
  return {
    name: text(input.name, 'name', MAX_NAME_LENGTH, false),
    forgeryType: input.forgeryType === undefined ? 'unknown' : checkForgeryType(input.forgeryType),
    architecture: input.architecture === undefined ? 'other' : checkArchitecture(input.architecture),
    description: input.description === undefined ? '' : text(input.description, 'description', MAX_TEXT_LENGTH, true),
    reference: input.reference === undefined ? '' : text(input.reference, 'reference', MAX_REFERENCE_LENGTH, true),
    enabled: input.enabled === undefined ? true : checkBoolean(input.enabled, 'enabled'),
    threshold: input.threshold === undefined ? null : checkThreshold(input.threshold),
  };
}

/** Normalised patch: only the fields present, each checked. */
export function checkAlgorithmPatch(patch: AlgorithmPatch): AlgorithmPatch {
  if (typeof patch !== 'object' || patch === null) throw invalid('an object', 'patch', patch);
  const out: AlgorithmPatch = {};
  if (patch.name !== undefined) out.name = text(patch.name, 'name', MAX_NAME_LENGTH, false);
  if (patch.forgeryType !== undefined) out.forgeryType = checkForgeryType(patch.forgeryType);
  if (patch.architecture !== undefined) out.architecture = checkArchitecture(patch.architecture);
  if (patch.description !== undefined) out.description = text(patch.description, 'description', MAX_TEXT_LENGTH, true);
  if (patch.reference !== undefined) out.reference = text(patch.reference, 'reference', MAX_REFERENCE_LENGTH, true);
  if (patch.enabled !== undefined) out.enabled = checkBoolean(patch.enabled, 'enabled');
  if (patch.threshold !== undefined) out.threshold = checkThreshold(patch.threshold);
  return out;
}

export function checkPage(opts: PageOptions | undefined): { limit: number; offset: number } {
  const limit = opts?.limit ?? DEFAULT_PAGE_LIMIT;
  const offset = opts?.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) throw invalid(`an integer between 1 and ${MAX_PAGE_LIMIT}`, 'limit', limit);
  if (!Number.isInteger(offset) || offset < 0) throw invalid('a non-negative integer', 'offset', offset);
  return { limit, offset };
}

/** Algorithm and sample ids: looked up as they are, never parsed. */
export function checkId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) throw invalid('an id string', name, value);
  return value;
}

const SHA256 = /^[0-9a-fA-F]{64}$/;

export function checkSha256(value: unknown): string {
  if (typeof value !== 'string' || !SHA256.test(value)) throw invalid('64 hexadecimal characters', 'sha256', value);
  return value.toLowerCase();
}

export function checkSide(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_SIDE) throw invalid('a positive integer', name, value);
  return value as number;
}

/** Replaces control characters and caps the length: a filename is a label for humans, never a path we open. */
export function cleanFilename(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid('a string', 'filename', value);
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, MAX_FILENAME_LENGTH);
  return cleaned.length > 0 ? cleaned : null;
}

/**
 * Checks an embedding: a Float32Array of the gallery's dimension, finite, and (when `nonZero`)
 * with a non-zero norm, since a zero vector has no cosine similarity to anything.
 */
export function checkVector(value: unknown, dim: number, modelId: string, name: string, nonZero: boolean): Float32Array {
  if (!(value instanceof Float32Array)) throw invalid('a Float32Array', name, value);
  if (value.length !== dim) throw dfgError('DFG_ERR_GALLERY_DIMENSION_MISMATCH', value.length, modelId, dim);
  let norm = 0;
  for (let i = 0; i < value.length; i++) {
    const x = value[i]!;
    if (!Number.isFinite(x)) throw invalid('finite numbers', name, `a non-finite value at index ${i}`);
    norm += x * x;
  }
  if (nonZero && norm === 0) throw invalid('a vector with a non-zero norm', name, 'the zero vector');
  return value;
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Model ids name files under the gallery directory, so they are restricted to a safe alphabet. */
export function checkModelId(value: unknown): string {
  if (typeof value !== 'string' || !MODEL_ID.test(value)) {
    throw invalid('a model id of letters, digits, ".", "_" or "-" (at most 128, not starting with a symbol)', 'modelId', value);
  }
  return value;
}

export function checkDim(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65536) throw invalid('an integer between 1 and 65536', 'dim', value);
  return value as number;
}

export function checkPositiveInt(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw invalid('a positive integer', name, value);
  return value as number;
}

/** The index's models from `models`, or from `modelId` + `dim`; ids unique, weights positive. */
export function checkModels(opts: GalleryOptions): FusionMember[] {
  const list = opts.models ?? [{ id: opts.modelId as string, dim: opts.dim as number }];
  if (!Array.isArray(list) || list.length === 0 || list.length > 16) throw invalid('1 to 16 models', 'models', list);
  const seen = new Set<string>();
  return list.map((m, i) => {
    const id = checkModelId(m?.id);
    if (seen.has(id)) throw invalid('distinct model ids', `models[${i}].id`, id);
    seen.add(id);
    const weight = m.weight ?? 1;
    if (typeof weight !== 'number' || !(Number.isFinite(weight) && weight > 0)) throw invalid('a positive finite number', `models[${i}].weight`, weight);
    return { id, dim: checkDim(m.dim), weight };
  });
}

export function checkJsonObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('a JSON object', name, value);
  try {
    JSON.stringify(value);
  } catch {
    throw invalid('a JSON-serialisable object', name, 'an object that cannot be serialised');
  }
  return value as Record<string, unknown>;
}

/** A calibration to store, checked: target FPIR in (0, 1), thresholds in [-1, 1], JSON params. */
export function checkCalibrationInput(input: unknown): Required<Omit<CalibrationInput, 'metric'>> & Pick<CalibrationInput, 'metric'> {
  if (typeof input !== 'object' || input === null) throw invalid('an object', 'calibration', input);
  const c = input as CalibrationInput;
  const { targetFpir } = c;
  if (typeof targetFpir !== 'number' || !(targetFpir > 0 && targetFpir < 1)) throw invalid('a number in (0, 1)', 'targetFpir', targetFpir);
  const global = checkThreshold(c.global);
  if (global === null) throw invalid('a number between -1 and 1', 'global', c.global);
  const perAlgorithm = checkJsonObject(c.perAlgorithm, 'perAlgorithm');
  for (const [id, value] of Object.entries(perAlgorithm)) {
    if (checkThreshold(value) === null) throw invalid('a number between -1 and 1', `perAlgorithm.${id}`, value);
  }
  return {
    targetFpir,
    global,
    perAlgorithm: perAlgorithm as Record<string, number>,
    params: c.params === undefined ? {} : checkJsonObject(c.params, 'params'),
    ...(c.metric ? { metric: checkMetric(c.metric) } : {}),
  };
}

/** A metric to store with a calibration: consistent sizes and finite numbers. */
function checkMetric(m: GalleryMetric): GalleryMetric {
  const ok = m.kind === 'wccn' && Number.isInteger(m.dim) && m.dim > 0 && m.basis.length === m.coeffs.length * m.dim
    && m.shrinkage > 0 && m.shrinkage <= 1 && m.coeffs.every(Number.isFinite) && m.basis.every(Number.isFinite);
  if (!ok) throw invalid('a fitted gallery metric', 'metric', metricHeader(m));
  return m;
}

/** Per-model vectors of an item, checked: one of every model of the index (`vector` alone for one model), no other. */
export function checkModelVectors(
  models: readonly FusionMember[],
  item: { vector?: Float32Array; vectors?: Readonly<Record<string, Float32Array>> },
  name: string,
  nonZero: boolean,
): Map<string, Float32Array> {
  const ids = models.map((m) => m.id);
  const given = item.vectors ?? (item.vector !== undefined && models.length === 1 ? { [ids[0]!]: item.vector } : undefined);
  if (typeof given !== 'object' || given === null) throw invalid(models.length === 1 ? 'a vector' : `vectors of the models ${ids.join(', ')}`, name, given);
  const out = new Map<string, Float32Array>();
  for (const m of models) {
    if (!Object.hasOwn(given, m.id)) throw invalid(`a vector of model ${m.id}`, `${name}.${m.id}`, undefined);
    out.set(m.id, checkVector(given[m.id], m.dim, m.id, `${name}.${m.id}`, nonZero));
  }
  for (const key of Object.keys(given)) if (!out.has(key)) throw invalid(`only models ${ids.join(', ')}`, name, `a vector of ${key}`);
  return out;
}

/** Enrolment items, checked: sha256, a non-zero vector of every model of the index, image sides, the filename cleaned. */
export function checkSampleItems(models: readonly FusionMember[], items: SampleInput[]): CheckedSample[] {
  if (!Array.isArray(items)) throw invalid('an array', 'items', items);
  return items.map((item, i) => {
    if (typeof item !== 'object' || item === null) throw invalid('an object', `items[${i}]`, item);
    return {
      sha256: checkSha256(item.sha256),
      vectors: checkModelVectors(models, item, `items[${i}].${item.vectors ? 'vectors' : 'vector'}`, true),
      width: checkSide(item.width, `items[${i}].width`),
      height: checkSide(item.height, `items[${i}].height`),
      filename: cleanFilename(item.filename),
      origin: item.origin === undefined ? null : checkOrigin(item.origin, `items[${i}].origin`),
    };
  });
}

/** A bundle to record (its manifest and signature were verified by the caller). */
export function checkBundleInput(input: BundleInput): BundleInput {
  if (typeof input !== 'object' || input === null) throw invalid('an object', 'bundle', input);
  return {
    sha256: checkSha256(input.sha256),
    publisher: text(input.publisher, 'bundle.publisher', 128, false),
    keyFingerprint: checkSha256(input.keyFingerprint),
    software: text(input.software, 'bundle.software', 200, true),
    exportedAt: text(input.exportedAt, 'bundle.exportedAt', 64, false),
  };
}

/** An item's id in the gallery that exported it. */
export function checkSourceId(value: unknown, name: string): string {
  return text(value, name, 128, false);
}

/** An import's link to a recorded bundle: its `bnd_…` id and the id the exporting gallery gave the item. */
export function checkOrigin(origin: Origin, name: string): Origin {
  if (typeof origin !== 'object' || origin === null) throw invalid('an object', name, origin);
  return { bundleId: checkId(origin.bundleId, `${name}.bundleId`), sourceId: checkSourceId(origin.sourceId, `${name}.sourceId`) };
}
