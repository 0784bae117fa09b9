import type { FastifyRequest } from 'fastify';
import type { AuditNote } from '../gallery/gallery.js';

/** Who makes a change through this request: its API key id (null with auth off), for the audit trail. */
export function auditNote(request: FastifyRequest, context?: Record<string, unknown>): AuditNote {
  return { keyId: request.apiKeyId ?? null, ...(context ? { context } : {}) };
}
