/**
 * Admission control, decided in `onRequest`, before a byte of the body is read: shedding then
 * costs a header parse, not an upload and a multipart parse (which made overload collapse goodput).
 *
 * - per-key rate limits (`@fastify/rate-limit`'s store): 429 `DFG_ERR_RATE_LIMITED`;
 * - image uploads: a cap on admitted uploads in flight, the inference queue depth, and a global
 *   budget of upload bytes held in memory (the declared Content-Length is reserved up front;
 *   chunked bodies are charged as they stream, see `UploadAccount.count`): 503
 *   `DFG_ERR_SERVER_OVERLOADED` with Retry-After; a declared body that could never fit: 413.
 *
 * Shed uploads are answered with `Connection: close`, so their unread bodies are not drained.
 * Runs after authentication (auth.ts), whose key id keys the rate limit.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { threadCount, type Config } from '../../config/index.js';
import { dfgError, type DfgError } from '../../errors.js';
import type { PoolStats } from '../../embedding/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Multipart upload form, documented in OpenAPI: one file or several. */
    multipart?: 'file' | 'files';
  }
  interface FastifyRequest {
    /** The admitted upload's share of the upload budget (image upload routes only). */
    uploadAccount: UploadAccount | null;
  }
}

/** Multipart overhead allowed above the files' bytes: part headers, boundaries, text fields. */
export const MULTIPART_OVERHEAD_BYTES = 2 * 1024 * 1024;

/** Upload bytes all requests together hold in memory. */
export class UploadBudget {
  #used = 0;
  constructor(readonly total: number) {}

  get used(): number {
    return this.#used;
  }

  tryTake(n: number): boolean {
    if (this.#used + n > this.total) return false;
    this.#used += n;
    return true;
  }

  give(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}

/** One request's share of the budget: what its Content-Length reserved, plus streamed bytes beyond that. */
export class UploadAccount {
  #held = 0;
  #seen = 0;
  #released = false;
  constructor(private readonly budget: UploadBudget) {}

  /** The whole budget's size (for the error message). */
  get budgetBytes(): number {
    return this.budget.total;
  }

  /** Reserves the declared length up front; false when the budget cannot hold it now. */
  reserve(n: number): boolean {
    if (!this.budget.tryTake(n)) return false;
    this.#held += n;
    return true;
  }

  /** Counts bytes read from the body; false when they need budget that is not there (chunked bodies). */
  count(n: number): boolean {
    if (this.#released) return true;
    this.#seen += n;
    const extra = this.#seen - this.#held;
    if (extra <= 0) return true;
    if (!this.budget.tryTake(extra)) return false;
    this.#held += extra;
    return true;
  }

  /** Gives everything back (once), when the response has been sent or the connection closed. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.budget.give(this.#held);
    this.#held = 0;
  }
}

export interface AdmissionOptions {
  config: Config;
  /** Inference pool statistics (undefined while models load). */
  poolStats(): PoolStats | undefined;
  /** Called for each shed request, with why. */
  onShed?(reason: 'rate' | 'inflight' | 'queue' | 'budget' | 'too-large'): void;
}

const MAX_RETRY_AFTER_S = 120;

/**
 * Admitted uploads in flight when DFG_MAX_INFLIGHT_UPLOADS is 0: four per worker (one embedding,
 * the next bodies arriving), at least 8 so that a small machine still takes a few clients at once.
 */
export function maxInflightUploads(cfg: Pick<Config, 'DFG_MAX_INFLIGHT_UPLOADS' | 'DFG_THREADS'>): number {
  return cfg.DFG_MAX_INFLIGHT_UPLOADS > 0 ? cfg.DFG_MAX_INFLIGHT_UPLOADS : Math.max(8, 4 * threadCount(cfg));
}

/** The largest body an image upload route accepts: its files at their limit plus multipart overhead. */
export function maxUploadBytes(cfg: Pick<Config, 'DFG_MAX_FILES' | 'DFG_MAX_IMAGE_BYTES'>, form: 'file' | 'files'): number {
  return (form === 'file' ? 1 : cfg.DFG_MAX_FILES) * cfg.DFG_MAX_IMAGE_BYTES + MULTIPART_OVERHEAD_BYTES;
}

/** Admission's `onRequest` hooks. Not encapsulated: they guard the routes of every scope. */
export const admission = fp<AdmissionOptions>(async (app, opts) => {
  const cfg = opts.config;
  app.decorateRequest('uploadAccount', null);

  if (cfg.DFG_RATE_LIMIT_PER_MIN > 0) {
    await app.register(rateLimit, { global: false, hook: 'onRequest' });
    const limiter = app.createRateLimit({
      max: cfg.DFG_RATE_LIMIT_PER_MIN,
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) => (request.apiKeyId ? `key:${request.apiKeyId}` : `ip:${request.ip}`),
    });
    app.addHook('onRequest', async (request) => {
      if (!request.routeOptions.config.scope) return;
      const verdict = await limiter(request);
      if (verdict.isAllowed || !verdict.isExceeded) return;
      opts.onShed?.('rate');
      const err = dfgError('DFG_ERR_RATE_LIMITED', cfg.DFG_RATE_LIMIT_PER_MIN) as DfgError & { retryAfter: number };
      err.retryAfter = Math.max(1, verdict.ttlInSeconds);
      throw err;
    });
  }

  const budget = new UploadBudget(cfg.DFG_UPLOAD_BUDGET_BYTES);
  const inflightCap = maxInflightUploads(cfg);
  let inflight = 0;

  const shed = (reply: FastifyReply, reason: 'inflight' | 'queue' | 'budget', detail: string, retryAfter: number): never => {
    opts.onShed?.(reason);
    reply.header('connection', 'close');
    const err = dfgError('DFG_ERR_SERVER_OVERLOADED', detail) as DfgError & { retryAfter: number };
    err.retryAfter = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(retryAfter)));
    throw err;
  };

  app.addHook('onRequest', async (request, reply) => {
    const form = request.routeOptions.config.multipart;
    if (!form) return;
    const declared = Number(request.headers['content-length'] ?? NaN);
    const limit = Math.min(maxUploadBytes(cfg, form), budget.total);
    if (Number.isFinite(declared) && declared > limit) {
      opts.onShed?.('too-large');
      reply.header('connection', 'close');
      throw dfgError('DFG_ERR_UPLOAD_TOO_LARGE', declared, limit);
    }
    const stats = opts.poolStats();
    // Seconds until one more image would start: the queue ahead drained across all workers.
    const drainS = stats && stats.avgTaskMs > 0 ? ((stats.queued + inflight + 1) * stats.avgTaskMs) / stats.threads / 1000 : 1;
    if (inflight >= inflightCap) shed(reply, 'inflight', `${inflight} uploads in flight (limit ${inflightCap})`, drainS);
    if (stats && stats.queued >= cfg.DFG_MAX_QUEUE) shed(reply, 'queue', `${stats.queued} images queued for inference (limit ${cfg.DFG_MAX_QUEUE})`, drainS);
    const account = new UploadAccount(budget);
    if (Number.isFinite(declared) && !account.reserve(declared)) {
      shed(reply, 'budget', `upload budget of ${budget.total} bytes in use`, drainS);
    }
    inflight++;
    request.uploadAccount = account;
    reply.raw.once('close', () => {
      inflight--;
      account.release();
    });
  });
}, { name: 'dfg-admission', dependencies: ['dfg-authentication'] });

/** The 503 for a chunked upload that outgrew the budget while streaming. */
export function budgetExhausted(total: number): DfgError {
  const err = dfgError('DFG_ERR_SERVER_OVERLOADED', `upload budget of ${total} bytes in use`) as DfgError & { retryAfter: number };
  err.retryAfter = 1;
  return err;
}
