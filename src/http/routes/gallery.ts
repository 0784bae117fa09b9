import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { GalleryInfo } from '../schemas/attribution.js';
import { errorResponses } from '../schemas/common.js';
import { resolveMargin } from '../../attribution/decide.js';
import { metricInfo } from '../../attribution/gallery-metric.js';

export async function galleryRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const cfg = services.config;
  app.get('/v1/gallery', {
    config: { scope: 'attribute' },
    schema: {
      operationId: 'getGallery', tags: ['gallery'], summary: 'Models and fusion weights, dimension, counts (samples needing re-embedding included), version, index state and decision settings',
      response: { 200: GalleryInfo, ...errorResponses(401, 403, 503) },
    },
  }, async () => {
    const { embedder, gallery } = services.need();
    const info = gallery.info();
    const coverage = gallery.coverage();
    const cal = gallery.currentCalibration();
    return {
      model: {
        id: embedder.model.id,
        version: embedder.model.version,
        dimension: embedder.model.dim,
        members: embedder.models.map((m) => ({ id: m.id, version: m.version, dimension: m.dim, weight: m.weight, missingSamples: coverage.missing[m.id] ?? 0 })),
      },
      version: info.version,
      counts: { ...info.counts, stored: coverage.stored, needsReembedding: coverage.incomplete },
      index: info.index,
      decision: { threshold: cfg.DFG_THRESHOLD, margin: resolveMargin(cfg.DFG_MARGIN, embedder.manifests.map((m) => m.decision?.margin)), topM: cfg.DFG_TOP_M, k: cfg.DFG_K },
      calibration: cal ? { version: cal.version, createdAt: cal.createdAt, targetFpir: cal.targetFpir, global: cal.global, perAlgorithm: cal.perAlgorithm, metric: metricInfo(cal.metric) } : null,
    };
  });
}
