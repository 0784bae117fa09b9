/**
 * The process log (pino) of the server, `dfg worker` and the local CLI commands. A module of its
 * own so that commands which log but serve nothing (`dfg attribute`, `dfg gallery info`) do not
 * load the server with Fastify and BullMQ behind it.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config/index.js';

/** Query parameters whose values are credentials or signatures (API keys, tokens, signed-URL parts). */
const SECRET_PARAM = /^(key|api[-_]?key|token|access[-_]?token|auth|authorization|password|secret|sig|signature|x-amz-[a-z-]+|x-goog-[a-z-]+)$/i;

/** A request URL for the log: values of credential-like query parameters replaced by `[redacted]`. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      return `${rawName.slice(0, 50)}=[redacted]`;
    }
    return eq >= 0 && SECRET_PARAM.test(name) ? `${rawName}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** The logger's options: level, the service name, and the only request fields ever logged. */
function loggerOptions(cfg: Pick<Config, 'LOG_LEVEL'>): pino.LoggerOptions {
  return {
    level: cfg.LOG_LEVEL,
    base: { service: 'dfg' },
    // Never log bodies or image bytes: only these request fields.
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: redactQuery(req.url) }),
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
