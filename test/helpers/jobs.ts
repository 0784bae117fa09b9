/**
 * Batch-job test helpers: archives built in memory (a small zip writer that can also write the
 * hostile entries real tools refuse to: traversal names, symlinks, bombs), per-test Redis
 * prefixes with cleanup, and polling.
 */
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { testConfig } from './app.js';
import { startServices, type Services } from '../../src/serving/services.js';
import { buildApp } from '../../src/app.js';
import { createKeyRing, type KeysFile } from '../../src/http/plugins/auth.js';
import { jobRouteSet } from '../../src/http/extra-routes.js';
import { startWorkerProcess, type WorkerProcess } from '../../src/jobs/run.js';
import type { Config } from '../../src/config/index.js';
import type { JobView } from '../../src/jobs/view.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ZipEntry {
  name: string;
  data?: Buffer;
  /** Deflate (default) or store. */
  store?: boolean;
  /** Unix mode; 0o120777 marks a symlink (data = target). */
  mode?: number;
}

/** Writes a zip archive (no zip64) exactly as described: names are not sanitised. */
export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const comp = e.store ? data : zlib.deflateRawSync(data);
    const name = Buffer.from(e.name, 'utf8');
    const crc = zlib.crc32(data);
    const method = e.store ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x800, 6); local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); local.writeUInt16LE(0x21, 12); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(comp.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(name.length, 26); local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE((3 << 8) | 20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10); central.writeUInt16LE(0, 12); central.writeUInt16LE(0x21, 14); central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(comp.length, 20); central.writeUInt32LE(data.length, 24); central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38); central.writeUInt32LE(offset, 42);
    locals.push(local, name, comp);
    centrals.push(central, name);
    offset += local.length + name.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export interface TarEntry {
  name: string;
  data?: Buffer;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
}

/** A tar (or, with gzip, tar.gz) archive. */
export async function tarball(entries: TarEntry[], gzip = false): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '/etc/passwd' });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else pack.entry({ name: e.name, size: e.data?.length ?? 0 }, e.data ?? Buffer.alloc(0));
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  return gzip ? zlib.gzipSync(raw) : raw;
}

/** A Redis key prefix of its own for one test, and a function that deletes everything under it. */
export function redisPrefix(name: string): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `dfgtest-${name}-${process.pid}-${Date.now().toString(36)}`;
  return {
    prefix,
    async cleanup() {
      const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await r.del(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    },
  };
}

/** Polls `fn` until it returns a truthy value (returned) or the time is up (throws with `what`). */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---------------------------------------------------------------------------------------------
// An API (real app, real services) plus optionally an in-process worker, on a Redis prefix of their own.

interface Teardown { teardown(fn: () => unknown): void }

export interface JobHarness {
  app: FastifyInstance;
  services: Services;
  config: Config;
  prefix: string;
  worker?: WorkerProcess;
  /** Polls GET /v1/jobs/{id} until the job is finished. */
  finished(jobId: string, timeoutMs?: number): Promise<JobView>;
}

/** Small chunks and fast retries so a few images exercise several chunks. */
export const JOB_TEST_ENV = { DFG_JOB_CHUNK_SIZE: '4', DFG_JOB_BACKOFF_MS: '50', DFG_JOB_CONCURRENCY: '1' };

export async function jobHarness(t: Teardown, opts: { name: string; env?: Record<string, string>; worker?: boolean; keys?: KeysFile['keys'] }): Promise<JobHarness> {
  const { prefix, cleanup } = redisPrefix(opts.name);
  const config = testConfig({ REDIS_URL, DFG_JOB_PREFIX: prefix, ...JOB_TEST_ENV, ...opts.env });
  const log = pino({ level: 'silent' });
  const services = startServices(config, log);
  const { app } = await buildApp({ services, keyRing: createKeyRing(opts.keys ?? []), extraRoutes: jobRouteSet() });
  const worker = opts.worker === false ? undefined : await startWorkerProcess(config, log);
  await services.whenReady;
  t.teardown(async () => {
    await worker?.close(1000);
    await app.close();
    await services.close();
    await cleanup();
  });
  return {
    app, services, config, prefix, worker,
    finished: (jobId, timeoutMs = 30_000) =>
      waitFor(async () => {
        const v = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json() as JobView;
        return ['completed', 'failed', 'cancelled'].includes(v.state) ? v : null;
      }, `job ${jobId} to finish`, timeoutMs),
  };
}
