/**
 * The in-memory HNSW index of one model or one fusion of models, kept in step with the store through the change log:
 * loaded from a verified snapshot and caught up, or rebuilt from the store. Every change reaches
 * the index the same way (store commit, then replay by seq), whichever process made it.
 */
import fs from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createHnswIndex, readHnswIndex, type HnswIndex, type HnswParams } from './hnsw-index.js';
import { checkSnapshot, publishSnapshot, snapshotPaths, tempPath, type SnapshotManifest } from './snapshot.js';
import type { SampleVectors, Store } from './store.js';
import { indexFileKey, indexVector, type FusionMember } from './fusion.js';
import { createMetricRescorer } from './metric-search.js';
import type { AlgorithmSummary, CalibrationRecord, GalleryLogger, Neighbour } from './types.js';

const PAGE = 1000;
/** A rebuild hands the event loop back this often, so an API keeps answering while it runs. */
const BUILD_SLICE_MS = 50;

interface Entry {
  sampleId: string;
  algorithmId: string;
}

/** One index and the bookkeeping that says which of its labels are live. */
interface Slot {
  index: HnswIndex;
  /** Live labels only. */
  entries: Map<number, Entry>;
  /** Live samples per algorithm, to know whether a disabled algorithm needs filtering at all. */
  perAlgorithm: Map<string, number>;
  deleted: number;
  /** Every change with seq <= this has been applied. */
  seq: number;
}

function newSlot(index: HnswIndex, seq: number): Slot {
  return { index, entries: new Map(), perAlgorithm: new Map(), deleted: 0, seq };
}

function addEntry(slot: Slot, label: number, entry: Entry): void {
  slot.entries.set(label, entry);
  slot.perAlgorithm.set(entry.algorithmId, (slot.perAlgorithm.get(entry.algorithmId) ?? 0) + 1);
}

function removeEntry(slot: Slot, label: number): boolean {
  const entry = slot.entries.get(label);
  if (!entry) return false;
  slot.index.markDeleted(label);
  slot.entries.delete(label);
  slot.deleted++;
  const n = (slot.perAlgorithm.get(entry.algorithmId) ?? 1) - 1;
  if (n > 0) slot.perAlgorithm.set(entry.algorithmId, n);
  else slot.perAlgorithm.delete(entry.algorithmId);
  return true;
}

class BuildCancelled extends Error {}

export interface LiveIndexOptions {
  store: Store;
  /** Index id (gallery/fusion.ts): names the models and weights; snapshots and calibrations are keyed by it. */
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

interface CatchUpResult {
  applied: number;
  algorithmsChanged: boolean;
  calibrationChanged: boolean;
}

export type LiveIndex = Awaited<ReturnType<typeof openLiveIndex>>;

/** Loads or builds the index of `opts.modelId` and returns the object that keeps it current. */
export async function openLiveIndex(opts: LiveIndexOptions) {
  const { store, modelId, dim, log, models } = opts;
  const modelIds = models.map((m) => m.id);
  const paths = snapshotPaths(opts.dir, indexFileKey(modelId));
  let algorithms = new Map<string, CachedAlgorithm>();
  let calibration: CalibrationRecord | null = null;
  const rescorer = createMetricRescorer();
  const reloadAlgorithms = (): void => {
    algorithms = new Map(store.algorithmSummaries().map((a) => [a.id, a]));
  };
  const reloadCalibration = (): void => {
    calibration = store.listCalibrations(modelId, 1)[0] ?? null;
  };
  reloadAlgorithms();
  reloadCalibration();
  let snapshotSeq = 0;
  let builtFrom: 'snapshot' | 'rebuild' = 'rebuild';
  let unsnapshotted = 0;
  let closed = false;
  let cancelBuild = false;
  let building: Promise<void> | null = null;
  let snapshotting: Promise<SnapshotManifest> | null = null;
  const background = new Set<Promise<unknown>>();

  /** Vectors of another dimension under a model id: written by a process configured for another model version. */
  function reportWrongDim(count: number): void {
    log.error({ modelId, count, expected: models.map((m) => `${m.id}:${m.dim}`) }, 'stored vectors have another dimension than the model; not indexed');
  }

  /** The sample's index vector, or null when a model's vector is missing or has another dimension. */
  function vectorOf(vectors: ReadonlyMap<string, Float32Array>): Float32Array | 'missing' | 'wrong-dim' {
    for (const m of models) {
      const v = vectors.get(m.id);
      if (!v) return 'missing';
      if (v.length !== m.dim) return 'wrong-dim';
    }
    return indexVector(models, vectors);
  }

  function addSample(slot: Slot, s: SampleVectors): 'added' | 'missing' | 'wrong-dim' {
    const v = vectorOf(s.vectors);
    if (typeof v === 'string') return v;
    slot.index.add(s.label, v);
    addEntry(slot, s.label, { sampleId: s.sampleId, algorithmId: s.algorithmId });
    return 'added';
  }

  /**
   * Replays the store's changes after `slot.seq`, in one read transaction so the rows, the vectors
   * and the head seq agree; reports whether algorithm or calibration rows were among them. An add
   * (an enrolment, or a re-embedding adding one model's vector) indexes its sample once it holds a
   * vector of every model of the index.
   */
  function catchUp(slot: Slot): CatchUpResult {
    return store.read(() => {
      const head = store.maxSeq();
      let applied = 0;
      let algorithmsChanged = false;
      let calibrationChanged = false;
      let wrongDim = 0;
      while (slot.seq < head) {
        const rows = store.changesAfter(slot.seq, head, PAGE);
        for (const row of rows) {
          if (row.kind === 'algorithm') algorithmsChanged = true;
          else if (row.kind === 'calibration') calibrationChanged ||= row.modelId === modelId;
          else if (row.kind === 'delete') {
            if (removeEntry(slot, row.label)) applied++;
          } else if (row.sample && !slot.entries.has(row.sample.label) && (row.modelId === null || modelIds.includes(row.modelId))) {
            const outcome = addSample(slot, { ...row.sample, vectors: store.sampleVectors(row.sample.sampleId, modelIds, head) });
            if (outcome === 'added') applied++;
            else if (outcome === 'wrong-dim') wrongDim++;
          }
        }
        if (rows.length < PAGE) break;
        slot.seq = rows[rows.length - 1]!.seq;
      }
      slot.seq = head;
      if (wrongDim > 0) reportWrongDim(wrongDim);
      return { applied, algorithmsChanged, calibrationChanged };
    });
  }

  /** Loads the snapshot if it is trustworthy; otherwise says why not. */
  async function loadSnapshot(): Promise<{ slot: Slot } | { reason: string }> {
    // Check and load through a hard link of our own, so another process renaming a newer snapshot
    // into place in between cannot make us load bytes other than the ones we verified.
    const pinned = tempPath(paths.index);
    let source = paths.index;
    try {
      await fs.link(paths.index, pinned);
      source = pinned;
    } catch {
      // no index file (reported by the check) or no hard links on this filesystem: read in place
    }
    try {
      return await loadVerified(source);
    } finally {
      if (source === pinned) await fs.rm(pinned, { force: true });
    }
  }

  async function loadVerified(indexFile: string): Promise<{ slot: Slot } | { reason: string }> {
    const check = await checkSnapshot({ index: indexFile, manifest: paths.manifest }, { modelId, dim, galleryId: store.galleryId, maxSeq: store.maxSeq() });
    if (!check.ok) return { reason: check.reason };
    const m = check.manifest;
    let index: HnswIndex;
    try {
      index = await readHnswIndex(indexFile, dim);
    } catch (err) {
      return { reason: `index file unreadable: ${(err as Error).message}` };
    }
    if (index.size() !== m.count) return { reason: `index holds ${index.size()} elements, manifest says ${m.count}` };
    const slot = newSlot(index, m.lastSeq);
    // What the snapshot must hold live: samples still stored that held every model's vector at
    // lastSeq. Samples deleted since may be there or not (whether they were complete then is no
    // longer known); their delete rows are replayed next either way.
    const [expected, deletedSince] = store.read(() => [
      store.indexedSamples(modelIds, 0, m.lastSeq, Number.MAX_SAFE_INTEGER),
      store.deletedAfter(m.lastSeq),
    ]);
    const present = new Set(index.labels());
    for (const s of expected) {
      if (!present.has(s.label)) return { reason: `snapshot lacks sample ${s.sampleId}` };
      addEntry(slot, s.label, { sampleId: s.sampleId, algorithmId: s.algorithmId });
    }
    for (const s of deletedSince) {
      if (present.has(s.label) && !slot.entries.has(s.label)) addEntry(slot, s.label, { sampleId: s.sampleId, algorithmId: s.algorithmId });
    }
    let unexpectedLive = 0;
    for (const label of present) {
      if (!slot.entries.has(label) && index.markDeleted(label)) unexpectedLive++;
    }
    const deleted = present.size - slot.entries.size;
    if (unexpectedLive > 0 || deleted !== m.deleted) {
      return { reason: `snapshot disagrees with the store (${unexpectedLive} unknown live labels, ${deleted} deleted vs ${m.deleted})` };
    }
    slot.deleted = deleted;
    return { slot };
  }

  /** Builds a fresh index from the store's samples, yielding to the event loop between slices. */
  async function buildFromStore(): Promise<Slot> {
    const upto = store.maxSeq();
    const slot = newSlot(createHnswIndex(dim, Math.ceil(store.countComplete(modelIds) * 1.1), opts.params), upto);
    let wrongDim = 0;
    let after = 0;
    let sliceStart = Date.now();
    for (;;) {
      const page = store.indexedVectors(modelIds, after, upto, PAGE);
      for (const s of page) {
        if (addSample(slot, s) === 'wrong-dim') {
          wrongDim++;
          continue;
        }
        if (Date.now() - sliceStart >= BUILD_SLICE_MS) {
          await yieldToLoop();
          if (cancelBuild) throw new BuildCancelled('index build cancelled');
          sliceStart = Date.now();
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.label;
    }
    if (wrongDim > 0) reportWrongDim(wrongDim);
    return slot;
  }

  let live: Slot;
  const loaded = await loadSnapshot();
  if ('slot' in loaded) {
    live = loaded.slot;
    builtFrom = 'snapshot';
    snapshotSeq = live.seq;
    log.info({ modelId, lastSeq: live.seq, size: live.index.size() }, 'index loaded from snapshot');
  } else {
    log.warn({ modelId, reason: loaded.reason }, 'index snapshot not used; rebuilding from the store');
    const started = Date.now();
    live = await buildFromStore();
    log.info({ modelId, samples: live.entries.size, ms: Date.now() - started }, 'index rebuilt from the store');
  }
  const opened = catchUp(live);
  if (builtFrom === 'rebuild') unsnapshotted = 1;

  function reloadCaches(result: CatchUpResult): void {
    if (result.algorithmsChanged) reloadAlgorithms();
    if (result.calibrationChanged) reloadCalibration();
  }

  function afterApply(result: CatchUpResult): void {
    reloadCaches(result);
    unsnapshotted += result.applied;
    if (closed) return;
    if (live.deleted > 0 && live.deleted > opts.compactRatio * live.index.size() && !building) {
      log.info({ modelId, deleted: live.deleted, size: live.index.size() }, 'compacting index');
      rebuild().catch((err: unknown) => {
        if (!(err instanceof BuildCancelled)) log.error({ err, modelId }, 'index compaction failed');
      });
    } else if (unsnapshotted >= opts.snapshotEvery && !snapshotting && !building) {
      void snapshot().catch((err: unknown) => log.error({ err, modelId }, 'index snapshot failed'));
    }
  }

  /** Tracks a background task so `idle()` and `close()` can wait for it. */
  function track<T>(p: Promise<T>): Promise<T> {
    background.add(p);
    void p.finally(() => background.delete(p)).catch(() => undefined);
    return p;
  }

  /**
   * Rebuilds from the store while the live index keeps serving, then swaps and snapshots.
   * Concurrent calls share one build.
   */
  function rebuild(): Promise<void> {
    if (building) return building;
    if (closed) return Promise.reject(new BuildCancelled('gallery is closing'));
    cancelBuild = false;
    const started = Date.now();
    building = track(
      (async () => {
        const slot = await buildFromStore();
        reloadCaches(catchUp(slot));
        live = slot;
        builtFrom = 'rebuild';
        unsnapshotted = Math.max(1, unsnapshotted);
        log.info({ modelId, samples: slot.entries.size, ms: Date.now() - started }, 'index rebuilt');
        if (!closed) await snapshot();
      })().finally(() => {
        building = null;
      }),
    );
    return building;
  }

  /** Writes the live index as the model's snapshot; serialised, one at a time. */
  function snapshot(): Promise<SnapshotManifest> {
    const previous = snapshotting ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const slot = live;
        const tmp = tempPath(paths.index);
        const pendingAtWrite = unsnapshotted;
        slot.index.writeSync(tmp);
        const manifest = await publishSnapshot(paths, tmp, {
          modelId, dim, hnsw: opts.params, galleryId: store.galleryId, lastSeq: slot.seq, count: slot.index.size(), deleted: slot.deleted,
        });
        snapshotSeq = manifest.lastSeq;
        unsnapshotted = Math.max(0, unsnapshotted - pendingAtWrite);
        log.debug({ modelId, lastSeq: manifest.lastSeq, bytes: manifest.bytes }, 'index snapshot written');
        return manifest;
      });
    snapshotting = next;
    void next.finally(() => {
      if (snapshotting === next) snapshotting = null;
    }).catch(() => undefined);
    return track(next);
  }

  afterApply(opened);
  if (builtFrom === 'rebuild' && !building) {
    // A rebuilt index is written at once so the next process to open this gallery can load it.
    await snapshot().catch((err: unknown) => log.error({ err, modelId }, 'index snapshot failed'));
  }

  return {
    /** Applies changes other processes (or this one) committed since the last call. Cheap when there are none. */
    refresh(): number {
      if (store.maxSeq() === live.seq) return 0;
      const result = catchUp(live);
      afterApply(result);
      return result.applied;
    },

    /** Nearest live samples, best first; `enabledOnly` hides samples of disabled algorithms. */
    search(vector: Float32Array, k: number, enabledOnly: boolean): Neighbour[] {
      const slot = live;
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
      const res = slot.index.search(vector, k, ef, filter);
      const out: Neighbour[] = [];
      const labels: number[] = [];
      for (let i = 0; i < res.labels.length; i++) {
        const e = slot.entries.get(res.labels[i]!);
        if (!e) continue;
        out.push({ sampleId: e.sampleId, algorithmId: e.algorithmId, similarity: Math.max(-1, Math.min(1, 1 - res.distances[i]!)) });
        labels.push(res.labels[i]!);
      }
      // The current calibration's thresholds are in its metric's similarity (calibration.ts).
      const metric = calibration?.metric;
      return metric ? rescorer.rescore(metric, vector, out, labels, (label) => slot.index.point(label)) : out;
    },

    snapshot,
    rebuild,

    /** Algorithms as last read from the store (kept current by refresh). */
    algorithms: (): ReadonlyMap<string, CachedAlgorithm> => algorithms,
    /** The model's newest calibration as last read from the store. */
    calibration: (): CalibrationRecord | null => calibration,
    liveSamples: (): number => live.entries.size,

    info(): IndexInfo & { lastSeq: number } {
      return {
        state: closed ? 'closed' : building ? 'rebuilding' : 'ready',
        size: live.index.size(),
        deleted: live.deleted,
        lastSeq: live.seq,
        snapshotSeq,
        builtFrom,
      };
    },

    /** Resolves when no rebuild or snapshot is running. */
    async idle(): Promise<void> {
      while (background.size > 0) await Promise.allSettled([...background]);
    },

    /** Stops a running rebuild and writes a final snapshot when the index changed since the last one. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      cancelBuild = true;
      while (background.size > 0) await Promise.allSettled([...background]);
      if (unsnapshotted > 0) {
        try {
          await snapshot();
        } catch (err) {
          log.error({ err, modelId }, 'final index snapshot failed');
        }
      }
    },
  };
}

export { BuildCancelled };
