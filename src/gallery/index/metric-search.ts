/**
 * Re-scoring of retrieved neighbours in the gallery-adapted metric of the current calibration
 * (attribution/gallery-metric.ts). The HNSW index stays a plain cosine index, so a new
 * calibration never rebuilds it: the k nearest samples by cosine are re-scored by the metric's
 * similarity and re-ordered. A query costs one W²·q, then a dot product per neighbour with its
 * stored vector; each sample's whitened norm |W·x| is computed once per metric and cached (a
 * number per sample, so the cache needs no bound).
 */
import { metricNormSq, metricSquare, type GalleryMetric } from '../../attribution/gallery-metric.js';
import { byNeighbourRank } from '../../attribution/score.js';
import type { Neighbour } from '../types.js';

/** Cosine candidates fetched per neighbour returned when a metric re-orders them. */
export const METRIC_OVERFETCH = 2;

export interface MetricRescorer {
  /**
   * The neighbours (labels[i] is neighbours[i]'s index label) with similarities in `metric`, best
   * first. `point` reads a label's stored vector. Neighbours are returned unchanged when the
   * metric does not fit the index's dimension.
   */
  rescore(metric: GalleryMetric, query: Float32Array, neighbours: readonly Neighbour[], labels: readonly number[], point: (label: number) => ArrayLike<number>): Neighbour[];
}

export function createMetricRescorer(): MetricRescorer {
  let cache: { metric: GalleryMetric; norms: Map<number, number> } | undefined;
  return {
    rescore(metric, query, neighbours, labels, point) {
      if (metric.dim !== query.length) return [...neighbours];
      if (cache?.metric !== metric) cache = { metric, norms: new Map() };
      const { norms } = cache;
      const u = metricSquare(metric, query);
      const nq = Math.sqrt(metricNormSq(metric, query));
      const out = neighbours.map((n, i) => {
        const label = labels[i]!;
        const x = point(label);
        let nx = norms.get(label);
        if (nx === undefined) {
          nx = Math.sqrt(metricNormSq(metric, x));
          norms.set(label, nx);
        }
        let s = 0;
        for (let j = 0; j < u.length; j += 1) s += u[j]! * x[j]!;
        const sim = nq > 0 && nx > 0 ? s / (nq * nx) : 0;
        return { ...n, similarity: Math.max(-1, Math.min(1, sim)) };
      });
      return out.sort(byNeighbourRank);
    },
  };
}
