import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from './deps.js';
import { jobRoutes } from './routes/jobs.js';

/** Route plugins beyond the core (the batch-job routes, which need Redis), shared by the server and the OpenAPI generator. */
export function jobRouteSet(): Array<FastifyPluginAsync<RouteDeps>> {
  return [jobRoutes];
}
