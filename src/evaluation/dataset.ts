/**
 * Reads an evaluation dataset: `ROOT/<algorithm>/**\/*.{png,jpg,jpeg,webp}` plus an optional
 * `ROOT/genome.json` (`{ algorithms: { <name>: { forgeryType, architecture, family } } }`).
 * Every file that is not used is listed with the reason, so a bad dataset explains itself.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { dfgError } from '../errors.js';
import { compileGroupPattern, DEFAULT_GROUP_PATTERN, groupOf } from './group-pattern.js';

export { compileGroupPattern, DEFAULT_GROUP_PATTERN, groupOf } from './group-pattern.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

/** forgeryType of the reference classes of real images. */
export const AUTHENTIC = 'authentic';

/** Metadata value for an algorithm genome.json does not describe. */
export const UNSPECIFIED = 'unspecified';

const GENOME_MAX_BYTES = 8 * 1024 * 1024;
const MAX_DEPTH = 32;

const GenomeEntrySchema = Type.Object(
  {
    forgeryType: Type.Optional(Type.String({ minLength: 1 })),
    architecture: Type.Optional(Type.String({ minLength: 1 })),
    family: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: true },
);
const GenomeSchema = Type.Object({ algorithms: Type.Record(Type.String(), GenomeEntrySchema) }, { additionalProperties: true });

export interface DatasetFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the dataset root, with forward slashes (used in reports and messages). */
  rel: string;
  algorithm: string;
  /** Source group, unique within the algorithm: shots and probes never share one. */
  group: string;
}

export interface DatasetAlgorithm {
  name: string;
  forgeryType: string;
  architecture: string;
  family: string;
  /** forgeryType is `authentic`: a reference class of real images, never held out as unknown. */
  authentic: boolean;
  files: DatasetFile[];
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface Dataset {
  root: string;
  /** Whether ROOT/genome.json was read. */
  genome: boolean;
  /** Algorithms with at least one image, sorted by name. */
  algorithms: DatasetAlgorithm[];
  skipped: SkippedFile[];
  warnings: string[];
}

export interface ScanOptions {
  /** Regular expression on the file name whose first capture group names its source. */
  groupPattern?: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function readGenome(root: string): Promise<Record<string, { forgeryType?: string; architecture?: string; family?: string }> | undefined> {
  const file = path.join(root, 'genome.json');
  let text: string;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${file} is not a file`);
    if (st.size > GENOME_MAX_BYTES) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${file} is ${st.size} bytes, over the ${GENOME_MAX_BYTES} limit`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((err as { code?: string }).code?.startsWith('DFG_ERR_')) throw err;
    throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${file} cannot be read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!Value.Check(GenomeSchema, json)) {
    const first = [...Value.Errors(GenomeSchema, json)].slice(0, 5).map((e) => `${e.path || '(root)'}: ${e.message}`);
    throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${file} does not match { algorithms: { <name>: { forgeryType, architecture, family } } }: ${first.join('; ')}`);
  }
  return json.algorithms;
}

async function walk(dir: string, rel: string, depth: number, visit: (abs: string, rel: string, name: string) => Promise<void>, skipped: SkippedFile[]): Promise<void> {
  if (depth > MAX_DEPTH) {
    skipped.push({ file: rel, reason: `nested deeper than ${MAX_DEPTH} folders` });
    return;
  }
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    skipped.push({ file: rel, reason: `folder cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    return;
  }
  entries.sort((a, b) => byName(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .DS_Store, .git and friends: never data
    const abs = path.join(dir, e.name);
    const r = `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(abs, r, depth + 1, visit, skipped);
    else if (e.isSymbolicLink()) {
      // Linked files are followed; linked folders are not (no loops, no escaping the root).
      const st = await fs.stat(abs).catch(() => undefined);
      if (st?.isFile()) await visit(abs, r, e.name);
      else skipped.push({ file: r, reason: st ? 'symbolic link to a folder (not followed)' : 'dangling symbolic link' });
    } else if (e.isFile()) await visit(abs, r, e.name);
    else skipped.push({ file: r, reason: 'not a regular file' });
  }
}

/**
 * Scans a dataset folder. Throws DFG_ERR_EVAL_DATASET_INVALID when the root is missing or not
 * a folder, genome.json is malformed, or no algorithm folder holds an image; everything smaller
 * (empty folders, other extensions, stray files) lands in `skipped` or `warnings`.
 */
export async function scanDataset(root: string, opts: ScanOptions = {}): Promise<Dataset> {
  const abs = path.resolve(root);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${abs} does not exist`);
  if (!st.isDirectory()) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${abs} is not a folder (expected ROOT/<algorithm>/<images>)`);
  const pattern = compileGroupPattern(opts.groupPattern ?? DEFAULT_GROUP_PATTERN);
  const genome = await readGenome(abs);
  const skipped: SkippedFile[] = [];
  const warnings: string[] = [];
  const algorithms: DatasetAlgorithm[] = [];

  const top = await fs.readdir(abs, { withFileTypes: true });
  top.sort((a, b) => byName(a.name, b.name));
  for (const e of top) {
    if (e.name.startsWith('.')) continue;
    if (!e.isDirectory()) {
      if (e.name !== 'genome.json' && !/^readme(\..*)?$/i.test(e.name)) skipped.push({ file: e.name, reason: 'outside any algorithm folder' });
      continue;
    }
    const name = e.name;
    const files: DatasetFile[] = [];
    await walk(path.join(abs, name), name, 1, async (file, rel, base) => {
      const ext = path.extname(base).toLowerCase();
      if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext)) {
        skipped.push({ file: rel, reason: `extension ${ext || '(none)'} is not one of ${IMAGE_EXTENSIONS.join(' ')}` });
        return;
      }
      const subdir = path.posix.dirname(rel.slice(name.length + 1));
      files.push({ path: file, rel, algorithm: name, group: groupOf(base, subdir === '.' ? '' : subdir, pattern) });
    }, skipped);
    if (files.length === 0) {
      warnings.push(`${name}: no images (folder left out)`);
      continue;
    }
    const meta = genome && Object.hasOwn(genome, name) ? genome[name] : undefined;
    if (genome && !meta) warnings.push(`${name}: not described in genome.json (forgery type and architecture "${UNSPECIFIED}")`);
    const forgeryType = meta?.forgeryType ?? UNSPECIFIED;
    algorithms.push({
      name,
      forgeryType,
      architecture: meta?.architecture ?? UNSPECIFIED,
      family: meta?.family ?? UNSPECIFIED,
      authentic: forgeryType.toLowerCase() === AUTHENTIC,
      files,
    });
  }
  if (genome) {
    const present = new Set(top.filter((e) => e.isDirectory()).map((e) => e.name));
    for (const name of Object.keys(genome).sort(byName)) {
      if (!present.has(name)) warnings.push(`genome.json describes ${name}, which has no folder`);
    }
  }
  if (algorithms.length === 0) {
    throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `no images under ${abs}: expected ROOT/<algorithm>/**/*.{png,jpg,jpeg,webp}`);
  }
  return { root: abs, genome: genome !== undefined, algorithms, skipped, warnings };
}

/** Reads a dataset image, refusing one over `maxBytes` (DFG_ERR_IMAGE_TOO_LARGE) before loading it. */
export async function readDatasetImage(file: string, maxBytes: number): Promise<Uint8Array> {
  const st = await fs.stat(file);
  if (st.size > maxBytes) throw dfgError('DFG_ERR_IMAGE_TOO_LARGE', st.size, maxBytes);
  return fs.readFile(file);
}
