/**
 * Configuration from environment variables. One TypeBox schema; the Config type is derived from
 * it. `loadConfig` lists every violation at once.
 */
import { parseScoreNorm, type ScoreNormSetting } from './score-norm-setting.js';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import path from 'node:path';
import os from 'node:os';
import { dfgError } from '../errors.js';
import { parseModelList, type ModelChoice } from './model-list.js';
import { parseMetric, type MetricSetting } from './metric-setting.js';

const Int = (min: number, max: number, dflt: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: dflt, description });
const Num = (min: number, max: number, dflt: number, description: string) =>
  Type.Number({ minimum: min, maximum: max, default: dflt, description });

export const ConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to bind. Non-loopback addresses need API keys.' }),
  PORT: Int(0, 65535, 8080, 'TCP port.'),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'pino log level.' }),
  DFG_GALLERY_DIR: Type.String({ default: 'gallery', description: 'Data directory: SQLite store, index snapshots.' }),
  DFG_STORE: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'Shared gallery store: a PostgreSQL URL (`postgres://user[:password]@host[:port]/db`) for API replicas and workers on any host. Unset: the SQLite store under DFG_GALLERY_DIR, which then only holds index snapshots.' })),
  DFG_MODELS_DIR: Type.String({ default: 'models', description: 'Directory of models/<id>/{model.onnx,model.json}.' }),
  DFG_MODEL: Type.Optional(Type.String({ description: 'Embedding models, `id[:weight],...`: one model id, or several whose similarities are fused by weight (default weight 1). Unset: the list of the last model switch recorded in the gallery (PUT /v1/model), else residual-v3. Set, it wins over a recorded switch.' })),
  DFG_KEEP_IMAGES: Type.Boolean({ default: true, description: 'Keep enrolled image bytes under DFG_GALLERY_DIR/blobs (content-addressed) so the gallery can be re-embedded for a new model. false: only embeddings are stored.' }),
  DFG_API_KEYS_FILE: Type.String({ default: '', description: 'JSON file of hashed API keys with scopes (see README). Empty: no auth, loopback only.' }),
  DFG_TRUSTED_PUBLISHERS: Type.String({ default: '', description: 'JSON file listing the publisher keys whose signed gallery bundles may be imported (see README, Sharing galleries). Empty: imports are refused.' }),
  DFG_SIGNING_KEY_FILE: Type.String({ default: '', description: 'Private key file of `dfg keys signing create`: the server signs the bundles of GET /v1/exports with it. Empty: the route answers 409.' }),
  DFG_MAX_BUNDLE_BYTES: Int(1024, 2 ** 31 - 1, 1024 ** 3, 'Largest bundle POST /v1/imports accepts, in bytes (streamed to a temporary file, then verified; 413 beyond).'),
  DFG_IMPORT_SYNC_MAX_SAMPLES: Int(0, 1_000_000, 1000, 'POST /v1/imports of a bundle with at most this many samples answers 200 with the import done; larger bundles run as a job (202). The `async` query parameter overrides it.'),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis for batch jobs.' }),
  DFG_THRESHOLD: Type.Optional(Type.Number({ minimum: -1, maximum: 1, description: 'Similarity an attribution needs while the gallery has no calibration. Unset: the model\'s default (`decision.threshold` in its model.json), else 0.5.' })),
  DFG_MARGIN: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Minimum score margin of the best algorithm over the runner-up. Unset: the model\'s default (`decision.margin` in its model.json), else 0.02.' })),
  DFG_TOP_M: Int(1, 50, 3, 'Per-algorithm score = mean of its best M similarities.'),
  DFG_K: Int(1, 1000, 50, 'Nearest samples retrieved per query.'),
  DFG_MAX_IMAGE_BYTES: Int(1, 1 << 30, 25 * 1024 * 1024, 'Largest accepted image file in bytes.'),
  DFG_MAX_PIXELS: Int(1, 1 << 30, 40_000_000, 'Largest accepted width x height (decompression bomb guard).'),
  DFG_MAX_FILES: Int(1, 1000, 32, 'Most image files per multipart request.'),
  DFG_THREADS: Int(0, 256, 0, 'Inference worker threads; 0 = one per core.'),
  DFG_INFERENCE_NICE: Int(0, 19, 10, 'Added to the nice value of the inference threads (Linux; a nice value is per thread there): the event loop (health probes, admission, uploads, answers) then gets a busy core first, inference still every idle one. 0 = same priority.'),
  DFG_MAX_QUEUE: Int(1, 100_000, 64, 'Images waiting for inference before requests are shed with 503.'),
  DFG_SNAPSHOT_EVERY: Int(1, 10_000_000, 1000, 'Write an index snapshot after this many new samples.'),
  DFG_EF_SEARCH: Int(1, 4096, 128, 'HNSW search breadth (ef); at least DFG_K is used. Higher = better recall, slower search.'),
  DFG_METRIC: Type.String({ default: 'wccn:0.2', pattern: '^(cosine|wccn(:[0-9.]+)?)$', description: 'Similarity a calibration fits and its thresholds use: `cosine`, or `wccn[:shrinkage]`, cosine after whitening the within-algorithm scatter of the enrolled samples (shrinkage in (0, 1], default 0.2, chosen on the simulated genome). Searches use the metric of the current calibration; none before the first.' }),
  DFG_TARGET_FPIR: Num(0.0001, 0.5, 0.01, 'Target false-positive identification rate for calibration (automatic, POST /v1/calibration, dfg calibrate).'),
  DFG_SCORE_NORM: Type.String({ default: 'asnorm', pattern: '^(none|asnorm(:[0-9]+)?)$', description: 'Open-set score normalisation a calibration fits and attributions use while it is current: `asnorm[:K]` normalises each score against the served model\'s cohort (adaptive symmetric normalisation over its K best cohort scores on the upload\'s side and on the algorithm\'s, default K 100), and calibrates thresholds with the cohort\'s images as unregistered generators; only for models that ship a cohort (model.json `cohort`). `none`: raw scores.' }),
  DFG_ATTRIBUTION_RETENTION_DAYS: Int(0, 3650, 30, 'Days each /v1/attribute answer is kept (decision, candidates, the query\'s vectors; never the image) so that POST /v1/attributions/{id}/feedback can judge it; answers that received feedback are kept as calibration evidence. 0 = keep none (answers carry attributionId null).'),
  DFG_AUTO_CALIBRATE_MS: Int(0, 86_400_000, 10_000, 'The server calibrates the gallery on its own (in a worker thread, with DFG_TARGET_FPIR, DFG_TOP_M and DFG_METRIC) once its enabled algorithms or their sample counts changed and then stayed unchanged this many ms; also at start-up when they changed since the current calibration. 0 = only on request.'),
  // connections and admission (src/http/server-options.ts, src/http/plugins/admission.ts)
  DFG_HEADERS_TIMEOUT_MS: Int(100, 600_000, 10_000, 'A client must send its request line and headers within this many ms, else the connection is closed (408): slow-header clients (slowloris).'),
  DFG_REQUEST_TIMEOUT_MS: Int(100, 3_600_000, 120_000, 'A client must send its whole request, body included, within this many ms, else the connection is closed (408): slow-body clients. At least DFG_HEADERS_TIMEOUT_MS.'),
  DFG_KEEPALIVE_TIMEOUT_MS: Int(100, 600_000, 5_000, 'An idle keep-alive connection is closed after this many ms without a new request.'),
  DFG_MAX_CONNECTIONS: Int(1, 1_000_000, 1024, 'Most open TCP connections; further ones are closed on accept.'),
  DFG_MAX_REQUESTS_PER_SOCKET: Int(0, 1_000_000, 0, 'Most requests one keep-alive connection may carry before it is closed; 0 = no limit.'),
  DFG_UPLOAD_BUDGET_BYTES: Int(1024 * 1024, 64 * 1024 ** 3, 256 * 1024 * 1024, 'Upload bytes all requests together may hold in memory: a declared Content-Length is reserved before the body is read, chunked bodies are charged as they stream; past it, uploads get 503.'),
  DFG_MAX_INFLIGHT_UPLOADS: Int(0, 100_000, 0, 'Image uploads admitted at once (reading, queued or embedding); more get 503 before their body is read. 0 = 4 per inference thread, at least 8.'),
  DFG_ADMISSION_WAIT_MS: Int(0, 10_000, 75, 'How long an image upload that finds DFG_MAX_INFLIGHT_UPLOADS taken waits for a slot (newest first, at most 4 per slot) before it gets 503; its body is not read meanwhile. 0 = shed at once.'),
  DFG_RATE_LIMIT_PER_MIN: Int(0, 10_000_000, 0, 'Requests per minute one API key (without keys: one client address) may make on /v1 routes; more get 429. 0 = no limit.'),
  DFG_PROTECT_OPS: Type.Boolean({ default: false, description: 'With API keys configured, /metrics and /docs (the OpenAPI UI and spec) need a key with the admin scope; false: they stay public.' }),
  // batch jobs (src/jobs)
  DFG_IMPORT_ROOTS: Type.String({ default: '', description: 'Colon-separated absolute directories that directory-source jobs may read below. Empty: directory sources are refused.' }),
  DFG_URL_ALLOWLIST: Type.String({ default: '', description: 'Comma-separated hosts that URL-source jobs may fetch from: `host`, `host:port` or `*.domain`. Empty: URL sources are refused.' }),
  DFG_URL_ALLOW_PRIVATE: Type.Boolean({ default: false, description: 'Allow URL fetches to private, loopback and link-local addresses (tests, closed networks only).' }),
  DFG_JOB_PREFIX: Type.String({ default: 'dfg', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'Redis key prefix of the job queue and job records.' }),
  DFG_JOB_CONCURRENCY: Int(0, 256, 0, 'Chunks one `dfg worker` process handles at once; 0 = one per core.'),
  DFG_JOB_CHUNK_SIZE: Int(1, 1024, 64, 'Images per chunk (32-128 recommended): the unit of progress, retry and crash loss.'),
  DFG_JOB_ATTEMPTS: Int(1, 100, 5, 'Attempts per chunk for transient failures (exponential backoff).'),
  DFG_JOB_BACKOFF_MS: Int(1, 3_600_000, 2000, 'First retry delay of a chunk; doubles with each attempt.'),
  DFG_JOB_LOCK_MS: Int(500, 3_600_000, 30_000, 'BullMQ lock duration: a killed worker\'s chunk is taken over after about this long.'),
  DFG_JOB_STALLED_MS: Int(200, 3_600_000, 30_000, 'BullMQ stalled-job check interval.'),
  DFG_JOB_MAX_STALLED: Int(0, 100, 2, 'Times a chunk may be taken over from a dead worker before it is reported failed.'),
  DFG_JOB_SHUTDOWN_MS: Int(0, 3_600_000, 30_000, 'On SIGTERM/SIGINT a worker finishes its current chunks for at most this long, then hands them back.'),
  DFG_JOB_CONNECT_TIMEOUT_MS: Int(100, 60_000, 2000, 'Redis connect timeout of the API; job routes answer 503 when Redis is unreachable.'),
  DFG_JOB_KEEP_SECONDS: Int(60, 365 * 86400, 7 * 86400, 'Job records, results and pending image data are kept this long after their last activity.'),
  DFG_JOB_KEEP_COUNT: Int(1, 1_000_000, 1000, 'Most finished jobs kept; older ones are removed when new jobs arrive.'),
  DFG_JOB_MAX_ITEMS: Int(1, 10_000_000, 100_000, 'Most images (archive entries, files, URLs) in one job.'),
  DFG_JOB_ARCHIVE_MAX_BYTES: Int(1, 64 * 1024 ** 3, 256 * 1024 ** 2, 'Largest uploaded archive in bytes.'),
  DFG_JOB_ARCHIVE_MAX_UNCOMPRESSED: Int(1, 256 * 1024 ** 3, 1024 ** 3, 'Largest total uncompressed size of an archive in bytes (held in Redis until embedded).'),
  DFG_JOB_ARCHIVE_MAX_RATIO: Int(1, 1_000_000, 100, 'Largest compression ratio of an archive or of one entry over 1 MiB (zip bombs).'),
  DFG_JOB_URL_TIMEOUT_MS: Int(100, 600_000, 15_000, 'Time limit of one image download, redirects included.'),
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
  const lines = errors.map((e) => `  ${e.path.slice(1) || '(root)'}: ${e.message} (got ${JSON.stringify(e.value)})`);
  const model = (withDefaults as Config).DFG_MODEL;
  if (typeof model === 'string') {
    try {
      parseModelList(model);
    } catch (err) {
      lines.push(`  DFG_MODEL: ${(err as Error).message}`);
    }
  }
  const metric = (withDefaults as Config).DFG_METRIC;
  if (typeof metric === 'string' && parseMetric(metric) === null) lines.push(`  DFG_METRIC: Expected cosine, wccn or wccn:<shrinkage in (0, 1]> (got ${JSON.stringify(metric)})`);
  const norm = (withDefaults as Config).DFG_SCORE_NORM;
  if (typeof norm === 'string' && parseScoreNorm(norm) === null) lines.push(`  DFG_SCORE_NORM: Expected none, asnorm or asnorm:<K in 1..10000> (got ${JSON.stringify(norm)})`);
  const c = withDefaults as Config;
  if (typeof c.DFG_HEADERS_TIMEOUT_MS === 'number' && typeof c.DFG_REQUEST_TIMEOUT_MS === 'number' && c.DFG_HEADERS_TIMEOUT_MS > c.DFG_REQUEST_TIMEOUT_MS) {
    lines.push(`  DFG_HEADERS_TIMEOUT_MS: Expected at most DFG_REQUEST_TIMEOUT_MS (${c.DFG_REQUEST_TIMEOUT_MS}) (got ${c.DFG_HEADERS_TIMEOUT_MS})`);
  }
  if (lines.length > 0) {
    throw dfgError('DFG_ERR_CONFIG_INVALID', [...new Set(lines)].join('\n'));
  }
  const cfg = withDefaults as Config;
  cfg.DFG_GALLERY_DIR = path.resolve(cwd, cfg.DFG_GALLERY_DIR);
  cfg.DFG_MODELS_DIR = path.resolve(cwd, cfg.DFG_MODELS_DIR);
  if (cfg.DFG_API_KEYS_FILE) cfg.DFG_API_KEYS_FILE = path.resolve(cwd, cfg.DFG_API_KEYS_FILE);
  if (cfg.DFG_TRUSTED_PUBLISHERS) cfg.DFG_TRUSTED_PUBLISHERS = path.resolve(cwd, cfg.DFG_TRUSTED_PUBLISHERS);
  if (cfg.DFG_SIGNING_KEY_FILE) cfg.DFG_SIGNING_KEY_FILE = path.resolve(cwd, cfg.DFG_SIGNING_KEY_FILE);
  return cfg;
}

/** The score normalisation of DFG_SCORE_NORM (loadConfig has validated it). */
export function scoreNormSetting(cfg: Pick<Config, 'DFG_SCORE_NORM'>): ScoreNormSetting {
  return parseScoreNorm(cfg.DFG_SCORE_NORM) ?? { kind: 'none' };
}

/** Where the gallery's store is: the PostgreSQL URL of DFG_STORE, else SQLite in DFG_GALLERY_DIR. */
export function storeLocation(cfg: Pick<Config, 'DFG_GALLERY_DIR' | 'DFG_STORE'>): { dir: string; store?: string } {
  return cfg.DFG_STORE ? { dir: cfg.DFG_GALLERY_DIR, store: cfg.DFG_STORE } : { dir: cfg.DFG_GALLERY_DIR };
}

/** The similarity setting of DFG_METRIC (loadConfig has validated it). */
export function metricSetting(cfg: Pick<Config, 'DFG_METRIC'>): MetricSetting {
  return parseMetric(cfg.DFG_METRIC) ?? { kind: 'cosine' };
}

/** The model list served when DFG_MODEL is unset and no model switch is recorded. */
export const DEFAULT_MODEL = 'residual-v3';

/**
 * The models of DFG_MODEL with their weights (loadConfig has validated the list), DEFAULT_MODEL
 * when unset. A service started without DFG_MODEL may serve a recorded switch instead (serving/served-models.ts).
 */
export function modelList(cfg: Pick<Config, 'DFG_MODEL'>): ModelChoice[] {
  return parseModelList(cfg.DFG_MODEL ?? DEFAULT_MODEL);
}

export function threadCount(cfg: Pick<Config, 'DFG_THREADS'>): number {
  return cfg.DFG_THREADS > 0 ? cfg.DFG_THREADS : Math.max(1, os.availableParallelism());
}
