/** `dfg gallery reembed --model <id> [--switch [models]]`; what it does is in ../actions/reembed.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_PAGE_LIMIT } from '../../gallery/validate.js';
import { lazyAction } from '../lazy-action.js';

/** Images embedded per step at most: a step is one page of the gallery's samples lacking a vector. */
const MAX_BATCH = MAX_PAGE_LIMIT;

function batchSize(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_BATCH) throw new InvalidArgumentError(`Expected an integer in [1, ${MAX_BATCH}] but received ${JSON.stringify(v)}`);
  return n;
}

/** Registers `reembed` under the `dfg gallery` command. */
export function registerReembedCommand(gallery: Command): void {
  gallery
    .command('reembed')
    .description('Embed every kept image with another model and store its vectors (the running service keeps serving); --switch prepares the switch to it')
    .requiredOption('--model <id>', 'model to embed with (models/<id>/), e.g. a new version or a drop-in CLIP export')
    .option('--switch [models]', 'then build, snapshot and calibrate the index of this DFG_MODEL list (default: the model alone)')
    .option('--batch <n>', 'images embedded per step', batchSize, 32)
    .option('--json', 'print the result as JSON')
    .action(lazyAction(() => import('../actions/reembed.js'), 'reembed'));
}
