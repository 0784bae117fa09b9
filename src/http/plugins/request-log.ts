/**
 * One log line per request, written when the response has been sent, instead of Fastify's two
 * (incoming + completed). Routes add their outcome (a decision, an id) to `request.logFields`
 * so that it lands on the same line. /v1/attribute is the hot path: every write there is CPU
 * taken from inference on a small machine, and one line per request is what log pipelines want.
 */
import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Extra fields for this request's completion line (never image bytes or bodies). */
    logFields: Record<string, unknown> | null;
    /** No completion line for this request: health probes, requests shed by admission (counted and summarised instead). */
    quietLog: boolean;
  }
}

/** Fastify's request log lines, as one completion line carrying `request.logFields`. */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (request.quietLog && !error) return;
    const fields = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 100) / 100, ...request.logFields };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}

export function registerRequestLog(app: FastifyInstance): void {
  app.decorateRequest('logFields', null);
  app.decorateRequest('quietLog', false);
}
