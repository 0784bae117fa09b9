/**
 * Signed gallery bundles over HTTP (admin): GET /v1/exports streams a bundle signed with the
 * server's publisher key (DFG_SIGNING_KEY_FILE); POST /v1/imports verifies and imports one sent as
 * the request body. The work is in ../../exchange/.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { errorResponses } from '../schemas/common.js';
import { dfgError } from '../../errors.js';
import { CONFLICT_MODES, exportBundle, importBundle, readBounded, readSigningKey, readTrustList } from '../../exchange/index.js';

const ExportQuery = Type.Object({
  algorithms: Type.String({ minLength: 1, maxLength: 10_000, description: 'Comma-separated algorithm ids or names.' }),
  images: Type.Boolean({ default: false, description: 'Include the kept image bytes (a gallery served by another model can then embed them).' }),
}, { additionalProperties: false });

const ImportQuery = Type.Object({
  onConflict: Type.Union(CONFLICT_MODES.map((m) => Type.Literal(m)), { default: 'new', description: 'An algorithm name the gallery has: new (import under `name (publisher)`), merge (add its samples), skip.' }),
}, { additionalProperties: false });

const ImportResult = Type.Object({
  bundleSha256: Type.String(),
  publisher: Type.String(),
  models: Type.Record(Type.String(), Type.Union([Type.Literal('bundle'), Type.Literal('embedded')]), { description: 'Per served model: vectors used from the bundle, or embedded from its image bytes.' }),
  algorithms: Type.Array(Type.Object({
    name: Type.String({ description: 'Name in the bundle.' }),
    action: Type.Union([Type.Literal('created'), Type.Literal('merged'), Type.Literal('skipped')]),
    id: Type.Optional(Type.String()),
    galleryName: Type.Optional(Type.String()),
    created: Type.Integer(),
    duplicates: Type.Integer(),
  })),
  created: Type.Integer(),
  duplicates: Type.Integer(),
});

const BUNDLE_TYPE = 'application/octet-stream';

export async function exchangeRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const cfg = services.config;
  // The bundle is read by the route (bounded by DFG_MAX_BUNDLE_BYTES), not by a body parser.
  app.addContentTypeParser(BUNDLE_TYPE, (_request, payload, done) => done(null, payload));

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
    const q = request.query as Static<typeof ExportQuery>;
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
      description: 'Send the bundle as application/octet-stream. Vectors of a served model (same id and version) are used as they are; otherwise the bundle\'s image bytes are embedded. Every refusal (DFG_ERR_BUNDLE_*) writes nothing.',
      querystring: ImportQuery,
      consumes: [BUNDLE_TYPE],
      response: { 200: ImportResult, ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503) },
    },
  }, async (request) => {
    const q = request.query as Static<typeof ImportQuery>;
    const trust = await readTrustList(cfg.DFG_TRUSTED_PUBLISHERS);
    // Fastify parses JSON and text bodies itself; only the raw stream of this route's type is a bundle.
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== BUNDLE_TYPE) throw dfgError('DFG_ERR_REQUEST_UNSUPPORTED_MEDIA', `expected ${BUNDLE_TYPE}, received ${JSON.stringify(type)}`);
    const body = request.body as AsyncIterable<Uint8Array> | undefined;
    if (!body) throw dfgError('DFG_ERR_BUNDLE_MALFORMED', 'empty body');
    // Read once, before the parts are held: a retry after a model switch reuses the bytes.
    const bytes = await readBounded(body, cfg.DFG_MAX_BUNDLE_BYTES);
    const summary = await services.use(({ gallery, embedder }) => importBundle({ gallery, embedder }, bytes, { trust, onConflict: q.onConflict, limits: { maxBytes: cfg.DFG_MAX_BUNDLE_BYTES } }));
    request.log.info({ publisher: summary.publisher, bundleSha256: summary.bundleSha256, created: summary.created, duplicates: summary.duplicates }, 'bundle imported');
    return summary;
  });
}
