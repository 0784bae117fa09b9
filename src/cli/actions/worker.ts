/** What `dfg worker` does (its options: ../commands/jobs.ts): apart from the jobs client, which needs no BullMQ. */
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { startWorkerProcess } from '../../jobs/run.js';
import { requireGallery } from '../gallery-dir.js';

/** `dfg worker`: runs until SIGTERM/SIGINT. */
export async function worker(o: { concurrency?: number }): Promise<void> {
  const config = loadConfig();
  // A worker enrols into the gallery the service created and reads: in a mistyped
  // DFG_GALLERY_DIR it would create another one, which the service never searches.
  requireGallery(config.DFG_GALLERY_DIR, config.DFG_STORE);
  const log = createLogger(config);
  const proc = await startWorkerProcess(config, log, { concurrency: o.concurrency || undefined });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now; running chunks are retaken after their lock expires');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal, graceMs: config.DFG_JOB_SHUTDOWN_MS }, 'worker shutting down: finishing current chunks');
      proc.close().then(() => process.exit(0), (err: unknown) => {
        log.error({ err }, 'error during worker shutdown');
        process.exit(1);
      });
    });
  }
}
