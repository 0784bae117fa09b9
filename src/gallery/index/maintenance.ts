/**
 * Background upkeep of a live index: snapshots written after enough changes, a compacting rebuild
 * once deleted entries pass a share of the index, and cancellation of both on close. All of it
 * reads and writes one explicit IndexState, which the live index shares for its searches.
 */
import { publishSnapshot, type SnapshotManifest, type SnapshotPaths } from './snapshot.js';
import { tempPath } from '../../lib/durable-fs.js';
import type { HnswParams } from './hnsw.js';
import type { IndexSource, Slot } from './slot.js';
import { catchUp, type CatchUpResult } from './catch-up.js';
import { BuildCancelled, buildFromStore } from './load.js';

/** The mutable state of one live index. */
export interface IndexState {
  /** The index searches use; a rebuild replaces it whole. */
  live: Slot;
  builtFrom: 'snapshot' | 'rebuild';
  /** Seq of the newest snapshot written or loaded by this process; 0 when none. */
  snapshotSeq: number;
  /** Changes applied since the last snapshot was written (at least 1 while a rebuild is unwritten). */
  unsnapshotted: number;
  closed: boolean;
  /** Set on close: a running build stops at its next slice. */
  cancelBuild: boolean;
  building: Promise<void> | null;
  snapshotting: Promise<SnapshotManifest> | null;
  /** Running rebuilds and snapshots, for idle() and close(). */
  background: Set<Promise<unknown>>;
}

export function newIndexState(live: Slot, builtFrom: 'snapshot' | 'rebuild'): IndexState {
  return {
    live,
    builtFrom,
    snapshotSeq: builtFrom === 'snapshot' ? live.seq : 0,
    unsnapshotted: 0,
    closed: false,
    cancelBuild: false,
    building: null,
    snapshotting: null,
    background: new Set(),
  };
}

export interface MaintenanceOptions {
  paths: SnapshotPaths;
  params: HnswParams;
  snapshotEvery: number;
  compactRatio: number;
  /** Reloads what the live index caches from the store when a catch-up saw it change (in the background; failures are logged). */
  reloadCaches(result: CatchUpResult): Promise<void>;
}

export function createIndexMaintenance(src: IndexSource, state: IndexState, opts: MaintenanceOptions) {
  const { store, modelId, dim, log } = src;

  /** Counts applied changes, then compacts or snapshots when they call for it. */
  async function afterApply(result: CatchUpResult): Promise<void> {
    await opts.reloadCaches(result);
    state.unsnapshotted += result.applied;
    if (state.closed) return;
    const live = state.live;
    if (live.deleted > 0 && live.deleted > opts.compactRatio * live.index.size() && !state.building) {
      log.info({ modelId, deleted: live.deleted, size: live.index.size() }, 'compacting index');
      rebuild().catch((err: unknown) => {
        if (!(err instanceof BuildCancelled)) log.error({ err, modelId }, 'index compaction failed');
      });
    } else if (state.unsnapshotted >= opts.snapshotEvery && !state.snapshotting && !state.building) {
      void snapshot().catch((err: unknown) => log.error({ err, modelId }, 'index snapshot failed'));
    }
  }

  /** Tracks a background task so `idle()` and `close()` can wait for it. */
  function track<T>(p: Promise<T>): Promise<T> {
    state.background.add(p);
    void p.finally(() => state.background.delete(p)).catch(() => undefined);
    return p;
  }

  /**
   * Rebuilds from the store while the live index keeps serving, then swaps and snapshots.
   * Concurrent calls share one build.
   */
  function rebuild(): Promise<void> {
    if (state.building) return state.building;
    if (state.closed) return Promise.reject(new BuildCancelled('gallery is closing'));
    state.cancelBuild = false;
    const started = Date.now();
    state.building = track(
      (async () => {
        const slot = await buildFromStore(src, opts.params, () => state.cancelBuild);
        await opts.reloadCaches(await catchUp(src, slot));
        state.live = slot;
        state.builtFrom = 'rebuild';
        state.unsnapshotted = Math.max(1, state.unsnapshotted);
        log.info({ modelId, samples: slot.entries.size, ms: Date.now() - started }, 'index rebuilt');
        if (!state.closed) await snapshot();
      })().finally(() => {
        state.building = null;
      }),
    );
    return state.building;
  }

  /** Writes the live index as the model's snapshot; serialised, one at a time. */
  function snapshot(): Promise<SnapshotManifest> {
    const previous = state.snapshotting ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const slot = state.live;
        const tmp = tempPath(opts.paths.index);
        const pendingAtWrite = state.unsnapshotted;
        slot.index.writeSync(tmp);
        const manifest = await publishSnapshot(opts.paths, tmp, {
          modelId, dim, hnsw: opts.params, galleryId: store.galleryId, lastSeq: slot.seq, count: slot.index.size(), deleted: slot.deleted,
        });
        state.snapshotSeq = manifest.lastSeq;
        state.unsnapshotted = Math.max(0, state.unsnapshotted - pendingAtWrite);
        log.debug({ modelId, lastSeq: manifest.lastSeq, bytes: manifest.bytes }, 'index snapshot written');
        return manifest;
      });
    state.snapshotting = next;
    void next.finally(() => {
      if (state.snapshotting === next) state.snapshotting = null;
    }).catch(() => undefined);
    return track(next);
  }

  return {
    afterApply,
    rebuild,
    snapshot,

    /** Resolves when no rebuild or snapshot is running. */
    async idle(): Promise<void> {
      while (state.background.size > 0) await Promise.allSettled([...state.background]);
    },

    /** Stops a running rebuild and writes a final snapshot when the index changed since the last one. */
    async close(): Promise<void> {
      if (state.closed) return;
      state.closed = true;
      state.cancelBuild = true;
      while (state.background.size > 0) await Promise.allSettled([...state.background]);
      if (state.unsnapshotted > 0) {
        try {
          await snapshot();
        } catch (err) {
          log.error({ err, modelId }, 'final index snapshot failed');
        }
      }
    },
  };
}
