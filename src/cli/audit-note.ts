import type { AuditNote } from '../gallery/types.js';

/** Changes `dfg` makes directly on the local gallery: no API key, and the audit trail says they came from the CLI. */
export const CLI_AUDIT: AuditNote = Object.freeze({ keyId: null, context: Object.freeze({ via: 'cli' }) });
