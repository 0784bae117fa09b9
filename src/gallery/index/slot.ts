/**
 * One HNSW index and the bookkeeping that says which of its labels are live, with the way a
 * stored sample enters it: its models' vectors fused into one index vector, or left out when one
 * is missing or has another dimension. Shared by the change-log catch-up and the index builds.
 */
import type { HnswIndex } from './hnsw.js';
import type { GalleryStore, SampleVectors } from '../store/api.js';
import { indexVector, type FusionMember } from '../../math/fusion.js';
import type { GalleryLogger } from '../types.js';

/** Rows or samples read from the store per query while catching up or building. */
export const PAGE = 1000;

/** What an index is built from: the store, and the models whose vectors it fuses. */
export interface IndexSource {
  store: GalleryStore;
  /** Index id (math/fusion.ts): names the models and weights; snapshots and calibrations are keyed by it. */
  modelId: string;
  /** The models whose vectors the index fuses; a sample lacking one of them is not indexed. */
  models: readonly FusionMember[];
  /** The ids of `models`, in order. */
  modelIds: readonly string[];
  /** Dimension of the index vectors (sum of the models' dimensions). */
  dim: number;
  log: GalleryLogger;
}

export interface Entry {
  sampleId: string;
  algorithmId: string;
}

/** One index and the bookkeeping that says which of its labels are live. */
export interface Slot {
  index: HnswIndex;
  /** Live labels only. */
  entries: Map<number, Entry>;
  /** Live samples per algorithm, to know whether a disabled algorithm needs filtering at all. */
  perAlgorithm: Map<string, number>;
  deleted: number;
  /** Every change with seq <= this has been applied. */
  seq: number;
}

export function newSlot(index: HnswIndex, seq: number): Slot {
  return { index, entries: new Map(), perAlgorithm: new Map(), deleted: 0, seq };
}

export function addEntry(slot: Slot, label: number, entry: Entry): void {
  slot.entries.set(label, entry);
  slot.perAlgorithm.set(entry.algorithmId, (slot.perAlgorithm.get(entry.algorithmId) ?? 0) + 1);
}

export function removeEntry(slot: Slot, label: number): boolean {
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

/** Vectors of another dimension under a model id: written by a process configured for another model version. */
export function reportWrongDim(src: IndexSource, count: number): void {
  src.log.error({ modelId: src.modelId, count, expected: src.models.map((m) => `${m.id}:${m.dim}`) }, 'stored vectors have another dimension than the model; not indexed');
}

/** The sample's index vector, or why there is none: a model's vector is missing or has another dimension. */
function vectorOf(models: readonly FusionMember[], vectors: ReadonlyMap<string, Float32Array>): Float32Array | 'missing' | 'wrong-dim' {
  for (const m of models) {
    const v = vectors.get(m.id);
    if (!v) return 'missing';
    if (v.length !== m.dim) return 'wrong-dim';
  }
  return indexVector(models, vectors);
}

/** Adds the sample to the slot's index when it holds a vector of every model. */
export function addSample(src: IndexSource, slot: Slot, s: SampleVectors): 'added' | 'missing' | 'wrong-dim' {
  const v = vectorOf(src.models, s.vectors);
  if (typeof v === 'string') return v;
  slot.index.add(s.label, v);
  addEntry(slot, s.label, { sampleId: s.sampleId, algorithmId: s.algorithmId });
  return 'added';
}
