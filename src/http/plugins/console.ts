/**
 * The analyst's console: static files built by `npm run build` (scripts/build-console.ts bundles
 * console/ into dist/console/), served at /console with a strict Content-Security-Policy. The
 * page talks to the same API with the same keys; nothing is fetched from anywhere else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

/** dist/console beside dist/src (this file is dist/src/http/plugins/console.js once built). */
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'console');

/** No inline scripts or styles, no other origin; images may be object URLs of the analyst's own drops. */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'",
].join('; ');

/** The console's routes, in their own scope (`dir`: the built console, default CONSOLE_DIR). */
export const consoleUi: FastifyPluginAsync<{ dir?: string }> = async (app, { dir = CONSOLE_DIR }) => {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    app.log.warn({ dir }, 'console not built (npm run build): /console is not served');
    return;
  }
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 301));
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    index: ['index.html'],
    wildcard: false,
    decorateReply: false,
    preCompressed: false,
    setHeaders(reply) {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cache-control', 'no-cache');
    },
  });
};
