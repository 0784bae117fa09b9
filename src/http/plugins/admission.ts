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
 * An upload that finds every slot taken waits up to DFG_ADMISSION_WAIT_MS for one (newest first,
 * see admission-gate.ts) before it is shed. A shed request is answered from a prepared body with
 * no log line of its own (a summary line every 10 s), and keeps its connection when its unread
 * body is small (DRAIN_MAX_BYTES): retrying clients reuse it. Larger bodies: `Connection: close`.
 * Runs after authentication (auth.ts), whose key id keys the rate limit.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { threadCount, type Config } from '../../config/index.js';
import { dfgError, type DfgError } from '../../errors.js';
import type { PoolStats } from '../../embedding/index.js';
import { AdmissionGate, type Waiter } from './admission-gate.js';

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
/** Requests that may wait for an upload slot, per slot; more are shed at once. */
const WAITERS_PER_SLOT = 4;
/**
 * Largest declared body a shed request's connection is kept open for: Node reads and drops the
 * unread body after the answer, which on loopback costs less than the new connection a retrying
 * client would otherwise open (a 1 MiB image is read in well under a millisecond).
 */
export const DRAIN_MAX_BYTES = 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';
/** How often the count of shed requests is logged (shed requests get no line of their own). */
const SHED_LOG_MS = 10_000;

type ShedReason = 'inflight' | 'queue' | 'budget';

/** The body of a refused request, as the error handler would write it. */
function refusalBody(e: DfgError): Buffer {
  return Buffer.from(JSON.stringify({ statusCode: e.statusCode, code: e.code, error: STATUS_CODES[e.statusCode], message: e.message }));
}
const overloadedBody = (detail: string): Buffer => refusalBody(dfgError('DFG_ERR_SERVER_OVERLOADED', detail));

/**
 * Shed requests counted by reason and logged as one line per SHED_LOG_MS while shedding goes on:
 * a line per refusal would make the log the costliest part of refusing, when refusing is meant
 * to be cheap (`dfg_requests_shed_total` counts them too).
 */
class ShedSummary<R extends string> {
  #counts: Record<R, number>;
  #timer: NodeJS.Timeout | null = null;
  #since = 0;
  constructor(private readonly log: FastifyBaseLogger, private readonly reasons: readonly R[], private readonly msg: string) {
    this.#counts = ShedSummary.#zero(reasons);
  }

  static #zero<R extends string>(reasons: readonly R[]): Record<R, number> {
    return Object.fromEntries(reasons.map((r) => [r, 0])) as Record<R, number>;
  }

  count(reason: R): void {
    this.#counts[reason]++;
    if (this.#timer === null) {
      this.#since = performance.now();
      this.#timer = setTimeout(() => this.#flush(), SHED_LOG_MS);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#flush();
  }

  #flush(): void {
    this.#timer = null;
    const shed = this.#counts;
    if (this.reasons.every((r) => shed[r] === 0)) return;
    this.#counts = ShedSummary.#zero(this.reasons);
    this.log.warn({ shed, seconds: Math.round((performance.now() - this.#since) / 100) / 10 }, this.msg);
  }
}

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
    // Refused like a shed upload: a prepared body, no error object, no log line of its own (a
    // summary every 10 s), the connection kept when the unread body is small.
    const limitedBody = refusalBody(dfgError('DFG_ERR_RATE_LIMITED', cfg.DFG_RATE_LIMIT_PER_MIN));
    const limited = new ShedSummary(app.log, ['rate'] as const, 'requests refused by the rate limit (429)');
    app.addHook('onClose', (_instance, done) => {
      limited.stop();
      done();
    });
    app.addHook('onRequest', async (request, reply) => {
      if (!request.routeOptions.config.scope) return;
      const verdict = await limiter(request);
      if (verdict.isAllowed || !verdict.isExceeded) return;
      opts.onShed?.('rate');
      limited.count('rate');
      request.quietLog = true;
      reply.code(429).header('retry-after', String(Math.max(1, verdict.ttlInSeconds))).header('content-type', JSON_TYPE);
      const declared = request.headers['content-length'] !== undefined ? Number(request.headers['content-length']) : request.headers['transfer-encoding'] ? NaN : 0;
      if (!(declared <= DRAIN_MAX_BYTES)) reply.header('connection', 'close');
      return reply.send(limitedBody);
    });
  }

  const budget = new UploadBudget(cfg.DFG_UPLOAD_BUDGET_BYTES);
  const slots = maxInflightUploads(cfg);
  const gate = new AdmissionGate({ slots, maxWaiters: WAITERS_PER_SLOT * slots, waitMs: cfg.DFG_ADMISSION_WAIT_MS });
  // Answers built once: a shed request costs no error object, no serialisation and no log line.
  const bodies: Record<ShedReason, Buffer> = {
    inflight: overloadedBody(`${slots} uploads in flight (limit ${slots}) and no slot free within the admission wait (${cfg.DFG_ADMISSION_WAIT_MS} ms)`),
    queue: overloadedBody(`inference queue at its limit of ${cfg.DFG_MAX_QUEUE} images`),
    budget: overloadedBody(`upload budget of ${budget.total} bytes in use`),
  };
  const summary = new ShedSummary(app.log, ['inflight', 'queue', 'budget'] as const, 'requests shed by admission control (503)');
  app.addHook('onClose', (_instance, done) => {
    gate.close();
    summary.stop();
    done();
  });

  // A callback hook (no promise per request); it answers a shed request itself, never calling done.
  app.addHook('onRequest', (request, reply, done) => {
    const form = request.routeOptions.config.multipart;
    if (!form) return done();
    const declared = Number(request.headers['content-length'] ?? NaN);
    const limit = Math.min(maxUploadBytes(cfg, form), budget.total);
    if (declared > limit) {
      opts.onShed?.('too-large');
      reply.header('connection', 'close');
      return done(dfgError('DFG_ERR_UPLOAD_TOO_LARGE', declared, limit));
    }
    // A small unread body is read and dropped by Node after the answer, and the connection is kept:
    // a client that retries then needs no new connection. Larger or chunked bodies: closed unread.
    const keepAlive = declared <= DRAIN_MAX_BYTES;
    const shed = (reason: ShedReason): void => {
      opts.onShed?.(reason);
      summary.count(reason);
      request.quietLog = true;
      const stats = opts.poolStats();
      // Seconds until one more image would start: the queue ahead drained across all workers.
      const drainS = stats && stats.avgTaskMs > 0 ? ((stats.queued + gate.inflight + 1) * stats.avgTaskMs) / stats.threads / 1000 : 1;
      reply.code(503).header('retry-after', String(Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(drainS))))).header('content-type', JSON_TYPE);
      if (!keepAlive) reply.header('connection', 'close');
      void reply.send(bodies[reason]);
    };
    const account = new UploadAccount(budget);
    let holdsSlot = false;
    const waiter: Waiter = {
      admit: () => {
        if (reply.raw.destroyed) return false;
        const stats = opts.poolStats();
        if (stats && stats.queued >= cfg.DFG_MAX_QUEUE) return (shed('queue'), false);
        if (Number.isFinite(declared) && !account.reserve(declared)) return (shed('budget'), false);
        holdsSlot = true;
        request.uploadAccount = account;
        done();
        return true;
      },
      shed: () => shed('inflight'),
    };
    // The answer sent or the client gone: the slot and the budget go back, or the wait ends.
    reply.raw.once('close', () => {
      if (!holdsSlot) return void gate.leave(waiter);
      holdsSlot = false;
      account.release();
      gate.release();
    });
    gate.enter(waiter);
  });
}, { name: 'dfg-admission', dependencies: ['dfg-authentication'] });

/** The 503 for a chunked upload that outgrew the budget while streaming. */
export function budgetExhausted(total: number): DfgError {
  const err = dfgError('DFG_ERR_SERVER_OVERLOADED', `upload budget of ${total} bytes in use`) as DfgError & { retryAfter: number };
  err.retryAfter = 1;
  return err;
}
