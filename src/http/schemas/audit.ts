import { Type } from '@sinclair/typebox';
import { AUDIT_ACTIONS } from '../../gallery/types.js';

/** The largest seq a cursor or `since` names: far beyond any audit trail, small enough to stay an exact integer everywhere. */
export const MAX_AUDIT_SEQ = 999_999_999_999_999;

export const AuditQuery = Type.Object({
  since: Type.Optional(Type.String({
    minLength: 1, maxLength: 40,
    description: 'Rows after this audit seq (an integer), or at or after this time (ISO 8601, e.g. `2026-12-01` or `2026-12-01T09:30:00Z`).',
  })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'The `nextCursor` of the previous page.' })),
}, { additionalProperties: false });

export const AuditEntryBody = Type.Object({
  seq: Type.Integer({ description: 'Increasing, never reused.' }),
  at: Type.String({ description: 'When (ISO 8601, UTC).' }),
  keyId: Type.Union([Type.String(), Type.Null()], { description: 'The API key id that made the change; null with auth off, from the CLI, or by the server on its own (automatic calibration).' }),
  action: Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a))),
  subject: Type.Union([Type.String(), Type.Null()], { description: 'The algorithm, sample, model list, bundle or attribution id it concerns.' }),
  detail: Type.Record(Type.String(), Type.Unknown(), {
    description: 'What changed: for an update the changed fields as [before, after]; `context` says what caused it (an import, a job, feedback on an attribution).',
  }),
});

export const AuditPage = Type.Object({
  items: Type.Array(AuditEntryBody),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null when this page is the last one for now.' }),
});
