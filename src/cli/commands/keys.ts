/** `dfg keys create`; what it does is in ../actions/keys.ts. */
import type { Command } from 'commander';
import { SCOPES } from '../../http/plugins/scopes.js';
import { lazyAction } from '../lazy-action.js';
import { registerSigningCommand } from './exchange.js';

/** Registers `dfg keys create` on the program. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('API keys, and publisher keys that sign gallery bundles');
  keys
    .command('create')
    .description('Generate a key; prints the key once and the hashed entry for DFG_API_KEYS_FILE')
    .requiredOption('--id <id>', 'key name (unique in the keys file)')
    .option('--scopes <list>', `comma-separated: ${SCOPES.join(',')}`, 'attribute')
    .option('--file <path>', 'append the hashed entry to this keys file (created if missing, mode 0600)')
    .action(lazyAction(() => import('../actions/keys.js'), 'createKey'));
  registerSigningCommand(keys);
}
