/**
 * `dfg genome`: the simulated forgery genome. `photos` cuts real-photo patches, `synth`
 * renders the algorithms, `fit` learns a projection of a base model's features on them. What
 * they do is in ../actions/genome.ts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { FAMILY_NAMES } from '../../genome/families/index.js';
import { lazyAction } from '../lazy-action.js';

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min} but received ${JSON.stringify(v)}`);
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError(`Expected a number in [0, 1) but received ${JSON.stringify(v)}`);
  return n;
};
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const actions = () => import('../actions/genome.js');

/** Registers `dfg genome photos|synth|fit` on the program. */
export function registerGenomeCommands(program: Command): void {
  const genome = program.command('genome').description('Simulated forgery genome: real-photo patches, synthetic algorithms, projections learned on them');

  genome
    .command('photos')
    .description('Cut real photos (recursively under --src) into square patches at native resolution plus 1/2 and 1/4 scale')
    .requiredOption('--src <dir>', 'folder of real photos (e.g. extracted wallpaper packages; see scripts/gather-real-photos.sh)')
    .requiredOption('--out <dir>', 'patch folder')
    .option('--size <px>', 'patch side', integer(64), 384)
    .option('--per-image <n>', 'native-resolution patches per photo', integer(1), 6)
    .option('--seed <seed>', 'seed of the patch positions', '1')
    .action(lazyAction(actions, 'photos'));

  genome
    .command('synth')
    .description('Synthesise forgery algorithms from real photos into a dataset folder with genome.json')
    .requiredOption('--real <dir>', 'folder of real photos or patches (at least --size px; patches from `dfg genome photos`)')
    .requiredOption('--out <dir>', 'output dataset folder (absent or empty)')
    .option('--algorithms <n>', 'number of algorithms', integer(1), 100)
    .option('--per-algorithm <n>', 'images per algorithm', integer(1), 20)
    .option('--seed <seed>', 'seed of everything drawn', '1')
    .option('--size <px>', 'output side in pixels (multiple of 16)', integer(64), 256)
    .option('--families <names>', `comma-separated subset of: ${FAMILY_NAMES.join(', ')}`, list)
    .action(lazyAction(actions, 'synth'));

  genome
    .command('fit')
    .description('Fit a projection of a base model\'s features on a genome folder (LDA with shrinkage, NAP, WCCN or PCA); writes the projection JSON that the residual-lda-v1 and residual-v3 builders read')
    .requiredOption('--genome <dir>', 'genome dataset folder (from `dfg genome synth`); never a validation set')
    .requiredOption('--out <file>', 'projection JSON (e.g. models/residual-lda-v1/projection.json)')
    .option('--base <id>', 'base model id in the models folder', 'residual-v1')
    .option('--method <m>', 'lda (centred discriminant projection to --dim), nap (remove --dim within-algorithm directions), wccn (within-class whitening) or pca (the --dim leading principal axes, no labels)', 'lda')
    .option('--dim <n>', 'lda, pca: output dimension; nap: directions removed', integer(1), 96)
    .option('--real <dir>', 'pca: also fit on this folder of real-photo patches (from `dfg genome photos`)')
    .option('--centre', 'pca: subtract the features\' mean before projecting (default: uncentred, zero stays zero)')
    .option('--shrinkage <s>', 'within-class scatter shrinkage toward its mean variance, in [0, 1)', nonNegative, 0.1)
    .option('--threads <n>', 'onnxruntime threads', integer(1), 1)
    .action(lazyAction(actions, 'fit'));
}
