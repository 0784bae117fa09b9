#!/usr/bin/env node
/**
 * The `dfg` command. commands/ declares every command (arguments, options, help) and imports little
 * more than commander; actions/ holds what they do, imported only by the command that runs
 * (lazy-action.ts), so `dfg --help` or `dfg keys create` never load the model runtime or the server.
 */
import { Command } from 'commander';
import { registerCoreCommands } from './commands/core.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerCalibrateCommand } from './commands/calibrate.js';
import { registerGenomeCommands } from './commands/genome.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerAuditCommand } from './commands/audit.js';
import { isDfgError } from '../errors.js';

const program = new Command();
program.name('dfg').description('DeepfakeGenome attribution service: serve, enrol, attribute, evaluate').showHelpAfterError();
registerCoreCommands(program);
registerJobCommands(program);
registerEvalCommand(program);
registerCalibrateCommand(program);
registerGenomeCommands(program);
registerDemoCommand(program);
registerAuditCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(isDfgError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err));
  process.exit(1);
});
