import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { AttributeQuery, AttributionBatch } from '../schemas/attribution.js';
import { errorResponses } from '../schemas/common.js';
import { errorItem, readImageParts } from '../multipart.js';
import { attributeImage } from '../../use-cases/attribute.js';
import type { Parts } from '../../serving/services.js';

export async function attributeRoutes(untyped: FastifyInstance, { services, metrics }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const cfg = services.config;

  const run = async ({ embedder, gallery }: Parts, bytes: Uint8Array, sha256: string | undefined, query: Static<typeof AttributeQuery>) => {
    const result = await attributeImage({ embedder, gallery, config: cfg }, bytes, { ...query, sha256 });
    metrics.decisions.inc({ decision: result.decision });
    metrics.embedSeconds.observe({ model: result.model.id }, (result.timings.decodeMs + result.timings.embedMs) / 1000);
    metrics.searchSeconds.observe(result.timings.searchMs / 1000);
    return result;
  };

  app.post('/v1/attribute', {
    config: { scope: 'attribute', multipart: 'file' },
    schema: {
      operationId: 'attribute', tags: ['attribution'],
      summary: 'Attribute one image to the nearest registered algorithm, or unknown',
      description: 'Multipart with exactly one image file. For several files use /v1/attribute/batch.',
      querystring: AttributeQuery,
      response: { 200: Type.Ref('Attribution'), ...errorResponses(400, 401, 403, 413, 415, 422, 503) },
    },
  }, async (request) => {
    services.need();
    const { files } = await readImageParts(request, 1, cfg.DFG_MAX_IMAGE_BYTES);
    const file = files[0]!;
    if (file.error) throw file.error;
    // The models are held from here (not during the upload): a model switch meanwhile waits for this answer.
    const result = await services.use((parts) => run(parts, file.bytes!, file.sha256, request.query));
    request.logFields = { decision: result.decision, algorithmId: result.algorithm?.id, score: result.score, sha256: result.image.sha256 };
    return result;
  });

  app.post('/v1/attribute/batch', {
    config: { scope: 'attribute', multipart: 'files' },
    schema: {
      operationId: 'attributeBatch', tags: ['attribution'],
      summary: 'Attribute several images in one request; answered per file',
      description: `At most ${cfg.DFG_MAX_FILES} files. A bad file gets a per-file error; the others are still answered.`,
      querystring: AttributeQuery,
      response: { 200: AttributionBatch, ...errorResponses(400, 401, 403, 413, 415, 503) },
    },
  }, async (request) => {
    services.need();
    const { files } = await readImageParts(request, cfg.DFG_MAX_FILES, cfg.DFG_MAX_IMAGE_BYTES);
    const query = request.query;
    // Every file of the batch with the same models, even when they are switched meanwhile.
    const settled = await services.use((parts) => Promise.allSettled(files.map((f) => (f.error ? Promise.reject(f.error) : run(parts, f.bytes!, f.sha256, query)))));
    // Shedding applies to the request as a whole: a client retries the batch, not single files.
    const shed = settled.find((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'DFG_ERR_SERVER_OVERLOADED');
    if (shed && settled.every((s) => s.status === 'rejected')) throw (shed as PromiseRejectedResult).reason;
    const decisions: Record<string, number> = {};
    for (const s of settled) {
      const key = s.status === 'fulfilled' ? s.value.decision : 'error';
      decisions[key] = (decisions[key] ?? 0) + 1;
    }
    request.logFields = { files: files.length, decisions };
    return {
      results: settled.map((s, i) =>
        s.status === 'fulfilled' ? { filename: files[i]!.filename, result: s.value } : { filename: files[i]!.filename, error: errorItem(s.reason) },
      ),
    };
  });

}
