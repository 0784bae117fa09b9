/** `dfg demo`: a five-minute tour against a running service; what it does is in ../actions/demo.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { withApiOptions } from '../api-options.js';
import { lazyAction } from '../lazy-action.js';

const between = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected an integer in [${min}, ${max}] for ${name} but received ${JSON.stringify(v)}`);
  return n;
};

export function registerDemoCommand(program: Command): void {
  withApiOptions(
    program
      .command('demo')
      .description('Synthesise a few forgery algorithms with the simulated genome, register them on the running service, enrol their images and attribute one held-back image of a registered algorithm and one of an unregistered algorithm (names start with demo-; a rerun replaces them)')
      .option('--out <dir>', 'folder for the images (absent or empty; default: a new temporary folder, printed)')
      .option('--algorithms <n>', 'algorithms to register (one more is synthesised and left unregistered)', between('--algorithms', 1, 8), 4)
      .option('--samples <n>', 'images enrolled per algorithm (one more is held back)', between('--samples', 1, 30), 5)
      .option('--seed <seed>', 'seed of the genome (same seed, same images)', '4')
      .option('--wait <s>', 'seconds to wait, after enrolling, for the service to calibrate its thresholds on the new samples (0: attribute at once)', between('--wait', 0, 600), 30)
      .option('--images-only', 'only write the images (no service needed)')
      .option('--json', 'print a JSON summary on stdout (algorithms, files, enrolment counts, the service\'s answers) and the steps on stderr')
      .option('--reset', 'only remove the demo algorithms (and their samples) from the service'),
  ).action(lazyAction(() => import('../actions/demo.js'), 'demo'));
}
