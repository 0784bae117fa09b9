/**
 * Builds the Fastify app (never listens: src/server.ts does). Routes are thin adapters over the
 * services; every error leaves through one handler with a catalogue code.
 */
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from './serving/services.js';
import { errorHandling, errorBody, toDfgError } from './http/plugins/errors.js';
import { requestLog, RequestLogController } from './http/plugins/request-log.js';
import { consoleUi } from './http/plugins/console.js';
import { createMetrics, requestMetrics, type Metrics } from './http/plugins/metrics.js';
import { authentication, type KeyRing, type Scope } from './http/plugins/auth.js';
import { ErrorBody } from './http/schemas/common.js';
import { Algorithm, AlgorithmRef, ItemError, Provenance, Sample } from './http/schemas/algorithms.js';
import { Attribution } from './http/schemas/attribution.js';
import { algorithmRoutes } from './http/routes/algorithms.js';
import { sampleRoutes } from './http/routes/samples.js';
import { attributeRoutes } from './http/routes/attribute.js';
import { galleryRoutes } from './http/routes/gallery.js';
import { healthRoutes } from './http/routes/health.js';
import { calibrationRoutes } from './http/routes/calibration.js';
import { modelRoutes } from './http/routes/model.js';
import { exchangeRoutes } from './http/routes/exchange.js';
import { auditRoutes } from './http/routes/audit.js';
import { ERRORS } from './errors.js';
import { httpServerOptions } from './http/server-options.js';
import { queryGuard } from './http/plugins/query-guard.js';
import { admission } from './http/plugins/admission.js';
import type { RouteDeps } from './http/deps.js';
import { exclusiveBoundsAsOpenApi30, OPENAPI_SERVERS, OPENAPI_TAGS } from './http/openapi-doc.js';

export interface BuildOptions {
  services: Services;
  keyRing: KeyRing;
  /** A pino logger for requests (default: none). */
  logger?: FastifyBaseLogger;
  /** Extra route plugins (the batch-job routes) registered with the same dependencies. */
  extraRoutes?: Array<FastifyPluginAsync<RouteDeps>>;
}

export const API_VERSION = '1.0.0';

export async function buildApp(opts: BuildOptions): Promise<{ app: FastifyInstance; metrics: Metrics }> {
  const { services, keyRing } = opts;
  const cfg = services.config;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    ...httpServerOptions(cfg),
    bodyLimit: 1024 * 1024,
    // A client's x-request-id becomes the log id only when it is a short token: any length or
    // character would let a client write what it likes into every log line of its request.
    requestIdHeader: false,
    genReqId: (req) => clientRequestId(req.headers['x-request-id']) ?? crypto.randomUUID(),
    logController: new RequestLogController(),
    // Long path parameters reach the route schemas (a coded 400) instead of the router's uncoded 414.
    routerOptions: { maxParamLength: 1000 },
    // Errors raised before routing (a malformed URL) leave with a catalogue code like every other.
    frameworkErrors: (err, _request, reply) => {
      const { error } = toDfgError(err);
      void (reply as unknown as FastifyReply).status(error.statusCode).send(errorBody(error));
    },
    // verbose: each schema error carries the refused value, for the one error sentence (http/schema-errors.ts).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, verbose: true } },
  });

  const metrics = createMetrics({
    gallerySamples: () => services.peek().gallery?.info().counts.samples,
    queueDepth: () => services.peek().embedder?.stats().queued,
  });

  await app.register(errorHandling);
  await app.register(requestLog);
  await app.register(queryGuard);
  await app.register(requestMetrics, { metrics });

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
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
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
      servers: OPENAPI_SERVERS,
      tags: OPENAPI_TAGS,
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const cfgRoute = (route as { config?: { scope?: Scope; multipart?: 'file' | 'files' } } | undefined)?.config;
      const out: Record<string, unknown> = { ...(schema as object) };
      // A route without a scope is public: an empty list says so (there is no document-wide default).
      out.security = cfgRoute?.scope ? [{ bearer: [] }, { apiKey: [] }] : [];
      if (cfgRoute?.scope) {
        // Every keyed route may be rate limited (DFG_RATE_LIMIT_PER_MIN), answered by the admission hook.
        const response = (out.response ?? {}) as Record<string, unknown>;
        out.response = { ...response, 429: response[429] ?? Type.Ref('Error') };
      }
      if (cfgRoute?.multipart) out['x-multipart'] = cfgRoute.multipart;
      return { schema: out as never, url };
    },
    transformObject: (doc) => exclusiveBoundsAsOpenApi30(addMultipartBodies((doc as { openapiObject: OpenApiDoc }).openapiObject)) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await app.register(consoleUi);

  for (const s of [ErrorBody, Provenance, Algorithm, AlgorithmRef, Sample, ItemError, Attribution]) app.addSchema(s);

  await app.register(authentication, { keyRing, protectOps: cfg.DFG_PROTECT_OPS });
  await app.register(admission, {
    config: cfg,
    poolStats: () => services.peek().embedder?.stats(),
    onShed: (reason) => metrics.shed.inc({ reason }),
  });

  const deps: RouteDeps = { services, metrics, keyRing };
  for (const plugin of [healthRoutes, algorithmRoutes, sampleRoutes, attributeRoutes, galleryRoutes, calibrationRoutes, modelRoutes, exchangeRoutes, auditRoutes, ...(opts.extraRoutes ?? [])]) {
    await app.register(plugin, deps);
  }
  return { app, metrics };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's x-request-id when it is 1-128 characters of `A-Za-z0-9._:-`, else undefined (a fresh id is used). */
export function clientRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : undefined;
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
