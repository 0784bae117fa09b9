import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../../gallery/validate.js';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { AlgorithmCreate, AlgorithmList, AlgorithmPatch } from '../schemas/algorithms.js';
import { errorResponses, IdParam, Pagination } from '../schemas/common.js';
import { toAlgorithmBody } from '../serialise.js';
import { auditNote } from '../audit-note.js';

/** Text fields of the algorithm bodies: sent as anything but a JSON string, they are refused. */
const TEXT_FIELDS = ['name', 'description', 'reference'] as const;

/**
 * The route schemas are validated with type coercion (query strings need it), which would turn
 * `"name": ["x"]` or `"name": 42` into a string; the raw body is checked before that happens.
 */
async function textFieldsAreStrings(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  for (const field of TEXT_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (value !== undefined && typeof value !== 'string') throw invalid('a string', field, value);
  }
}

export async function algorithmRoutes(untyped: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/v1/algorithms', {
    config: { scope: 'register' },
    preValidation: textFieldsAreStrings,
    schema: {
      operationId: 'createAlgorithm', tags: ['algorithms'], summary: 'Register a forgery algorithm (or an authentic reference class)',
      body: AlgorithmCreate,
      response: { 201: Type.Ref('Algorithm'), ...errorResponses(400, 401, 403, 409, 415, 503) },
    },
  }, async (request, reply) => {
    const { gallery } = services.need();
    const body = request.body;
    const alg = await gallery.createAlgorithm(body as Parameters<typeof gallery.createAlgorithm>[0], { audit: auditNote(request) });
    request.log.info({ algorithmId: alg.id, name: alg.name }, 'algorithm registered');
    return reply.status(201).send(toAlgorithmBody(alg));
  });

  app.get('/v1/algorithms', {
    config: { scope: 'register' },
    schema: {
      operationId: 'listAlgorithms', tags: ['algorithms'], summary: 'List registered algorithms with sample counts',
      querystring: Pagination,
      response: { 200: AlgorithmList, ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => {
    const { gallery } = services.need();
    const q = request.query;
    const page = await gallery.listAlgorithms({ limit: q.limit, offset: q.offset });
    return { items: page.items.map(toAlgorithmBody), total: page.total, limit: q.limit, offset: q.offset };
  });

  app.get('/v1/algorithms/:id', {
    config: { scope: 'register' },
    schema: {
      operationId: 'getAlgorithm', tags: ['algorithms'], summary: 'Get one algorithm',
      params: IdParam,
      response: { 200: Type.Ref('Algorithm'), ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => {
    const { gallery } = services.need();
    return toAlgorithmBody(await gallery.getAlgorithm(request.params.id));
  });

  app.patch('/v1/algorithms/:id', {
    config: { scope: 'register' },
    preValidation: textFieldsAreStrings,
    schema: {
      operationId: 'updateAlgorithm', tags: ['algorithms'], summary: 'Rename, describe, enable/disable or set a threshold override',
      params: IdParam,
      body: AlgorithmPatch,
      response: { 200: Type.Ref('Algorithm'), ...errorResponses(400, 401, 403, 404, 409, 415, 503) },
    },
  }, async (request) => {
    const { gallery } = services.need();
    const id = request.params.id;
    const alg = await gallery.updateAlgorithm(id, request.body as Parameters<typeof gallery.updateAlgorithm>[1], auditNote(request));
    request.log.info({ algorithmId: id }, 'algorithm updated');
    return toAlgorithmBody(alg);
  });

  app.delete('/v1/algorithms/:id', {
    config: { scope: 'register' },
    schema: {
      operationId: 'deleteAlgorithm', tags: ['algorithms'], summary: 'Delete an algorithm and all its samples',
      params: IdParam,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const { gallery } = services.need();
    const id = request.params.id;
    await gallery.deleteAlgorithm(id, auditNote(request));
    request.log.info({ algorithmId: id }, 'algorithm deleted');
    return reply.status(204).send(null);
  });
}
