/**
 * The root error handler: catalogue errors pass through; validation, parser and other framework
 * 4xx are mapped to catalogue codes of their own; unexpected 5xx are masked (logged with the request id).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import { dfgError, isDfgError, type DfgError } from '../../errors.js';
import { schemaError } from '../schema-errors.js';

/** Fastify and plugin error codes mapped to ours. */
const FASTIFY_CODES: Record<string, (err: FastifyError) => DfgError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => dfgError('DFG_ERR_REQUEST_UNSUPPORTED_MEDIA', firstLine(e.message)),
  FST_INVALID_MULTIPART_CONTENT_TYPE: () => dfgError('DFG_ERR_REQUEST_UNSUPPORTED_MEDIA', 'expected multipart/form-data'),
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => dfgError('DFG_ERR_REQUEST_BAD_JSON', firstLine(e.message)),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => dfgError('DFG_ERR_REQUEST_BAD_JSON', 'empty body with content-type application/json'),
  FST_ERR_CTP_BODY_TOO_LARGE: (e) => dfgError('DFG_ERR_REQUEST_BODY_TOO_LARGE', firstLine(e.message)),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (e) => dfgError('DFG_ERR_REQUEST_BAD_CONTENT_LENGTH', firstLine(e.message)),
  FST_ERR_BAD_URL: (e) => dfgError('DFG_ERR_REQUEST_BAD_URL', firstLine(e.message)),
  FST_FILES_LIMIT: () => dfgError('DFG_ERR_UPLOAD_TOO_MANY_PARTS', 'too many files'),
  FST_PARTS_LIMIT: () => dfgError('DFG_ERR_UPLOAD_TOO_MANY_PARTS', 'too many parts'),
  FST_FIELDS_LIMIT: () => dfgError('DFG_ERR_UPLOAD_TOO_MANY_PARTS', 'too many fields'),
  FST_PROTO_VIOLATION: (e) => dfgError('DFG_ERR_UPLOAD_MALFORMED', firstLine(e.message)),
  FST_MP_PREMATURE_CLOSE: (e) => dfgError('DFG_ERR_UPLOAD_MALFORMED', firstLine(e.message)),
  FST_INVALID_JSON_FIELD_ERROR: (e) => dfgError('DFG_ERR_UPLOAD_MALFORMED', firstLine(e.message)),
};

/** Other 4xx by status: errors that carry no code of their own (@fastify/static's conditional and range answers for /console). */
const BY_STATUS: Record<number, (err: FastifyError) => DfgError> = {
  412: (e) => dfgError('DFG_ERR_REQUEST_PRECONDITION_FAILED', firstLine(e.message)),
  413: (e) => dfgError('DFG_ERR_REQUEST_BODY_TOO_LARGE', firstLine(e.message)),
  415: (e) => dfgError('DFG_ERR_REQUEST_UNSUPPORTED_MEDIA', firstLine(e.message)),
  416: (e) => dfgError('DFG_ERR_REQUEST_RANGE_NOT_SATISFIABLE', firstLine(e.message)),
};

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 300);
}

/** Maps any thrown value to a catalogue error (5xx masked). */
export function toDfgError(err: FastifyError | Error): { error: DfgError; unexpected: boolean } {
  if (isDfgError(err)) return { error: err, unexpected: false };
  const fe = err as FastifyError;
  if (fe.validation?.length) return { error: schemaError(fe.validationContext ?? 'request', fe.validation), unexpected: false };
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { error: mapped(fe), unexpected: false };
  const status = fe.statusCode ?? 500;
  const byStatus = BY_STATUS[status];
  if (byStatus) return { error: byStatus(fe), unexpected: false };
  if (status >= 400 && status < 500) {
    const e = dfgError('DFG_ERR_REQUEST_REFUSED', firstLine(fe.message));
    e.statusCode = status;
    return { error: e, unexpected: false };
  }
  return { error: dfgError('DFG_ERR_INTERNAL'), unexpected: true };
}

/** The root error and not-found handlers (not encapsulated: they answer for every route). */
export const errorHandling = fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { error, unexpected } = toDfgError(err);
    if (unexpected) request.log.error({ err }, 'unexpected error');
    // Refused requests are logged on their completion line (see request-log.ts).
    else request.logFields = { ...request.logFields, code: error.code, error: error.message };
    const retryAfter = (err as { retryAfter?: number }).retryAfter;
    if (error.statusCode === 503 || error.statusCode === 429) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter ?? 1))));
    void reply.status(error.statusCode).send(errorBody(error));
  });
  app.setNotFoundHandler((request, reply) => {
    const e = dfgError('DFG_ERR_ROUTE_NOT_FOUND', `${request.method} ${request.url.split('?')[0]}`);
    void reply.status(404).send(errorBody(e));
  });
}, { name: 'dfg-errors' });

/** Fastify's error body `{ statusCode, code, error, message }`; `error` is the status's reason phrase as Node names it. */
export function errorBody(error: DfgError): { statusCode: number; code: string; error: string; message: string } {
  const reason = STATUS_CODES[error.statusCode] ?? (error.statusCode >= 500 ? 'Internal Server Error' : 'Bad Request');
  return { statusCode: error.statusCode, code: error.code, error: reason, message: error.message };
}
