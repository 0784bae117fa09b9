/** `dfg eval`; what it does is in ../actions/eval.ts. */
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_GROUP_PATTERN } from '../../evaluation/group-pattern.js';
import { DEFAULT_TARGET_FPIR } from '../../evaluation/types.js';
import { METRIC_HELP, metricArg, SCORE_NORM_HELP, scoreNormArg } from '../metric-arg.js';
import { lazyAction } from '../lazy-action.js';

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min} but received ${JSON.stringify(v)}`);
  return n;
};
const fraction = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError(`Expected a number in [0, 1) but received ${JSON.stringify(v)}`);
  return n;
};
const marginArg = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 2)) throw new InvalidArgumentError(`Expected a number in [0, 2] but received ${JSON.stringify(v)}`);
  return n;
};
/** Repeatable and comma-separated: `--model a --model b` or `--model a,b`. */
const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const numbers = (v: string) => v.split(',').map((s) => {
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`Expected positive numbers but received ${JSON.stringify(v)}`);
  return n;
});

/** Registers `dfg eval` on the program. */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('Evaluate attribution on a dataset folder DIR/<algorithm>/**/*.{png,jpg,jpeg,webp} (+ optional DIR/genome.json): Rank-1/5, mAP, AUROC, OSCR, DIR@FPIR, macro-F1, per algorithm, confusion matrix, vs a content-only baseline')
    .requiredOption('--data <dir>', 'dataset folder')
    .option('--shots <n>', 'registration images per known algorithm', integer(1), 5)
    .option('--unknown <fraction>', 'share of the (non-authentic) algorithms held out as unknown', fraction, 0.3)
    .option('--unknown-list <names>', 'held-out algorithms by name, comma-separated (overrides --unknown)', list)
    .option('--seed <seed>', 'seed of the splits', '1')
    .option('--repeats <n>', 'protocol repeats (mean ± std)', integer(1), 5)
    .option('--model <id>', 'embedding model id; repeat or comma-separate for a fusion (default: the list the service serves: DFG_MODEL, else the last model switch recorded in the gallery of DFG_GALLERY_DIR, else the default model; stderr says which)', list)
    .option('--weights <w,...>', 'fusion weights, one per model (default: with --model equal, else the served list\'s)', numbers)
    .option('--group-pattern <regex>', 'first capture group on the file name names its source (shots and probes never share one); otherwise the file stem', DEFAULT_GROUP_PATTERN)
    .option('--out <dir>', 'report folder', 'eval-report')
    .option('--json', 'print report.json to stdout instead of the summary table')
    .option('--top-m <m>', 'per-algorithm score = mean of the best m similarities (default: DFG_TOP_M)', integer(1))
    .option('--target-fpir <fraction>', `false-positive identification rate the thresholds are calibrated for (default: ${DEFAULT_TARGET_FPIR})`, fraction)
    .option('--margin <m>', 'minimum score margin over the runner-up (default: DFG_MARGIN, else the model\'s own default, else 0.02)', marginArg)
    .option('--metric <m>', `${METRIC_HELP}, fitted on each repeat's registration shots (default: DFG_METRIC)`, metricArg)
    .option('--score-norm <s>', `${SCORE_NORM_HELP}; the algorithm side fitted on each repeat's shots (default: DFG_SCORE_NORM)`, scoreNormArg)
    .option('--no-baseline', 'skip the content-only baseline')
    .option('--no-cache', 'embed everything again, ignoring and not writing the embedding cache')
    .option('--cache-dir <dir>', 'embedding cache folder (default: $XDG_CACHE_HOME/dfg/embeddings or ~/.cache/dfg/embeddings)')
    .option('--threads <n>', 'inference worker threads (default: DFG_THREADS, 0 = one per core)', integer(1))
    .option('--url <url>', 'evaluate the service running at this URL through its HTTP API (registers fresh algorithms per repeat, deletes them after); excludes --model')
    .option('--api-key <key>', 'with --url: API key with the scopes register and attribute (default: DFG_API_KEY)')
    .option('--allow-existing', 'with --url: run although the service has enabled algorithms of its own (they compete with the registered classes)')
    .option('--concurrency <n>', 'with --url: requests in flight (default 4)', integer(1))
    .action(lazyAction(() => import('../actions/eval.js'), 'evalCommand'));
}
