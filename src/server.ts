/**
 * The server entry: bind safety, listen, periodic store catch-up, graceful close (its logger: logger.ts).
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config/index.js';
import { startServices, type Services } from './serving/services.js';
import { buildApp } from './app.js';
import { createKeyRing, isLoopbackHost, loadKeysFile } from './http/plugins/auth.js';
import { dfgError } from './errors.js';
import { createLogger } from './logger.js';
import { jobRouteSet } from './http/extra-routes.js';
import { sweepCrashLeftovers } from './gallery/store/sweep.js';

// Keep-alive connections that were busy when closing began become idle later; Node closes idle
// connections only once, at the start of close, so a client that keeps its pool open would hold
// the server for its keep-alive timeout. Idle ones are closed as they appear; after the grace
// period, the rest too.
const IDLE_SWEEP_MS = 50;
const CLOSE_GRACE_MS = 10_000;
/** How often the keys file's stat is polled (fs.watch misses editors that replace the file). */
const KEYS_POLL_MS = 500;

async function closeHttp(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  address: string;
  close(): Promise<void>;
  /** Re-reads DFG_API_KEYS_FILE (also done when it changes, and on SIGHUP); false when unset or unreadable. */
  reloadKeys(): boolean;
}

export async function startServer(cfg: Config = loadConfig(), log: Logger = createLogger(cfg)): Promise<RunningServer> {
  const keys = cfg.DFG_API_KEYS_FILE ? loadKeysFile(cfg.DFG_API_KEYS_FILE).keys : [];
  const keyRing = createKeyRing(keys);
  if (!keyRing.enabled) {
    if (!isLoopbackHost(cfg.HOST)) throw dfgError('DFG_ERR_CONFIG_UNSAFE_BIND', cfg.HOST);
    log.warn({ host: cfg.HOST }, 'no API keys configured: serving without authentication on loopback only');
  }
  // Revoking or adding a key needs no restart: the file is re-read when it changes (and on SIGHUP).
  // A file that no longer parses keeps the previous keys.
  const reloadKeys = (): boolean => {
    if (!cfg.DFG_API_KEYS_FILE) return false;
    try {
      const next = loadKeysFile(cfg.DFG_API_KEYS_FILE).keys;
      keyRing.replace(next);
      log.info({ keys: next.length }, 'API keys reloaded');
      return true;
    } catch (err) {
      log.error({ err }, 'API keys file unreadable: keeping the previous keys');
      return false;
    }
  };
  if (cfg.DFG_API_KEYS_FILE) fs.watchFile(cfg.DFG_API_KEYS_FILE, { interval: KEYS_POLL_MS, persistent: false }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) reloadKeys();
  });
  const services = startServices(cfg, log, { autoCalibrateMs: cfg.DFG_AUTO_CALIBRATE_MS });
  // Crash leftovers (temporary files of dead processes, kept images no sample names) are swept once the gallery is open.
  const swept = services.whenReady.then(async () => {
    const gallery = services.peek().gallery;
    if (!gallery) return;
    const result = await sweepCrashLeftovers(cfg.DFG_GALLERY_DIR, { isReferenced: async (sha) => (await gallery.findBySha(sha)).length > 0 });
    log.info({ ...result }, 'swept crash leftovers');
  }).catch((err: unknown) => { log.warn({ err }, 'sweep of crash leftovers failed'); });
  const { app } = await buildApp({ services, keyRing, logger: log, extraRoutes: jobRouteSet() });
  // Connections past the cap are closed by Node on accept, before any request is parsed.
  app.server.maxConnections = cfg.DFG_MAX_CONNECTIONS;
  const address = await app.listen({ host: cfg.HOST, port: cfg.PORT });
  log.info({ address, gallery: cfg.DFG_GALLERY_DIR, DFG_MODEL: cfg.DFG_MODEL ?? null }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (cfg.DFG_API_KEYS_FILE) fs.unwatchFile(cfg.DFG_API_KEYS_FILE);
      await swept;
      await closeHttp(app);
      await services.close();
      log.info('closed');
    })());
  return { app, services, address, close, reloadKeys };
}

/** Runs until SIGINT/SIGTERM, then closes (index snapshot written) and exits. */
export async function serveForever(cfg?: Config): Promise<void> {
  const config = cfg ?? loadConfig();
  const log = createLogger(config);
  const server = await startServer(config, log);
  server.services.whenReady.catch(() => {
    log.fatal('start-up failed; exiting');
    void server.close().finally(() => process.exit(1));
  });
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, 'reloading API keys');
    server.reloadKeys();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 15_000);
      force.unref();
      server.close().then(() => process.exit(0), (err) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      });
    });
  }
}
