import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { errorResponses } from '../schemas/common.js';
import { AuditPage, AuditQuery, MAX_AUDIT_SEQ } from '../schemas/audit.js';
import { invalid } from '../../gallery/validate.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `since` as a seq to read after, or a time (as the store writes times: toISOString) to read from. */
export function parseSince(since: string | undefined): { afterSeq: number; since?: string } {
  if (since === undefined) return { afterSeq: 0 };
  if (/^[0-9]{1,15}$/.test(since)) {
    const seq = Number(since);
    if (seq <= MAX_AUDIT_SEQ) return { afterSeq: seq };
  }
  const ms = ISO_DATE.test(since) ? Date.parse(since) : NaN;
  // Years 0000-9999 only: toISOString writes others with a sign, which would not compare as text.
  if (!Number.isFinite(ms) || ms < Date.UTC(0, 0, 1) || ms > Date.UTC(9999, 11, 31, 23, 59, 59, 999)) {
    throw invalid('an audit seq or an ISO 8601 time', 'since', since);
  }
  return { afterSeq: 0, since: new Date(ms).toISOString() };
}

export async function auditRoutes(untyped: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/v1/audit', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'listAudit', tags: ['gallery'],
      summary: 'The audit trail: every change of the registry, who made it and what changed, oldest first',
      description: 'Append-only, kept in the gallery store (it survives restarts and `dfg gallery migrate`). Each change writes its row in the same transaction as the change itself. ' +
        'Actions: algorithm.create, algorithm.update (rename, threshold, enable/disable: the changed fields), algorithm.delete, samples.enrol, sample.delete, vectors.add (re-embedding), ' +
        'bundle.import (with one row per write of the import before it), calibration.save, model.switch, attribution.feedback. Page with `cursor` (the last page answers `nextCursor: null`).',
      querystring: AuditQuery,
      response: { 200: AuditPage, ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => {
    const q = request.query;
    const from = parseSince(q.since);
    const cursor = q.cursor === undefined ? 0 : Number(q.cursor);
    const items = await services.use(({ gallery }) => gallery.listAudit({ afterSeq: Math.max(from.afterSeq, cursor), ...(from.since ? { since: from.since } : {}), limit: q.limit }));
    return { items, nextCursor: items.length === q.limit ? String(items[items.length - 1]!.seq) : null };
  });
}
