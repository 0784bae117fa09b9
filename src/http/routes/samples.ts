import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { EnrolResult, SampleList, SampleParams } from '../schemas/algorithms.js';
import { errorResponses, IdParam, Pagination } from '../schemas/common.js';
import { readImageParts } from '../multipart.js';
import { enrolImages } from '../../use-cases/enrol.js';
import { toSampleBody } from '../serialise.js';
import { thumbnailImage } from '../../embedding/index.js';
import { dfgError } from '../../errors.js';
import { auditNote } from '../audit-note.js';

/** Longest side of a sample thumbnail: enough for evidence side by side, small enough to list dozens. */
export const THUMBNAIL_MAX_SIDE = 256;

export async function sampleRoutes(untyped: FastifyInstance, { services, metrics }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const cfg = services.config;

  app.post('/v1/algorithms/:id/samples', {
    config: { scope: 'register', multipart: 'files' },
    schema: {
      operationId: 'enrolSamples', tags: ['samples'],
      summary: 'Enrol sample images (multipart, one or many files); answered per file',
      description: `Each file is decoded at native resolution, embedded and committed to the store before the answer. The same bytes enrolled twice for one algorithm are recognised by sha256. At most ${cfg.DFG_MAX_FILES} files per request. When every file fails, the answer is the first file's error.`,
      params: IdParam,
      response: {
        200: { ...EnrolResult, description: 'Nothing new: every file was already enrolled' },
        201: { ...EnrolResult, description: 'At least one sample created' },
        ...errorResponses(400, 401, 403, 404, 413, 415, 422, 503),
      },
    },
  }, async (request, reply) => {
    const id = request.params.id;
    await services.need().gallery.getAlgorithm(id);
    const { files } = await readImageParts(request, cfg.DFG_MAX_FILES, cfg.DFG_MAX_IMAGE_BYTES);
    // Embedded and committed with the models serving now, held until committed (a model switch waits).
    const summary = await services.use((parts) => enrolImages(parts, id, files, { audit: auditNote(request) }));
    for (const r of summary.results) metrics.enrolled.inc({ outcome: r.status });
    request.log.info({ algorithmId: id, created: summary.created, duplicates: summary.duplicates, failed: summary.failed }, 'samples enrolled');
    if (summary.created === 0 && summary.duplicates === 0) throw summary.firstError!;
    const { firstError: _, ...body } = summary;
    return reply.status(summary.created > 0 ? 201 : 200).send(body);
  });

  app.get('/v1/algorithms/:id/samples', {
    config: { scope: 'register' },
    schema: {
      operationId: 'listSamples', tags: ['samples'], summary: "List an algorithm's samples for the serving model",
      params: IdParam,
      querystring: Pagination,
      response: { 200: SampleList, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request) => {
    const { gallery } = services.need();
    const id = request.params.id;
    const q = request.query;
    const page = await gallery.listSamples(id, { limit: q.limit, offset: q.offset });
    return { items: page.items.map(toSampleBody), total: page.total, limit: q.limit, offset: q.offset };
  });

  app.get('/v1/algorithms/:id/samples/:sampleId/thumbnail', {
    config: { scope: 'register' },
    schema: {
      operationId: 'getSampleThumbnail', tags: ['samples'],
      summary: `A WebP thumbnail (at most ${THUMBNAIL_MAX_SIDE} px a side) of a sample's kept image`,
      description: 'Made from the image bytes kept under the gallery (DFG_KEEP_IMAGES); 404 DFG_ERR_SAMPLE_IMAGE_NOT_KEPT when they were not kept. ' +
        'Needs the register scope: enrolled images are the registry\'s material, not every attribute caller\'s. Cached privately by the browser, per key (the bytes of a sample never change).',
      params: SampleParams,
      response: {
        200: { description: 'The thumbnail', content: { 'image/webp': { schema: Type.String({ format: 'binary' }) } } },
        ...errorResponses(401, 403, 404, 422, 503),
      },
    },
  }, async (request, reply) => {
    const { gallery } = services.need();
    const p = request.params;
    await gallery.getAlgorithm(p.id);
    const sample = await gallery.getSample(p.id, p.sampleId);
    const bytes = await gallery.readImage(sample.sha256);
    if (!bytes) throw dfgError('DFG_ERR_SAMPLE_IMAGE_NOT_KEPT', p.sampleId);
    const webp = await thumbnailImage(bytes, THUMBNAIL_MAX_SIDE, { maxBytes: cfg.DFG_MAX_IMAGE_BYTES, maxPixels: cfg.DFG_MAX_PIXELS });
    // Cached by the browser only, and per key: another key in the same browser asks again (and may be refused).
    return reply.type('image/webp').header('cache-control', 'private, max-age=86400').header('vary', 'authorization, x-api-key')
      .header('x-content-type-options', 'nosniff')
      // The schema's `string` (format binary) is the WebP bytes: Fastify sends a Buffer as it is.
      .send(webp as unknown as string);
  });

  app.delete('/v1/algorithms/:id/samples/:sampleId', {
    config: { scope: 'register' },
    schema: {
      operationId: 'deleteSample', tags: ['samples'], summary: 'Delete one sample',
      params: SampleParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const { gallery } = services.need();
    const p = request.params;
    await gallery.deleteSample(p.id, p.sampleId, auditNote(request));
    request.log.info({ algorithmId: p.id, sampleId: p.sampleId }, 'sample deleted');
    return reply.status(204).send(null);
  });
}
