import { scoreNormInfo } from '../attribution/score-norm.js';
import type { AlgorithmRecord, SampleRecord } from '../gallery/gallery.js';
import type { Config } from '../config/index.js';
import type { ModelOrigin, Parts } from '../serving/services.js';
import { formatModelList } from '../embedding/index.js';
import { resolveMargin, resolveThreshold } from '../attribution/decide.js';
import { metricInfo } from '../attribution/gallery-metric.js';

export function toAlgorithmBody(a: AlgorithmRecord) {
  return {
    id: a.id, name: a.name, forgeryType: a.forgeryType, architecture: a.architecture,
    description: a.description ?? '', reference: a.reference ?? '', enabled: a.enabled,
    threshold: a.threshold ?? null, sampleCount: a.sampleCount ?? 0,
    createdAt: a.createdAt, updatedAt: a.updatedAt, provenance: a.provenance ?? null,
  };
}

export function toSampleBody(s: SampleRecord) {
  return {
    id: s.id, algorithmId: s.algorithmId, models: s.models, sha256: s.sha256,
    width: s.width, height: s.height, filename: s.filename ?? null, createdAt: s.createdAt, provenance: s.provenance ?? null,
  };
}

/** The GalleryInfo body of a serving pair: models and where their list came from, counts, index state, decision settings, calibration. */
export async function toGalleryInfo({ embedder, gallery }: Parts, cfg: Pick<Config, 'DFG_THRESHOLD' | 'DFG_MARGIN' | 'DFG_TOP_M' | 'DFG_K'>, origin: ModelOrigin) {
  const info = gallery.info();
  const coverage = await gallery.coverage();
  const cal = gallery.currentCalibration();
  return {
    model: {
      id: embedder.model.id,
      list: formatModelList(embedder.models),
      source: origin.source,
      configured: origin.configured,
      lastSwitch: origin.lastSwitch,
      version: embedder.model.version,
      dimension: embedder.model.dim,
      members: embedder.models.map((m) => ({ id: m.id, version: m.version, dimension: m.dim, weight: m.weight, missingSamples: coverage.missing[m.id] ?? 0 })),
    },
    version: info.version,
    counts: { ...info.counts, stored: coverage.stored, needsReembedding: coverage.incomplete },
    index: info.index,
    decision: { threshold: resolveThreshold(cfg.DFG_THRESHOLD, embedder.manifests.map((m) => m.decision?.threshold)), margin: resolveMargin(cfg.DFG_MARGIN, embedder.manifests.map((m) => m.decision?.margin)), topM: cfg.DFG_TOP_M, k: cfg.DFG_K },
    calibration: cal ? { version: cal.version, createdAt: cal.createdAt, targetFpir: cal.targetFpir, global: cal.global, perAlgorithm: cal.perAlgorithm, metric: metricInfo(cal.metric), scoreNorm: scoreNormInfo(cal.params.scoreNorm) } : null,
  };
}
