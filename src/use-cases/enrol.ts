/**
 * Enrolment shared by the HTTP route, the CLI and batch jobs: dedupe by sha256 before embedding,
 * embed in the worker pool (every served model), commit every new sample with its vectors in one
 * store transaction.
 */
import crypto from 'node:crypto';
import type { Embedder } from '../embedding/index.js';
import type { AuditNote, Gallery } from '../gallery/gallery.js';
import { dfgError, isDfgError, type DfgError } from '../errors.js';

export interface EnrolInput {
  filename: string;
  bytes?: Uint8Array;
  sha256?: string;
  /** A problem found before embedding (e.g. over the byte limit). */
  error?: DfgError;
}

export interface EnrolItemResult {
  filename: string;
  status: 'created' | 'duplicate' | 'error';
  sampleId?: string;
  sha256?: string;
  error?: { statusCode: number; code: string; message: string };
}

export interface EnrolSummary {
  created: number;
  duplicates: number;
  failed: number;
  results: EnrolItemResult[];
  /** The first per-file error, so a caller can answer with it when nothing succeeded. */
  firstError?: DfgError;
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

function asDfgError(err: unknown): DfgError {
  return isDfgError(err) ? err : dfgError('DFG_ERR_INTERNAL');
}

export interface EnrolOptions {
  /** Who enrols (the audit trail). */
  audit?: AuditNote;
}

export async function enrolImages(parts: { embedder: Embedder; gallery: Gallery }, algorithmId: string, inputs: EnrolInput[], opts: EnrolOptions = {}): Promise<EnrolSummary> {
  const { embedder, gallery } = parts;
  const modelIds = embedder.models.map((m) => m.id);
  const results: EnrolItemResult[] = inputs.map((f) => ({ filename: f.filename, status: 'error' }));
  const errors: (DfgError | undefined)[] = inputs.map(() => undefined);
  const firstIndexBySha = new Map<string, number>();
  const pending: Array<{ index: number; promise: Promise<Awaited<ReturnType<Embedder['embed']>>> }> = [];

  for (const [index, f] of inputs.entries()) {
    if (f.error || !f.bytes) {
      errors[index] = f.error ?? dfgError('DFG_ERR_IMAGE_EMPTY');
      continue;
    }
    const sha = f.sha256 ?? sha256Hex(f.bytes);
    results[index]!.sha256 = sha;
    const existing = (await gallery.findBySha(sha)).find((s) => s.algorithmId === algorithmId);
    // A stored sample lacking a vector of a served model is embedded again: the duplicate gains it.
    if (existing && modelIds.every((id) => existing.models.includes(id))) {
      results[index] = { filename: f.filename, status: 'duplicate', sampleId: existing.id, sha256: sha };
      continue;
    }
    if (firstIndexBySha.has(sha)) continue; // same bytes twice in one request: resolved after commit
    firstIndexBySha.set(sha, index);
    pending.push({ index, promise: embedder.embed(f.bytes) });
  }

  const embedded = await Promise.allSettled(pending.map((p) => p.promise));
  const toAdd: Array<{ index: number; item: Parameters<Gallery['addSamples']>[1][number] }> = [];
  embedded.forEach((r, i) => {
    const { index } = pending[i]!;
    if (r.status === 'rejected') {
      errors[index] = asDfgError(r.reason);
      return;
    }
    toAdd.push({
      index,
      item: { sha256: results[index]!.sha256!, vectors: r.value.vectors, width: r.value.width, height: r.value.height, filename: inputs[index]!.filename },
    });
  });

  // Kept bytes are durable before the commit that acknowledges their samples; duplicates enrolled
  // before images were kept get theirs now, so they become re-embeddable.
  const keep = [...toAdd.map((t) => t.index), ...results.flatMap((r, i) => (r.status === 'duplicate' ? [i] : []))];
  const keepAll = () => gallery.keepImages(keep.map((i) => ({ sha256: results[i]!.sha256!, bytes: inputs[i]!.bytes! })));
  await keepAll();

  if (toAdd.length > 0) {
    const added = await commitKept(() => gallery.addSamples(algorithmId, toAdd.map((t) => t.item), { audit: opts.audit }), keepAll);
    added.forEach((a, i) => {
      const index = toAdd[i]!.index;
      results[index] = { filename: inputs[index]!.filename, status: a.duplicate ? 'duplicate' : 'created', sampleId: a.sample.id, sha256: a.sample.sha256 };
    });
  }

  // Repeats inside the request point at the first copy's outcome.
  inputs.forEach((f, index) => {
    const sha = results[index]!.sha256;
    if (!sha || errors[index] || results[index]!.status !== 'error') return;
    const first = firstIndexBySha.get(sha);
    if (first === undefined || first === index) return;
    const firstResult = results[first]!;
    if (firstResult.status === 'error') errors[index] = errors[first];
    else results[index] = { filename: f.filename, status: 'duplicate', sampleId: firstResult.sampleId, sha256: sha };
  });

  let firstError: DfgError | undefined;
  errors.forEach((e, index) => {
    if (!e) return;
    firstError ??= e;
    results[index] = { filename: inputs[index]!.filename, status: 'error', sha256: results[index]!.sha256, error: { statusCode: e.statusCode, code: e.code, message: e.message } };
  });
  const count = (s: EnrolItemResult['status']) => results.filter((r) => r.status === s).length;
  return { created: count('created'), duplicates: count('duplicate'), failed: count('error'), results, firstError };
}

/** Commits an enrolment; when a concurrent delete removed kept bytes first, writes them again and retries. */
async function commitKept<T>(commit: () => Promise<T>, keep: () => Promise<void>, attempts = 3): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await commit();
    } catch (err) {
      if (i >= attempts || !isDfgError(err, 'DFG_ERR_IMAGE_NOT_KEPT')) throw err;
      await keep();
    }
  }
}
