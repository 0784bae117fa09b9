/**
 * Importing a signed bundle, all or nothing: the bundle is verified (read.ts), vectors of a served
 * model are taken as they are when the bundle holds that model id and version, and otherwise
 * embedded from the bundle's image bytes; only once every sample has its vectors is anything
 * written, and a write that fails midway removes what this import created.
 */
import type { Embedder } from '../embedding/index.js';
import { dfgError, isDfgError } from '../errors.js';
import type { Gallery } from '../gallery/gallery.js';
import type { AlgorithmRecord, SampleInput } from '../gallery/types.js';
import { MAX_FILENAME_LENGTH, MAX_NAME_LENGTH, MAX_PAGE_LIMIT, MAX_TEXT_LENGTH } from '../gallery/validate.js';
import type { TrustList } from './format.js';
import { verifyBundle, type BundleLimits, type VerifiedBundle } from './read.js';

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
  bundleSha256: string;
  publisher: string;
  /** Per served model: `bundle` (vectors used as they are) or `embedded` (from the bundle's image bytes). */
  models: Record<string, 'bundle' | 'embedded'>;
  algorithms: ImportedAlgorithm[];
  created: number;
  duplicates: number;
}

/** The provenance line an imported algorithm's description ends with, and the label of its samples. */
export function provenanceNote(bundle: Pick<VerifiedBundle, 'sha256' | 'publisher'>): string {
  return `Imported from signed bundle sha256:${bundle.sha256} of publisher ${bundle.publisher}.`;
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
export async function importBundle(parts: { gallery: Gallery; embedder: Embedder | null }, source: AsyncIterable<Uint8Array> | Uint8Array, opts: ImportOptions): Promise<ImportSummary> {
  const { gallery, embedder } = parts;
  const bundle = await verifyBundle(source, opts.trust, opts.limits);
  const { manifest } = bundle;
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
      const results = await Promise.all(chunk.map((s) => embedder.embed(bundle.images.get(s)!)));
      results.forEach((r, j) => embedded.set(chunk[j]!, r.vectors));
    }
  }
  const itemOf = (row: number): SampleInput => {
    const s = samples[row]!;
    const vectors: Record<string, Float32Array> = {};
    for (const m of served) vectors[m.id] = sources[m.id] === 'bundle' ? bundle.vectors.get(m.id)![row]! : embedded.get(s.sha256)![m.id]!;
    const label = `${bundle.publisher}:${s.filename ?? s.id}`;
    return { sha256: s.sha256, vectors, width: s.width, height: s.height, filename: label.slice(0, MAX_FILENAME_LENGTH) };
  };
  const items = new Map(plans.map((p) => [p.index, p.rows.map(itemOf)]));

  // Writes, undone on failure.
  const createdAlgorithms: string[] = [];
  const createdSamples: Array<{ algorithmId: string; sampleId: string }> = [];
  const summary: ImportSummary = { bundleSha256: bundle.sha256, publisher: bundle.publisher, models: sources, algorithms: [], created: 0, duplicates: 0 };
  try {
    const shasWritten = new Set(plans.flatMap((p) => p.rows.map((r) => samples[r]!.sha256)));
    await gallery.keepImages([...shasWritten].filter((s) => bundle.images.has(s)).map((s) => ({ sha256: s, bytes: bundle.images.get(s)! })));
    for (const p of plans) {
      const a = manifest.algorithms[p.index]!;
      const out: ImportedAlgorithm = { name: a.name, action: p.action, galleryName: p.galleryName, created: 0, duplicates: p.known ?? 0 };
      summary.algorithms.push(out);
      if (p.action === 'skipped') continue;
      let target = p.existing;
      if (!target) {
        const note = provenanceNote(bundle);
        const description = a.description ? `${a.description.slice(0, MAX_TEXT_LENGTH - note.length - 2)}\n\n${note}` : note;
        target = await gallery.createAlgorithm({ name: p.galleryName, forgeryType: a.forgeryType, architecture: a.architecture, description, reference: a.reference });
        createdAlgorithms.push(target.id);
      }
      out.id = target.id;
      const list = items.get(p.index)!;
      // Samples whose bytes the bundle carries are kept like enrolled ones; the others are stored
      // without bytes (not re-embeddable later), as a bundle without images cannot give them.
      const batches = [true, false].flatMap((kept) => {
        const group = list.filter((it) => bundle.images.has(it.sha256) === kept);
        const out: Array<{ kept: boolean; items: SampleInput[] }> = [];
        for (let i = 0; i < group.length; i += MAX_PAGE_LIMIT) out.push({ kept, items: group.slice(i, i + MAX_PAGE_LIMIT) });
        return out;
      });
      for (const b of batches) {
        const added = await gallery.addSamples(target.id, b.items, { requireKeptBytes: b.kept && gallery.keepsImages });
        for (const r of added) {
          if (r.duplicate) out.duplicates++;
          else {
            out.created++;
            if (p.existing) createdSamples.push({ algorithmId: target.id, sampleId: r.sample.id });
          }
        }
      }
      summary.created += out.created;
      summary.duplicates += out.duplicates;
    }
  } catch (err) {
    await undo(gallery, createdAlgorithms, createdSamples);
    throw err;
  }
  return summary;
}

/** Removes what a failed import wrote; what cannot be removed (the store is gone) stays for a later delete. */
async function undo(gallery: Gallery, algorithms: string[], samples: Array<{ algorithmId: string; sampleId: string }>): Promise<void> {
  for (const s of samples) await gallery.deleteSample(s.algorithmId, s.sampleId).catch(ignoreGone);
  for (const id of algorithms) await gallery.deleteAlgorithm(id).catch(ignoreGone);
}

function ignoreGone(err: unknown): void {
  if (isDfgError(err, 'DFG_ERR_ALGORITHM_NOT_FOUND') || isDfgError(err, 'DFG_ERR_SAMPLE_NOT_FOUND')) return;
  throw err;
}
