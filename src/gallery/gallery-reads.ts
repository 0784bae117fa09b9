/**
 * Read-side parts of the gallery that do more than pass a call through: its info (from memory),
 * the store's vector coverage, iteration over every indexed (fused) vector, and the effective
 * thresholds, cached until a refresh replaces the algorithms or the calibration.
 */
import { indexVector, type FusionMember } from '../math/fusion.js';
import type { LiveIndex } from './index/live.js';
import type { GalleryStore } from './store/api.js';
import { checkPositiveInt } from './validate.js';
import type { Gallery } from './gallery-api.js';
import type { EffectiveThresholds } from './types.js';

export interface GalleryReadContext {
  store: GalleryStore;
  live: LiveIndex;
  models: readonly FusionMember[];
  modelIds: readonly string[];
  modelId: string;
  dim: number;
  /** Throws DFG_ERR_SERVER_NOT_READY once the gallery is closed. */
  open(): void;
}

export function createGalleryReads(ctx: GalleryReadContext): Pick<Gallery, 'vectors' | 'sampleVectors' | 'info' | 'enabledSampleCounts' | 'coverage' | 'effectiveThresholds'> {
  const { store, live, models, modelIds, modelId, dim, open } = ctx;
  let thresholdCache: { algorithms: unknown; cal: unknown; value: EffectiveThresholds } | undefined;

  return {
    async *vectors(vOpts) {
      open();
      const batch = checkPositiveInt(vOpts?.batchSize ?? 1000, 'batchSize');
      const upto = await store.maxSeq();
      let after = 0;
      for (;;) {
        const page = await store.indexedVectors(modelIds, after, upto, batch);
        for (const s of page) {
          if (models.every((m) => s.vectors.get(m.id)?.length === m.dim)) {
            yield { sampleId: s.sampleId, algorithmId: s.algorithmId, vector: indexVector(models, s.vectors) };
          }
        }
        if (page.length < batch) return;
        after = page[page.length - 1]!.label;
      }
    },

    async sampleVectors(sampleIds) {
      open();
      return store.vectorsOf(sampleIds, modelIds, await store.maxSeq());
    },

    info() {
      let enabledAlgorithms = 0;
      const algorithms = live.algorithms();
      for (const a of algorithms.values()) if (a.enabled) enabledAlgorithms++;
      const index = live.info();
      return {
        modelId,
        dim,
        models: models.map((m) => ({ ...m })),
        version: index.lastSeq,
        counts: { algorithms: algorithms.size, enabledAlgorithms, samples: live.liveSamples() },
        index,
      };
    },

    enabledSampleCounts() {
      const algorithms = live.algorithms();
      const out: Record<string, number> = Object.create(null);
      for (const [id, n] of live.samplesPerAlgorithm()) if (n > 0 && algorithms.get(id)?.enabled) out[id] = n;
      return out;
    },

    async coverage() {
      open();
      return store.coverage(modelIds);
    },

    effectiveThresholds() {
      const cal = live.calibration();
      const algorithms = live.algorithms();
      // Recomputed only when refresh replaced the algorithm or calibration cache (new objects).
      if (thresholdCache?.algorithms === algorithms && thresholdCache.cal === cal) return thresholdCache.value;
      const perAlgorithm: Record<string, number> = {};
      for (const a of algorithms.values()) {
        const value = a.threshold ?? cal?.perAlgorithm[a.id];
        if (value !== undefined) perAlgorithm[a.id] = value;
      }
      Object.freeze(perAlgorithm);
      const value = Object.freeze(cal ? { global: cal.global, perAlgorithm } : { perAlgorithm });
      thresholdCache = { algorithms, cal, value };
      return value;
    },
  };
}
