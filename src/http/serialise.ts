import type { AlgorithmRecord, SampleRecord } from '../gallery/index.js';

export function toAlgorithmBody(a: AlgorithmRecord) {
  return {
    id: a.id, name: a.name, forgeryType: a.forgeryType, architecture: a.architecture,
    description: a.description ?? '', reference: a.reference ?? '', enabled: a.enabled,
    threshold: a.threshold ?? null, sampleCount: a.sampleCount ?? 0,
    createdAt: a.createdAt, updatedAt: a.updatedAt,
  };
}

export function toSampleBody(s: SampleRecord) {
  return {
    id: s.id, algorithmId: s.algorithmId, models: s.models, sha256: s.sha256,
    width: s.width, height: s.height, filename: s.filename ?? null, createdAt: s.createdAt,
  };
}
