/**
 * Node HTTP server options from the config: header, request and keep-alive timeouts, requests per
 * socket. Without them (Fastify's defaults: requestTimeout 0, which also turns Node's header timeout
 * off) a client that sends its headers or body a byte at a time holds its socket for ever.
 */
import type { ServerOptions } from 'node:http';
import type { Config } from '../config/index.js';

type TimeoutConfig = Pick<Config, 'DFG_HEADERS_TIMEOUT_MS' | 'DFG_REQUEST_TIMEOUT_MS' | 'DFG_KEEPALIVE_TIMEOUT_MS' | 'DFG_MAX_REQUESTS_PER_SOCKET'>;

/**
 * How often Node looks for connections past their header or request timeout. Its default (30 s) is
 * added to every timeout; a quarter of the shorter timeout, between 50 ms and 1 s, keeps a dropped
 * client's extra time small at the cost of one timer walk over the connection list.
 */
export function checkingIntervalMs(cfg: TimeoutConfig): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(cfg.DFG_HEADERS_TIMEOUT_MS, cfg.DFG_REQUEST_TIMEOUT_MS) / 4)));
}

export interface HttpServerOptions {
  http: ServerOptions;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxRequestsPerSocket: number;
  connectionTimeout: number;
}

export function httpServerOptions(cfg: TimeoutConfig): HttpServerOptions {
  return {
    http: {
      headersTimeout: cfg.DFG_HEADERS_TIMEOUT_MS,
      requestTimeout: cfg.DFG_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: cfg.DFG_KEEPALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: checkingIntervalMs(cfg),
    },
    requestTimeout: cfg.DFG_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: cfg.DFG_KEEPALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: cfg.DFG_MAX_REQUESTS_PER_SOCKET,
    // No socket inactivity timeout: a batch may compute longer than any sensible idle limit while
    // its client waits quietly; the request timeout bounds the upload, keep-alive the idle time after.
    connectionTimeout: 0,
  };
}
