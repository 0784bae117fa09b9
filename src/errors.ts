/**
 * The one error catalogue. Codes are `DFG_ERR_<AREA>_<WHAT>`, never reused. HTTP bodies are
 * Fastify's `{ statusCode, code, error, message }`; clients branch on `code`.
 * `test/openapi.test.ts` fails when a code is missing from openapi.yaml or the README.
 */
import createError from '@fastify/error';

export interface DfgErrorInfo {
  status: number;
  message: string;
  /** One line for the docs: when a client sees this code. */
  doc: string;
}

export const ERRORS = {
  // request shape
  DFG_ERR_REQUEST_INVALID: { status: 400, message: 'Invalid request: %s', doc: 'Body, query or params fail the route schema.' },
  DFG_ERR_REQUEST_BAD_JSON: { status: 400, message: 'Malformed JSON body: %s', doc: 'The JSON body cannot be parsed.' },
  DFG_ERR_REQUEST_UNSUPPORTED_MEDIA: { status: 415, message: 'Unsupported content type: %s', doc: 'The route expects another content type (JSON or multipart/form-data).' },
  DFG_ERR_REQUEST_BODY_TOO_LARGE: { status: 413, message: 'Request body too large: %s', doc: 'A non-multipart body exceeds the size limit.' },
  DFG_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'Route %s not found', doc: 'No such route.' },
  DFG_ERR_REQUEST_BAD_URL: { status: 400, message: 'Malformed URL: %s', doc: 'The URL path cannot be decoded (bad percent-encoding); refused before routing.' },
  DFG_ERR_REQUEST_BAD_CONTENT_LENGTH: { status: 400, message: 'Request body does not match its Content-Length: %s', doc: 'The body is shorter or longer than the Content-Length header declares.' },
  DFG_ERR_REQUEST_PRECONDITION_FAILED: { status: 412, message: 'Precondition failed: %s', doc: 'Console files: an If-Match or If-Unmodified-Since header does not hold for the file.' },
  DFG_ERR_REQUEST_RANGE_NOT_SATISFIABLE: { status: 416, message: 'Range not satisfiable: %s', doc: 'Console files: the Range header asks for bytes outside the file.' },
  DFG_ERR_REQUEST_REFUSED: { status: 400, message: 'Request refused: %s', doc: 'Any other 4xx raised by the HTTP framework itself rather than by a route (none is known to reach clients); the response keeps the framework\'s status.' },
  // uploads
  DFG_ERR_UPLOAD_NO_FILE: { status: 400, message: 'Expected at least one image file part but received none', doc: 'A multipart upload has no file part.' },
  DFG_ERR_UPLOAD_TOO_MANY_FILES: { status: 413, message: 'Too many files: at most %s per request', doc: 'More file parts than the per-request limit.' },
  DFG_ERR_UPLOAD_TOO_MANY_PARTS: { status: 413, message: 'Too many form parts or fields: %s', doc: 'More multipart parts or fields than allowed.' },
  DFG_ERR_UPLOAD_FILE_TOO_LARGE: { status: 413, message: 'File %s exceeds the limit of %s bytes', doc: 'A file part exceeds the byte limit (single-file requests).' },
  DFG_ERR_UPLOAD_TOO_LARGE: { status: 413, message: 'Upload of %s bytes exceeds the limit of %s bytes', doc: 'The declared Content-Length of an image upload is over its files at DFG_MAX_IMAGE_BYTES plus multipart overhead, or over DFG_UPLOAD_BUDGET_BYTES; refused before the body is read.' },
  DFG_ERR_UPLOAD_MALFORMED: { status: 400, message: 'Malformed multipart body: %s', doc: 'The multipart body cannot be parsed.' },
  // images
  DFG_ERR_IMAGE_EMPTY: { status: 400, message: 'Expected image bytes but received an empty file', doc: 'A zero-byte image.' },
  DFG_ERR_IMAGE_TOO_LARGE: { status: 413, message: 'Image of %s bytes exceeds the limit of %s bytes', doc: 'Image bytes over DFG_MAX_IMAGE_BYTES.' },
  DFG_ERR_IMAGE_UNSUPPORTED_FORMAT: { status: 415, message: 'Unsupported image format: %s', doc: 'Not JPEG, PNG, WebP, GIF, TIFF or AVIF (SVG and PDF are refused).' },
  DFG_ERR_IMAGE_CORRUPT: { status: 422, message: 'Image cannot be decoded: %s', doc: 'Corrupt or truncated image data.' },
  DFG_ERR_IMAGE_TOO_MANY_PIXELS: { status: 413, message: 'Image of %s pixels exceeds the limit of %s pixels', doc: 'Width x height over DFG_MAX_PIXELS (decompression bombs).' },
  DFG_ERR_IMAGE_TOO_SMALL: { status: 422, message: 'Image of %sx%s is smaller than the model minimum of %s px', doc: 'Too small for the model crop plan.' },
  DFG_ERR_IMAGE_NO_SIGNAL: { status: 422, message: 'Image carries no signal that model %s can embed: %s', doc: 'The model output for the image is all zeros (e.g. a perfectly flat image), so it has no direction in the embedding space.' },
  // registry
  DFG_ERR_ALGORITHM_NOT_FOUND: { status: 404, message: 'Algorithm %s not found', doc: 'Unknown algorithm id.' },
  DFG_ERR_ALGORITHM_NAME_TAKEN: { status: 409, message: 'An algorithm named %s already exists', doc: 'Algorithm names are unique.' },
  DFG_ERR_SAMPLE_NOT_REEMBEDDABLE: { status: 409, message: 'Sample %s cannot be re-embedded: %s', doc: 'Re-embedding: the sample\'s image bytes are not kept (enrolled with DFG_KEEP_IMAGES=false); enrol the image again to keep them.' },
  DFG_ERR_IMAGE_NOT_KEPT: { status: 503, message: 'The kept bytes of %s image(s) were removed before the commit', doc: 'A sample with the same image bytes was deleted while this enrolment ran; the service writes the bytes again and retries, so this reaches a client only when that keeps happening. Retry.' },
  DFG_ERR_SAMPLE_NOT_FOUND: { status: 404, message: 'Sample %s not found', doc: 'Unknown sample id (or it belongs to another algorithm).' },
  DFG_ERR_SAMPLE_IMAGE_NOT_KEPT: { status: 404, message: 'The image bytes of sample %s are not kept', doc: 'Sample thumbnail: the sample was enrolled with DFG_KEEP_IMAGES=false, so there is no image to show (the console shows a placeholder).' },
  // auth
  DFG_ERR_AUTH_MISSING_KEY: { status: 401, message: 'Missing API key: send Authorization: Bearer <key> or X-API-Key', doc: 'Keys are configured and none was sent.' },
  DFG_ERR_AUTH_INVALID_KEY: { status: 401, message: 'Invalid API key', doc: 'The key matches no configured key.' },
  DFG_ERR_AUTH_FORBIDDEN: { status: 403, message: 'API key lacks the scope %s', doc: 'The key is valid but not for this route.' },
  // server state
  DFG_ERR_SERVER_OVERLOADED: { status: 503, message: 'Server overloaded: %s', doc: 'Admission control shed the request before reading its body (uploads in flight at DFG_MAX_INFLIGHT_UPLOADS for DFG_ADMISSION_WAIT_MS, inference queue at DFG_MAX_QUEUE, or DFG_UPLOAD_BUDGET_BYTES in use); retry after the Retry-After header.' },
  DFG_ERR_RATE_LIMITED: { status: 429, message: 'Rate limit of %s requests per minute exceeded', doc: 'The API key (without keys: the client address) made more than DFG_RATE_LIMIT_PER_MIN requests in the last minute; retry after the Retry-After header.' },
  DFG_ERR_SERVER_NOT_READY: { status: 503, message: 'Server not ready: %s', doc: 'Model or index still loading.' },
  DFG_ERR_INTERNAL: { status: 500, message: 'Internal error', doc: 'Unexpected failure; details are in the server log under the request id.' },
  // jobs
  DFG_ERR_JOBS_UNAVAILABLE: { status: 503, message: 'Job queue unavailable: %s', doc: 'Redis is not reachable; set REDIS_URL to a running Redis.' },
  DFG_ERR_REEMBED_NOTHING_LEFT: { status: 409, message: 'Every sample already has a vector of %s: nothing to re-embed', doc: 'POST /v1/jobs/reembeddings: the re-embedding for this model is complete; switch to it (PUT /v1/model) or choose another model.' },
  DFG_ERR_JOB_NOT_FOUND: { status: 404, message: 'Job %s not found', doc: 'Unknown job id.' },
  DFG_ERR_ARCHIVE_INVALID: { status: 400, message: 'Archive rejected: %s', doc: 'Corrupt archive, traversal entry, or over entry/size/ratio limits.' },
  DFG_ERR_IMPORT_PATH_FORBIDDEN: { status: 403, message: 'Import path %s is outside the configured import roots', doc: 'Server-side directory not under DFG_IMPORT_ROOTS.' },
  DFG_ERR_URL_FORBIDDEN: { status: 403, message: 'URL %s is not allowed: %s', doc: 'Host not on DFG_URL_ALLOWLIST, or a private address.' },
  // configuration, models, gallery (start-up and CLI)
  DFG_ERR_CONFIG_INVALID: { status: 500, message: 'Invalid configuration:\n%s', doc: 'Environment variables fail validation (all violations listed).' },
  DFG_ERR_CONFIG_UNSAFE_BIND: { status: 500, message: 'Refusing to bind %s without API keys: set DFG_API_KEYS_FILE or bind a loopback address', doc: 'Start-up refused.' },
  DFG_ERR_MODEL_NOT_FOUND: { status: 404, message: 'Model %s not found in %s', doc: 'No models/<id>/model.json.' },
  DFG_ERR_MODEL_MANIFEST_INVALID: { status: 500, message: 'Invalid model manifest %s: %s', doc: 'model.json fails its schema.' },
  DFG_ERR_MODEL_LIST_INVALID: { status: 400, message: 'Invalid model list %s: %s', doc: 'DFG_MODEL or --model is not `id[:weight],...` with distinct model ids and positive weights.' },
  DFG_ERR_MODEL_LOAD_FAILED: { status: 500, message: 'Model %s failed to load: %s', doc: 'onnxruntime could not load the model.' },
  // hot model switch (PUT /v1/model, dfg model switch)
  DFG_ERR_MODEL_UNUSABLE: { status: 422, message: 'Model %s cannot be served: %s', doc: 'Model switch: a listed model has an invalid manifest or its ONNX file fails to load; the old models keep serving.' },
  DFG_ERR_MODEL_SWITCH_INCOMPLETE: { status: 409, message: 'Cannot switch to %s: %s', doc: 'Model switch: stored samples lack a vector of a listed model (re-embed them first, or force the switch to serve without them); the old models keep serving.' },
  DFG_ERR_MODEL_SWITCHED: { status: 503, message: 'The gallery switched to another model list (%s) while this enrolment ran; nothing was stored', doc: 'Enrolment: another process switched the gallery to other models between embedding and commit. The service follows the switch and retries once, so this reaches a client only when the new models cannot be loaded here (see the server log) or switches keep coming. Retry.' },
  DFG_ERR_MODEL_SWITCH_BUSY: { status: 409, message: 'A model switch is already running (to %s)', doc: 'Model switch: another switch has not finished; retry when it has.' },
  DFG_ERR_GALLERY_DIMENSION_MISMATCH: { status: 409, message: 'Vector of dimension %s does not fit the gallery of model %s (dimension %s)', doc: 'A vector from another model.' },
  DFG_ERR_ATTRIBUTION_NOT_FOUND: { status: 404, message: 'Attribution %s not found', doc: 'Feedback: no kept attribution has this id; answers are kept DFG_ATTRIBUTION_RETENTION_DAYS days (an expired one is gone).' },
  DFG_ERR_FEEDBACK_INVALID: { status: 400, message: 'Feedback refused: %s', doc: 'Feedback that does not fit the answer: relabel without algorithmId or to the attributed algorithm, algorithmId with confirm or reject, enrol with reject, reject of an answer that attributed nothing, or enrol without an algorithm to enrol into.' },
  DFG_ERR_FEEDBACK_EXISTS: { status: 409, message: 'Attribution %s has feedback already', doc: 'One verdict per attribution: the first one stands (GET /v1/audit shows it).' },
  DFG_ERR_FEEDBACK_NOT_ENROLLABLE: { status: 409, message: 'The query of attribution %s cannot be enrolled: %s', doc: 'Feedback with enrol: the answer came from models no longer served (a model switch since), so its vectors do not fit the gallery; enrol the image itself instead.' },
  DFG_ERR_CALIBRATION_NOT_FOUND: { status: 404, message: 'No calibration of %s yet', doc: 'The served model has not been calibrated (POST /v1/calibration, or the automatic calibration once samples are enrolled).' },
  DFG_ERR_CALIBRATION_INSUFFICIENT: { status: 422, message: 'Cannot calibrate: %s', doc: 'Too few samples or algorithms to calibrate thresholds.' },
  // evaluation (dfg eval)
  DFG_ERR_EVAL_DATASET_INVALID: { status: 422, message: 'Invalid evaluation dataset: %s', doc: 'dfg eval: the dataset folder or its genome.json cannot be used (missing, empty, malformed).' },
  DFG_ERR_EVAL_PROTOCOL_INVALID: { status: 422, message: 'Invalid evaluation protocol: %s', doc: 'dfg eval: options (shots, unknown algorithms, group pattern, models, weights) that the dataset cannot satisfy.' },
  DFG_ERR_EVAL_SERVICE_FAILED: { status: 502, message: 'Service call %s failed: %s', doc: 'dfg eval --url: the service could not be reached, answered an error, or left algorithms behind.' },
  // gallery store
  DFG_ERR_GALLERY_SCHEMA_UNSUPPORTED: { status: 500, message: 'Gallery store has schema version %s but this release knows at most %s', doc: 'The gallery file was written by a newer release (start-up and CLI).' },
  DFG_ERR_STORE_UNAVAILABLE: { status: 503, message: 'Gallery store unavailable: %s', doc: 'The shared PostgreSQL store (DFG_STORE) cannot be reached; nothing was written. Attribution keeps answering from memory meanwhile, and writes work again once it is back. Retry.' },
  // batch jobs (per-item codes in job errors and results)
  DFG_ERR_URL_FETCH_FAILED: { status: 502, message: 'Fetching %s failed: %s', doc: 'Batch job item: an image URL could not be downloaded (network error, timeout, non-200 status).' },
  DFG_ERR_IMPORT_INTERRUPTED: { status: 500, message: 'The process running this import stopped before it reported: %s', doc: 'Import job: the API process that held the bundle died or was killed. An import lands whole or not at all: look for the bundle\'s algorithms (GET /v1/algorithms) and post the bundle again if they are missing (onConflict=merge adds only what is not there).' },
  DFG_ERR_JOB_CHUNK_FAILED: { status: 500, message: 'Chunk %s failed after %s attempt(s): %s', doc: 'Batch job item: its chunk kept failing (worker crashes, infrastructure errors) and was given up; resubmit these images.' },
  // signed gallery bundles (dfg gallery export | import)
  DFG_ERR_BUNDLE_MALFORMED: { status: 400, message: 'Bundle rejected: %s', doc: 'Import: not a bundle tar, an unexpected or missing entry, a manifest that fails its schema, or contents that disagree with the manifest; nothing written.' },
  DFG_ERR_BUNDLE_TRUNCATED: { status: 400, message: 'Bundle is truncated: %s', doc: 'Import: the bundle ends before its last entry does (an interrupted download); nothing written.' },
  DFG_ERR_BUNDLE_TOO_LARGE: { status: 413, message: 'Bundle over its limits: %s', doc: 'Import: the bundle, an entry or the number of entries exceeds the import limits (bombs); nothing written.' },
  DFG_ERR_BUNDLE_VERSION_UNSUPPORTED: { status: 400, message: 'Bundle format %s is not supported (this release reads %s)', doc: 'Import: the bundle was written in another format or format version; nothing written.' },
  DFG_ERR_BUNDLE_UNSIGNED: { status: 400, message: 'Bundle is not signed: %s', doc: 'Import: the bundle has no signature.json as its last entry; nothing written.' },
  DFG_ERR_BUNDLE_UNKNOWN_PUBLISHER: { status: 403, message: 'Bundle publisher %s is not trusted', doc: 'Import: the signing key id is not in the trusted publishers list (DFG_TRUSTED_PUBLISHERS); nothing written.' },
  DFG_ERR_BUNDLE_BAD_SIGNATURE: { status: 400, message: 'Bundle signature of %s does not verify', doc: 'Import: the signature does not match the trusted key of its publisher; nothing written.' },
  DFG_ERR_BUNDLE_TAMPERED: { status: 400, message: 'Bundle entry %s was changed after signing', doc: 'Import: an entry\'s sha256, size or order differs from the signed list (or the tar framing around it was altered); nothing written.' },
  DFG_ERR_BUNDLE_DIMENSION_MISMATCH: { status: 400, message: 'Bundle vectors of %s: %s', doc: 'Import: a vector file does not hold one row of the declared dimension per sample, or the served model of the same id and version has another dimension; nothing written.' },
  DFG_ERR_BUNDLE_NOT_EMBEDDABLE: { status: 409, message: 'Bundle cannot be imported for model %s: %s', doc: 'Import: the bundle has no vectors of a served model (id and version) and lacks the image bytes to embed them (export with --images); nothing written.' },
  DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED: { status: 503, message: 'No trusted publishers: %s', doc: 'Import: DFG_TRUSTED_PUBLISHERS is not set, or its file is not a valid trusted publishers list; nothing written.' },
  DFG_ERR_BUNDLE_SIGNING_NOT_CONFIGURED: { status: 409, message: 'This server signs no bundles: %s', doc: 'GET /v1/exports: DFG_SIGNING_KEY_FILE is not set, so the server has no publisher key to sign a bundle with (export with the CLI, or configure one).' },
  DFG_ERR_BUNDLE_SIGNING_KEY_INVALID: { status: 500, message: 'Signing key %s cannot be used: %s', doc: 'Export: the private key file (dfg keys signing create) cannot be read or is not an Ed25519 signing key.' },
  // simulated genome (dfg genome)
  DFG_ERR_GENOME_INVALID: { status: 422, message: 'Invalid genome request: %s', doc: 'dfg genome: options, the real-photo folder or the genome folder cannot be used (missing, empty, out of range).' },
} as const satisfies Record<string, DfgErrorInfo>;

export type ErrorCode = keyof typeof ERRORS;

type DfgErrorCtor = ReturnType<typeof createError>;
const ctors = new Map<ErrorCode, DfgErrorCtor>();
for (const [code, info] of Object.entries(ERRORS) as [ErrorCode, DfgErrorInfo][]) {
  ctors.set(code, createError(code, info.message, info.status));
}

/** An error of the catalogue; `statusCode` and `code` go straight into the HTTP body. */
export type DfgError = Error & { code: ErrorCode; statusCode: number };

/** `dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', id)` — arguments fill the message's `%s` in order. */
export function dfgError(code: ErrorCode, ...args: unknown[]): DfgError {
  const Ctor = ctors.get(code)!;
  return new Ctor(...args.map(String)) as DfgError;
}

export function isDfgError(err: unknown, code?: ErrorCode): err is DfgError {
  if (!(err instanceof Error)) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c in ERRORS && (code === undefined || c === code);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 64 ? `${s.slice(0, 61)}..."` : s;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  return typeof value;
}

/**
 * DFG_ERR_REQUEST_INVALID in the one sentence every input check uses (route schemas, the gallery's
 * checks, job sources): "Expected X for NAME but received V", V shortened to a safe description.
 */
export function invalid(expected: string, name: string, value: unknown): DfgError {
  return dfgError('DFG_ERR_REQUEST_INVALID', `Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** A catalogue error as plain data, for `reviveError` (crosses worker-thread boundaries). */
export interface SerialisedError {
  code?: string;
  message: string;
}

export function serialiseError(err: unknown): SerialisedError {
  const e = err as { code?: unknown; message?: unknown } | null;
  return {
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}

/** Rebuilds a catalogue error from `{ code, message }` (used across worker-thread boundaries). */
export function reviveError(obj: { code?: string; message?: string }): Error {
  if (obj.code && obj.code in ERRORS) {
    const err = dfgError(obj.code as ErrorCode);
    err.message = obj.message ?? err.message;
    return err;
  }
  return new Error(obj.message ?? 'unknown error');
}
