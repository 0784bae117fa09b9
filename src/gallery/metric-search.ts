/**
 * Re-scoring of retrieved neighbours in the gallery-adapted metric of the current calibration
 * (attribution/gallery-metric.ts). The HNSW index stays a plain cosine index, so a new
 * calibration never rebuilds it: the k nearest samples by cosine are re-scored by the metric's
 * similarity and re-ordered. Whitened sample vectors are cached per metric, so a query costs one
 * whitening of the query and one dot product per neighbour once the gallery's hot samples are in.
 */
import { applyMetric, type GalleryMetric } from '../attribution/gallery-metric.js';
import { byNeighbourRank } from '../attribution/score.js';
import type { Neighbour } from './types.js';

/** Whitened vectors kept at most (256-d: 4 MiB per 4096); the cache starts over beyond it. */
const MAX_CACHED = 50_000;

export interface MetricRescorer {
  /**
   * The neighbours (labels[i] is neighbours[i]'s index label) with similarities in `metric`, best
   * first. `point` reads a label's stored vector. Neighbours are returned unchanged when the
   * metric does not fit the index's dimension.
   */
  rescore(metric: GalleryMetric, query: Float32Array, neighbours: readonly Neighbour[], labels: readonly number[], point: (label: number) => Float32Array): Neighbour[];
}

export function createMetricRescorer(): MetricRescorer {
  let cache: { metric: GalleryMetric; vectors: Map<number, Float32Array> } | undefined;
  return {
    rescore(metric, query, neighbours, labels, point) {
      if (metric.dim !== query.length) return [...neighbours];
      if (cache?.metric !== metric || cache.vectors.size > MAX_CACHED) cache = { metric, vectors: new Map() };
      const { vectors } = cache;
      const q = applyMetric(metric, query);
      const out = neighbours.map((n, i) => {
        const label = labels[i]!;
        let x = vectors.get(label);
        if (!x) {
          x = applyMetric(metric, point(label));
          vectors.set(label, x);
        }
        let s = 0;
        for (let j = 0; j < x.length; j += 1) s += q[j]! * x[j]!;
        return { ...n, similarity: Math.max(-1, Math.min(1, s)) };
      });
      return out.sort(byNeighbourRank);
    },
  };
}
