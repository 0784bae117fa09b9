import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { AttributeQuery, AttributionBatch, FeedbackBody, FeedbackResult } from '../schemas/attribution.js';
import { errorResponses } from '../schemas/common.js';
import { errorItem, readImageParts } from '../multipart.js';
import { attributeWithQuery } from '../../use-cases/attribute.js';
import type { Parts } from '../../serving/services.js';
import { createAttributionRecorder } from '../../use-cases/attribution-recorder.js';
import { giveFeedback } from '../../use-cases/feedback.js';
import { auditNote } from '../audit-note.js';

export async function attributeRoutes(untyped: FastifyInstance, { services, metrics }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const cfg = services.config;
  const recorder = createAttributionRecorder({ retentionDays: cfg.DFG_ATTRIBUTION_RETENTION_DAYS, log: app.log });

  /** Attributes, and keeps the answer for feedback (committed before it is answered; the gallery is held meanwhile). */
  const run = async ({ embedder, gallery }: Parts, bytes: Uint8Array, sha256: string | undefined, query: Static<typeof AttributeQuery>, keyId: string | null) => {
    const { answer: result, vectors } = await attributeWithQuery({ embedder, gallery, config: cfg }, bytes, { ...query, sha256 });
    metrics.decisions.inc({ decision: result.decision });
    metrics.embedSeconds.observe({ model: result.model.id }, (result.timings.decodeMs + result.timings.embedMs) / 1000);
    metrics.searchSeconds.observe(result.timings.searchMs / 1000);
    return { attributionId: await recorder.record(gallery, result, vectors, keyId), ...result };
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
    const result = await services.use((parts) => run(parts, file.bytes!, file.sha256, request.query, request.apiKeyId));
    request.logFields = { attributionId: result.attributionId, decision: result.decision, algorithmId: result.algorithm?.id, score: result.score, sha256: result.image.sha256 };
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
    const settled = await services.use((parts) => Promise.allSettled(files.map((f) => (f.error ? Promise.reject(f.error) : run(parts, f.bytes!, f.sha256, query, request.apiKeyId)))));
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

  app.post('/v1/attributions/:id/feedback', {
    config: { scope: 'register' },
    schema: {
      operationId: 'giveFeedback', tags: ['attribution'],
      summary: 'An analyst\'s verdict on an answer: confirm, reject or relabel, optionally enrolling the upload',
      description: 'The answer is found by the `attributionId` /v1/attribute gave (kept DFG_ATTRIBUTION_RETENTION_DAYS days). ' +
        'Confirmed and relabelled answers become genuine scores of their algorithm, rejected ones impostor scores of the attributed algorithm, in the next calibration ' +
        '(POST /v1/calibration, and the automatic one); GET /v1/calibration reports the precision they show. One verdict per answer; each is in the audit trail. ' +
        'Needs the register scope: a verdict can enrol samples.',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      body: FeedbackBody,
      response: { 201: FeedbackResult, ...errorResponses(400, 401, 403, 404, 409, 415, 503) },
    },
  }, async (request, reply) => {
    const result = await services.use(({ gallery }) => giveFeedback(gallery, request.params.id, request.body, auditNote(request)));
    request.logFields = { attributionId: result.attributionId, verdict: result.verdict, algorithmId: result.algorithmId, enrolled: result.enrolled?.sampleId };
    return reply.status(201).send(result);
  });

}
