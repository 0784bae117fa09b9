/**
 * The server entry: bind safety, listen, periodic store catch-up, graceful close (its logger: logger.ts).
 */
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config/index.js';
import { startServices, type Services } from './services.js';
import { buildApp } from './app.js';
import { createKeyRing, isLoopbackHost, loadKeysFile } from './http/plugins/auth.js';
import { dfgError } from './errors.js';
import { createLogger } from './logger.js';
import { jobRouteSet } from './http/extra-routes.js';

// Keep-alive connections that were busy when closing began become idle later; Node closes idle
// connections only once, at the start of close, so a client that keeps its pool open would hold
// the server for its keep-alive timeout. Idle ones are closed as they appear; after the grace
// period, the rest too.
const IDLE_SWEEP_MS = 50;
const CLOSE_GRACE_MS = 10_000;

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
}

export async function startServer(cfg: Config = loadConfig(), log: Logger = createLogger(cfg)): Promise<RunningServer> {
  const keys = cfg.DFG_API_KEYS_FILE ? loadKeysFile(cfg.DFG_API_KEYS_FILE).keys : [];
  const keyRing = createKeyRing(keys);
  if (!keyRing.enabled) {
    if (!isLoopbackHost(cfg.HOST)) throw dfgError('DFG_ERR_CONFIG_UNSAFE_BIND', cfg.HOST);
    log.warn({ host: cfg.HOST }, 'no API keys configured: serving without authentication on loopback only');
  }
  const services = startServices(cfg, log, { autoCalibrateMs: cfg.DFG_AUTO_CALIBRATE_MS });
  const { app } = await buildApp({ services, keyRing, logger: log, extraRoutes: jobRouteSet() });
  // Connections past the cap are closed by Node on accept, before any request is parsed.
  app.server.maxConnections = cfg.DFG_MAX_CONNECTIONS;
  const address = await app.listen({ host: cfg.HOST, port: cfg.PORT });
  log.info({ address, gallery: cfg.DFG_GALLERY_DIR, DFG_MODEL: cfg.DFG_MODEL ?? null }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await closeHttp(app);
      await services.close();
      log.info('closed');
    })());
  return { app, services, address, close };
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
