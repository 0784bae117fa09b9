/**
 * Exporting algorithms of a gallery as a signed bundle: their taxonomy, their samples, each
 * sample's vectors of the served models and, on request, the kept image bytes.
 */
import type { Readable } from 'node:stream';
import { dfgError, isDfgError } from '../errors.js';
import type { Gallery } from '../gallery/gallery.js';
import type { AlgorithmRecord, SampleRecord } from '../gallery/types.js';
import { MAX_PAGE_LIMIT } from '../gallery/validate.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleManifest, type BundleModel } from './format.js';
import { packBundle, type Signer } from './pack.js';

export interface ExportOptions {
  /** Algorithm ids or names (case-insensitive). */
  algorithms: readonly string[];
  /** The served models with their versions (embedder.models). */
  models: readonly BundleModel[];
  /** Include the kept image bytes. */
  images?: boolean;
  signer: Signer;
  /** Names the exporting software in the manifest. */
  software?: string;
  now?: Date;
}

export interface ExportSummary {
  algorithms: number;
  samples: number;
  images: number;
  /** Samples left out: they lack a vector of a served model (re-embed them first). */
  skipped: string[];
  /** Samples exported without image bytes although `images` was asked: their bytes are not kept. */
  imagesNotKept: string[];
}

async function resolve(gallery: Gallery, ref: string): Promise<AlgorithmRecord> {
  try {
    return await gallery.getAlgorithm(ref);
  } catch (err) {
    if (!isDfgError(err, 'DFG_ERR_ALGORITHM_NOT_FOUND')) throw err;
  }
  const wanted = ref.toLowerCase();
  for (let offset = 0; ; offset += MAX_PAGE_LIMIT) {
    const page = await gallery.listAlgorithms({ limit: MAX_PAGE_LIMIT, offset });
    const found = page.items.find((a) => a.name.toLowerCase() === wanted);
    if (found) return found;
    if (page.items.length < MAX_PAGE_LIMIT) throw dfgError('DFG_ERR_ALGORITHM_NOT_FOUND', ref);
  }
}

async function allSamples(gallery: Gallery, algorithmId: string): Promise<SampleRecord[]> {
  const out: SampleRecord[] = [];
  for (let offset = 0; ; offset += MAX_PAGE_LIMIT) {
    const page = await gallery.listSamples(algorithmId, { limit: MAX_PAGE_LIMIT, offset });
    out.push(...page.items);
    if (page.items.length < MAX_PAGE_LIMIT) return out;
  }
}

/**
 * Reads what the bundle holds (algorithms, samples, vectors; image bytes are read while the tar
 * streams) and returns the bundle stream with a summary. Throws DFG_ERR_ALGORITHM_NOT_FOUND.
 */
export async function exportBundle(gallery: Gallery, opts: ExportOptions): Promise<{ stream: Readable; summary: ExportSummary; manifest: BundleManifest }> {
  if (opts.algorithms.length === 0) throw dfgError('DFG_ERR_REQUEST_INVALID', 'Expected at least one algorithm to export');
  const algorithms: AlgorithmRecord[] = [];
  for (const ref of opts.algorithms) {
    const a = await resolve(gallery, ref);
    if (!algorithms.some((x) => x.id === a.id)) algorithms.push(a);
  }
  const summary: ExportSummary = { algorithms: algorithms.length, samples: 0, images: 0, skipped: [], imagesNotKept: [] };
  const rows = new Map<string, Float32Array[]>(opts.models.map((m) => [m.id, []]));
  const manifestAlgorithms: BundleManifest['algorithms'] = [];
  const shas = new Set<string>();
  for (const a of algorithms) {
    const samples = await allSamples(gallery, a.id);
    const kept: BundleManifest['algorithms'][number]['samples'] = [];
    for (let i = 0; i < samples.length; i += MAX_PAGE_LIMIT) {
      const page = samples.slice(i, i + MAX_PAGE_LIMIT);
      const vectors = await gallery.sampleVectors(page.map((s) => s.id));
      for (const s of page) {
        const v = vectors.get(s.id);
        if (!opts.models.every((m) => v?.get(m.id)?.length === m.dim)) {
          summary.skipped.push(s.id);
          continue;
        }
        for (const m of opts.models) rows.get(m.id)!.push(v!.get(m.id)!);
        kept.push({ id: s.id, sha256: s.sha256, width: s.width, height: s.height, filename: s.filename });
        shas.add(s.sha256);
      }
    }
    summary.samples += kept.length;
    manifestAlgorithms.push({ id: a.id, name: a.name, forgeryType: a.forgeryType, architecture: a.architecture, description: a.description, reference: a.reference, samples: kept });
  }
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    createdAt: (opts.now ?? new Date()).toISOString(),
    exporter: { publisher: opts.signer.publisher, software: opts.software ?? 'deepfake-genome' },
    models: opts.models.map((m) => ({ id: m.id, version: m.version, dim: m.dim })),
    images: Boolean(opts.images),
    algorithms: manifestAlgorithms,
  };
  const vectorFiles = new Map<string, Uint8Array>();
  for (const m of opts.models) {
    const list = rows.get(m.id)!;
    const out = Buffer.alloc(list.length * m.dim * 4);
    list.forEach((row, i) => row.forEach((x, j) => out.writeFloatLE(x, (i * m.dim + j) * 4)));
    vectorFiles.set(m.id, out);
  }
  // Which images are kept is known before the stream starts, so the summary is complete at once.
  const withBytes: string[] = [];
  if (opts.images) {
    for (const sha of shas) {
      if ((await gallery.readImage(sha)) === null) summary.imagesNotKept.push(sha);
      else withBytes.push(sha);
    }
  }
  summary.images = withBytes.length;
  async function* images() {
    for (const sha of withBytes) {
      const bytes = await gallery.readImage(sha);
      if (!bytes) throw dfgError('DFG_ERR_SAMPLE_IMAGE_NOT_KEPT', sha);
      yield { sha256: sha, bytes };
    }
  }
  return { stream: packBundle({ manifest, vectors: vectorFiles, images: opts.images ? images() : undefined }, opts.signer), summary, manifest };
}
