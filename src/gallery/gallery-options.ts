/**
 * The options of openGallery, checked and filled with their defaults before anything is opened.
 */
import { DEFAULT_HNSW_PARAMS, type HnswParams } from './index/hnsw.js';
import { fusionIndexId, type FusionMember } from '../math/fusion.js';
import { checkModels, checkPositiveInt, invalid } from './validate.js';
import type { GalleryOptions } from './gallery-api.js';
import type { GalleryLogger } from './types.js';

/**
 * Default HNSW search breadth. On 100k x 256 random vectors (the hardest case) ef 128 found a
 * query's source sample first in 92% of cases and ef 256 in 99%, for 0.7 vs 1.3 ms: the extra
 * half millisecond is small next to decoding and embedding an image (bench/gallery-search.ts).
 */
export const DEFAULT_EF_SEARCH = 256;

const noopLog: GalleryLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** GalleryOptions checked, with every default applied. */
export interface ResolvedGalleryOptions {
  models: FusionMember[];
  modelIds: string[];
  /** Index id (fusionIndexId of the models). */
  modelId: string;
  /** Sum of the models' dimensions. */
  dim: number;
  snapshotEvery: number;
  compactRatio: number;
  efSearch: number;
  exactBelow: number;
  params: HnswParams;
  log: GalleryLogger;
}

/** Checks `opts` (validate.ts errors) and fills in the defaults. */
export function resolveGalleryOptions(opts: GalleryOptions): ResolvedGalleryOptions {
  const models = checkModels(opts);
  const modelIds = models.map((m) => m.id);
  const modelId = fusionIndexId(models);
  const dim = models.reduce((n, m) => n + m.dim, 0);
  const snapshotEvery = checkPositiveInt(opts.snapshotEvery ?? 1000, 'snapshotEvery');
  const compactRatio = opts.compactRatio ?? 0.2;
  if (typeof compactRatio !== 'number' || !(compactRatio > 0 && compactRatio <= 1)) throw invalid('a number in (0, 1]', 'compactRatio', compactRatio);
  const efSearch = checkPositiveInt(opts.efSearch ?? DEFAULT_EF_SEARCH, 'efSearch');
  const exactBelow = opts.exactBelow ?? 2000;
  if (!Number.isInteger(exactBelow) || exactBelow < 0) throw invalid('a non-negative integer', 'exactBelow', exactBelow);
  const params: HnswParams = { ...DEFAULT_HNSW_PARAMS, ...opts.hnsw };
  checkPositiveInt(params.m, 'hnsw.m');
  checkPositiveInt(params.efConstruction, 'hnsw.efConstruction');
  const log = opts.log ?? noopLog;
  return { models, modelIds, modelId, dim, snapshotEvery, compactRatio, efSearch, exactBelow, params, log };
}
