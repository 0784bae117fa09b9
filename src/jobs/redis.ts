/**
 * Redis connections, set up as BullMQ's production guide says: producers (the API) fail fast so a
 * missing Redis costs a request milliseconds, not a hang; workers wait and retry forever.
 */
import { Redis } from 'ioredis';

export interface RedisSettings {
  url: string;
  connectTimeoutMs: number;
}

/** For the API: no offline queue, one retry per command, short connect timeout, reconnect in the background. */
export function producerConnection(s: RedisSettings): Redis {
  return new Redis(s.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: s.connectTimeoutMs,
    retryStrategy: (times) => Math.min(times * 500, 5000),
    connectionName: 'dfg-api',
  });
}

/** For workers: `maxRetriesPerRequest: null` (BullMQ requires it for blocking connections), retry forever. */
export function workerConnection(s: RedisSettings): Redis {
  return new Redis(s.url, {
    maxRetriesPerRequest: null,
    connectTimeout: Math.max(s.connectTimeoutMs, 10_000),
    retryStrategy: (times) => Math.min(1000 * 2 ** Math.min(times, 5), 20_000),
    connectionName: 'dfg-worker',
  });
}

/** The Redis URL with its password removed, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
