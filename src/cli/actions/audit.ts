/** `dfg audit`: the running service's audit trail (GET /v1/audit, admin scope). Its options: ../commands/audit.ts. */
import { api, ok, type ApiOptions } from '../api.js';
import type { operations } from '../../api-client/index.js';

type Entry = operations['listAudit']['responses'][200]['content']['application/json']['items'][number];

/** One line a person reads: seq, time, key, action, subject, and what changed. */
export function auditLine(e: Entry): string {
  const { context, ...rest } = e.detail as Record<string, unknown>;
  const what = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return [String(e.seq).padStart(6), e.at, (e.keyId ?? '-').padEnd(12), e.action.padEnd(20), e.subject ?? '-', what, context ? `(${JSON.stringify(context)})` : '']
    .filter(Boolean).join('  ');
}

export async function audit(o: ApiOptions & { since?: string; limit: number; all?: boolean; json?: boolean }): Promise<void> {
  const { client } = api(o);
  let cursor: string | undefined;
  let shown = 0;
  for (;;) {
    const page = await ok(client.GET('/v1/audit', { params: { query: { limit: o.limit, ...(o.since ? { since: o.since } : {}), ...(cursor ? { cursor } : {}) } } }));
    for (const e of page.items) console.log(o.json ? JSON.stringify(e) : auditLine(e));
    shown += page.items.length;
    if (!o.all || page.nextCursor === null) {
      if (!o.json && page.nextCursor !== null) console.error(`more: dfg audit --since ${page.nextCursor} (or --all)`);
      break;
    }
    cursor = page.nextCursor;
  }
  if (!o.json && shown === 0) console.error('no audit rows');
}
