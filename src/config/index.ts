/**
 * Configuration from environment variables. One TypeBox schema; the Config type is derived from
 * it. `loadConfig` lists every violation at once.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import path from 'node:path';
import os from 'node:os';
import { dfgError } from '../errors.js';

const Int = (min: number, max: number, dflt: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: dflt, description });
const Num = (min: number, max: number, dflt: number, description: string) =>
  Type.Number({ minimum: min, maximum: max, default: dflt, description });

export const ConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to bind. Non-loopback addresses need API keys.' }),
  PORT: Int(0, 65535, 8080, 'TCP port.'),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'pino log level.' }),
  DFG_GALLERY_DIR: Type.String({ default: 'gallery', description: 'Data directory: SQLite store, index snapshots.' }),
  DFG_MODELS_DIR: Type.String({ default: 'models', description: 'Directory of models/<id>/{model.onnx,model.json}.' }),
  DFG_MODEL: Type.String({ default: 'residual-v1', description: 'Default embedding model id.' }),
  DFG_API_KEYS_FILE: Type.String({ default: '', description: 'JSON file of hashed API keys with scopes (see README). Empty: no auth, loopback only.' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis for batch jobs.' }),
  DFG_THRESHOLD: Num(-1, 1, 0.5, 'Global default similarity threshold for an attribution.'),
  DFG_MARGIN: Num(0, 2, 0.02, 'Minimum score margin of the best algorithm over the runner-up.'),
  DFG_TOP_M: Int(1, 50, 3, 'Per-algorithm score = mean of its best M similarities.'),
  DFG_K: Int(1, 1000, 50, 'Nearest samples retrieved per query.'),
  DFG_MAX_IMAGE_BYTES: Int(1, 1 << 30, 25 * 1024 * 1024, 'Largest accepted image file in bytes.'),
  DFG_MAX_PIXELS: Int(1, 1 << 30, 40_000_000, 'Largest accepted width x height (decompression bomb guard).'),
  DFG_MAX_FILES: Int(1, 1000, 32, 'Most image files per multipart request.'),
  DFG_THREADS: Int(0, 256, 0, 'Inference worker threads; 0 = one per core.'),
  DFG_MAX_QUEUE: Int(1, 100_000, 64, 'Images waiting for inference before requests are shed with 503.'),
  DFG_SNAPSHOT_EVERY: Int(1, 10_000_000, 1000, 'Write an index snapshot after this many new samples.'),
});

export type Config = Static<typeof ConfigSchema>;

/** Builds the config from an environment (default: process.env), throwing one error that lists every violation. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw));
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.path.slice(1) || '(root)'}: ${e.message} (got ${JSON.stringify(e.value)})`);
    throw dfgError('DFG_ERR_CONFIG_INVALID', [...new Set(lines)].join('\n'));
  }
  const cfg = withDefaults as Config;
  cfg.DFG_GALLERY_DIR = path.resolve(cwd, cfg.DFG_GALLERY_DIR);
  cfg.DFG_MODELS_DIR = path.resolve(cwd, cfg.DFG_MODELS_DIR);
  if (cfg.DFG_API_KEYS_FILE) cfg.DFG_API_KEYS_FILE = path.resolve(cwd, cfg.DFG_API_KEYS_FILE);
  return cfg;
}

export function threadCount(cfg: Pick<Config, 'DFG_THREADS'>): number {
  return cfg.DFG_THREADS > 0 ? cfg.DFG_THREADS : Math.max(1, os.availableParallelism());
}
