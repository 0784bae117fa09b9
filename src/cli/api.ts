/**
 * The running service's HTTP API for `dfg` commands, through the generated client (api-client/):
 * base URL from --url or HOST/PORT, key from --key or $DFG_API_KEY.
 */
import { loadConfig } from '../config/index.js';
import { createApiClient, type ApiClient } from '../api-client/index.js';
import type { ApiOptions } from './api-options.js';

export type { ApiOptions } from './api-options.js';

export interface CliApi {
  base: string;
  client: ApiClient;
}

/** A client of the service; a service it cannot reach throws an Error that says how to start one. */
export function api(o: ApiOptions): CliApi {
  const cfg = loadConfig();
  const host = ['0.0.0.0', '::', ''].includes(cfg.HOST) ? '127.0.0.1' : cfg.HOST.includes(':') ? `[${cfg.HOST}]` : cfg.HOST;
  const base = (o.url ?? `http://${host}:${cfg.PORT}`).replace(/\/$/, '');
  const reach = async (request: Request): Promise<Response> => {
    try {
      return await fetch(request);
    } catch (err) {
      throw new Error(`cannot reach the service at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); start it with \`dfg serve\` or pass --url`, { cause: err });
    }
  };
  return { base, client: createApiClient({ baseUrl: base, apiKey: o.key ?? process.env.DFG_API_KEY, fetch: reach }) };
}

/** The body of a 2xx answer; any other answer throws an Error `CODE: message` carrying `code` and `status`. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: string; message?: string };
  throw Object.assign(new Error(`${e.code ?? `HTTP ${response.status}`}: ${e.message ?? response.statusText}`), { code: e.code, status: response.status });
}
