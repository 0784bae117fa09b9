/** Builds the real app (real model, real SQLite store in a temp dir) for inject tests. */
import { jobRouteSet } from '../../src/http/extra-routes.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config/index.js';
import { startServices } from '../../src/serving/services.js';
import { buildApp } from '../../src/app.js';
import { createKeyRing, type KeysFile } from '../../src/http/plugins/auth.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

export function tempDir(prefix = 'dfg-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DFG_GALLERY_DIR: tempDir(),
    DFG_MODELS_DIR: path.join(ROOT, 'models'),
    DFG_THREADS: '1',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

interface Teardown { teardown(fn: () => unknown): void }

export interface TestAppOptions {
  env?: Record<string, string>;
  keys?: KeysFile['keys'];
  config?: Config;
  logger?: pino.Logger;
  /** Logger of the services (default silent). */
  servicesLog?: pino.Logger;
  /** Calibrate automatically every DFG_AUTO_CALIBRATE_MS, as the server does (default off: tests calibrate on request). */
  autoCalibrate?: boolean;
  /** Catch up with other processes' commits and model switches every this many ms (default 0: never). */
  refreshMs?: number;
  /** Also serve the job routes (they need Redis). */
  jobs?: boolean;
}

export async function buildTestApp(t: Teardown, opts: TestAppOptions = {}) {
  const config = opts.config ?? testConfig(opts.env);
  const log = opts.servicesLog ?? pino({ level: 'silent' });
  const services = startServices(config, log, { refreshMs: opts.refreshMs ?? 0, ...(opts.autoCalibrate ? { autoCalibrateMs: config.DFG_AUTO_CALIBRATE_MS } : {}) });
  const { app, metrics } = await buildApp({ services, keyRing: createKeyRing(opts.keys ?? []), logger: opts.logger, ...(opts.jobs ? { extraRoutes: jobRouteSet() } : {}) });
  await services.whenReady;
  t.teardown(async () => {
    await app.close();
    await services.close();
  });
  return { app, services, config, metrics };
}
