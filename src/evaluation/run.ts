/**
 * `runEvaluation`: the whole protocol on a dataset folder, from an embedding function to the
 * report object. Embeds every image once (model, then the content baseline), drops unreadable
 * files from both spaces alike (listed, not fatal), then runs the seeded repeats in each space.
 *
 * The steps around the scoring (`openProtocol`, `planProtocol`, `summarisePlan`,
 * `assembleReport`) are shared with the service evaluation (remote/), so both modes draw the
 * same splits and write the same report.
 */
import { unitVector } from '../math/vector.js';
import { dfgError, isDfgError } from '../errors.js';
import { summariseSpace, type AlgorithmMeta } from './aggregate.js';
import { DEFAULT_GROUP_PATTERN, scanDataset, type Dataset, type DatasetAlgorithm, type DatasetFile } from './dataset.js';
import { evaluateSplit, type ApBasis, type Probe, type SplitResult } from './evaluate-split.js';
import { forEachLimit } from '../lib/limit.js';
import { makeSplit, validateProtocol, type ProtocolOptions, type Split } from './protocol.js';
import type { ModelInfo, Report, SpaceReport, SplitSummary } from './types.js';
import { applyMetric, fitGalleryMetric } from '../attribution/gallery-metric.js';
import { metricText, type MetricSetting } from '../config/metric-setting.js';

/** Returns the embedding of one dataset file; rejects with a catalogue error for a bad image. */
export type EmbedFn = (file: DatasetFile) => Promise<Float32Array>;

export interface ProgressEvent {
  /** model / baseline: embedding; check: the service reads every file; service: the repeats against it. */
  phase: 'model' | 'baseline' | 'check' | 'service';
  done: number;
  total: number;
  file: string;
}

/** The protocol itself: which dataset, how it is split, how often. */
export interface ProtocolSettings {
  /** Dataset folder (scanned with `groupPattern`) or an already scanned dataset. */
  dataDir?: string;
  dataset?: Dataset;
  groupPattern?: string;
  shots: number;
  unknownFraction: number;
  unknownList?: readonly string[];
  seed: string | number;
  repeats: number;
}

export interface EvalOptions extends ProtocolSettings {
  topM: number;
  targetFpir: number;
  margin: number;
  /** Similarity of the model's space (default cosine); the content baseline always uses cosine. */
  metric?: MetricSetting;
  /**
   * The model's score-normalisation cohort (unit vectors of its space) and the K kept per side:
   * scores are normalised as the service does (score-norm.ts). The content baseline never is.
   */
  scoreNorm?: { cohort: readonly Float32Array[]; topK: number };
  model: ModelInfo;
  /** The content-only baseline; null or absent to skip it. */
  baseline?: { model: ModelInfo; embed: EmbedFn } | null;
  /** Embeddings in flight at once. Default 4. */
  concurrency?: number;
  onProgress?: (e: ProgressEvent) => void;
}

/** A dataset and protocol checked against each other, before any image is read. */
export interface OpenedProtocol {
  settings: ProtocolSettings;
  dataset: Dataset;
  protocol: ProtocolOptions;
  groupPattern: string;
}

/** The repeats' splits over the usable files, with what the summaries need to know of them. */
export interface ProtocolPlan extends OpenedProtocol {
  usable: DatasetAlgorithm[];
  splits: Split<DatasetFile>[];
  warnings: string[];
  meta: AlgorithmMeta[];
  /** Names of the authentic reference classes. */
  authentic: Set<string>;
  /** CMC length: every class could be the one ranked last. */
  maxRank: number;
}

/** Errors that make one file unusable rather than the run: bad images and file-system refusals. */
export function isFileProblem(err: unknown): boolean {
  if (isDfgError(err)) return err.code.startsWith('DFG_ERR_IMAGE_');
  const e = err as NodeJS.ErrnoException;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

/** The reason a file is listed as unreadable. */
export function unreadableReason(err: { code?: string; message?: string }): string {
  return `${err.code ?? 'error'}: ${err.message}`;
}

/**
 * Checks the repeats, scans the dataset when only its folder is given, and validates the protocol
 * against it: every mistake in the options surfaces before minutes of embedding.
 */
export async function openProtocol(settings: ProtocolSettings): Promise<OpenedProtocol> {
  if (!Number.isInteger(settings.repeats) || settings.repeats < 1 || settings.repeats > 1000) {
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--repeats must be an integer from 1 to 1000, got ${settings.repeats}`);
  }
  const groupPattern = settings.groupPattern ?? DEFAULT_GROUP_PATTERN;
  if (!settings.dataset && !settings.dataDir) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', 'no dataset folder given');
  const dataset = settings.dataset ?? (await scanDataset(settings.dataDir!, { groupPattern }));
  const protocol: ProtocolOptions = { shots: settings.shots, unknownFraction: settings.unknownFraction, unknownList: settings.unknownList, seed: settings.seed };
  validateProtocol(dataset.algorithms, protocol);
  return { settings, dataset, protocol, groupPattern };
}

/**
 * Draws the seeded splits over the files `usableOf` accepts (the same draws whatever scored the
 * images, so a library run and a service run of one seed share their splits). Throws
 * DFG_ERR_EVAL_DATASET_INVALID / DFG_ERR_EVAL_PROTOCOL_INVALID when nothing can be evaluated.
 */
export function planProtocol(opened: OpenedProtocol, usableOf: (f: DatasetFile) => boolean, unreadableCount: number): ProtocolPlan {
  const { dataset, protocol, settings } = opened;
  const warnings = [...dataset.warnings];
  const usable: DatasetAlgorithm[] = [];
  for (const a of dataset.algorithms) {
    const kept = a.files.filter(usableOf);
    if (kept.length === 0) warnings.push(`${a.name}: no readable image (left out)`);
    else usable.push({ ...a, files: kept });
  }
  if (usable.length < 2) throw dfgError('DFG_ERR_EVAL_DATASET_INVALID', `${usable.length} algorithm folder(s) with readable images; at least two are needed (${unreadableCount} unreadable file(s))`);
  validateProtocol(usable, protocol);
  const splits = Array.from({ length: settings.repeats }, (_, r) => makeSplit(usable, protocol, r));
  for (const s of splits) for (const e of s.excluded) warnings.push(`repeat ${s.repeat}: ${e.algorithm} not registered: ${e.reason}`);
  const authentic = new Set(usable.filter((a) => a.authentic).map((a) => a.name));
  const forgeryProbes = splits.map((s) => s.knownProbes.filter((f) => !authentic.has(f.algorithm)).length);
  if (forgeryProbes.every((n) => n === 0)) {
    const groups = usable.filter((a) => !a.authentic).map((a) => `${a.name} ${new Set(a.files.map((f) => f.group)).size}`).join(', ');
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `no registered forgery algorithm has a probe left after its ${protocol.shots} shots in any repeat: probes must come from source groups the shots do not use (source groups: ${groups}); lower --shots or check --group-pattern`);
  }
  forgeryProbes.forEach((n, r) => {
    if (n === 0) warnings.push(`repeat ${r}: no probe of a registered forgery algorithm (attribution metrics undefined for it)`);
  });
  const meta: AlgorithmMeta[] = usable.map(({ name, forgeryType, architecture, family, authentic: a }) => ({ name, forgeryType, architecture, family, authentic: a }));
  return { ...opened, usable, splits, warnings, meta, authentic, maxRank: Math.max(5, usable.length) };
}

/** One space's report section from its per-repeat results. */
export function summarisePlan(plan: ProtocolPlan, results: readonly SplitResult[], mAPBasis: ApBasis = 'samples'): SpaceReport {
  return summariseSpace(results, plan.meta, plan.splits.map((s) => s.unknown), plan.splits.map((s) => s.known), mAPBasis);
}

export interface ReportParts {
  /** Files left out, by dataset-relative path, with the reason. */
  unreadable: ReadonlyMap<string, string>;
  scoring: { topM: number; targetFpir: number | null; margin: number; metric?: string; scoreNorm?: string };
  model: ModelInfo;
  main: SpaceReport;
  baselines: Report['baselines'];
  timings: Report['timings'];
}

/** The report object around the spaces' sections (see `types.ts`). */
export function assembleReport(plan: ProtocolPlan, parts: ReportParts): Report {
  const { dataset, settings, splits } = plan;
  const files = dataset.algorithms.flatMap((a) => a.files);
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
  const listed = settings.unknownList && settings.unknownList.length > 0;
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    dataset: {
      root: dataset.root,
      genome: dataset.genome,
      algorithms: dataset.algorithms.length,
      images: files.length,
      usable: files.filter((f) => !parts.unreadable.has(f.rel)).length,
      unreadable: [...parts.unreadable].map(([file, reason]) => ({ file, reason })).sort(byRel),
      skipped: dataset.skipped,
      warnings: plan.warnings,
    },
    model: parts.model,
    protocol: {
      known: splits[0].known,
      unknown: splits[0].unknown,
      shots: settings.shots,
      seed: String(settings.seed),
      repeats: settings.repeats,
      unknownFraction: listed ? null : settings.unknownFraction,
      unknownList: listed ? [...settings.unknownList!] : null,
      groupPattern: plan.groupPattern,
      groups: Object.fromEntries(plan.usable.map((a) => [a.name, new Set(a.files.map((f) => f.group)).size])),
      topM: parts.scoring.topM,
      targetFpir: parts.scoring.targetFpir,
      margin: parts.scoring.margin,
      ...(parts.scoring.metric ? { metric: parts.scoring.metric } : {}),
      ...(parts.scoring.scoreNorm ? { scoreNorm: parts.scoring.scoreNorm } : {}),
      splits: summaries,
    },
    ...parts.main,
    baselines: parts.baselines,
    timings: parts.timings,
  };
}

async function embedAll(files: readonly DatasetFile[], embed: EmbedFn, phase: ProgressEvent['phase'], opts: EvalOptions, unreadable: Map<string, string>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  let done = 0;
  await forEachLimit(files, opts.concurrency ?? 4, async (f) => {
    try {
      const v = unitVector(await embed(f));
      if (v.some((x) => !Number.isFinite(x))) unreadable.set(f.rel, `${phase} embedding is not finite`);
      else out.set(f.rel, v);
    } catch (err) {
      if (!isFileProblem(err)) throw err;
      unreadable.set(f.rel, unreadableReason(err as { code?: string; message?: string }));
    }
    done += 1;
    opts.onProgress?.({ phase, done, total: files.length, file: f.rel });
  });
  return out;
}

function runSpace(
  plan: ProtocolPlan,
  vectors: ReadonlyMap<string, Float32Array>,
  opts: EvalOptions,
  metric: MetricSetting = { kind: 'cosine' },
  scoreNorm?: EvalOptions['scoreNorm'],
): SplitResult[] {
  return plan.splits.map((s) => {
    const gallery = new Map([...s.gallery].map(([a, files]) => [a, files.map((f) => vectors.get(f.rel)!)]));
    // A gallery-adapted metric is fitted on each split's registration shots alone, as the service
    // fits it on its enrolled samples; probes and shots are then compared in its space.
    const fitted = metric.kind === 'wccn' ? fitGalleryMetric(gallery, { shrinkage: metric.shrinkage }) : null;
    const map = fitted ? (v: Float32Array) => applyMetric(fitted, v) : (v: Float32Array) => v;
    const probe = (f: DatasetFile): Probe => ({ id: f.rel, algorithm: f.algorithm, vector: map(vectors.get(f.rel)!) });
    return evaluateSplit({
    gallery: fitted ? new Map([...gallery].map(([a, vs]) => [a, vs.map(map)])) : gallery,
    knownProbes: s.knownProbes.map(probe),
    unknownProbes: s.unknownProbes.map(probe),
    topM: opts.topM,
    targetFpir: opts.targetFpir,
    margin: opts.margin,
    authentic: plan.authentic,
    maxRank: plan.maxRank,
    ...(scoreNorm ? { scoreNorm: { cohort: scoreNorm.cohort.map(map), topK: scoreNorm.topK } } : {}),
    });
  });
}

/**
 * Runs the protocol and returns the report (see `types.ts`). Throws DFG_ERR_EVAL_DATASET_INVALID
 * or DFG_ERR_EVAL_PROTOCOL_INVALID for a dataset or options that cannot give a result.
 */
export async function runEvaluation(opts: EvalOptions, embed: EmbedFn): Promise<Report> {
  if (!Number.isInteger(opts.topM) || opts.topM < 1) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `top-m must be a positive integer, got ${opts.topM}`);
  if (!(opts.targetFpir >= 0 && opts.targetFpir < 1)) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--target-fpir must be in [0, 1), got ${opts.targetFpir}`);
  if (!(opts.margin >= 0 && opts.margin <= 2)) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--margin must be in [0, 2], got ${opts.margin}`);
  const opened = await openProtocol(opts);

  const t0 = performance.now();
  const files = opened.dataset.algorithms.flatMap((a) => a.files);
  const unreadable = new Map<string, string>();
  const modelVectors = await embedAll(files, embed, 'model', opts, unreadable);
  const baselineVectors = opts.baseline ? await embedAll(files.filter((f) => modelVectors.has(f.rel)), opts.baseline.embed, 'baseline', opts, unreadable) : undefined;
  const t1 = performance.now();

  const plan = planProtocol(opened, (f) => modelVectors.has(f.rel) && (!baselineVectors || baselineVectors.has(f.rel)), unreadable.size);
  const main = summarisePlan(plan, runSpace(plan, modelVectors, opts, opts.metric, opts.scoreNorm));
  const content = baselineVectors && opts.baseline ? { ...summarisePlan(plan, runSpace(plan, baselineVectors, opts)), model: opts.baseline.model } : undefined;
  const t2 = performance.now();

  return assembleReport(plan, {
    unreadable,
    scoring: {
      topM: opts.topM, targetFpir: opts.targetFpir, margin: opts.margin, metric: metricText(opts.metric ?? { kind: 'cosine' }),
      scoreNorm: opts.scoreNorm ? `asnorm:${opts.scoreNorm.topK} (cohort of ${opts.scoreNorm.cohort.length})` : 'none',
    },
    model: opts.model,
    main,
    baselines: content ? { content } : {},
    timings: { embedSeconds: (t1 - t0) / 1000, evaluateSeconds: (t2 - t1) / 1000 },
  });
}
