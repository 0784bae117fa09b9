/**
 * One log line per request, written when the response has been sent, instead of Fastify's two
 * (incoming + completed). Routes add their outcome (a decision, an id) to `request.logFields`
 * so that it lands on the same line. /v1/attribute is the hot path: one write per request there
 * is measurable CPU on a small machine, and one line is what log pipelines want anyway.
 */
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Extra fields for this request's completion line (never image bytes or bodies). */
    logFields: Record<string, unknown> | null;
  }
}

export function registerRequestLog(app: FastifyInstance): void {
  app.decorateRequest('logFields', null);
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 100) / 100, ...request.logFields },
      'request completed',
    );
    done();
  });
}
