/**
 * The only hnswlib-node import: a cosine HNSW index with integer labels that grows on demand.
 * Labels are change-log seqs (see ../store/sqlite-sync.ts), so the index never needs its own id mapping.
 */
import hnswlib from 'hnswlib-node';
import { dfgError } from '../../errors.js';

const { HierarchicalNSW } = hnswlib;

/** Graph parameters. Written into snapshot manifests so a reader can tell how an index was built. */
export interface HnswParams {
  /** Links per node (hnswlib's M). */
  m: number;
  efConstruction: number;
  seed: number;
}

export const DEFAULT_HNSW_PARAMS: HnswParams = { m: 16, efConstruction: 200, seed: 100 };

/** hnswlib-node reads labels as unsigned 32-bit integers and silently wraps larger ones. */
const MAX_LABEL = 0xffff_ffff;
const MIN_CAPACITY = 256;
const GROWTH = 1.5;

export interface HnswSearchResult {
  labels: number[];
  /** Cosine distances, 1 - similarity, ascending. */
  distances: number[];
}

export interface HnswIndex {
  readonly dim: number;
  /** Elements stored, deleted ones included. */
  size(): number;
  capacity(): number;
  /** Adds a vector (hnswlib normalises it for the cosine space), growing the index when full. */
  add(label: number, vector: Float32Array): void;
  /** Hides a label from searches; false when it is absent or already deleted. */
  markDeleted(label: number): boolean;
  /** Up to k nearest labels; `ef` is raised to at least k; `filter` drops labels before they count towards k. */
  search(vector: Float32Array, k: number, ef: number, filter?: (label: number) => boolean): HnswSearchResult;
  /** Every label in the index, deleted ones included. */
  labels(): number[];
  /** The stored vector of a label (unit length: the cosine space normalises on add). */
  point(label: number): ArrayLike<number>;
  /** Writes the whole index to `file` synchronously (it must not change while being written). */
  writeSync(file: string): void;
}

function wrap(raw: InstanceType<typeof HierarchicalNSW>, dim: number): HnswIndex {
  const toArray = (v: Float32Array): number[] => Array.from(v);
  return {
    dim,
    size: () => raw.getCurrentCount(),
    capacity: () => raw.getMaxElements(),
    add(label, vector) {
      if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) {
        throw dfgError('DFG_ERR_INTERNAL', `HNSW label ${label} out of range`);
      }
      const count = raw.getCurrentCount();
      const max = raw.getMaxElements();
      if (count >= max) raw.resizeIndex(Math.max(MIN_CAPACITY, Math.ceil(max * GROWTH)));
      raw.addPoint(toArray(vector), label);
    },
    markDeleted(label) {
      try {
        raw.markDelete(label);
        return true;
      } catch {
        // hnswlib throws for a missing label and for one already deleted; both mean "nothing to hide".
        return false;
      }
    },
    search(vector, k, ef, filter) {
      const count = raw.getCurrentCount();
      if (count === 0) return { labels: [], distances: [] };
      const kk = Math.min(k, raw.getMaxElements());
      raw.setEf(Math.max(ef, kk));
      const res = filter ? raw.searchKnn(toArray(vector), kk, filter) : raw.searchKnn(toArray(vector), kk);
      return { labels: res.neighbors, distances: res.distances };
    },
    labels: () => raw.getIdsList(),
    point: (label) => raw.getPoint(label),
    writeSync: (file) => raw.writeIndexSync(file),
  };
}

/** A new empty index of dimension `dim` with room for `capacity` vectors before it grows. */
export function createHnswIndex(dim: number, capacity: number, params: HnswParams = DEFAULT_HNSW_PARAMS): HnswIndex {
  const raw = new HierarchicalNSW('cosine', dim);
  raw.initIndex({
    maxElements: Math.max(MIN_CAPACITY, Math.ceil(capacity)),
    m: params.m,
    efConstruction: params.efConstruction,
    randomSeed: params.seed,
  });
  return wrap(raw, dim);
}

/**
 * Loads an index written by `writeSync`. hnswlib cannot tell the dimension or space from the
 * file, so callers must have checked the snapshot manifest (model, dim, checksum) first.
 */
export async function readHnswIndex(file: string, dim: number): Promise<HnswIndex> {
  const raw = new HierarchicalNSW('cosine', dim);
  await raw.readIndex(file);
  return wrap(raw, dim);
}
