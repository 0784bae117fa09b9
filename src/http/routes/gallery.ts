import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { GalleryInfo } from '../schemas/attribution.js';
import { errorResponses } from '../schemas/common.js';
import { toGalleryInfo } from '../serialise.js';

export async function galleryRoutes(untyped: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/v1/gallery', {
    config: { scope: 'attribute' },
    schema: {
      operationId: 'getGallery', tags: ['gallery'], summary: 'Models and fusion weights, dimension, counts (samples needing re-embedding included), version, index state and decision settings',
      response: { 200: GalleryInfo, ...errorResponses(401, 403, 503) },
    },
  }, async () => toGalleryInfo(services.need(), services.config, services.origin()));
}
