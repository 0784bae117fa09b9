import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';

export async function healthRoutes(untyped: FastifyInstance, { services, metrics }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const livez = metrics.probes.labels('livez');
  const readyz = metrics.probes.labels('readyz');
  // Probes answer from memory, with no log line and no latency histogram (see metrics.ts).
  app.get('/livez', {
    config: { probe: true },
    schema: { operationId: 'livez', tags: ['health'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async (request) => {
    request.quietLog = true;
    livez.inc();
    return { status: 'ok' as const };
  });

  const Ready = Type.Object({ status: Type.String(), model: Type.Boolean(), gallery: Type.Boolean(), error: Type.Optional(Type.String()) });
  app.get('/readyz', {
    config: { probe: true },
    schema: {
      operationId: 'readyz', tags: ['health'], summary: 'Ready once the model and the gallery index are loaded',
      response: { 200: Ready, 503: Ready },
    },
  }, async (request, reply) => {
    request.quietLog = true;
    readyz.inc();
    const { embedder, gallery, error } = services.peek();
    const ready = Boolean(embedder && gallery);
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : error ? 'failed' : 'loading', model: Boolean(embedder), gallery: Boolean(gallery),
      ...(error ? { error: error.message } : {}),
    });
  });

  app.get('/metrics', {
    schema: {
      operationId: 'metrics', tags: ['health'], summary: 'Prometheus metrics',
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'Prometheus text exposition format' }) },
    },
  }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
