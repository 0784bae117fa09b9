/**
 * Sends dataset files to the service's per-file routes (enrolment, batch attribution) and hands
 * back one final answer per file: several files per request, a few requests in flight, files the
 * service shed under load sent again after a pause, and a request refused as a whole for one of
 * its files split until each file has its own answer.
 */
import { dfgError } from '../../errors.js';
import { readDatasetImage, type DatasetFile } from '../dataset.js';
import { forEachLimit } from '../../lib/limit.js';
import { isFileProblem } from '../run.js';
import { isTransient, pause, type ItemError, type ServiceClient, type UploadFile } from './client.js';

export type FileAnswer<R> = { ok: R } | { error: ItemError };

export interface SendOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Files over this many bytes are refused locally, unread (as the library evaluation does). */
  maxBytes: number;
  signal?: AbortSignal;
  /** Rounds for files the service keeps shedding (default 30). */
  maxRounds?: number;
}

/** Splits `items` into runs of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  return Array.from({ length: Math.ceil(items.length / n) }, (_, i) => items.slice(i * n, (i + 1) * n));
}

const isImageCode = (code: string | undefined) => code !== undefined && code.startsWith('DFG_ERR_IMAGE_');

/**
 * Sends every chunk (`send` posts one request for the given files and resolves to one answer per
 * file, in order) and calls `onAnswer` once per file with its final answer. Local read failures
 * and per-file refusals arrive as `{ error }`; anything else that fails (network, auth, a
 * service error about the whole request) rejects.
 */
export async function sendFiles<R>(
  client: ServiceClient,
  chunks: readonly (readonly DatasetFile[])[],
  opts: SendOptions,
  send: (uploads: UploadFile[], files: readonly DatasetFile[]) => Promise<FileAnswer<R>[]>,
  onAnswer: (file: DatasetFile, answer: FileAnswer<R>) => void,
): Promise<void> {
  const maxRounds = opts.maxRounds ?? 30;
  type Ready = { file: DatasetFile; bytes: Uint8Array };

  const deliver = async (items: Ready[], round: number): Promise<void> => {
    if (items.length === 0) return;
    let answers: FileAnswer<R>[];
    try {
      answers = await send(items.map((i) => ({ filename: i.file.rel, bytes: i.bytes })), items.map((i) => i.file));
    } catch (err) {
      const e = err as { code?: string; statusCode?: number; message: string };
      // Refused as a whole for its size or for a bad file (enrolment answers the first file's
      // error when every file fails): halves, down to one file whose answer it then is.
      if (items.length > 1 && (e.code === 'DFG_ERR_UPLOAD_TOO_MANY_FILES' || isImageCode(e.code))) {
        const half = Math.ceil(items.length / 2);
        await deliver(items.slice(0, half), round);
        await deliver(items.slice(half), round);
        return;
      }
      if (isImageCode(e.code)) {
        onAnswer(items[0].file, { error: { statusCode: e.statusCode ?? 422, code: e.code!, message: e.message } });
        return;
      }
      throw err;
    }
    if (answers.length !== items.length) throw dfgError('DFG_ERR_EVAL_SERVICE_FAILED', client.base, `${answers.length} answer(s) for ${items.length} file(s)`);
    const again: Ready[] = [];
    answers.forEach((a, i) => {
      if ('error' in a && isTransient(a.error.code)) again.push(items[i]);
      else onAnswer(items[i].file, a);
    });
    if (again.length === 0) return;
    if (round >= maxRounds) throw dfgError('DFG_ERR_SERVER_OVERLOADED', `${again.length} file(s) still refused after ${round} rounds`);
    client.noteRetry(again.length);
    // Per-file refusals carry no Retry-After: back off a little more each round.
    await pause(Math.min(10, round) * 1000, opts.signal);
    await deliver(again, round + 1);
  };

  await forEachLimit(chunks, opts.concurrency, async (chunk) => {
    const ready: Ready[] = [];
    for (const file of chunk) {
      try {
        ready.push({ file, bytes: await readDatasetImage(file.path, opts.maxBytes) });
      } catch (err) {
        if (!isFileProblem(err)) throw err;
        const e = err as { code?: string; message: string; statusCode?: number };
        onAnswer(file, { error: { statusCode: e.statusCode ?? 0, code: e.code ?? 'error', message: e.message } });
      }
    }
    await deliver(ready, 1);
  }, opts.signal);
}
