/**
 * `runServiceEvaluation`: the evaluation protocol against a running service through its HTTP API
 * (`dfg eval --url`), so the numbers describe the deployed system: its model, its approximate
 * index, its scoring, its thresholds and margin.
 *
 * 1. `GET /v1/gallery` (model, decision settings, calibration) and `GET /v1/algorithms`: enabled
 *    algorithms the run did not register would compete, so the run refuses them unless allowed.
 * 2. Check: every file is attributed once (`/v1/attribute/batch`) before anything is registered;
 *    the files the service refuses are left out, so the seeded splits are the library's.
 * 3. Per repeat: one algorithm per registered class (`eval-<runId>-<name>`), its shots enrolled
 *    (`POST /v1/algorithms/{id}/samples`), every probe attributed (`/v1/attribute/batch?k=20`),
 *    then the algorithms deleted, on failure and abort too.
 * 4. The same metrics and report as the library evaluation, from the answers' candidates and
 *    decisions (see SERVICE_DEFINITIONS in report.ts).
 */
import { randomBytes } from 'node:crypto';
import { dfgError, ERRORS, reviveError } from '../../errors.js';
import type { DatasetFile } from '../dataset.js';
import { splitMetrics, type ProbeOutcome, type SplitResult } from '../evaluate-split.js';
import type { Split } from '../protocol.js';
import { assembleReport, openProtocol, planProtocol, summarisePlan, unreadableReason, type ProgressEvent, type ProtocolPlan, type ProtocolSettings } from '../run.js';
import type { Report, ServiceReport } from '../types.js';
import { answerOutcome, BatchAnswer, checked, EnrolAnswer, GalleryAnswer, type AttributionAnswer } from './answers.js';
import { answer, createServiceClient, uploadBody, type ItemError, type ServiceClient, type UploadFile } from './client.js';
import { checkExisting, listAlgorithms, registerClasses, removeRunAlgorithms } from './registry.js';
import { chunked, sendFiles, type FileAnswer, type SendOptions } from './send-files.js';

export interface ServiceEvalOptions extends ProtocolSettings {
  /** Base URL of the service, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer`; needs the scopes register and attribute. */
  apiKey?: string;
  /** Run among enabled algorithms already in the service (they compete with the registered classes). */
  allowExisting?: boolean;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Probes per attribution request (default 8). */
  attributeBatch?: number;
  /** Shots per enrolment request (default 16, at most 32). */
  enrolBatch?: number;
  /** Candidates asked per attribution (default 20, the API's maximum). */
  candidates?: number;
  /** Files over this many bytes are left out unread, as in the library evaluation. */
  maxBytes: number;
  /** Abort (Ctrl-C): requests stop, the run's algorithms are deleted, the promise rejects with the reason. */
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

/** A per-file answer about the file itself: an image refusal, or a file-system code from reading it here. */
const aboutTheFile = (e: ItemError) => e.code.startsWith('DFG_ERR_IMAGE_') || !(e.code in ERRORS);

interface Session {
  client: ServiceClient;
  runId: string;
  plan: ProtocolPlan;
  gallery: GalleryAnswer;
  send: SendOptions;
  opts: ServiceEvalOptions;
  tally: { missingPairs: number; missingProbes: number; foreignBest: number };
  timings: { enrol: number; attribute: number; cleanup: number };
  progress: (file: DatasetFile, split: Split<DatasetFile>) => void;
}

function attributeBatch(client: ServiceClient, candidates: number, model: string) {
  return async (uploads: UploadFile[]): Promise<FileAnswer<AttributionAnswer>[]> => {
    const what = `POST ${client.base}/v1/attribute/batch?k=${candidates}`;
    const call = client.api.POST('/v1/attribute/batch', { params: { query: { k: candidates } }, ...uploadBody(uploads), signal: client.signal });
    const body = checked(BatchAnswer, await answer(call, what), what);
    return body.results.map((r) => {
      if (r.result) {
        if (r.result.model.id !== model) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `the service switched from model ${model} to ${r.result.model.id} during the run`);
        return { ok: r.result };
      }
      if (r.error) return { error: r.error };
      throw dfgError('DFG_ERR_EVAL_SERVICE_FAILED', what, 'an item with neither result nor error');
    });
  };
}

/** Registers the split's classes and enrols their shots; resolves to algorithm id → class name. */
async function register(s: Session, split: Split<DatasetFile>, created: Map<string, string>): Promise<Map<string, string>> {
  const { client, plan, opts } = s;
  const meta = new Map(plan.usable.map((a) => [a.name, a]));
  const ids = await registerClasses(client, s.runId, split.known.map((n) => meta.get(n)!), created, s.send.concurrency, opts.signal);
  const enrolled = new Map(split.known.map((n) => [n, 0]));
  const chunks = [...split.gallery.values()].flatMap((files) => chunked(files, Math.min(32, opts.enrolBatch ?? 16)));
  await sendFiles(client, chunks, s.send, async (uploads, files) => {
    const id = ids.get(files[0].algorithm)!;
    const what = `POST ${client.base}/v1/algorithms/${encodeURIComponent(id)}/samples`;
    const call = client.api.POST('/v1/algorithms/{id}/samples', { params: { path: { id } }, ...uploadBody(uploads), signal: client.signal });
    const body = checked(EnrolAnswer, await answer(call, what), what);
    return body.results.map((r): FileAnswer<null> => (r.status === 'error' ? { error: r.error ?? { statusCode: 500, code: 'DFG_ERR_INTERNAL', message: 'no error given' } } : { ok: null }));
  }, (file, answer) => {
    s.progress(file, split);
    if (!('error' in answer)) enrolled.set(file.algorithm, enrolled.get(file.algorithm)! + 1);
    else if (aboutTheFile(answer.error)) plan.warnings.push(`repeat ${split.repeat}: shot ${file.rel} refused by the service (${unreadableReason(answer.error)})`);
    else throw reviveError(answer.error);
  });
  for (const [name, n] of enrolled) if (n === 0) plan.warnings.push(`repeat ${split.repeat}: ${name} registered without any sample (its probes cannot match it)`);
  return new Map([...ids].map(([name, id]) => [id, name]));
}

/** Attributes every probe of the split; resolves to the outcomes, known probes first (the library's order). */
async function attribute(s: Session, split: Split<DatasetFile>, classes: Map<string, string>): Promise<ProbeOutcome[]> {
  const probes = [...split.knownProbes.map((f) => ({ f, known: true })), ...split.unknownProbes.map((f) => ({ f, known: false }))];
  const slot = new Map(probes.map((p, i) => [p.f.rel, i]));
  const outcomes: (ProbeOutcome | undefined)[] = new Array(probes.length);
  const candidates = s.opts.candidates ?? 20;
  await sendFiles(s.client, chunked(probes.map((p) => p.f), s.opts.attributeBatch ?? 8), s.send, attributeBatch(s.client, candidates, s.gallery.model.id), (file, answer) => {
    s.progress(file, split);
    const i = slot.get(file.rel)!;
    if ('error' in answer) {
      if (!aboutTheFile(answer.error)) throw reviveError(answer.error);
      s.plan.warnings.push(`repeat ${split.repeat}: probe ${file.rel} refused by the service (${unreadableReason(answer.error)}); left out`);
      return;
    }
    const o = answerOutcome({ id: file.rel, algorithm: file.algorithm }, probes[i].known, answer.ok, classes, s.plan.authentic);
    outcomes[i] = o.outcome;
    s.tally.missingPairs += o.missing;
    if (o.ownMissing) s.tally.missingProbes += 1;
    if (o.foreignBest) s.tally.foreignBest += 1;
  });
  return outcomes.filter((o): o is ProbeOutcome => o !== undefined);
}

/** One repeat in the service; its algorithms are deleted whatever happens. */
async function runRepeat(s: Session, split: Split<DatasetFile>): Promise<SplitResult> {
  const created = new Map<string, string>();
  let outcome: { ok: SplitResult } | { err: unknown };
  try {
    const t0 = performance.now();
    const classes = await register(s, split, created);
    const t1 = performance.now();
    const probes = await attribute(s, split, classes);
    s.timings.enrol += (t1 - t0) / 1000;
    s.timings.attribute += (performance.now() - t1) / 1000;
    const calibrated = s.gallery.calibration;
    outcome = {
      ok: {
        probes,
        metrics: splitMetrics(probes, { authentic: s.plan.authentic, maxRank: s.plan.maxRank }),
        // New algorithms have no calibrated threshold of their own: all take the global one.
        thresholds: { global: calibrated ? calibrated.global : s.gallery.decision.threshold, fallbacks: split.known.length },
      },
    };
  } catch (err) {
    outcome = { err };
  }
  const t2 = performance.now();
  const left = await removeRunAlgorithms(s.client, s.runId, created.keys(), s.send.concurrency);
  s.timings.cleanup += (performance.now() - t2) / 1000;
  const leftNote = `algorithms of run ${s.runId} left in the service at ${s.client.base}: ${left.join(', ')}`;
  if ('err' in outcome) {
    if (left.length > 0 && outcome.err instanceof Error) outcome.err.message += ` (${leftNote})`;
    throw outcome.err;
  }
  if (left.length > 0) throw dfgError('DFG_ERR_EVAL_SERVICE_FAILED', `DELETE ${s.client.base}/v1/algorithms/{id}`, leftNote);
  return outcome.ok;
}

/**
 * Runs the protocol against the service at `opts.url` and returns the report, with a `service`
 * section and mAP over algorithms. Throws the service's own catalogue errors (auth, overload that
 * outlasts the retries), DFG_ERR_EVAL_SERVICE_FAILED when it cannot be reached or answers something
 * else, and DFG_ERR_EVAL_PROTOCOL_INVALID / DFG_ERR_EVAL_DATASET_INVALID as the library does.
 */
export async function runServiceEvaluation(opts: ServiceEvalOptions): Promise<Report> {
  const opened = await openProtocol(opts);
  const client = createServiceClient({ url: opts.url, apiKey: opts.apiKey, signal: opts.signal });
  const candidates = opts.candidates ?? 20;
  if (!Number.isInteger(candidates) || candidates < 1 || candidates > 20) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `candidates must be an integer from 1 to 20 (the API's k), got ${candidates}`);
  const runId = randomBytes(4).toString('hex');
  const gallery = checked(GalleryAnswer, await answer(client.api.GET('/v1/gallery', { signal: client.signal }), `GET ${client.base}/v1/gallery`), `GET ${client.base}/v1/gallery`);
  const existing = checkExisting(await listAlgorithms(client), opts.allowExisting === true, client.base);
  const send: SendOptions = { concurrency: Math.max(1, opts.concurrency ?? 4), maxBytes: opts.maxBytes, signal: opts.signal };

  const t0 = performance.now();
  const files = opened.dataset.algorithms.flatMap((a) => a.files);
  const unreadable = new Map<string, string>();
  let checkedFiles = 0;
  await sendFiles(client, chunked(files, opts.attributeBatch ?? 8), send, attributeBatch(client, 1, gallery.model.id), (file, answer) => {
    if ('error' in answer) {
      if (!aboutTheFile(answer.error)) throw reviveError(answer.error);
      unreadable.set(file.rel, unreadableReason(answer.error));
    }
    checkedFiles += 1;
    opts.onProgress?.({ phase: 'check', done: checkedFiles, total: files.length, file: file.rel });
  });
  const t1 = performance.now();

  const plan = planProtocol(opened, (f) => !unreadable.has(f.rel), unreadable.size);
  const total = plan.splits.reduce((n, sp) => n + [...sp.gallery.values()].reduce((m, f) => m + f.length, 0) + sp.knownProbes.length + sp.unknownProbes.length, 0);
  let done = 0;
  const session: Session = {
    client, runId, plan, gallery, send, opts,
    tally: { missingPairs: 0, missingProbes: 0, foreignBest: 0 },
    timings: { enrol: 0, attribute: 0, cleanup: 0 },
    progress: (file, split) => {
      done += 1;
      opts.onProgress?.({ phase: 'service', done, total, file: `repeat ${split.repeat}: ${file.rel}` });
    },
  };
  const results: SplitResult[] = [];
  for (const split of plan.splits) results.push(await runRepeat(session, split));
  const t2 = performance.now();

  const { tally, timings } = session;
  // A service that calibrates on its own (DFG_AUTO_CALIBRATE_MS) may change its thresholds and
  // similarity while the repeats enrol and delete their classes: say so, the decisions then mix rules.
  const after = checked(GalleryAnswer, await answer(client.api.GET('/v1/gallery', { signal: client.signal }), `GET ${client.base}/v1/gallery`), `GET ${client.base}/v1/gallery`);
  if ((after.calibration?.version ?? null) !== (gallery.calibration?.version ?? null)) {
    plan.warnings.push(`the service's calibration changed during the run (version ${gallery.calibration?.version ?? 'none'} → ${after.calibration?.version ?? 'none'}), so its thresholds and similarity were not the same for every repeat; for a fixed decision rule, run against a service with DFG_AUTO_CALIBRATE_MS=0`);
  }
  if (tally.missingPairs > 0) plan.warnings.push(`${tally.missingPairs} probe × registered-class score(s) were not among the service's ${candidates} candidates (or its k = ${gallery.decision.k} nearest samples) and were counted as −1; ${tally.missingProbes} known probe(s) missed their own class that way`);
  if (tally.foreignBest > 0) plan.warnings.push(`${tally.foreignBest} answer(s) were led by an algorithm this run did not register`);
  const cal = gallery.calibration;
  const service: ServiceReport = {
    url: client.base,
    runId,
    decision: gallery.decision,
    thresholdSource: cal ? 'calibration' : 'configured',
    calibration: cal ? { version: cal.version, targetFpir: cal.targetFpir, global: cal.global } : null,
    candidates,
    existingAlgorithms: existing,
    missingScores: { pairs: tally.missingPairs, probes: tally.missingProbes },
    foreignBest: tally.foreignBest,
    requests: client.stats.requests,
    retries: client.stats.retries,
    timings: { checkSeconds: (t1 - t0) / 1000, enrolSeconds: timings.enrol, attributeSeconds: timings.attribute, cleanupSeconds: timings.cleanup },
  };
  const m = gallery.model;
  const report = assembleReport(plan, {
    unreadable,
    scoring: { topM: gallery.decision.topM, targetFpir: cal ? cal.targetFpir : null, margin: gallery.decision.margin, metric: serviceMetric(cal) },
    model: { id: m.id, version: m.version, dim: m.dimension, members: [{ id: m.id, version: m.version, dim: m.dimension, weight: 1 }] },
    main: summarisePlan(plan, results, 'algorithms'),
    baselines: {},
    timings: { embedSeconds: (t1 - t0) / 1000, evaluateSeconds: (t2 - t1) / 1000 },
  });
  return { ...report, service };
}

/** The similarity the service scored in: its current calibration's metric (cosine without one). */
function serviceMetric(cal: GalleryAnswer['calibration']): string {
  const m = cal?.metric;
  return m && m.kind !== 'cosine' ? `${m.kind}${m.shrinkage === null ? '' : `:${m.shrinkage}`} (the service's calibration ${cal!.version})` : 'cosine';
}
