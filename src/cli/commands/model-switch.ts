/** `dfg model switch <list>` (also `dfg models switch`); what it does is in ../actions/model-switch.ts. */
import type { Command } from 'commander';
import { withApiOptions } from '../api-options.js';
import { lazyAction } from '../lazy-action.js';

/** Registers `switch` under the `dfg models` command. */
export function registerModelSwitchCommand(models: Command): void {
  withApiOptions(models
    .command('switch')
    .description('Switch the running service to another model list without a restart (after `dfg gallery reembed` or a reembed job)')
    .argument('<list>', 'model list in DFG_MODEL syntax: `residual-v3`, or `a,b:0.5` for a fusion')
    .option('--force', 'switch even though stored samples lack a vector of a listed model (they are not searched until re-embedded)')
    .option('--json', 'print the answer as JSON'))
    .action(lazyAction(() => import('../actions/model-switch.js'), 'modelSwitch'));
}
