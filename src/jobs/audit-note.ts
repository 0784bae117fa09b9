import type { AuditNote } from '../gallery/gallery.js';
import type { ChunkData } from './schemas.js';

/** Who made a job's changes, for the audit trail: the key that submitted it (null with auth off), and the job. */
export function jobAudit(data: Pick<ChunkData, 'jobId' | 'keyId'>): AuditNote {
  return { keyId: data.keyId ?? null, context: { job: data.jobId } };
}
