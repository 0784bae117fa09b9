/**
 * Row shapes of the SQLite store and their mapping to the public types; ids and vector blobs.
 */
import { randomBytes } from 'node:crypto';
import type { Algorithm, AlgorithmRecord, Architecture, ForgeryType, SampleRecord } from '../types.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `<prefix>_` + 16 base32 characters (80 random bits). */
export function newId(prefix: 'alg' | 'smp'): string {
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
}

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
});
