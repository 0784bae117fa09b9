/**
 * Job records in Redis: one hash per job with its counters, chunk results and item errors keyed
 * by chunk index. A chunk is committed by one Lua script, once: a chunk redone after a crash or
 * a retry finds its marker and changes nothing, so counts never double.
 */
import type { Redis } from 'ioredis';
import { dfgError } from '../errors.js';
import { jobKeys, type JobKeys } from './keys.js';
import type { JobKind, JobState, ResultRow, SourceType } from './schemas.js';

// KEYS: record, chunks, results, errors, payload, created.
// ARGV: chunk, rows JSON, errors JSON or '', increments JSON, fields JSON, now ms, keep seconds, '1' if the chunk was given up.
const COMMIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[5], KEYS[6]) return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[6]) == 0 then redis.call('DEL', KEYS[5], KEYS[6]) return 0 end
if redis.call('HGET', KEYS[1], 'state') == 'waiting' then redis.call('HSET', KEYS[1], 'state', 'active', 'startedAt', ARGV[6]) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[3]) end
redis.call('DEL', KEYS[5], KEYS[6])
for field, n in pairs(cjson.decode(ARGV[4])) do redis.call('HINCRBY', KEYS[1], field, n) end
for field, v in pairs(cjson.decode(ARGV[5])) do redis.call('HSET', KEYS[1], field, v) end
if ARGV[8] == '1' then redis.call('HINCRBY', KEYS[1], 'chunksFailed', 1) end
local result = 1
if redis.call('HINCRBY', KEYS[1], 'chunksDone', 1) >= tonumber(redis.call('HGET', KEYS[1], 'chunks')) then
  if redis.call('HGET', KEYS[1], 'state') ~= 'cancelled' then
    local final = 'completed'
    if tonumber(redis.call('HGET', KEYS[1], 'chunksFailed') or '0') > 0 then final = 'failed' end
    redis.call('HSET', KEYS[1], 'state', final, 'finishedAt', ARGV[6])
  end
  result = 2
end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return result
`;

// KEYS: record. ARGV: now ms. Returns the state after the call, nil when the job is gone.
const START = `
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return false end
if s == 'waiting' then redis.call('HSET', KEYS[1], 'state', 'active', 'startedAt', ARGV[1]) return 'active' end
return s
`;

// KEYS: record, chunks, results, errors. ARGV: now ms, keep seconds.
const CANCEL = `
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return false end
if s == 'waiting' or s == 'active' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[1])
  for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
  return 'cancelled'
end
return s
`;

export interface JobRecordInit {
  id: string;
  kind: JobKind;
  algorithmId?: string;
  source: { type: SourceType; name: string };
  total: number;
  chunks: number;
}

export interface ItemError {
  name: string;
  code: string;
  message: string;
}

/** What one chunk adds to its job. */
export interface ChunkOutcome {
  rows: ResultRow[];
  errors: ItemError[];
  /** Counter increments (`o:created`, `d:attributed`, `a:<algorithmId>`, …). */
  increments: Record<string, number>;
  /** Fields to set (`n:<algorithmId>` → name). */
  fields: Record<string, string>;
  /** The chunk was given up after its attempts; the job ends `failed`. */
  givenUp: boolean;
}

export type CommitResult = 'gone' | 'already' | 'recorded' | 'finished';

/** The raw record: hash fields as Redis returns them. */
export type RawRecord = Record<string, string>;

export interface JobStore {
  readonly keys: JobKeys;
  create(init: JobRecordInit): Promise<void>;
  /** Sets progress fields of a job that still exists (imports: samples applied, the owner's queue). */
  progress(id: string, fields: Record<string, number | string>): Promise<void>;
  /**
   * An import job whose owning process stopped renewing its owner key (import-runner.ts) is
   * committed as failed with DFG_ERR_IMPORT_INTERRUPTED; returns the record as it now reads.
   */
  settleOrphanImport(id: string, rec: RawRecord): Promise<RawRecord>;
  writePayload(id: string, chunk: number, item: number, bytes: Buffer): Promise<void>;
  readPayload(id: string, chunk: number, items: number[]): Promise<Array<Buffer | null>>;
  /** Deletes every key of a job (a failed submission). */
  drop(id: string, chunks: number): Promise<void>;
  get(id: string): Promise<RawRecord | null>;
  /** Newest first; ids whose record expired are pruned on the way. */
  list(limit: number, offset: number): Promise<{ records: Array<RawRecord & { id: string }>; total: number }>;
  /** Marks the job active; returns its state, or null when it no longer exists. */
  start(id: string): Promise<JobState | null>;
  isCommitted(id: string, chunk: number): Promise<boolean>;
  /**
   * Notes samples a chunk attempt created, right after the gallery committed them, so a redo of
   * the chunk (after a crash or a retry) reports them as created rather than as duplicates.
   */
  noteCreated(id: string, chunk: number, sha256s: string[]): Promise<void>;
  createdEarlier(id: string, chunk: number): Promise<Set<string>>;
  commit(id: string, chunk: number, outcome: ChunkOutcome): Promise<CommitResult>;
  /** Returns the state after the request, or null when the job does not exist. */
  cancel(id: string): Promise<JobState | null>;
  /** Item errors in chunk order, at most `limit`, with the total count. */
  errors(id: string, limit: number): Promise<{ items: ItemError[]; total: number }>;
  /** Result rows of the committed chunks, in chunk order. */
  rows(id: string, chunks: number): AsyncGenerator<ResultRow>;
}

type Scripted = Redis & {
  dfgCommit(...args: Array<string | number>): Promise<number>;
  dfgStart(...args: Array<string | number>): Promise<string | null>;
  dfgCancel(...args: Array<string | number>): Promise<string | null>;
};

function scripted(redis: Redis): Scripted {
  const r = redis as Scripted;
  if (typeof r.dfgCommit !== 'function') {
    redis.defineCommand('dfgCommit', { numberOfKeys: 6, lua: COMMIT });
    redis.defineCommand('dfgStart', { numberOfKeys: 1, lua: START });
    redis.defineCommand('dfgCancel', { numberOfKeys: 4, lua: CANCEL });
  }
  return r;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export function createJobStore(redis: Redis, opts: { prefix: string; keepSeconds: number; keepCount: number }): JobStore {
  const keys = jobKeys(opts.prefix);
  const r = scripted(redis);

  const dropKeys = async (id: string, chunks: number) => {
    const all = [keys.record(id), keys.chunks(id), keys.results(id), keys.errors(id)];
    for (let c = 0; c < chunks; c++) all.push(keys.payload(id, c), keys.created(id, c));
    for (let i = 0; i < all.length; i += 500) await redis.del(...all.slice(i, i + 500));
  };

  /** Keeps the index at keepCount: the oldest finished jobs go first; running ones are never dropped. */
  const trim = async () => {
    const excess = (await redis.zcard(keys.index)) - opts.keepCount;
    if (excess <= 0) return;
    const oldest = await redis.zrange(keys.index, '0', String(excess + 99));
    let removed = 0;
    for (const id of oldest) {
      if (removed >= excess) break;
      const [state, chunks] = await redis.hmget(keys.record(id), 'state', 'chunks');
      if (state && !TERMINAL.has(state)) continue;
      await dropKeys(id, Number(chunks ?? 0));
      await redis.zrem(keys.index, id);
      removed++;
    }
  };

  const commit: JobStore['commit'] = async (id, chunk, o) => {
    const code = await r.dfgCommit(
      keys.record(id), keys.chunks(id), keys.results(id), keys.errors(id), keys.payload(id, chunk), keys.created(id, chunk),
      chunk, JSON.stringify(o.rows), o.errors.length ? JSON.stringify(o.errors) : '',
      JSON.stringify(o.increments), JSON.stringify(o.fields), Date.now(), opts.keepSeconds, o.givenUp ? '1' : '0',
    );
    return code === -1 ? 'gone' : code === 0 ? 'already' : code === 2 ? 'finished' : 'recorded';
  };

  return {
    keys,
    async create(init) {
      const now = Date.now();
      await redis
        .multi()
        .hset(keys.record(init.id), {
          kind: init.kind,
          algorithmId: init.algorithmId ?? '',
          sourceType: init.source.type,
          sourceName: init.source.name,
          state: 'waiting',
          total: init.total,
          chunks: init.chunks,
          chunksDone: 0,
          chunksFailed: 0,
          createdAt: now,
        })
        .expire(keys.record(init.id), opts.keepSeconds)
        .zadd(keys.index, now, init.id)
        .exec();
      await trim();
    },
    async settleOrphanImport(id, rec) {
      if (rec.kind !== 'import' || !rec.owner || TERMINAL.has(rec.state ?? '')) return rec;
      if ((await redis.exists(keys.owner(rec.owner))) === 1) return rec;
      const err = dfgError('DFG_ERR_IMPORT_INTERRUPTED', `its process (queue ${rec.owner}) is gone`);
      // A chunk commits once: should the owner still commit after all, the first commit stands.
      await commit(id, 0, { rows: [], errors: [{ name: rec.sourceName ?? 'bundle', code: err.code, message: err.message }], increments: { 'o:error': 1 }, fields: {}, givenUp: true });
      const after = await redis.hgetall(keys.record(id));
      return Object.keys(after).length ? after : rec;
    },
    async progress(id, fields) {
      // HSET only on a record that exists: a job dropped meanwhile must not come back as a stub.
      if (await redis.exists(keys.record(id))) await redis.hset(keys.record(id), fields);
    },
    async writePayload(id, chunk, item, bytes) {
      const key = keys.payload(id, chunk);
      await redis.multi().hset(key, String(item), bytes).expire(key, opts.keepSeconds).exec();
    },
    async readPayload(id, chunk, items) {
      if (items.length === 0) return [];
      return redis.hmgetBuffer(keys.payload(id, chunk), ...items.map(String));
    },
    async drop(id, chunks) {
      await dropKeys(id, chunks);
      await redis.zrem(keys.index, id);
    },
    async get(id) {
      const rec = await redis.hgetall(keys.record(id));
      return Object.keys(rec).length ? rec : null;
    },
    async list(limit, offset) {
      const ids = await redis.zrevrange(keys.index, offset, offset + limit - 1);
      const records: Array<RawRecord & { id: string }> = [];
      const gone: string[] = [];
      for (const id of ids) {
        const rec = await redis.hgetall(keys.record(id));
        if (Object.keys(rec).length) records.push({ ...rec, id });
        else gone.push(id);
      }
      if (gone.length) await redis.zrem(keys.index, ...gone);
      return { records, total: (await redis.zcard(keys.index)) };
    },
    async start(id) {
      return (await r.dfgStart(keys.record(id), Date.now())) as JobState | null;
    },
    async noteCreated(id, chunk, shas) {
      if (shas.length === 0) return;
      const key = keys.created(id, chunk);
      await redis.multi().sadd(key, ...shas).expire(key, opts.keepSeconds).exec();
    },
    async createdEarlier(id, chunk) {
      return new Set(await redis.smembers(keys.created(id, chunk)));
    },
    async isCommitted(id, chunk) {
      return (await redis.hexists(keys.chunks(id), String(chunk))) === 1;
    },
    commit,
    async cancel(id) {
      return (await r.dfgCancel(keys.record(id), keys.chunks(id), keys.results(id), keys.errors(id), Date.now(), opts.keepSeconds)) as JobState | null;
    },
    async errors(id, limit) {
      const byChunk = await redis.hgetall(keys.errors(id));
      const items: ItemError[] = [];
      let total = 0;
      for (const chunk of Object.keys(byChunk).map(Number).sort((a, b) => a - b)) {
        const list = JSON.parse(byChunk[String(chunk)]!) as ItemError[];
        total += list.length;
        for (const e of list) if (items.length < limit) items.push(e);
      }
      return { items, total };
    },
    async *rows(id, chunks) {
      const BATCH = 32;
      for (let start = 0; start < chunks; start += BATCH) {
        const fields: string[] = [];
        for (let c = start; c < Math.min(chunks, start + BATCH); c++) fields.push(String(c));
        const values = await redis.hmget(keys.results(id), ...fields);
        for (const v of values) if (v) yield* JSON.parse(v) as ResultRow[];
      }
    },
  };
}
