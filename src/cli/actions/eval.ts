/**
 * `dfg eval --data DIR`: the benchmark's retrieval and open-set protocols on an image folder,
 * with one embedding model or a fusion of several, against a content-only baseline; or, with
 * `--url`, against a running service through its HTTP API. Writes report.json, report.md and the
 * plots; prints the summary table (or the JSON with --json). Its options: ../commands/eval.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, metricSetting, scoreNormSetting, threadCount, type Config } from '../../config/index.js';
import { loadCohortFor } from '../../embedding/cohort.js';
import type { ScoreNormSetting } from '../../config/score-norm-setting.js';
import { createEmbedder, formatModelList, loadManifest, type Embedder } from '../../embedding/index.js';
import { createLogger } from '../../logger.js';
import { chooseStartModels, type ModelOrigin } from '../../serving/served-models.js';
import { hasGalleryStore } from '../../gallery/store/file.js';
import { svgToPng } from '../../embedding/render.js';
import { dfgError, isDfgError } from '../../errors.js';
import { resolveMargin } from '../../attribution/decide.js';
import type { MetricSetting } from '../../config/metric-setting.js';
import { createEmbeddingCache, defaultCacheRoot, sha256Hex, type EmbeddingCache } from '../../evaluation/cache.js';
import { CONTENT_BASELINE, contentEmbedding } from '../../evaluation/content-baseline.js';
import { readDatasetImage, scanDataset, type Dataset } from '../../evaluation/dataset.js';
import { validateProtocol } from '../../evaluation/protocol.js';
import { fusionWeights } from '../../evaluation/fusion.js';
import { fuseVectors } from '../../math/fusion.js';
import { writeReport, summaryTable } from '../../evaluation/report.js';
import { runServiceEvaluation } from '../../evaluation/remote/index.js';
import { runEvaluation, type EmbedFn, type ProgressEvent, type ProtocolSettings } from '../../evaluation/run.js';
import { DEFAULT_TARGET_FPIR, type ModelInfo, type Report } from '../../evaluation/types.js';
import { progressBar } from '../progress.js';

export interface EvalCommandOptions {
  data: string;
  shots: number;
  unknown: number;
  unknownList?: string[];
  seed: string;
  repeats: number;
  model?: string[];
  weights?: number[];
  groupPattern: string;
  out: string;
  json?: boolean;
  topM?: number;
  /** Default 0.01. */
  targetFpir?: number;
  margin?: number;
  metric?: MetricSetting;
  scoreNorm?: ScoreNormSetting;
  baseline: boolean;
  cache: boolean;
  cacheDir?: string;
  threads?: number;
  /** Evaluate the service at this URL instead of the library. */
  url?: string;
  /** Default: DFG_API_KEY. */
  apiKey?: string;
  allowExisting?: boolean;
  /** Requests in flight with --url (default 4). */
  concurrency?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Embeds with the pool, waiting out load shedding instead of failing the image. */
async function embedPatiently(embedder: Embedder, bytes: Uint8Array): Promise<Float32Array> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return (await embedder.embed(bytes)).vector;
    } catch (err) {
      if (!isDfgError(err, 'DFG_ERR_SERVER_OVERLOADED') || attempt >= 20) throw err;
      await sleep(1000 * Math.max(1, (err as { retryAfter?: number }).retryAfter ?? 1));
    }
  }
}

const PHASE_LABELS: Record<ProgressEvent['phase'], string> = { model: 'embedding', baseline: 'content baseline', check: 'service reads every file', service: 'service repeats' };

function progressReporter() {
  let bar: ReturnType<typeof progressBar> | undefined;
  let phase: string | undefined;
  return {
    onProgress(e: ProgressEvent) {
      if (e.phase !== phase) {
        bar?.stop();
        phase = e.phase;
        bar = progressBar(PHASE_LABELS[e.phase], e.total);
      }
      bar!.tick(1, e.file.length > 40 ? `…${e.file.slice(-39)}` : e.file);
    },
    stop() {
      bar?.stop();
    },
  };
}

type Progress = ReturnType<typeof progressReporter>;

/** The protocol as both evaluations take it: one seed, one split, whichever scores the images. */
const protocolSettings = (o: EvalCommandOptions, dataset: Dataset): ProtocolSettings => ({
  dataset, groupPattern: o.groupPattern, shots: o.shots, unknownFraction: o.unknown, unknownList: o.unknownList, seed: o.seed, repeats: o.repeats,
});

/** Why the evaluated list is the one a service would serve now (StartModels.origin), for the line on stderr. */
function originText(origin: ModelOrigin, galleryDir: string): string {
  const last = origin.lastSwitch;
  if (origin.source === 'switch') return `the last model switch, recorded in the gallery in ${galleryDir} at ${last!.at}: the service serves it while DFG_MODEL is unset`;
  if (origin.configured !== null) return last && last.list !== origin.configured ? `DFG_MODEL, which overrides the last model switch recorded in the gallery, to ${last.list}` : 'DFG_MODEL';
  if (last) return `the default: the last model switch recorded in the gallery, to ${last.list}, cannot be served (see the warning above)`;
  return `the default: DFG_MODEL is unset and ${hasGalleryStore(galleryDir) ? `the gallery in ${galleryDir} records no model switch` : `there is no gallery in ${galleryDir}`}`;
}

/**
 * The models and weights to evaluate: --model (and --weights), else the list and weights a service
 * started now would serve (serving/served-models.ts: DFG_MODEL, else the last model switch recorded in the
 * gallery, else the default), so the numbers match what it serves. Says which on stderr. Reads the
 * switch record, if any, and creates no gallery.
 */
async function evaluatedModels(o: EvalCommandOptions, config: Config): Promise<{ ids: string[]; weights: number[] }> {
  let ids: string[];
  let weights: number[] | undefined;
  let why: string;
  if (o.model && o.model.length > 0) {
    [ids, weights, why] = [o.model, o.weights, '--model'];
  } else {
    // The record's warnings (overridden, unservable, unreadable) on stderr, apart from the --json output.
    const log = createLogger({ LOG_LEVEL: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' }, pino.destination({ dest: 2, sync: true }));
    const start = await chooseStartModels(config, log);
    [ids, weights, why] = [start.models.map((m) => m.id), o.weights ?? start.models.map((m) => m.weight), originText(start.origin, config.DFG_GALLERY_DIR)];
  }
  if (new Set(ids).size !== ids.length) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--model names a model twice (${ids.join(', ')})`);
  const checked = fusionWeights(ids.length, weights);
  console.error(`evaluating ${formatModelList(ids.map((id, i) => ({ id, weight: checked[i]! })))} (${why})`);
  return { ids, weights: checked };
}

/** The library evaluation: the models here, embedded in worker threads, with the content baseline. */
async function libraryReport(o: EvalCommandOptions, config: Config, dataset: Dataset, progress: Progress): Promise<Report> {
  const { ids: modelIds, weights } = await evaluatedModels(o, config);
  const limits = { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS };
  const threads = o.threads ?? threadCount(config);
  const cacheRoot = o.cacheDir ? path.resolve(o.cacheDir) : defaultCacheRoot();

  const embedders: Embedder[] = [];
  try {
    for (const modelId of modelIds) {
      embedders.push(await createEmbedder({ modelsDir: config.DFG_MODELS_DIR, modelId, threads, maxQueue: config.DFG_MAX_QUEUE, limits }));
    }
    // Cached vectors are keyed by the ONNX file's bytes too: a model rebuilt under the same version
    // (during development) must not be served the old model's vectors.
    const fingerprints = await Promise.all(modelIds.map(async (id) => sha256Hex(await fs.readFile((await loadManifest(config.DFG_MODELS_DIR, id)).onnxPath)).slice(0, 12)));
    const caches: (EmbeddingCache | undefined)[] = embedders.map((e, i) => (o.cache ? createEmbeddingCache({ root: cacheRoot, modelId: e.model.id, modelVersion: `${e.model.version}+${fingerprints[i]}`, dim: e.model.dim }) : undefined));
    const members = embedders.map((e, i) => ({ ...e.model, weight: weights[i] }));
    const model: ModelInfo = {
      id: members.map((m) => m.id).join('+'),
      version: members.map((m) => m.version).join('+'),
      dim: members.reduce((n, m) => n + m.dim, 0),
      members,
    };
    const shaOf = new Map<string, string>();
    const embed: EmbedFn = async (file) => {
      const bytes = await readDatasetImage(file.path, limits.maxBytes);
      const sha = sha256Hex(bytes);
      shaOf.set(file.rel, sha);
      const parts: Float32Array[] = [];
      for (let i = 0; i < embedders.length; i += 1) {
        let v = await caches[i]?.get(sha);
        if (!v) {
          v = await embedPatiently(embedders[i], bytes);
          await caches[i]?.set(sha, v);
        }
        parts.push(v);
      }
      return parts.length === 1 ? parts[0] : fuseVectors(parts, weights);
    };
    const contentCache = o.cache ? createEmbeddingCache({ root: cacheRoot, modelId: CONTENT_BASELINE.id, modelVersion: CONTENT_BASELINE.version, dim: CONTENT_BASELINE.dim }) : undefined;
    const baselineEmbed: EmbedFn = async (file) => {
      const sha = shaOf.get(file.rel);
      const hit = sha ? await contentCache?.get(sha) : undefined;
      if (hit) return hit;
      const bytes = await readDatasetImage(file.path, limits.maxBytes);
      const v = await contentEmbedding(bytes, limits);
      await contentCache?.set(sha ?? sha256Hex(bytes), v);
      return v;
    };

    const normSetting = o.scoreNorm ?? scoreNormSetting(config);
    const cohort = normSetting.kind === 'asnorm' ? await loadCohortFor(config.DFG_MODELS_DIR, members.map((m) => ({ id: m.id, weight: m.weight }))) : null;
    return await runEvaluation({
      ...protocolSettings(o, dataset),
      ...(cohort && normSetting.kind === 'asnorm' ? { scoreNorm: { cohort: cohort.vectors, topK: normSetting.topK } } : {}),
      topM: o.topM ?? config.DFG_TOP_M,
      targetFpir: o.targetFpir ?? DEFAULT_TARGET_FPIR,
      margin: resolveMargin(o.margin ?? config.DFG_MARGIN, embedders.map((e) => e.manifest.decision?.margin)),
      metric: o.metric ?? metricSetting(config),
      model,
      baseline: o.baseline ? { model: { ...CONTENT_BASELINE, members: [{ ...CONTENT_BASELINE, weight: 1 }] }, embed: baselineEmbed } : null,
      // Enough in flight to keep every worker busy, never enough to trip load shedding.
      concurrency: Math.max(1, Math.min(config.DFG_MAX_QUEUE, threads * 2)),
      onProgress: (e) => progress.onProgress(e),
    }, embed);
  } finally {
    await Promise.all(embedders.map((e) => e.close()));
  }
}

/** The service evaluation: Ctrl-C stops the requests and deletes what the run registered; a second Ctrl-C quits at once. */
async function serviceReport(o: EvalCommandOptions, config: Config, dataset: Dataset, progress: Progress): Promise<Report> {
  const set = (['model', 'weights', 'topM', 'margin', 'metric', 'scoreNorm', 'targetFpir', 'threads'] as const).filter((k) => o[k] !== undefined);
  if (set.length > 0) {
    const flags = set.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `${flags} cannot be combined with --url: the service's own model and decision settings are evaluated (GET /v1/gallery shows them)`);
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    progress.stop();
    console.error('interrupted: deleting the algorithms this run registered (Ctrl-C again to quit now and leave them)');
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  try {
    return await runServiceEvaluation({
      url: o.url!,
      apiKey: o.apiKey ?? (process.env.DFG_API_KEY || undefined),
      allowExisting: o.allowExisting,
      concurrency: o.concurrency,
      ...protocolSettings(o, dataset),
      maxBytes: config.DFG_MAX_IMAGE_BYTES,
      signal: controller.signal,
      onProgress: (e) => progress.onProgress(e),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Runs `dfg eval` with parsed options; resolves to the report's output folder. */
export async function evalCommand(o: EvalCommandOptions): Promise<string> {
  const config = loadConfig();
  // Dataset and protocol mistakes surface before any model loads or any request is sent.
  const dataset = await scanDataset(o.data, { groupPattern: o.groupPattern });
  validateProtocol(dataset.algorithms, { shots: o.shots, unknownFraction: o.unknown, unknownList: o.unknownList, seed: o.seed });

  const progress = progressReporter();
  let report: Report;
  try {
    report = o.url ? await serviceReport(o, config, dataset, progress) : await libraryReport(o, config, dataset, progress);
  } finally {
    progress.stop();
  }

  const out = path.resolve(o.out);
  const written = await writeReport(report, out, svgToPng);
  for (const w of report.dataset.warnings) console.error(`warning: ${w}`);
  if (report.dataset.unreadable.length > 0) {
    console.error(`${report.dataset.unreadable.length} unreadable file(s) left out:`);
    for (const u of report.dataset.unreadable.slice(0, 20)) console.error(`  ${u.file}: ${u.reason}`);
    if (report.dataset.unreadable.length > 20) console.error(`  … and ${report.dataset.unreadable.length - 20} more in report.md`);
  }
  if (report.dataset.skipped.length > 0) console.error(`${report.dataset.skipped.length} file(s) skipped (not images), listed in report.md`);
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(summaryTable(report));
    console.log(`\n${written.length} files written to ${out}`);
  }
  return out;
}
