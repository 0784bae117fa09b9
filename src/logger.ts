/**
 * The process log (pino) of the server, `dfg worker` and the local CLI commands. A module of its
 * own so that commands which log but serve nothing (`dfg attribute`, `dfg gallery info`) do not
 * load the server with Fastify and BullMQ behind it.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config/index.js';

/** The logger's options: level, the service name, and the only request fields ever logged. */
function loggerOptions(cfg: Pick<Config, 'LOG_LEVEL'>): pino.LoggerOptions {
  return {
    level: cfg.LOG_LEVEL,
    base: { service: 'dfg' },
    // Never log bodies or image bytes: only these request fields.
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/** A logger at `cfg.LOG_LEVEL`, writing to `destination` (default: stdout, asynchronously). */
export function createLogger(cfg: Pick<Config, 'LOG_LEVEL'>, destination?: pino.DestinationStream): Logger {
  // Asynchronous writes to stdout: under load, lines written while a write is in flight go out
  // together, and the event loop never waits on a slow log pipe. pino flushes on process exit.
  return pino(loggerOptions(cfg), destination ?? pino.destination({ dest: 1, sync: false }));
}
