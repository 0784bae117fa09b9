/**
 * `dfg calibrate`: per-algorithm and global thresholds from the gallery itself for a target FPIR;
 * what it does is in ../actions/calibrate.ts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { METRIC_HELP, metricArg, SCORE_NORM_HELP, scoreNormArg } from '../metric-arg.js';
import { lazyAction } from '../lazy-action.js';

const fraction = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError(`Expected a number in (0, 1) but received ${JSON.stringify(v)}`);
  return n;
};
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`Expected a positive integer but received ${JSON.stringify(v)}`);
  return n;
};

/** Registers `dfg calibrate` on the program. */
export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .description('Calibrate per-algorithm thresholds from the gallery (leave-one-out genuine vs impostor scores) for a target FPIR, and store them')
    .option('--target-fpir <fraction>', 'false-positive identification rate to calibrate for (default: DFG_TARGET_FPIR)', fraction)
    .option('--top-m <m>', 'per-algorithm score = mean of the best m similarities (default: DFG_TOP_M)', positiveInt)
    .option('--max-samples <n>', 'samples per algorithm used at most (calibration is quadratic)', positiveInt, 200)
    .option('--metric <m>', `${METRIC_HELP} (default: DFG_METRIC)`, metricArg)
    .option('--score-norm <s>', `${SCORE_NORM_HELP} (default: DFG_SCORE_NORM)`, scoreNormArg)
    .option('--dry-run', 'compute and print, store nothing')
    .option('--json', 'print the result as JSON')
    .action(lazyAction(() => import('../actions/calibrate.js'), 'calibrate'));
}
