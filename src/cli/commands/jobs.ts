/** `dfg worker` and `dfg jobs enrol | audit | reembed | status | list | cancel | results`; what they do is in ../actions/worker.ts and jobs.ts. */
import type { Command } from 'commander';
import { withApiOptions } from '../api-options.js';
import { lazyAction } from '../lazy-action.js';

const actions = () => import('../actions/jobs.js');

/** The options of a submission (`jobs enrol`, `jobs audit`), after the command's own. */
const withSubmitOptions = (c: Command) =>
  withApiOptions(c)
    .option('--server-dir <path>', 'a directory on the server (below its DFG_IMPORT_ROOTS) instead of uploading')
    .option('--urls-file <file>', 'a file of image URLs, one per line (hosts on the server\'s DFG_URL_ALLOWLIST)')
    .option('--no-wait', 'print the job ids and return at once')
    .option('--json', 'print the final job record(s) as JSON');

export function registerJobCommands(program: Command): void {
  program
    .command('worker')
    .description('Process batch jobs from Redis (REDIS_URL): embed in this process, write to the gallery store. Stops gracefully on SIGTERM/SIGINT')
    .option('--concurrency <n>', 'chunks at once (default DFG_JOB_CONCURRENCY, 0 = one per core)', (v) => Number.parseInt(v, 10))
    .action(lazyAction(() => import('../actions/worker.js'), 'worker'));

  const jobs = program.command('jobs').description('Batch jobs through the HTTP API: submit, follow with a progress bar, inspect, cancel');

  withSubmitOptions(
    jobs
      .command('enrol')
      .description('Enrol images (files, folders or zip/tar/tar.gz archives) into an algorithm as a batch job')
      .argument('<algorithmId>', 'id of a registered algorithm')
      .argument('[paths...]', 'image files, folders or archives'),
  ).action(lazyAction(actions, 'enrol'));

  withSubmitOptions(
    jobs
      .command('audit')
      .description('Attribute images (files, folders or archives) as a batch job')
      .argument('[paths...]', 'image files, folders or archives')
      .option('--results <file>', 'save the per-image results when done (.csv for CSV, else NDJSON)'),
  ).action(lazyAction(actions, 'audit'));

  withApiOptions(jobs.command('reembed')
    .description('Re-embed every sample lacking a vector of a model, from the kept image bytes, as a batch job (the service keeps serving its models)')
    .argument('<modelId>', 'model to embed with (models/<id>/ on the workers)')
    .option('--no-wait', 'print the job id and return at once')
    .option('--switch [list]', 'when every sample got its vector, switch the service to this model list (default: the model alone) with PUT /v1/model')
    .option('--json', 'print the final job record as JSON'))
    .action(lazyAction(actions, 'reembed'));

  withApiOptions(jobs.command('status').description('Show one job').argument('<id>').option('--follow', 'show a progress bar until it ends'))
    .action(lazyAction(actions, 'status'));

  withApiOptions(jobs.command('list').description('Recent jobs').option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20))
    .action(lazyAction(actions, 'list'));

  withApiOptions(jobs.command('cancel').description('Cancel a waiting or running job').argument('<id>'))
    .action(lazyAction(actions, 'cancel'));

  withApiOptions(jobs.command('results').description('Download per-image results').argument('<id>')
    .option('--format <f>', 'ndjson or csv', 'ndjson').option('--output <file>', 'write to a file instead of stdout'))
    .action(lazyAction(actions, 'results'));
}
