import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { EnrolResult, SampleList, SampleParams } from '../schemas/algorithms.js';
import { errorResponses, IdParam, Pagination } from '../schemas/common.js';
import { readImageParts } from '../multipart.js';
import { enrolImages } from '../../enrol.js';
import { toSampleBody } from '../serialise.js';

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
    services.need().gallery.getAlgorithm(id);
    const { files } = await readImageParts(request, cfg.DFG_MAX_FILES, cfg.DFG_MAX_IMAGE_BYTES);
    // Embedded and committed with the models serving now, held until committed (a model switch waits).
    const summary = await services.use((parts) => enrolImages(parts, id, files));
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
    const page = gallery.listSamples(id, { limit: q.limit, offset: q.offset });
    return { items: page.items.map(toSampleBody), total: page.total, limit: q.limit, offset: q.offset };
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
    gallery.deleteSample(p.id, p.sampleId);
    request.log.info({ algorithmId: p.id, sampleId: p.sampleId }, 'sample deleted');
    return reply.status(204).send(null);
  });
}
