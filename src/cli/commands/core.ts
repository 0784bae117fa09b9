/** `dfg serve | enrol | attribute | gallery | models` (and `keys`, keys.ts); what they do is in ../actions/serve.ts, core.ts and models.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { lazyAction } from '../lazy-action.js';
import { registerReembedCommand } from './reembed.js';
import { registerModelSwitchCommand } from './model-switch.js';
import { registerKeysCommand } from './keys.js';
import { registerExchangeCommands } from './exchange.js';

/** As POST /v1/attribute's k. */
const MAX_CANDIDATES = 20;

function candidateCount(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_CANDIDATES) throw new InvalidArgumentError(`Expected an integer in [1, ${MAX_CANDIDATES}] but received ${JSON.stringify(v)}`);
  return n;
}

const actions = () => import('../actions/core.js');
const modelActions = () => import('../actions/models.js');

export function registerCoreCommands(program: Command): void {
  program.command('serve').description('Start the HTTP service (configured by environment variables, see README)').action(lazyAction(() => import('../actions/serve.js'), 'serve'));

  program
    .command('enrol')
    .description('Enrol images (files or folders) as samples of an algorithm (id or name), directly into the local gallery')
    .argument('<algorithm>', 'algorithm id or name')
    .argument('<paths...>', 'image files or folders')
    .option('--create', 'register the algorithm when no algorithm of that name exists')
    .option('--forgery-type <t>', 'with --create: FS|FR|EFS|FE|authentic|unknown', 'unknown')
    .option('--architecture <a>', 'with --create: CNN|CG|GAN|Diffusion|VAR|closed-source|authentic|other', 'other')
    .option('--json', 'print the per-file results as JSON')
    .action(lazyAction(actions, 'enrol'));

  program
    .command('attribute')
    .description('Attribute images against the local gallery')
    .argument('<paths...>', 'image files or folders')
    .option('--json', 'print JSON lines instead of a table')
    .option('-k <k>', `candidates per image (1 to ${MAX_CANDIDATES})`, candidateCount, 3)
    .action(lazyAction(actions, 'attribute'));

  const gallery = program.command('gallery').description('Inspect, rebuild, re-embed, export or import the gallery');
  gallery.command('info').description('Counts, version and index state').action(lazyAction(actions, 'galleryInfo'));
  registerReembedCommand(gallery);
  registerExchangeCommands(gallery);
  gallery.command('rebuild').description('Rebuild the HNSW index of the configured model from the store and snapshot it').action(lazyAction(actions, 'galleryRebuild'));
  gallery
    .command('migrate')
    .description('Copy the gallery between SQLite (DFG_GALLERY_DIR) and PostgreSQL, kept images included; resumable, verified by counts and SHA-256 digests')
    .option('--to <url>', 'copy the SQLite gallery into this PostgreSQL database (postgres://user@host/db)')
    .option('--from <url>', 'copy the gallery of this PostgreSQL database into DFG_GALLERY_DIR (SQLite)')
    .option('--json', 'print the result as JSON')
    .action(lazyAction(() => import('../actions/migrate.js'), 'migrate'));

  const models = program.command('models').alias('model').description('Models: build the default ones from their definitions, list, switch a running service');
  models
    .command('build')
    .description('Build the project-defined models into DFG_MODELS_DIR (deterministic)')
    .argument('[ids...]', 'model ids (default: all)')
    .action(lazyAction(modelActions, 'build'));
  models.command('list').description('Models with a valid manifest in DFG_MODELS_DIR').action(lazyAction(modelActions, 'list'));
  models
    .command('cohort')
    .description('Embed a folder of images that belong to no registered algorithm (other generators, real photos; ROOT/<folder>/*) as the model\'s score-normalisation cohort (DFG_SCORE_NORM)')
    .argument('<id>', 'model id')
    .requiredOption('--data <dir>', 'image folder in the dataset layout')
    .option('--source <text>', 'where the images came from, recorded in model.json')
    .option('--threads <n>', 'inference worker threads (default: DFG_THREADS)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`Expected a positive integer for --threads but received ${JSON.stringify(v)}`);
      return n;
    })
    .action(lazyAction(() => import('../actions/model-cohort.js'), 'cohort'));
  registerModelSwitchCommand(models);
  registerKeysCommand(program);
}
