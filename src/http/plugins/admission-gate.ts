/**
 * The slots for image uploads in flight, with a short, bounded wait for one.
 *
 * Why wait at all: a client that retries a 503 at once turns every refusal into another request,
 * so refusing at once lets a few such clients spin the event loop (and, on a small machine, take
 * the cores the inference workers need). Holding a request that finds every slot taken for up to
 * `waitMs` costs a timer entry and an idle socket (its body is not read yet), paces those clients
 * to one request per `waitMs`, and hands a freed slot to a request already at the door instead of
 * leaving it idle for a client's round trip.
 *
 * Why newest first: under sustained overload the oldest waiters are the ones that will time out
 * anyway; admitting them first would add the whole wait to every served request (first in, first
 * out, each served request would wait about `waitMs`), admitting the newest keeps the served
 * latency near the unloaded one and sheds the rest after `waitMs`.
 */

/** A request asking for a slot. */
export interface Waiter {
  /** Called once the slot is this request's: true when it took it, false when it was refused after all (it then holds no slot). */
  admit(): boolean;
  /** Called when no slot freed within the wait, or too many wait already. */
  shed(): void;
  /** Set by the gate while the request waits. */
  deadline?: number;
}

export interface GateOptions {
  /** Requests admitted at once. */
  slots: number;
  /** Requests that may wait for a slot; more are shed at once. */
  maxWaiters: number;
  /** How long a request waits for a slot before it is shed (0: shed at once). */
  waitMs: number;
}

export class AdmissionGate {
  #inflight = 0;
  /** Oldest first: deadlines ascend, the newest is popped when a slot frees. */
  readonly #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: GateOptions) {}

  /** Requests holding a slot. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Requests waiting for one. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Admits `w` now if a slot is free, else lets it wait (or sheds it when it may not). */
  enter(w: Waiter): void {
    if (this.#inflight < this.opts.slots) {
      if (w.admit()) this.#inflight++;
      return;
    }
    if (this.opts.waitMs <= 0 || this.#waiters.length >= this.opts.maxWaiters) return w.shed();
    w.deadline = performance.now() + this.opts.waitMs;
    this.#waiters.push(w);
    if (this.#timer === null) this.#arm(this.opts.waitMs);
  }

  /** A waiting request whose client went away; false when it was not waiting. */
  leave(w: Waiter): boolean {
    const i = this.#waiters.lastIndexOf(w);
    if (i < 0) return false;
    this.#waiters.splice(i, 1);
    if (this.#waiters.length === 0) this.#disarm();
    return true;
  }

  /** An admitted request is done with its slot: the newest waiter gets it. */
  release(): void {
    this.#inflight = Math.max(0, this.#inflight - 1);
    while (this.#inflight < this.opts.slots && this.#waiters.length > 0) {
      if (this.#waiters.pop()!.admit()) this.#inflight++;
    }
    if (this.#waiters.length === 0) this.#disarm();
  }

  /** Sheds every waiter at once (the server is closing). */
  close(): void {
    this.#disarm();
    for (const w of this.#waiters.splice(0)) w.shed();
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, ms));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One timer for all waiters: sheds those past their deadline, then waits for the next oldest. */
  #expire(): void {
    this.#timer = null;
    const now = performance.now();
    let n = 0;
    while (n < this.#waiters.length && this.#waiters[n]!.deadline! <= now) n++;
    for (const w of this.#waiters.splice(0, n)) w.shed();
    if (this.#waiters.length > 0) this.#arm(this.#waiters[0]!.deadline! - now);
  }
}
