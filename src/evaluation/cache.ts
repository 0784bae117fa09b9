/**
 * On-disk embedding cache for `dfg eval`: one file of raw float32 values per (model id +
 * version, image sha256), so re-running a protocol, or another protocol on the same images,
 * embeds nothing twice. A file that does not hold exactly `dim` finite values is ignored and
 * rewritten; writes are atomic (temp file + rename), so an interrupted run leaves no torn entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface EmbeddingCache {
  /** Folder of this model's entries. */
  readonly dir: string;
  get(sha256: string): Promise<Float32Array | undefined>;
  set(sha256: string, vector: Float32Array): Promise<void>;
}

export interface CacheOptions {
  root: string;
  modelId: string;
  modelVersion: string;
  dim: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `$XDG_CACHE_HOME/dfg/embeddings`, else `~/.cache/dfg/embeddings`. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'dfg', 'embeddings');
}

/**
 * Folder name of a model: readable (`id@version`, odd characters replaced) plus a hash of the
 * exact pair, so two versions that read alike never share entries.
 */
export function modelKey(modelId: string, modelVersion: string): string {
  const readable = `${modelId}@${modelVersion}`.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 80);
  const digest = createHash('sha256').update(`${modelId}\0${modelVersion}`).digest('hex').slice(0, 12);
  return `${readable}-${digest}`;
}

export function createEmbeddingCache(opts: CacheOptions): EmbeddingCache {
  const dir = path.join(opts.root, modelKey(opts.modelId, opts.modelVersion));
  const fileOf = (sha: string) => {
    if (!SHA256.test(sha)) throw new TypeError(`Expected a lowercase hex sha256 for sha256 but received ${JSON.stringify(sha)}`);
    return path.join(dir, sha.slice(0, 2), `${sha}.f32`);
  };
  return {
    dir,
    async get(sha) {
      const buf = await fs.readFile(fileOf(sha)).catch(() => undefined);
      if (!buf || buf.length !== opts.dim * 4) return undefined;
      // Copy into a fresh buffer: small reads come from a shared pool at unaligned offsets.
      const v = new Float32Array(new Uint8Array(buf).buffer);
      for (let i = 0; i < v.length; i += 1) if (!Number.isFinite(v[i])) return undefined;
      return v;
    },
    async set(sha, vector) {
      if (vector.length !== opts.dim) throw new TypeError(`Expected a vector of dimension ${opts.dim} for vector but received ${vector.length}`);
      const file = fileOf(sha);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
      await fs.rename(tmp, file);
    },
  };
}
