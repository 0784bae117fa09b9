/**
 * Ajv coerces `Infinity` and `-Infinity` in a query string to numbers that pass `type: integer`
 * and its `minimum`/`maximum` (a coercion quirk), so `?limit=Infinity` reached Redis as "not an
 * integer" (500). After validation, any non-finite number in the query is refused here, for every route.
 */
import fp from 'fastify-plugin';
import { invalid } from '../../errors.js';

/** Not encapsulated: the hook guards every route. */
export const queryGuard = fp(async (app) => {
  // A callback hook: every request passes it, most with an empty query, none needs a promise.
  app.addHook('preHandler', (request, _reply, done) => {
    const query = request.query;
    if (!query || typeof query !== 'object') return done();
    for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
      const values = Array.isArray(value) ? value : [value];
      const bad = values.find((v) => typeof v === 'number' && !Number.isFinite(v));
      if (bad !== undefined) return done(invalid('a finite number', `querystring/${name.slice(0, 50)}`, bad));
    }
    done();
  });
}, { name: 'dfg-query-guard' });
