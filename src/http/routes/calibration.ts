import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { errorResponses } from '../schemas/common.js';
import { MetricInfo, ScoreNormInfo } from '../schemas/attribution.js';
import { scoreNormInfo } from '../../attribution/score-norm.js';
import { metricInfo } from '../../attribution/gallery-metric.js';
import { calibrateGalleryInWorker, calibrationCohort } from '../../calibration/index.js';
import { metricSetting, scoreNormSetting } from '../../config/index.js';
import type { AlgorithmCalibration } from '../../attribution/calibrate.js';
import { dfgError } from '../../errors.js';
import type { FeedbackCounts } from '../../gallery/types.js';
import { auditNote } from '../audit-note.js';

const CalibrationRequest = Type.Object(
  {
    targetFpir: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5, description: 'Default DFG_TARGET_FPIR.' })),
    maxSamplesPerAlgorithm: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000, default: 200, description: 'Calibration is quadratic in samples.' })),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Compute and return, store nothing.' })),
  },
  { additionalProperties: false },
);

const Share = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);

const AlgorithmCalibrationRow = Type.Object({
  algorithmId: Type.String(),
  name: Type.String({ description: 'The name now; the id when the algorithm has been deleted since.' }),
  samples: Type.Integer(),
  threshold: Type.Number(),
  source: Type.String({ description: 'own, or global with the reason' }),
  genuineAcceptance: Type.Union([Type.Number(), Type.Null()], { description: 'Share of its leave-one-out genuine scores at or above its threshold.' }),
  impostorAcceptance: Type.Union([Type.Number(), Type.Null()], { description: 'Share of impostor scores (other algorithms\' samples, negatives) at or above its threshold.' }),
  looRank1: Type.Optional(Share),
  confusedWith: Type.Optional(Type.Union([
    Type.Object({ algorithmId: Type.String(), name: Type.String(), share: Type.Number({ minimum: 0, maximum: 1 }) }),
    Type.Null(),
  ], { description: 'The other algorithm that most often outscores it on its own samples (left out one at a time), with the share of its samples it takes; null when none does.' })),
  feedback: Type.Optional(Type.Object({ genuine: Type.Integer(), impostors: Type.Integer() }, {
    description: 'Of its genuine and impostor scores, those of answers analysts judged (confirmed or relabelled to it; rejected).',
  })),
});

const FeedbackReport = Type.Object({
  confirmed: Type.Integer({ description: 'Attributed answers of the served model that analysts confirmed.' }),
  rejected: Type.Integer({ description: 'Attributed answers rejected.' }),
  relabelled: Type.Integer({ description: 'Attributed answers relabelled to another algorithm (wrong too).' }),
  precision: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: 'Observed precision of attributions: confirmed / (confirmed + rejected + relabelled); null before any verdict on an attributed answer.',
  }),
  used: Type.Object({ genuine: Type.Integer(), impostors: Type.Integer() }, { description: 'Judged answers this calibration used as genuine and impostor scores.' }),
}, { description: 'Analysts\' feedback (POST /v1/attributions/{id}/feedback): the precision it shows now, and what this calibration took from it.' });

const CalibrationResult = Type.Object({
  version: Type.Union([Type.Integer(), Type.Null()], { description: 'Stored calibration version (null on a dry run).' }),
  targetFpir: Type.Number(),
  global: Type.Number(),
  perAlgorithm: Type.Array(AlgorithmCalibrationRow, {
    description: 'Per enabled algorithm: its threshold and, left out one sample at a time, how often its samples score it highest (`looRank1`) and which algorithm takes the others (`confusedWith`): the registered algorithms the model mixes up, where more or more varied samples help. Absent in calibrations stored before these statistics existed.',
  }),
  negatives: Type.Integer({ description: 'Samples of disabled algorithms used as impostors.' }),
  metric: MetricInfo,
  scoreNorm: ScoreNormInfo,
  feedback: FeedbackReport,
});

const StoredCalibration = Type.Intersect([
  CalibrationResult,
  Type.Object({
    createdAt: Type.String(),
    automatic: Type.Boolean({ description: 'Made by the server on its own (DFG_AUTO_CALIBRATE_MS) rather than requested.' }),
    model: Type.String({ description: 'The index id it belongs to (the served model list).' }),
  }),
]);

type Row = Static<typeof AlgorithmCalibrationRow>;

const nullIfNaN = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/**
 * Response rows from calibration statistics (fresh, or as stored in a calibration's params, where
 * JSON has turned NaN into null and older versions lack the leave-one-out fields).
 */
export function calibrationRows(perAlgorithm: Record<string, Partial<AlgorithmCalibration>>, name: (id: string) => string): Row[] {
  return Object.entries(perAlgorithm).map(([id, s]) => {
    const row: Row = {
      algorithmId: id, name: name(id), samples: s.samples ?? 0, threshold: s.threshold ?? NaN,
      source: s.source === 'global' ? `global (${s.reason})` : 'own',
      genuineAcceptance: nullIfNaN(s.genuineAcceptance), impostorAcceptance: nullIfNaN(s.impostorAcceptance),
    };
    if ('looRank1' in s) row.looRank1 = nullIfNaN(s.looRank1);
    if (s.feedback && Number.isInteger(s.feedback.genuine) && Number.isInteger(s.feedback.impostors)) row.feedback = { genuine: s.feedback.genuine, impostors: s.feedback.impostors };
    if ('confusedWith' in s) {
      const c = s.confusedWith;
      row.confusedWith = c && typeof c.algorithm === 'string' ? { algorithmId: c.algorithm, name: name(c.algorithm), share: c.share } : null;
    }
    return row;
  });
}

export async function calibrationRoutes(untyped: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const cfg = services.config;
  app.post('/v1/calibration', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'calibrate', tags: ['gallery'],
      summary: 'Calibrate per-algorithm thresholds from the gallery for a target FPIR and make them current',
      description: 'Leave-one-out genuine scores of each enabled algorithm against impostor scores of every other one (and of disabled algorithms). The stored result is versioned, shown in GET /v1/gallery and used by /v1/attribute; explicit per-algorithm thresholds still win. The server also calibrates on its own (DFG_AUTO_CALIBRATE_MS) once the enabled algorithms or their sample counts change, keeping the target FPIR and sample cap of the last requested calibration: request one to choose another. The computation runs in a worker thread.',
      body: CalibrationRequest,
      response: { 201: CalibrationResult, 200: CalibrationResult, ...errorResponses(400, 401, 403, 415, 422, 503) },
    },
  }, async (request, reply) => {
    const body = request.body ?? {};
    const targetFpir = body.targetFpir ?? cfg.DFG_TARGET_FPIR;
    // The quadratic part runs in a worker thread; the gallery stays open (held) until it is saved.
    const { result, counts } = await services.use(async ({ gallery, embedder }) => ({
      result: await calibrateGalleryInWorker(gallery, {
        topM: cfg.DFG_TOP_M, targetFpir, maxSamplesPerAlgorithm: body.maxSamplesPerAlgorithm, save: !body.dryRun, metric: metricSetting(cfg),
        cohort: calibrationCohort(embedder.cohort, scoreNormSetting(cfg)), audit: auditNote(request),
      }),
      counts: await gallery.feedbackCounts(),
    }));
    request.log.info({ version: result.record?.version, targetFpir, global: result.calibration.global, metric: metricInfo(result.metric) }, 'calibrated');
    return reply.status(result.record ? 201 : 200).send({
      version: result.record?.version ?? null,
      targetFpir,
      global: result.calibration.global,
      perAlgorithm: calibrationRows(result.calibration.stats.perAlgorithm, (id) => result.names[id] ?? id),
      negatives: result.negatives,
      metric: metricInfo(result.metric),
      scoreNorm: scoreNormInfo(result.scoreNorm),
      feedback: feedbackReport(counts, result.calibration.stats.global.feedback),
    });
  });

  app.get('/v1/calibration', {
    config: { scope: 'register' },
    schema: {
      operationId: 'getCalibration', tags: ['gallery'],
      summary: 'The current calibration of the served model: thresholds and what they were computed from, per algorithm',
      description: 'What POST /v1/calibration answered when it made the current calibration, or what the server computed on its own (automatic calibrations answer nobody): per-algorithm thresholds, genuine and impostor acceptance, and the leave-one-out identification that shows which registered algorithms the model mixes up. 404 DFG_ERR_CALIBRATION_NOT_FOUND before any calibration of the served model.',
      response: { 200: StoredCalibration, ...errorResponses(401, 403, 404, 503) },
    },
  }, async () => services.use(async ({ gallery }) => {
    const record = gallery.currentCalibration();
    if (!record) throw dfgError('DFG_ERR_CALIBRATION_NOT_FOUND', gallery.modelId);
    const stats = record.params.stats as { perAlgorithm?: Record<string, Partial<AlgorithmCalibration>> } | undefined;
    const name = (id: string) => gallery.algorithmSummary(id)?.name ?? id;
    return {
      version: record.version,
      createdAt: record.createdAt,
      automatic: record.params.auto === true,
      model: gallery.modelId,
      targetFpir: record.targetFpir,
      global: record.global,
      perAlgorithm: calibrationRows(stats?.perAlgorithm ?? {}, name),
      negatives: typeof record.params.negatives === 'number' ? record.params.negatives : 0,
      metric: metricInfo(record.metric),
      scoreNorm: scoreNormInfo(record.params.scoreNorm),
      feedback: feedbackReport(await gallery.feedbackCounts(), record.params.feedback),
    };
  }));
}

/** The feedback block of a calibration answer: the verdicts now, and what the calibration used (`used` as stored; older calibrations used none). */
function feedbackReport(counts: FeedbackCounts, used: unknown): Static<typeof FeedbackReport> {
  const judged = counts.confirmed + counts.rejected + counts.relabelled;
  const u = used as { genuine?: unknown; impostors?: unknown } | undefined;
  return {
    ...counts,
    precision: judged === 0 ? null : counts.confirmed / judged,
    used: { genuine: Number.isInteger(u?.genuine) ? (u!.genuine as number) : 0, impostors: Number.isInteger(u?.impostors) ? (u!.impostors as number) : 0 },
  };
}
