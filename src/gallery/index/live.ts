/**
 * The in-memory HNSW index of one model or one fusion of models, kept in step with the store through the change log:
 * loaded from a verified snapshot and caught up, or rebuilt from the store (load.ts). Every change reaches
 * the index the same way (store commit, then replay by seq: catch-up.ts), whichever process made it.
 * Snapshots and compaction run in the background (maintenance.ts); this module searches and
 * keeps the algorithm and calibration caches that searches and decisions read.
 */
import type { HnswParams } from './hnsw.js';
import { snapshotPaths } from './snapshot.js';
import type { GalleryStore } from '../store/api.js';
import { indexFileKey, type FusionMember } from '../../math/fusion.js';
import { createMetricRescorer, METRIC_OVERFETCH } from './metric-search.js';
import type { IndexSource } from './slot.js';
import { catchUp, type CatchUpResult } from './catch-up.js';
import { BuildCancelled, openSlot } from './load.js';
import { createIndexMaintenance, newIndexState } from './maintenance.js';
import type { AlgorithmSummary, CalibrationRecord, GalleryLogger, Neighbour } from '../types.js';

export interface LiveIndexOptions {
  store: GalleryStore;
  /** Index id (math/fusion.ts): names the models and weights; snapshots and calibrations are keyed by it. */
  modelId: string;
  /** The models whose vectors the index fuses; a sample lacking one of them is not indexed. */
  models: readonly FusionMember[];
  /** Dimension of the index vectors (sum of the models' dimensions). */
  dim: number;
  /** Folder of the snapshot files. */
  dir: string;
  params: HnswParams;
  efSearch: number;
  /** Galleries up to this many elements are searched with ef >= their size, which makes HNSW exact. */
  exactBelow: number;
  snapshotEvery: number;
  compactRatio: number;
  log: GalleryLogger;
}

export interface IndexInfo {
  state: 'ready' | 'rebuilding' | 'closed';
  /** Elements in the HNSW graph, deleted ones included. */
  size: number;
  deleted: number;
  lastSeq: number;
  /** Seq of the newest snapshot written or loaded by this process; 0 when none. */
  snapshotSeq: number;
  builtFrom: 'snapshot' | 'rebuild';
}

type CachedAlgorithm = AlgorithmSummary & { threshold: number | null };

export type LiveIndex = Awaited<ReturnType<typeof openLiveIndex>>;

/** Loads or builds the index of `opts.modelId` and returns the object that keeps it current. */
export async function openLiveIndex(opts: LiveIndexOptions) {
  const { store, modelId, dim, log, models } = opts;
  const src: IndexSource = { store, modelId, models, modelIds: models.map((m) => m.id), dim, log };
  const paths = snapshotPaths(opts.dir, indexFileKey(modelId));
  let algorithms = new Map<string, CachedAlgorithm>();
  let calibration: CalibrationRecord | null = null;
  const rescorer = createMetricRescorer();
  const reloadAlgorithms = async (): Promise<void> => {
    algorithms = new Map((await store.algorithmSummaries()).map((a) => [a.id, a]));
  };
  const reloadCalibration = async (): Promise<void> => {
    calibration = (await store.listCalibrations(modelId, 1))[0] ?? null;
  };
  await reloadAlgorithms();
  await reloadCalibration();

  const opened = await openSlot(src, paths, opts.params);
  const state = newIndexState(opened.slot, opened.builtFrom);
  const caughtUp = await catchUp(src, state.live);
  if (state.builtFrom === 'rebuild') state.unsnapshotted = 1;

  const maintenance = createIndexMaintenance(src, state, {
    paths,
    params: opts.params,
    snapshotEvery: opts.snapshotEvery,
    compactRatio: opts.compactRatio,
    async reloadCaches(result: CatchUpResult): Promise<void> {
      if (result.algorithmsChanged) await reloadAlgorithms();
      if (result.calibrationChanged) await reloadCalibration();
    },
  });

  await maintenance.afterApply(caughtUp);

  // One catch-up of the live index at a time; a refresh asked for while one runs shares the next.
  let running: Promise<number> | undefined;
  let queued: Promise<number> | undefined;
  const catchUpOnce = async (): Promise<number> => {
    if (state.live.seq === (await store.maxSeq())) return 0;
    const result = await catchUp(src, state.live);
    await maintenance.afterApply(result);
    return result.applied;
  };
  const refresh = (): Promise<number> => {
    if (!running) {
      running = catchUpOnce().finally(() => {
        running = undefined;
      });
      return running;
    }
    // Changes committed after the running catch-up read its head: one more, shared by every caller meanwhile.
    queued ??= running
      .catch(() => 0)
      .then(() => {
        queued = undefined;
        return refresh();
      });
    return queued;
  };
  if (state.builtFrom === 'rebuild' && !state.building) {
    // A rebuilt index is written at once so the next process to open this gallery can load it.
    await maintenance.snapshot().catch((err: unknown) => log.error({ err, modelId }, 'index snapshot failed'));
  }

  return {
    /** Applies changes other processes (or this one) committed since the last call. Cheap when there are none. */
    refresh,

    /** Nearest live samples, best first; `enabledOnly` hides samples of disabled algorithms. */
    search(vector: Float32Array, k: number, enabledOnly: boolean): Neighbour[] {
      const slot = state.live;
      const size = slot.index.size();
      const ef = size <= opts.exactBelow ? Math.max(opts.efSearch, size) : opts.efSearch;
      let filter: ((label: number) => boolean) | undefined;
      if (enabledOnly) {
        let anyDisabled = false;
        for (const algorithmId of slot.perAlgorithm.keys()) if (algorithms.get(algorithmId)?.enabled === false) anyDisabled = true;
        if (anyDisabled) {
          const cache = algorithms;
          filter = (label) => {
            const e = slot.entries.get(label);
            return e !== undefined && cache.get(e.algorithmId)?.enabled !== false;
          };
        }
      }
      // The current calibration's thresholds are in its metric's similarity (calibration.ts). The
      // metric re-orders the cosine neighbours, so it gets twice as many to choose the k best from.
      const metric = calibration?.metric;
      const res = slot.index.search(vector, metric ? k * METRIC_OVERFETCH : k, ef, filter);
      const out: Neighbour[] = [];
      const labels: number[] = [];
      for (let i = 0; i < res.labels.length; i++) {
        const e = slot.entries.get(res.labels[i]!);
        if (!e) continue;
        out.push({ sampleId: e.sampleId, algorithmId: e.algorithmId, similarity: Math.max(-1, Math.min(1, 1 - res.distances[i]!)) });
        labels.push(res.labels[i]!);
      }
      return metric ? rescorer.rescore(metric, vector, out, labels, (label) => slot.index.point(label)).slice(0, k) : out;
    },

    snapshot: maintenance.snapshot,
    rebuild: maintenance.rebuild,

    /** Algorithms as last read from the store (kept current by refresh). */
    algorithms: (): ReadonlyMap<string, CachedAlgorithm> => algorithms,
    /** The model's newest calibration as last read from the store. */
    calibration: (): CalibrationRecord | null => calibration,
    liveSamples: (): number => state.live.entries.size,
    /** Live samples per algorithm (the index's own bookkeeping; do not modify). */
    samplesPerAlgorithm: (): ReadonlyMap<string, number> => state.live.perAlgorithm,

    info(): IndexInfo & { lastSeq: number } {
      const live = state.live;
      return {
        state: state.closed ? 'closed' : state.building ? 'rebuilding' : 'ready',
        size: live.index.size(),
        deleted: live.deleted,
        lastSeq: live.seq,
        snapshotSeq: state.snapshotSeq,
        builtFrom: state.builtFrom,
      };
    },

    /** Resolves when no rebuild or snapshot is running. */
    idle: maintenance.idle,

    /** Stops a running rebuild and writes a final snapshot when the index changed since the last one. */
    close: maintenance.close,
  };
}

export { BuildCancelled };
