/**
 * URL sources of batch jobs: hosts on an allowlist only, http(s) only, no credentials, no
 * redirects to another host, no private, loopback or link-local addresses unless configured.
 * The address check runs inside the connection's DNS lookup, so the address that is checked is
 * the address that is connected to (no DNS-rebinding window).
 */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import { dfgError, invalid, isDfgError } from '../../errors.js';

export interface HostRule {
  host: string;
  /** Only this port when set; any port otherwise. */
  port?: string;
  /** `*.example.com`: any subdomain, not the apex. */
  wildcard: boolean;
}

export interface UrlPolicy {
  allowlist: HostRule[];
  allowPrivate: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

/** Parses DFG_URL_ALLOWLIST: comma- or space-separated `host`, `host:port`, `*.domain`, `[v6]:port`. */
export function parseAllowlist(value: string): HostRule[] {
  return value.split(/[\s,]+/).filter(Boolean).map((raw) => {
    const entry = raw.toLowerCase().replace(/\.$/, '');
    const wildcard = entry.startsWith('*.');
    const body = wildcard ? entry.slice(2) : entry;
    const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/.exec(body);
    if (!m) return { host: body, wildcard };
    return { host: m[1]!, port: m[2], wildcard };
  });
}

const BLOCKED = new net.BlockList();
for (const [net4, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net4, bits, 'ipv4');
for (const [net6, bits] of [
  // ::/96: IPv4-compatible addresses (deprecated, RFC 4291), e.g. ::a9fe:a9fe = 169.254.169.254; :: and ::1 included.
  ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net6, bits, 'ipv6');

/** True for addresses that are not public unicast: private, loopback, link-local, CGNAT, multicast, documentation, NAT64/6to4 wrappers. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = net.isIP(ip);
  if (family === 4) return BLOCKED.check(ip, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(?:0:)?(.+)$/i.exec(ip);
  if (mapped) {
    const tail = mapped[1]!;
    if (net.isIP(tail) === 4) return BLOCKED.check(tail, 'ipv4');
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
    if (hex) {
      const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
      return BLOCKED.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
    }
  }
  return BLOCKED.check(ip, 'ipv6');
}

/** Network failures worth another try later (the host may be restarting or briefly overloaded). */
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/** Marks a fetch failure as transient: the job retries the chunk (with backoff) before recording it. */
function transient<E extends Error>(err: E): E & { transient: true } {
  return Object.assign(err, { transient: true as const });
}

/** True for fetch failures marked transient (server errors, timeouts, connection failures). */
export function isTransientFetchError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}

/** The URL without query and fragment, for messages and logs (signed URLs carry secrets there). */
export function redactUrl(url: URL | string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`.slice(0, 300);
  } catch {
    return String(url).slice(0, 100);
  }
}

function hostMatches(rule: HostRule, hostname: string, port: string): boolean {
  if (rule.port && rule.port !== port) return false;
  if (rule.wildcard) return hostname.endsWith(`.${rule.host}`);
  return hostname === rule.host;
}

/**
 * Parses and vets one URL against the policy. Throws `DFG_ERR_REQUEST_INVALID` when it does not
 * parse and `DFG_ERR_URL_FORBIDDEN` when it is not allowed.
 */
export function checkUrl(raw: string, policy: Pick<UrlPolicy, 'allowlist' | 'allowPrivate'>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('a URL', 'source.urls', raw);
  }
  const shown = redactUrl(url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw dfgError('DFG_ERR_URL_FORBIDDEN', shown, 'only http and https are fetched');
  if (url.username || url.password) throw dfgError('DFG_ERR_URL_FORBIDDEN', shown, 'credentials in URLs are refused');
  const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (policy.allowlist.length === 0) throw dfgError('DFG_ERR_URL_FORBIDDEN', shown, 'no hosts are allowed (set DFG_URL_ALLOWLIST)');
  if (!policy.allowlist.some((r) => hostMatches(r, hostname, port))) throw dfgError('DFG_ERR_URL_FORBIDDEN', shown, 'host not on DFG_URL_ALLOWLIST');
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(literal) && !policy.allowPrivate && isPrivateAddress(literal)) {
    throw dfgError('DFG_ERR_URL_FORBIDDEN', shown, 'private or loopback address (set DFG_URL_ALLOW_PRIVATE=true to allow)');
  }
  return url;
}

function guardedLookup(allowPrivate: boolean, shown: string): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { family: options.family, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad && !allowPrivate) {
        return callback(dfgError('DFG_ERR_URL_FORBIDDEN', shown, `resolves to private address ${bad.address}`) as NodeJS.ErrnoException, '', 0);
      }
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function getOnce(url: URL, policy: UrlPolicy, signal: AbortSignal): Promise<{ status: number; location?: string; body?: Buffer }> {
  const shown = redactUrl(url);
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'GET',
      signal,
      lookup: guardedLookup(policy.allowPrivate, shown),
      headers: { 'user-agent': 'deepfake-genome-jobs', accept: 'image/*' },
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        return resolve({ status, location: res.headers.location });
      }
      if (status !== 200) {
        res.resume();
        const err = dfgError('DFG_ERR_URL_FETCH_FAILED', shown, `HTTP ${status}`);
        return reject(status >= 500 || status === 429 || status === 408 ? transient(err) : err);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        res.destroy();
        return reject(dfgError('DFG_ERR_IMAGE_TOO_LARGE', declared, policy.maxBytes));
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > policy.maxBytes) {
          res.destroy();
          reject(dfgError('DFG_ERR_IMAGE_TOO_LARGE', `more than ${policy.maxBytes}`, policy.maxBytes));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks, n) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Downloads one image within the policy: at most `maxRedirects` redirects, all on the same host
 * and each vetted again, `maxBytes` bytes and `timeoutMs` in all. Rejects with
 * `DFG_ERR_URL_FORBIDDEN`, `DFG_ERR_IMAGE_TOO_LARGE`, `DFG_ERR_IMAGE_EMPTY` or `DFG_ERR_URL_FETCH_FAILED`
 * (marked transient, see isTransientFetchError, for 5xx/408/429 answers, timeouts and connection failures).
 */
export async function fetchImage(raw: string, policy: UrlPolicy): Promise<Buffer> {
  let url = checkUrl(raw, policy);
  const firstHost = url.hostname.toLowerCase();
  const signal = AbortSignal.timeout(policy.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      const r = await getOnce(url, policy, signal);
      if (r.body) {
        if (r.body.length === 0) throw dfgError('DFG_ERR_IMAGE_EMPTY');
        return r.body;
      }
      if (hop >= policy.maxRedirects) throw dfgError('DFG_ERR_URL_FETCH_FAILED', redactUrl(url), `more than ${policy.maxRedirects} redirects`);
      let next: URL;
      try {
        next = new URL(r.location!, url);
      } catch {
        throw dfgError('DFG_ERR_URL_FETCH_FAILED', redactUrl(url), 'redirect to an unparseable location');
      }
      if (next.hostname.toLowerCase() !== firstHost) throw dfgError('DFG_ERR_URL_FORBIDDEN', redactUrl(next), `redirect from ${firstHost} to another host`);
      url = checkUrl(next.href, policy);
    }
  } catch (err) {
    if (isDfgError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    if (signal.aborted) throw transient(dfgError('DFG_ERR_URL_FETCH_FAILED', redactUrl(url), `timed out after ${policy.timeoutMs} ms`));
    const failed = dfgError('DFG_ERR_URL_FETCH_FAILED', redactUrl(url), e.code ?? e.message ?? 'network error');
    throw e.code && TRANSIENT_NET.has(e.code) ? transient(failed) : failed;
  }
}
