/** `dfg audit`; what it does is in ../actions/audit.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { withApiOptions } from '../api-options.js';
import { lazyAction } from '../lazy-action.js';

function pageSize(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError(`Expected an integer in [1, 1000] but received ${JSON.stringify(v)}`);
  return n;
}

export function registerAuditCommand(program: Command): void {
  withApiOptions(program
    .command('audit')
    .description('List the audit trail of the running service: every change of the registry, who made it, what changed (GET /v1/audit, admin scope)')
    .option('--since <seq|time>', 'rows after this audit seq, or at or after this ISO 8601 time (2026-12-01, 2026-12-01T09:30:00Z)')
    .option('--limit <n>', 'rows per page (1 to 1000)', pageSize, 100)
    .option('--all', 'follow the pages to the end (default: the first page only)')
    .option('--json', 'print JSON lines'))
    .action(lazyAction(() => import('../actions/audit.js'), 'audit'));
}
