/** `dfg gallery export | import` and `dfg keys signing create`; what they do is in ../actions/exchange.ts and signing.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { lazyAction } from '../lazy-action.js';

const actions = () => import('../actions/exchange.js');
/** As exchange/import.ts CONFLICT_MODES (not imported: that module loads the gallery). */
const CONFLICT_MODES = ['new', 'merge', 'skip'];

function conflictMode(v: string): string {
  if (!CONFLICT_MODES.includes(v)) throw new InvalidArgumentError(`Expected one of ${CONFLICT_MODES.join(', ')} but received ${JSON.stringify(v)}`);
  return v;
}

/** Registers `export` and `import` on the `gallery` command. */
export function registerExchangeCommands(gallery: Command): void {
  gallery
    .command('export')
    .description('Write algorithms with their samples and vectors as a bundle signed with your publisher key (README: Sharing galleries)')
    .requiredOption('--algorithms <list>', 'comma-separated algorithm ids or names')
    .requiredOption('--out <file>', 'bundle file to write (.dfgb)')
    .requiredOption('--key <file>', 'private key file of `dfg keys signing create`')
    .option('--images', 'include the kept image bytes, so a gallery served by another model can embed them')
    .option('--json', 'print the summary as JSON')
    .action(lazyAction(actions, 'galleryExport'));
  gallery
    .command('import')
    .description('Verify a signed bundle against DFG_TRUSTED_PUBLISHERS and add its algorithms, all or nothing')
    .argument('<bundle>', 'bundle file')
    .option('--on-conflict <mode>', 'an algorithm name the gallery has: new (import under a new name), merge (add its samples), skip', conflictMode, 'new')
    .option('--create', 'create the gallery in DFG_GALLERY_DIR when there is none')
    .option('--json', 'print the summary as JSON')
    .action(lazyAction(actions, 'galleryImport'));
}

/** Registers `signing create` on the `keys` command. */
export function registerSigningCommand(keys: Command): void {
  keys
    .command('signing')
    .description('Publisher keys that sign gallery bundles')
    .command('create')
    .description('Generate an Ed25519 key pair: <id>.key (private, mode 0600) and <id>.pub.json (for trusted publisher lists)')
    .requiredOption('--id <org>', 'publisher id (your organisation)')
    .requiredOption('--out <dir>', 'folder to write the two files to (created if missing)')
    .action(lazyAction(() => import('../actions/signing.js'), 'createSigningKeyFiles'));
}
