/**
 * Ajv coerces `Infinity` and `-Infinity` in a query string to numbers that pass `type: integer`
 * and its `minimum`/`maximum` (a coercion quirk), so `?limit=Infinity` reached Redis as "not an
 * integer" (500). After validation, any non-finite number in the query is refused here, for every route.
 */
import type { FastifyInstance } from 'fastify';
import { dfgError } from '../../errors.js';

export function registerQueryGuard(app: FastifyInstance): void {
  // A callback hook: every request passes it, most with an empty query, none needs a promise.
  app.addHook('preHandler', (request, _reply, done) => {
    const query = request.query;
    if (!query || typeof query !== 'object') return done();
    for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) {
        return done(dfgError('DFG_ERR_REQUEST_INVALID', `querystring/${name.slice(0, 50)} must be a finite number`));
      }
    }
    done();
  });
}
