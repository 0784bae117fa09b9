/**
 * Row shapes of the SQLite store and their mapping to the public types; ids and vector blobs.
 */
import { randomBytes } from 'node:crypto';
import type { Algorithm, AlgorithmRecord, Architecture, BundleRecord, ForgeryType, Provenance, SampleRecord } from '../types.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `<prefix>_` + 16 base32 characters (80 random bits). */
export function newId(prefix: 'alg' | 'smp' | 'bnd' | 'att'): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${prefix}_${out}`;
}

export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Copies the blob: better-sqlite3 buffers need not be 4-byte aligned. */
export function blobToVector(buf: Buffer): Float32Array {
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export interface AlgorithmRow {
  id: string;
  name: string;
  forgery_type: ForgeryType;
  architecture: Architecture;
  description: string;
  reference: string;
  enabled: number;
  threshold: number | null;
  created_at: string;
  updated_at: string;
  sample_count?: number;
  /** JSON of its Provenance (provenanceColumn), or null. */
  provenance?: string | null;
}

/**
 * The select expression of a row's provenance as one JSON text column (null without a bundle),
 * so every query of samples or algorithms carries it without a join. `jsonObject` is the backend's
 * JSON object builder (SQLite json_object, PostgreSQL json_build_object), `alias` the row's table alias.
 */
export function provenanceColumn(jsonObject: string, alias: string, cast = ''): string {
  return `(SELECT ${jsonObject}('bundleId', b.id, 'bundleSha256', b.sha256, 'publisher', b.publisher, 'keyFingerprint', b.key_fingerprint,
    'software', b.software, 'exportedAt', b.exported_at, 'importedAt', b.imported_at, 'sourceId', ${alias}.source_id)${cast}
    FROM bundles b WHERE b.id = ${alias}.bundle_id) AS provenance`;
}

export function toProvenance(json: string | null | undefined): Provenance | null {
  if (!json) return null;
  const p = JSON.parse(json) as Provenance;
  return {
    bundleId: p.bundleId, bundleSha256: p.bundleSha256, publisher: p.publisher, keyFingerprint: p.keyFingerprint,
    software: p.software, exportedAt: p.exportedAt, importedAt: p.importedAt, sourceId: p.sourceId,
  };
}

export interface BundleRow {
  id: string;
  sha256: string;
  publisher: string;
  key_fingerprint: string;
  software: string;
  exported_at: string;
  imported_at: string;
}

export const toBundle = (r: BundleRow): BundleRecord => ({
  id: r.id, sha256: r.sha256, publisher: r.publisher, keyFingerprint: r.key_fingerprint, software: r.software, exportedAt: r.exported_at, importedAt: r.imported_at,
});

/** A bundle's provenance for one of its samples or algorithms. */
export const provenanceOf = (b: BundleRecord, sourceId: string): Provenance => ({
  bundleId: b.id, bundleSha256: b.sha256, publisher: b.publisher, keyFingerprint: b.keyFingerprint, software: b.software,
  exportedAt: b.exportedAt, importedAt: b.importedAt, sourceId,
});

export function toAlgorithm(r: AlgorithmRow): Algorithm {
  return {
    id: r.id,
    name: r.name,
    forgeryType: r.forgery_type,
    architecture: r.architecture,
    description: r.description,
    reference: r.reference,
    enabled: r.enabled === 1,
    threshold: r.threshold,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    provenance: toProvenance(r.provenance),
  };
}

export const withCount = (r: AlgorithmRow): AlgorithmRecord => ({ ...toAlgorithm(r), sampleCount: r.sample_count ?? 0 });

export interface SampleRow {
  id: string;
  algorithm_id: string;
  sha256: string;
  width: number;
  height: number;
  filename: string | null;
  created_at: string;
  seq: number;
  /** Comma-separated model ids with a stored vector (model ids never hold commas). */
  models: string | null;
  /** JSON of its Provenance (provenanceColumn), or null. */
  provenance?: string | null;
}

export const toSample = (r: SampleRow): SampleRecord => ({
  id: r.id,
  algorithmId: r.algorithm_id,
  sha256: r.sha256,
  width: r.width,
  height: r.height,
  filename: r.filename,
  createdAt: r.created_at,
  seq: r.seq,
  models: r.models ? r.models.split(',').sort() : [],
  provenance: toProvenance(r.provenance),
});
