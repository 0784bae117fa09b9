/**
 * Builds the Fastify app (never listens: src/server.ts does). Routes are thin adapters over the
 * services; every error leaves through one handler with a catalogue code.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from './services.js';
import { registerErrorHandling } from './http/plugins/errors.js';
import { registerRequestLog, RequestLogController } from './http/plugins/request-log.js';
import { registerConsole } from './http/plugins/console.js';
import { createMetrics, registerRequestMetrics, type Metrics } from './http/plugins/metrics.js';
import type { KeyRing, Scope } from './http/plugins/auth.js';
import { ErrorBody } from './http/schemas/common.js';
import { Algorithm, AlgorithmRef, ItemError, Sample } from './http/schemas/algorithms.js';
import { Attribution } from './http/schemas/attribution.js';
import { algorithmRoutes } from './http/routes/algorithms.js';
import { sampleRoutes } from './http/routes/samples.js';
import { attributeRoutes } from './http/routes/attribute.js';
import { galleryRoutes } from './http/routes/gallery.js';
import { healthRoutes } from './http/routes/health.js';
import { calibrationRoutes } from './http/routes/calibration.js';
import { modelRoutes } from './http/routes/model.js';
import { exchangeRoutes } from './http/routes/exchange.js';
import { ERRORS } from './errors.js';
import type { RouteDeps } from './http/deps.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope an API key needs for this route; absent = public. */
    scope?: Scope;
    /** Multipart upload form, documented in OpenAPI: one file or several. */
    multipart?: 'file' | 'files';
  }
}

export interface BuildOptions {
  services: Services;
  keyRing: KeyRing;
  /** A pino logger for requests (default: none). */
  logger?: FastifyBaseLogger;
  /** Extra route plugins (jobs, calibration) registered with the same dependencies. */
  extraRoutes?: Array<(app: FastifyInstance, deps: RouteDeps) => Promise<void>>;
}

export const API_VERSION = '1.0.0';

export async function buildApp(opts: BuildOptions): Promise<{ app: FastifyInstance; metrics: Metrics }> {
  const { services, keyRing } = opts;
  const cfg = services.config;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    logController: new RequestLogController(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });

  const metrics = createMetrics({
    gallerySamples: () => services.peek().gallery?.info().counts.samples,
    queueDepth: () => services.peek().embedder?.stats().queued,
  });

  registerErrorHandling(app);
  registerRequestLog(app);
  registerRequestMetrics(app, metrics);

  await app.register(multipart, {
    limits: {
      fileSize: cfg.DFG_MAX_IMAGE_BYTES,
      files: cfg.DFG_MAX_FILES,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: cfg.DFG_MAX_FILES + 20,
      headerPairs: 200,
    },
    throwFileSizeLimit: false,
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'DeepfakeGenome attribution service',
        version: API_VERSION,
        description:
          'Deepfake attribution by blacklist registration: register forgery algorithms, enrol samples, attribute uploads ' +
          'to the nearest registered algorithm or `unknown`.\n\nErrors carry a `code`; clients branch on it:\n\n' +
          Object.entries(ERRORS).map(([code, e]) => `- \`${code}\` (${e.status}): ${e.doc}`).join('\n'),
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key (scopes attribute, register, admin)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      tags: [
        { name: 'attribution' }, { name: 'algorithms' }, { name: 'samples' }, { name: 'gallery' }, { name: 'jobs' }, { name: 'exchange', description: 'Signed gallery bundles shared between organisations' }, { name: 'health' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const cfgRoute = (route as { config?: { scope?: Scope; multipart?: 'file' | 'files' } } | undefined)?.config;
      const out: Record<string, unknown> = { ...(schema as object) };
      if (cfgRoute?.scope) out.security = [{ bearer: [] }, { apiKey: [] }];
      if (cfgRoute?.multipart) out['x-multipart'] = cfgRoute.multipart;
      return { schema: out as never, url };
    },
    transformObject: (doc) => addMultipartBodies((doc as { openapiObject: OpenApiDoc }).openapiObject) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await registerConsole(app);

  for (const s of [ErrorBody, Algorithm, AlgorithmRef, Sample, ItemError, Attribution]) app.addSchema(s);

  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const who = keyRing.check(request, scope);
    if (who) request.log = request.log.child({ keyId: who.keyId });
  });

  const deps: RouteDeps = { services, metrics, keyRing };
  for (const plugin of [healthRoutes, algorithmRoutes, sampleRoutes, attributeRoutes, galleryRoutes, calibrationRoutes, modelRoutes, exchangeRoutes, ...(opts.extraRoutes ?? [])]) {
    await app.register(async (scoped) => plugin(scoped, deps));
  }
  return { app, metrics };
}

type OpenApiDoc = { paths?: Record<string, Record<string, Record<string, unknown>>> };

/** Multipart bodies are read as streams (not validated by a body schema), so their request bodies are documented here. */
function addMultipartBodies(doc: OpenApiDoc): OpenApiDoc {
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(ops)) {
      const form = op['x-multipart'];
      if (!form) continue;
      delete op['x-multipart'];
      const file = { type: 'string', format: 'binary', description: 'Image (JPEG, PNG, WebP, GIF, TIFF, AVIF)' };
      op.requestBody = {
        required: true,
        content: {
          'multipart/form-data': {
            schema: form === 'file'
              ? { type: 'object', required: ['file'], properties: { file } }
              : { type: 'object', required: ['files'], properties: { files: { type: 'array', items: file } } },
          },
        },
      };
    }
  }
  return doc;
}
