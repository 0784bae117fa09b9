/**
 * Importing a signed bundle, all or nothing: the bundle is verified (read.ts), vectors of a served
 * model are taken as they are when the bundle holds that model id and version, and otherwise
 * embedded from the bundle's image bytes; only once every sample has its vectors is anything
 * written, in one store transaction (GalleryStore.applyImport), so an import lands whole or not at
 * all, also when the process is killed half way. Each imported sample
 * and created algorithm records its provenance (the bundle, its publisher and key, the id it had
 * in the exporting gallery) in the store.
 */
import type { Embedder } from '../embedding/index.js';
import { dfgError } from '../errors.js';
import type { Gallery, ImportPartInput } from '../gallery/gallery.js';
import type { AlgorithmRecord, AuditNote, SampleInput } from '../gallery/types.js';
import { MAX_FILENAME_LENGTH, MAX_NAME_LENGTH, MAX_PAGE_LIMIT } from '../gallery/validate.js';
import type { TrustList } from './format.js';
import { verifyBundle, type BundleLimits, type BundleSource, type VerifiedBundle } from './read.js';

export const CONFLICT_MODES = ['new', 'merge', 'skip'] as const;
/** What to do with a bundle algorithm whose name the gallery already has: import it under a new name, add its samples to the existing one, or leave it out. */
export type ConflictMode = (typeof CONFLICT_MODES)[number];

export interface ImportOptions {
  trust: TrustList;
  /** Default `new`. */
  onConflict?: ConflictMode;
  limits?: Partial<BundleLimits>;
  /** Images embedded at once (default 16); the embedder's queue must hold that many. */
  embedBatch?: number;
  /**
   * Called as the import advances: `verified` once the bundle passed every check (`total`: its
   * samples), then while images are embedded (`done` of `total` images), and for the write
   * (`total` samples to apply): once as its transaction begins (`done` 0), once as it committed.
   */
  onProgress?: (p: ImportProgress) => void;
  /** Who imports: each write and the closing `bundle.import` row of the audit trail name it. */
  audit?: AuditNote;
}

export interface ImportProgress {
  phase: 'verified' | 'embedding' | 'writing';
  done: number;
  total: number;
}

export interface ImportedAlgorithm {
  /** Name in the bundle. */
  name: string;
  action: 'created' | 'merged' | 'skipped';
  /** The gallery's algorithm (absent when skipped). */
  id?: string;
  /** Its name in the gallery (differs from `name` when `new` renamed it). */
  galleryName?: string;
  created: number;
  duplicates: number;
}

export interface ImportSummary {
  /** The gallery's record of the bundle (samples and algorithms name it in their provenance). */
  bundleId: string;
  bundleSha256: string;
  publisher: string;
  /** SHA-256 of the publisher key the signature verified with. */
  keyFingerprint: string;
  /** Per served model: `bundle` (vectors used as they are) or `embedded` (from the bundle's image bytes). */
  models: Record<string, 'bundle' | 'embedded'>;
  algorithms: ImportedAlgorithm[];
  /** Samples in the bundle. */
  total: number;
  /** Samples imported (new in the gallery). */
  created: number;
  /** Samples the gallery had already (deduplicated by sha256). */
  duplicates: number;
  /** Samples of algorithms left out (`skip`). */
  skipped: number;
  /** Images embedded again from the bundle's bytes (a served model the bundle has no vectors of). */
  reembedded: number;
}

async function allAlgorithms(gallery: Gallery): Promise<AlgorithmRecord[]> {
  const out: AlgorithmRecord[] = [];
  for (let offset = 0; ; offset += MAX_PAGE_LIMIT) {
    const page = await gallery.listAlgorithms({ limit: MAX_PAGE_LIMIT, offset });
    out.push(...page.items);
    if (page.items.length < MAX_PAGE_LIMIT) return out;
  }
}

/** `name (publisher)`, then `name (publisher) 2`, ...: the first name nobody has. */
function freshName(name: string, publisher: string, taken: Set<string>): string {
  const base = `${name} (${publisher})`.slice(0, MAX_NAME_LENGTH - 8);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? base : `${base} ${i}`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}

interface Plan {
  index: number;
  action: ImportedAlgorithm['action'];
  existing?: AlgorithmRecord;
  galleryName: string;
  /** Sample positions (over all samples of the manifest) to add. */
  rows: number[];
  /** Samples the gallery's algorithm already has (merge). */
  known?: number;
}

/**
 * Verifies and imports a bundle. Throws the DFG_ERR_BUNDLE_* codes, or an image's error when one of
 * its images cannot be embedded, having written nothing; or, when the store fails while writing,
 * that error after removing what was written.
 */
export async function importBundle(parts: { gallery: Gallery; embedder: Embedder | null }, source: BundleSource, opts: ImportOptions): Promise<ImportSummary> {
  const bundle = await verifyBundle(source, opts.trust, opts.limits);
  try {
    return await importVerifiedBundle(parts, bundle, opts);
  } finally {
    await bundle.close();
  }
}

/** Imports a bundle that verifyBundle resolved (the caller closes it); as importBundle otherwise. */
export async function importVerifiedBundle(parts: { gallery: Gallery; embedder: Embedder | null }, bundle: VerifiedBundle, opts: ImportOptions): Promise<ImportSummary> {
  const { gallery, embedder } = parts;
  const { manifest } = bundle;
  const progress = opts.onProgress ?? (() => {});
  progress({ phase: 'verified', done: 0, total: manifest.algorithms.reduce((n, a) => n + a.samples.length, 0) });
  const mode = opts.onConflict ?? 'new';

  // Where each served model's vectors come from.
  const served = gallery.models.map((m) => ({ id: m.id, dim: m.dim, version: embedder?.models.find((e) => e.id === m.id)?.version }));
  const sources: ImportSummary['models'] = {};
  for (const m of served) {
    const b = manifest.models.find((x) => x.id === m.id && x.version === m.version);
    if (b && b.dim !== m.dim) throw dfgError('DFG_ERR_BUNDLE_DIMENSION_MISMATCH', m.id, `dimension ${b.dim} in the bundle, ${m.dim} served`);
    sources[m.id] = b ? 'bundle' : 'embedded';
  }
  const toEmbed = served.filter((m) => sources[m.id] === 'embedded');

  // Which algorithms go where.
  const existing = await allAlgorithms(gallery);
  const taken = new Set(existing.map((a) => a.name.toLowerCase()));
  let offset = 0;
  const plans: Plan[] = manifest.algorithms.map((a, index) => {
    const rows = a.samples.map((_, i) => offset + i);
    offset += a.samples.length;
    const same = existing.find((e) => e.name.toLowerCase() === a.name.toLowerCase());
    if (!same) {
      taken.add(a.name.toLowerCase());
      return { index, action: 'created', galleryName: a.name, rows };
    }
    if (mode === 'skip') return { index, action: 'skipped', galleryName: same.name, rows: [] };
    if (mode === 'merge') return { index, action: 'merged', existing: same, galleryName: same.name, rows };
    const name = freshName(a.name, bundle.publisher, taken);
    taken.add(name.toLowerCase());
    return { index, action: 'created', galleryName: name, rows };
  });
  const samples = manifest.algorithms.flatMap((a) => a.samples);
  // Dedupe by sha256: a sample the merged-into algorithm has (with every served vector) is neither embedded nor added again.
  for (const p of plans) {
    if (!p.existing) continue;
    const keep: number[] = [];
    for (const r of p.rows) {
      const have = (await gallery.findBySha(samples[r]!.sha256)).some((s) => s.algorithmId === p.existing!.id && served.every((m) => s.models.includes(m.id)));
      if (!have) keep.push(r);
    }
    p.known = p.rows.length - keep.length;
    p.rows = keep;
  }

  // Every vector before any write.
  const embedded = new Map<string, Record<string, Float32Array>>();
  if (toEmbed.length > 0) {
    const shas = [...new Set(plans.flatMap((p) => p.rows.map((r) => samples[r]!.sha256)))];
    const missing = shas.filter((s) => !bundle.images.has(s));
    if (!embedder || missing.length > 0) {
      throw dfgError('DFG_ERR_BUNDLE_NOT_EMBEDDABLE', toEmbed.map((m) => m.id).join(','), `the bundle holds vectors of ${manifest.models.map((m) => `${m.id}@${m.version}`).join(', ')} and ${missing.length === 0 ? 'no embedder is loaded' : `no image bytes for ${missing.length} of its ${shas.length} images`}`);
    }
    const batch = Math.max(1, opts.embedBatch ?? 16);
    for (let i = 0; i < shas.length; i += batch) {
      const chunk = shas.slice(i, i + batch);
      const results = await Promise.all(chunk.map(async (s) => embedder.embed(await bundle.readImage(s))));
      results.forEach((r, j) => embedded.set(chunk[j]!, r.vectors));
      progress({ phase: 'embedding', done: Math.min(shas.length, i + batch), total: shas.length });
    }
  }
  // Every part with its samples; the bundle's record becomes their origin in the store's transaction.
  const itemOf = (row: number): { sample: Omit<SampleInput, 'origin'>; sourceId: string } => {
    const s = samples[row]!;
    const vectors: Record<string, Float32Array> = {};
    for (const m of served) vectors[m.id] = sources[m.id] === 'bundle' ? bundle.vectors.get(m.id)![row]! : embedded.get(s.sha256)![m.id]!;
    return {
      sample: { sha256: s.sha256, vectors, width: s.width, height: s.height, ...(s.filename ? { filename: s.filename.slice(0, MAX_FILENAME_LENGTH) } : {}) },
      sourceId: s.id,
    };
  };
  const written = plans.filter((p) => p.action !== 'skipped');
  const toApply: ImportPartInput[] = written.map((p) => {
    const a = manifest.algorithms[p.index]!;
    return p.existing
      ? { algorithmId: p.existing.id, items: p.rows.map(itemOf) }
      : {
        create: { input: { name: p.galleryName, forgeryType: a.forgeryType, architecture: a.architecture, description: a.description, reference: a.reference }, sourceId: a.id },
        items: p.rows.map(itemOf),
      };
  });
  const toWrite = toApply.reduce((n, p) => n + p.items.length, 0);

  // Image bytes first, a few at a time, read from the bundle as they are kept (bytes no sample
  // names after a failure are swept as orphans); then one transaction for every row.
  const shasWritten = [...new Set(toApply.flatMap((p) => p.items.map((it) => it.sample.sha256)))].filter((s) => bundle.images.has(s));
  if (gallery.keepsImages) {
    for (let i = 0; i < shasWritten.length; i += 16) {
      const chunk = shasWritten.slice(i, i + 16);
      await gallery.keepImages(await Promise.all(chunk.map(async (s) => ({ sha256: s, bytes: await bundle.readImage(s) }))));
    }
  }
  progress({ phase: 'writing', done: 0, total: toWrite });
  const applied = await gallery.applyImport(
    { sha256: bundle.sha256, publisher: bundle.publisher, keyFingerprint: bundle.keyFingerprint, software: manifest.exporter.software, exportedAt: manifest.createdAt },
    toApply,
    {
      keptBytes: shasWritten,
      // Audited in the same transaction: each algorithm it creates, each part's samples, and the import as a whole.
      audit: {
        note: opts.audit,
        detail: {
          bundleSha256: bundle.sha256, publisher: bundle.publisher, keyFingerprint: bundle.keyFingerprint, models: sources, total: samples.length,
          skipped: plans.filter((p) => p.action === 'skipped').reduce((n, p) => n + manifest.algorithms[p.index]!.samples.length, 0), reembedded: embedded.size,
        },
      },
    },
  );
  progress({ phase: 'writing', done: toWrite, total: toWrite });

  const summary: ImportSummary = {
    bundleId: applied.bundle.id, bundleSha256: bundle.sha256, publisher: bundle.publisher, keyFingerprint: bundle.keyFingerprint, models: sources, algorithms: [],
    total: samples.length, created: 0, duplicates: 0, skipped: 0, reembedded: embedded.size,
  };
  let w = 0;
  for (const p of plans) {
    const a = manifest.algorithms[p.index]!;
    const out: ImportedAlgorithm = { name: a.name, action: p.action, galleryName: p.galleryName, created: 0, duplicates: p.known ?? 0 };
    summary.algorithms.push(out);
    if (p.action === 'skipped') {
      summary.skipped += a.samples.length;
      continue;
    }
    const done = applied.parts[w++]!;
    out.id = done.algorithmId;
    for (const r of done.results) {
      if (r.duplicate) out.duplicates++;
      else out.created++;
    }
    summary.created += out.created;
    summary.duplicates += out.duplicates;
  }
  return summary;
}
