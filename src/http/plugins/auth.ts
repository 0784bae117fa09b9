/**
 * API keys with scopes. The keys file holds only SHA-256 hashes (keys are high-entropy random
 * strings, so a fast hash is enough); the presented key is hashed and compared against every
 * configured hash in constant time, so timing reveals neither which key nor how much matched.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { dfgError, isDfgError } from '../../errors.js';
import { SCOPES, type Scope } from './scopes.js';

export { SCOPES, type Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope an API key needs for this route; absent = public. */
    scope?: Scope;
    /** A second scope that also admits a key to the route (the handler then checks per resource). */
    orScope?: Scope;
  }
  interface FastifyRequest {
    /** Id of the API key that passed the scope check (null: no keys, or a public route). */
    apiKeyId: string | null;
  }
}

export const KeysFileSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      id: Type.String({ minLength: 1 }),
      /** `sha256:<64 hex>` of the key. */
      hash: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
      scopes: Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s))), { minItems: 1 }),
    }),
  ),
});
export type KeysFile = Static<typeof KeysFileSchema>;

export interface KeyRing {
  /** True when keys are required: configured at start, even if a reload has since revoked every one. */
  readonly enabled: boolean;
  /** Replaces the keys (a reloaded keys file); requests from then on are checked against the new ones. */
  replace(keys: KeysFile['keys']): void;
  /** Resolves the request's key, throwing 401/403 catalogue errors. */
  check(request: FastifyRequest, scope: Scope): { keyId: string } | null;
}

export function hashKey(key: string): string {
  return 'sha256:' + crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key and the line to put in the keys file. */
export function generateKey(id: string, scopes: Scope[]): { key: string; entry: KeysFile['keys'][number] } {
  const key = 'dfg_' + crypto.randomBytes(24).toString('base64url');
  return { key, entry: { id, hash: hashKey(key), scopes } };
}

export function loadKeysFile(file: string): KeysFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw dfgError('DFG_ERR_CONFIG_INVALID', `  DFG_API_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!Value.Check(KeysFileSchema, parsed)) {
    const lines = [...Value.Errors(KeysFileSchema, parsed)].map((e) => `  DFG_API_KEYS_FILE ${e.path}: ${e.message}`);
    throw dfgError('DFG_ERR_CONFIG_INVALID', lines.join('\n'));
  }
  return parsed;
}

const toEntries = (keys: KeysFile['keys']) =>
  keys.map((k) => ({ id: k.id, digest: Buffer.from(k.hash.slice('sha256:'.length), 'hex'), scopes: new Set<Scope>(k.scopes) }));

export function createKeyRing(keys: KeysFile['keys']): KeyRing {
  let entries = toEntries(keys);
  // Once keys are required they stay required: a reload that revokes every key locks everyone out
  // rather than opening the service.
  const required = entries.length > 0;
  return {
    enabled: required,
    replace(next) {
      entries = toEntries(next);
    },
    check(request, scope) {
      if (!required) return null;
      const presented = presentedKey(request);
      if (!presented) throw dfgError('DFG_ERR_AUTH_MISSING_KEY');
      const digest = crypto.createHash('sha256').update(presented, 'utf8').digest();
      let match: (typeof entries)[number] | undefined;
      for (const e of entries) {
        // No early exit: every entry is compared.
        if (crypto.timingSafeEqual(digest, e.digest) && !match) match = e;
      }
      if (!match) throw dfgError('DFG_ERR_AUTH_INVALID_KEY');
      if (!match.scopes.has(scope) && !match.scopes.has('admin')) throw dfgError('DFG_ERR_AUTH_FORBIDDEN', scope);
      return { keyId: match.id };
    },
  };
}

function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  const x = request.headers['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x : undefined;
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** /metrics and the OpenAPI UI and spec under /docs (matched by route, so no spelling of the URL slips past). */
export function isOpsRoute(route: string | undefined): boolean {
  return route === '/metrics' || route === '/docs' || (route?.startsWith('/docs/') ?? false);
}

export interface AuthenticationOptions {
  keyRing: KeyRing;
  /** DFG_PROTECT_OPS: with keys, the ops routes (isOpsRoute) need an admin key. */
  protectOps: boolean;
}

/**
 * Checks each request's key against its route's `config.scope` in the first `onRequest` hook:
 * 401/403 cost nothing, and a valid key's id then keys the rate limit (admission.ts). Not
 * encapsulated: it guards the routes of every scope.
 */
export const authentication = fp<AuthenticationOptions>(async (app, { keyRing, protectOps }) => {
  app.decorateRequest('apiKeyId', null);
  const authenticate = (request: FastifyRequest): void => {
    const scope = request.routeOptions.config.scope;
    if (!scope) {
      if (protectOps && isOpsRoute(request.routeOptions.url)) keyRing.check(request, 'admin');
      return;
    }
    let who: { keyId: string } | null;
    try {
      who = keyRing.check(request, scope);
    } catch (err) {
      const orScope = request.routeOptions.config.orScope;
      if (!orScope || !isDfgError(err, 'DFG_ERR_AUTH_FORBIDDEN')) throw err;
      who = keyRing.check(request, orScope);
    }
    if (who) {
      request.apiKeyId = who.keyId;
      request.log = request.log.child({ keyId: who.keyId });
    }
  };
  // A callback hook: a public route (health probes) passes without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      authenticate(request);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
}, { name: 'dfg-authentication' });
