/**
 * Bounded concurrency for slow steps (the evaluation's embeddings and HTTP requests, a batch job's
 * downloads and file reads): a fixed number of workers pull items in order.
 */

/**
 * Runs `task` on every item with at most `limit` in flight, starting them in item order. After a
 * failure (or once `signal` aborts) no new item starts; the ones in flight are awaited, so nothing
 * keeps running behind the caller's back, and then the first failure (or the abort reason) is
 * thrown.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure && !signal?.aborted) {
      const i = next;
      next += 1;
      try {
        await task(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(Math.floor(limit) || 1, items.length)) }, worker));
  if (failure) throw failure.err;
  signal?.throwIfAborted();
}
