/**
 * `runEvaluation`: the whole protocol on a dataset folder, from an embedding function to the
 * report object. Embeds every image once (model, then the content baseline), drops unreadable
 * files from both spaces alike (listed, not fatal), then runs the seeded repeats in each space.
 */
import { unitVector } from '../attribution/calibrate.js';
import { dfgError, isDfgError } from '../errors.js';
import { summariseSpace, type AlgorithmMeta } from './aggregate.js';
import { DEFAULT_GROUP_PATTERN, scanDataset, type Dataset, type DatasetAlgorithm, type DatasetFile } from './dataset.js';
import { evaluateSplit, type Probe, type SplitResult } from './evaluate-split.js';
import { makeSplit, validateProtocol, type ProtocolOptions, type Split } from './protocol.js';
import type { ModelInfo, Report, SpaceReport, SplitSummary } from './types.js';

/** Returns the embedding of one dataset file; rejects with a catalogue error for a bad image. */
export type EmbedFn = (file: DatasetFile) => Promise<Float32Array>;

export interface ProgressEvent {
  phase: 'model' | 'baseline';
  done: number;
  total: number;
  file: string;
}

export interface EvalOptions {
  /** Dataset folder (scanned with `groupPattern`) or an already scanned dataset. */
  dataDir?: string;
  dataset?: Dataset;
  groupPattern?: string;
  shots: number;
  unknownFraction: number;
  unknownList?: readonly string[];
  seed: string | number;
  repeats: number;
  topM: number;
  targetFpir: number;
  margin: number;
  model: ModelInfo;
  /** The content-only baseline; null or absent to skip it. */
  baseline?: { model: ModelInfo; embed: EmbedFn } | null;
  /** Embeddings in flight at once. Default 4. */
  concurrency?: number;
  onProgress?: (e: ProgressEvent) => void;
}

/** Errors that make one file unusable rather than the run: bad images and file-system refusals. */
function isFileProblem(err: unknown): boolean {
  if (isDfgError(err)) return err.code.startsWith('DFG_ERR_IMAGE_');
  const e = err as NodeJS.ErrnoException;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

async function embedAll(files: readonly DatasetFile[], embed: EmbedFn, phase: ProgressEvent['phase'], opts: EvalOptions, unreadable: Map<string, string>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next];
      next += 1;
      try {
        const v = unitVector(await embed(f));
        if (v.some((x) => !Number.isFinite(x))) unreadable.set(f.rel, `${phase} embedding is not finite`);
        else out.set(f.rel, v);
      } catch (err) {
        if (!isFileProblem(err)) throw err;
        const e = err as { code?: string; message?: string };
        unreadable.set(f.rel, isDfgError(err) ? `${e.code}: ${e.message}` : `${e.code ?? 'error'}: ${e.message}`);
      }
      done += 1;
      opts.onProgress?.({ phase, done, total: files.length, file: f.rel });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, files.length)) }, worker));
  return out;
}

function runSpace(splits: readonly Split<DatasetFile>[], vectors: ReadonlyMap<string, Float32Array>, opts: EvalOptions, maxRank: number, authentic: ReadonlySet<string>): SplitResult[] {
  const probe = (f: DatasetFile): Probe => ({ id: f.rel, algorithm: f.algorithm, vector: vectors.get(f.rel)! });
  return splits.map((s) => evaluateSplit({
    gallery: new Map([...s.gallery].map(([a, files]) => [a, files.map((f) => vectors.get(f.rel)!)])),
    knownProbes: s.knownProbes.map(probe),
    unknownProbes: s.unknownProbes.map(probe),
    topM: opts.topM,
    targetFpir: opts.targetFpir,
    margin: opts.margin,
    authentic,
    maxRank,
  }));
}

/**
 * Runs the protocol and returns the report (see `types.ts`). Throws DFG_ERR_EVAL_DATASET_INVALID
 * or DFG_ERR_EVAL_PROTOCOL_INVALID for a dataset or options that cannot give a result.
 */
export async function runEvaluation(opts: EvalOptions, embed: EmbedFn): Promise<Report> {
  if (!Number.isInteger(opts.repeats) || opts.repeats < 1 || opts.repeats > 1000) {
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--repeats must be an integer from 1 to 1000, got ${opts.repeats}`);
  }
  if (!Number.isInteger(opts.topM) || opts.topM < 1) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `top-m must be a positive integer, got ${opts.topM}`);
  if (!(opts.targetFpir >= 0 && opts.targetFpir < 1)) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--target-fpir must be in [0, 1), got ${opts.targetFpir}`);
  if (!(opts.margin >= 0 && opts.margin <= 2)) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--margin must be in [0, 2], got ${opts.margin}`);
  const groupPattern = opts.groupPattern ?? DEFAULT_GROUP_PATTERN;
  if (!opts.dataset && !opts.dataDir) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', 'no dataset folder given');
  const dataset = opts.dataset ?? (await scanDataset(opts.dataDir!, { groupPattern }));
  const protocol: ProtocolOptions = { shots: opts.shots, unknownFraction: opts.unknownFraction, unknownList: opts.unknownList, seed: opts.seed };
  validateProtocol(dataset.algorithms, protocol); // fail on bad options before minutes of embedding

  const t0 = performance.now();
  const files = dataset.algorithms.flatMap((a) => a.files);
  const unreadable = new Map<string, string>();
  const modelVectors = await embedAll(files, embed, 'model', opts, unreadable);
  const baselineVectors = opts.baseline ? await embedAll(files.filter((f) => modelVectors.has(f.rel)), opts.baseline.embed, 'baseline', opts, unreadable) : undefined;
  const usableOf = (f: DatasetFile) => modelVectors.has(f.rel) && (!baselineVectors || baselineVectors.has(f.rel));
  const t1 = performance.now();

  const warnings = [...dataset.warnings];
  const usable: DatasetAlgorithm[] = [];
  for (const a of dataset.algorithms) {
    const kept = a.files.filter(usableOf);
    if (kept.length === 0) warnings.push(`${a.name}: no readable image (left out)`);
    else usable.push({ ...a, files: kept });
  }
  if (usable.length < 2) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${usable.length} algorithm folder(s) with readable images; at least two are needed (${unreadable.size} unreadable file(s))`);
  validateProtocol(usable, protocol);
  const splits = Array.from({ length: opts.repeats }, (_, r) => makeSplit(usable, protocol, r));
  for (const s of splits) for (const e of s.excluded) warnings.push(`repeat ${s.repeat}: ${e.algorithm} not registered: ${e.reason}`);
  const authenticNames = new Set(usable.filter((a) => a.authentic).map((a) => a.name));
  const forgeryProbes = splits.map((s) => s.knownProbes.filter((f) => !authenticNames.has(f.algorithm)).length);
  if (forgeryProbes.every((n) => n === 0)) {
    const groups = usable.filter((a) => !a.authentic).map((a) => `${a.name} ${new Set(a.files.map((f) => f.group)).size}`).join(', ');
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `no registered forgery algorithm has a probe left after its ${opts.shots} shots in any repeat: probes must come from source groups the shots do not use (source groups: ${groups}); lower --shots or check --group-pattern`);
  }
  forgeryProbes.forEach((n, r) => {
    if (n === 0) warnings.push(`repeat ${r}: no probe of a registered forgery algorithm (attribution metrics undefined for it)`);
  });

  const meta: AlgorithmMeta[] = usable.map(({ name, forgeryType, architecture, family, authentic }) => ({ name, forgeryType, architecture, family, authentic }));
  const maxRank = Math.max(5, usable.length);
  const known = splits.map((s) => s.known);
  const unknown = splits.map((s) => s.unknown);
  const space = (vectors: ReadonlyMap<string, Float32Array>): SpaceReport => summariseSpace(runSpace(splits, vectors, opts, maxRank, authenticNames), meta, unknown, known);
  const main = space(modelVectors);
  const content = baselineVectors && opts.baseline ? { ...space(baselineVectors), model: opts.baseline.model } : undefined;
  const t2 = performance.now();

  const summaries: SplitSummary[] = splits.map((s) => ({
    repeat: s.repeat,
    known: s.known,
    unknown: s.unknown,
    galleryOnly: s.galleryOnly,
    excluded: s.excluded,
    knownProbes: s.knownProbes.length,
    unknownProbes: s.unknownProbes.length,
  }));
  const byRel = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    dataset: {
      root: dataset.root,
      genome: dataset.genome,
      algorithms: dataset.algorithms.length,
      images: files.length,
      usable: files.filter(usableOf).length,
      unreadable: [...unreadable].map(([file, reason]) => ({ file, reason })).sort(byRel),
      skipped: dataset.skipped,
      warnings,
    },
    model: opts.model,
    protocol: {
      known: splits[0].known,
      unknown: splits[0].unknown,
      shots: opts.shots,
      seed: String(opts.seed),
      repeats: opts.repeats,
      unknownFraction: opts.unknownList && opts.unknownList.length > 0 ? null : opts.unknownFraction,
      unknownList: opts.unknownList && opts.unknownList.length > 0 ? [...opts.unknownList] : null,
      groupPattern,
      groups: Object.fromEntries(usable.map((a) => [a.name, new Set(a.files.map((f) => f.group)).size])),
      topM: opts.topM,
      targetFpir: opts.targetFpir,
      margin: opts.margin,
      splits: summaries,
    },
    ...main,
    baselines: content ? { content } : {},
    timings: { embedSeconds: (t1 - t0) / 1000, evaluateSeconds: (t2 - t1) / 1000 },
  };
}
