import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { errorResponses } from '../schemas/common.js';
import { MetricInfo } from '../schemas/attribution.js';
import { metricInfo } from '../../attribution/gallery-metric.js';
import { calibrateGalleryInWorker } from '../../calibration/index.js';
import { metricSetting } from '../../config/index.js';

const CalibrationRequest = Type.Object(
  {
    targetFpir: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5, description: 'Default DFG_TARGET_FPIR.' })),
    maxSamplesPerAlgorithm: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000, default: 200, description: 'Calibration is quadratic in samples.' })),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Compute and return, store nothing.' })),
  },
  { additionalProperties: false },
);

const CalibrationResult = Type.Object({
  version: Type.Union([Type.Integer(), Type.Null()], { description: 'Stored calibration version (null on a dry run).' }),
  targetFpir: Type.Number(),
  global: Type.Number(),
  perAlgorithm: Type.Array(
    Type.Object({
      algorithmId: Type.String(),
      name: Type.String(),
      samples: Type.Integer(),
      threshold: Type.Number(),
      source: Type.String({ description: 'own, or global with the reason' }),
      genuineAcceptance: Type.Union([Type.Number(), Type.Null()]),
      impostorAcceptance: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
  negatives: Type.Integer({ description: 'Samples of disabled algorithms used as impostors.' }),
  metric: MetricInfo,
});

export async function calibrationRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const cfg = services.config;
  app.post('/v1/calibration', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'calibrate', tags: ['gallery'],
      summary: 'Calibrate per-algorithm thresholds from the gallery for a target FPIR and make them current',
      description: 'Leave-one-out genuine scores of each enabled algorithm against impostor scores of every other one (and of disabled algorithms). The stored result is versioned, shown in GET /v1/gallery and used by /v1/attribute; explicit per-algorithm thresholds still win. The server also calibrates on its own (DFG_AUTO_CALIBRATE_MS) once the enabled algorithms or their sample counts change; request one for another target FPIR or sample cap. The computation runs in a worker thread.',
      body: CalibrationRequest,
      response: { 201: CalibrationResult, 200: CalibrationResult, ...errorResponses(400, 401, 403, 415, 422, 503) },
    },
  }, async (request, reply) => {
    const body = (request.body ?? {}) as Static<typeof CalibrationRequest>;
    const targetFpir = body.targetFpir ?? cfg.DFG_TARGET_FPIR;
    // The quadratic part runs in a worker thread; the gallery stays open (held) until it is saved.
    const result = await services.use(({ gallery }) => calibrateGalleryInWorker(gallery, {
      topM: cfg.DFG_TOP_M, targetFpir, maxSamplesPerAlgorithm: body.maxSamplesPerAlgorithm, save: !body.dryRun, metric: metricSetting(cfg),
    }));
    const nullIfNaN = (x: number) => (Number.isFinite(x) ? x : null);
    request.log.info({ version: result.record?.version, targetFpir, global: result.calibration.global, metric: metricInfo(result.metric) }, 'calibrated');
    return reply.status(result.record ? 201 : 200).send({
      version: result.record?.version ?? null,
      targetFpir,
      global: result.calibration.global,
      perAlgorithm: Object.entries(result.calibration.stats.perAlgorithm).map(([id, s]) => ({
        algorithmId: id, name: result.names[id] ?? id, samples: s.samples, threshold: s.threshold,
        source: s.source === 'global' ? `global (${s.reason})` : 'own',
        genuineAcceptance: nullIfNaN(s.genuineAcceptance), impostorAcceptance: nullIfNaN(s.impostorAcceptance),
      })),
      negatives: result.negatives,
      metric: metricInfo(result.metric),
    });
  });
}
