/** The running service's HTTP API for `dfg` commands: base URL from --url or HOST/PORT, key from --key or $DFG_API_KEY. */
import { loadConfig } from '../config/index.js';
import type { ApiOptions } from './api-options.js';

export type { ApiOptions } from './api-options.js';

/** A client of the service; non-2xx answers throw an Error `CODE: message` carrying `code` and `status`. */
export function api(o: ApiOptions) {
  const cfg = loadConfig();
  const host = ['0.0.0.0', '::', ''].includes(cfg.HOST) ? '127.0.0.1' : cfg.HOST.includes(':') ? `[${cfg.HOST}]` : cfg.HOST;
  const base = (o.url ?? `http://${host}:${cfg.PORT}`).replace(/\/$/, '');
  const key = o.key ?? process.env.DFG_API_KEY;
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const call = async (method: string, p: string, body?: BodyInit, extra: Record<string, string> = {}): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(`${base}${p}`, { method, body, headers: { ...headers, ...extra } });
    } catch (err) {
      throw new Error(`cannot reach the service at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); start it with \`dfg serve\` or pass --url`, { cause: err });
    }
    if (!res.ok) {
      const e = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw Object.assign(new Error(`${e.code ?? `HTTP ${res.status}`}: ${e.message ?? res.statusText}`), { code: e.code, status: res.status });
    }
    return res;
  };
  return {
    base,
    call,
    json: async <T>(method: string, p: string, body?: unknown): Promise<T> =>
      (await (await call(method, p, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { 'content-type': 'application/json' })).json()) as T,
  };
}
