/**
 * Signed gallery bundles over HTTP (admin): GET /v1/exports streams a bundle signed with the
 * server's publisher key (DFG_SIGNING_KEY_FILE); POST /v1/imports streams the bundle sent as the
 * request body to a temporary file (bounded by DFG_MAX_BUNDLE_BYTES), verifies it, and imports it in
 * the request (small bundles, 200) or as a job of this process (202; ../../jobs/import-runner.ts).
 * The work is in ../../exchange/.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { auditNote } from '../audit-note.js';
import { errorResponses } from '../schemas/common.js';
import { dfgError, isDfgError } from '../../errors.js';
import { CONFLICT_MODES, exportBundle, importVerifiedBundle, readSigningKey, readTrustList, verifyBundle } from '../../exchange/index.js';
import { createImportRunner, type ImportRunner } from '../../jobs/index.js';
import { ImportResult } from '../schemas/exchange.js';
import { JobAccepted } from '../schemas/jobs.js';

const ExportQuery = Type.Object({
  algorithms: Type.String({ minLength: 1, maxLength: 10_000, description: 'Comma-separated algorithm ids or names.' }),
  images: Type.Boolean({ default: false, description: 'Include the kept image bytes (a gallery served by another model can then embed them).' }),
}, { additionalProperties: false });

const ImportQuery = Type.Object({
  onConflict: Type.Union(CONFLICT_MODES.map((m) => Type.Literal(m)), { default: 'new', description: 'An algorithm name the gallery has: new (import under `name (publisher)`), merge (add its samples), skip.' }),
  async: Type.Optional(Type.Boolean({ description: 'true: run the import as a job (202) whatever its size; false: import in the request (200). Absent: a job when the bundle holds more than DFG_IMPORT_SYNC_MAX_SAMPLES samples.' })),
}, { additionalProperties: false });

const BUNDLE_TYPE = 'application/octet-stream';

/** Streams the body to a new temporary folder's `bundle` file; DFG_ERR_BUNDLE_TOO_LARGE past `max` (the folder is then gone). */
async function receiveBundle(body: NodeJS.ReadableStream, max: number): Promise<{ dir: string; file: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-bundle-'));
  const file = path.join(dir, 'bundle');
  let n = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      done(n > max ? dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${max} bytes (DFG_MAX_BUNDLE_BYTES)`) : null, chunk);
    },
  });
  try {
    await pipeline(body, bound, (await fs.open(file, 'wx', 0o600)).createWriteStream());
    return { dir, file };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    if (isDfgError(err)) throw err;
    throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', `the upload ended early (${(err as Error).message.slice(0, 200)})`);
  }
}

export async function exchangeRoutes(untyped: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const cfg = services.config;
  // The bundle is read by the route (bounded by DFG_MAX_BUNDLE_BYTES), not by a body parser.
  app.addContentTypeParser(BUNDLE_TYPE, (_request, payload, done) => done(null, payload));
  let runner: ImportRunner | undefined;
  const importRunner = () => (runner ??= createImportRunner({ config: cfg, log: app.log as unknown as Logger, use: (fn) => services.use(fn) }));
  app.addHook('onClose', async () => runner?.close());

  app.get('/v1/exports', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'exportBundle', tags: ['exchange'],
      summary: 'Download algorithms with their samples and vectors as a bundle signed with the server\'s publisher key',
      description: 'The bundle format is in the README (Sharing galleries: signed bundles). 409 DFG_ERR_BUNDLE_SIGNING_NOT_CONFIGURED without DFG_SIGNING_KEY_FILE.',
      querystring: ExportQuery,
      response: { 200: { type: 'string', format: 'binary', description: 'The bundle (application/octet-stream)' }, ...errorResponses(400, 401, 403, 404, 409, 500, 503) },
    },
  }, async (request, reply) => {
    const q = request.query;
    if (!cfg.DFG_SIGNING_KEY_FILE) throw dfgError('DFG_ERR_BUNDLE_SIGNING_NOT_CONFIGURED', 'set DFG_SIGNING_KEY_FILE');
    const signing = await readSigningKey(cfg.DFG_SIGNING_KEY_FILE);
    const refs = q.algorithms.split(',').map((s) => s.trim()).filter(Boolean);
    if (refs.length === 0) throw dfgError('DFG_ERR_REQUEST_INVALID', 'Expected algorithm ids or names for algorithms');
    const { stream, summary } = await services.use(({ gallery, embedder }) => exportBundle(gallery, {
      algorithms: refs, images: q.images, signer: { publisher: signing.id, key: signing.key },
      models: embedder.models.map((m) => ({ id: m.id, version: m.version, dim: m.dim })),
    }));
    request.log.info({ publisher: signing.id, ...summary, skipped: summary.skipped.length, imagesNotKept: summary.imagesNotKept.length }, 'bundle exported');
    return reply
      .type(BUNDLE_TYPE)
      .header('content-disposition', `attachment; filename="${signing.id}-${new Date().toISOString().slice(0, 10)}.dfgb"`)
      .send(stream);
  });

  app.post('/v1/imports', {
    config: { scope: 'admin' },
    bodyLimit: cfg.DFG_MAX_BUNDLE_BYTES,
    schema: {
      operationId: 'importBundle', tags: ['exchange'],
      summary: 'Verify a signed bundle (the request body) against DFG_TRUSTED_PUBLISHERS and import it, all or nothing',
      description: 'Send the bundle as application/octet-stream; it is streamed to a temporary file (413 past DFG_MAX_BUNDLE_BYTES) and verified before anything else: ' +
        'every refusal (DFG_ERR_BUNDLE_*) writes nothing. Vectors of a served model (same id and version) are used as they are; otherwise the bundle\'s image bytes are embedded. ' +
        'A bundle of at most DFG_IMPORT_SYNC_MAX_SAMPLES samples is imported in the request (200 with the result); a larger one (or `async=true`) runs as a job of this server ' +
        '(202; follow GET /v1/jobs/{id}: progress in samples applied, then the counts and the result in `import`). Each imported sample and algorithm records its provenance.',
      querystring: ImportQuery,
      consumes: [BUNDLE_TYPE],
      response: { 200: ImportResult, 202: JobAccepted, ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503) },
    },
  }, async (request, reply) => {
    const q = request.query;
    const trust = await readTrustList(cfg.DFG_TRUSTED_PUBLISHERS);
    // Fastify parses JSON and text bodies itself; only the raw stream of this route's type is a bundle.
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== BUNDLE_TYPE) throw dfgError('DFG_ERR_REQUEST_UNSUPPORTED_MEDIA', `expected ${BUNDLE_TYPE}, received ${JSON.stringify(type)}`);
    const body = request.body as NodeJS.ReadableStream | undefined;
    if (!body) throw dfgError('DFG_ERR_BUNDLE_MALFORMED', 'empty body');
    const { dir, file } = await receiveBundle(body, cfg.DFG_MAX_BUNDLE_BYTES);
    let handedOver = false;
    try {
      const bundle = await verifyBundle(file, trust, { maxBytes: cfg.DFG_MAX_BUNDLE_BYTES });
      const samples = bundle.manifest.algorithms.reduce((n, a) => n + a.samples.length, 0);
      if (q.async ?? samples > cfg.DFG_IMPORT_SYNC_MAX_SAMPLES) {
        handedOver = true; // the runner closes the bundle and removes the folder, also when submit throws
        const view = await importRunner().submit({ bundle, dir, name: `${bundle.publisher} ${bundle.sha256.slice(0, 12)}`, onConflict: q.onConflict, audit: auditNote(request) });
        return reply.status(202).header('location', `/v1/jobs/${view.id}`).send({ jobId: view.id, kind: view.kind, state: view.state, total: view.progress.total, location: `/v1/jobs/${view.id}` });
      }
      try {
        const summary = await services.use(({ gallery, embedder }) => importVerifiedBundle({ gallery, embedder }, bundle, { trust, onConflict: q.onConflict, audit: auditNote(request) }));
        request.log.info({ publisher: summary.publisher, bundleSha256: summary.bundleSha256, created: summary.created, duplicates: summary.duplicates }, 'bundle imported');
        return summary;
      } finally {
        await bundle.close();
      }
    } finally {
      if (!handedOver) await fs.rm(dir, { recursive: true, force: true });
    }
  });
}
