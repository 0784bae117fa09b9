/**
 * The service evaluation's use of the generated API client (api-client/): an API key as
 * `Authorization: Bearer`, a time limit per request, 503 answers waited out per their Retry-After,
 * and the service's catalogue errors rethrown with their own code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dfgError, ERRORS, reviveError } from '../../errors.js';
import { createApiClient, formData, imageFile, type ApiClient } from '../../api-client/index.js';

export interface ServiceClientOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8080`. */
  url: string;
  apiKey?: string;
  /** Aborts every request in flight and every wait (Ctrl-C). */
  signal?: AbortSignal;
  /** Attempts of one request while the service answers 503 (default 30). */
  maxAttempts?: number;
  /** Time limit of one request (default 120 s: a batch waits for inference). */
  timeoutMs?: number;
  /** Longest Retry-After honoured, in seconds (default 30). */
  maxRetryAfterS?: number;
}

export interface UploadFile {
  filename: string;
  bytes: Uint8Array;
}

/** A per-file error inside a batch answer. */
export interface ItemError {
  statusCode: number;
  code: string;
  message: string;
}

export interface ServiceClient {
  /** Normalised base URL (no trailing slash). */
  readonly base: string;
  readonly stats: { requests: number; retries: number };
  /**
   * The typed client. Its calls retry 503 answers and throw the service's errors (or
   * DFG_ERR_EVAL_SERVICE_FAILED); pass `signal` (the run's: `signal`) to each call.
   */
  readonly api: ApiClient;
  /** The run's abort signal (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Counts a retry made above this client (single files of a batch sent again). */
  noteRetry(n?: number): void;
}

/** The body of an answer of the typed client; an answer that is not JSON is the service's failure. */
export async function answer<T>(call: Promise<{ data?: T }>, what: string): Promise<T> {
  try {
    return (await call).data as T;
  } catch (err) {
    if (err instanceof SyntaxError) throw dfgError('DFG_ERR_EVAL_SERVICE_FAILED', what, `the answer is not JSON (${err.message})`);
    throw err;
  }
}

/** The multipart body of an upload operation (field `files`) and its serializer. */
export function uploadBody(files: readonly UploadFile[]): { body: { files: File[] }; bodySerializer: typeof formData } {
  return { body: { files: files.map((f) => imageFile(f.filename, f.bytes)) }, bodySerializer: formData };
}

const TRANSIENT = new Set(['DFG_ERR_SERVER_OVERLOADED', 'DFG_ERR_SERVER_NOT_READY']);

/** Codes of answers worth sending again after a pause. */
export function isTransient(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT.has(code);
}

/** Checks and normalises a service URL; refuses anything but http(s) without credentials. */
export function serviceBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--url ${JSON.stringify(url)} is not a URL (expected http://host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--url must be http or https, got ${u.protocol}`);
  // A key in the URL would end up in the report and in logs: it belongs in --api-key.
  if (u.username || u.password) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', '--url must not carry credentials: pass --api-key or DFG_API_KEY');
  if (u.search || u.hash) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', '--url must not carry a query or fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** Waits `ms`; an abort ends the wait by throwing the signal's own reason (not a generic AbortError). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  }
}

/** Seconds to wait from a Retry-After header (delta seconds or an HTTP date), at least 1. */
export function retryAfterSeconds(header: string | null, max: number): number {
  if (!header) return 1;
  const n = Number(header);
  const s = Number.isFinite(n) ? n : (Date.parse(header) - Date.now()) / 1000;
  return Math.min(max, Math.max(1, Number.isFinite(s) ? Math.ceil(s) : 1));
}

async function failure(res: Response, what: string): Promise<Error> {
  const text = await res.text().catch(() => '');
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: reported below with the start of the text
  }
  if (typeof body.code === 'string' && body.code in ERRORS) {
    return reviveError({ code: body.code, message: `${typeof body.message === 'string' ? body.message : res.statusText} (${what})` });
  }
  return dfgError('DFG_ERR_EVAL_SERVICE_FAILED', what, `HTTP ${res.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
}

export function createServiceClient(opts: ServiceClientOptions): ServiceClient {
  const base = serviceBase(opts.url);
  const maxAttempts = opts.maxAttempts ?? 30;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const maxRetryAfterS = opts.maxRetryAfterS ?? 30;
  const stats = { requests: 0, retries: 0 };

  const basePath = new URL(base).pathname.replace(/\/$/, '');
  // Every request of the typed client goes through here; `request.signal` is the call's signal.
  const send = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const what = `${request.method} ${base}${url.pathname.slice(basePath.length)}${url.search}`;
    const outer = request.signal;
    for (let attempt = 1; ; attempt += 1) {
      outer.throwIfAborted();
      const signal = AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]);
      let res: Response;
      stats.requests += 1;
      try {
        res = await fetch(new Request(request.clone(), { signal }));
      } catch (err) {
        outer.throwIfAborted();
        const e = err as Error & { cause?: Error };
        const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.message ?? e.message);
        throw dfgError('DFG_ERR_EVAL_SERVICE_FAILED', what, why);
      }
      if (res.status === 503 && attempt < maxAttempts) {
        const wait = retryAfterSeconds(res.headers.get('retry-after'), maxRetryAfterS);
        await res.body?.cancel().catch(() => undefined);
        stats.retries += 1;
        await pause(wait * 1000, outer);
        continue;
      }
      if (!res.ok) throw await failure(res, what);
      return res;
    }
  };

  return {
    base,
    stats,
    api: createApiClient({ baseUrl: base, apiKey: opts.apiKey, fetch: send }),
    signal: opts.signal,
    noteRetry(n = 1) {
      stats.retries += n;
    },
  };
}
