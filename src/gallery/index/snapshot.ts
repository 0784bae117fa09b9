/**
 * Index snapshots on disk: `<dir>/<modelId>.hnsw` plus a `<modelId>.json` manifest. Both are
 * written to a temporary file, fsynced and renamed, so a reader sees an old or a new file, never
 * half of one. The manifest's checksum ties it to its index file: a pair torn by a crash or by two
 * processes snapshotting at once fails the check and the index is rebuilt from the store.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, fsyncFile, tempPath } from '../../lib/durable-fs.js';
import type { HnswParams } from './hnsw.js';

export const SNAPSHOT_FORMAT = 1;

export interface SnapshotManifest {
  format: number;
  modelId: string;
  dim: number;
  space: 'cosine';
  hnsw: HnswParams;
  /** Id of the store file the index was derived from. */
  galleryId: string;
  /** Every change with seq <= lastSeq is in the index. */
  lastSeq: number;
  /** Elements in the index file, deleted ones included. */
  count: number;
  deleted: number;
  createdAt: string;
  bytes: number;
  sha256: string;
}

export interface SnapshotPaths {
  index: string;
  manifest: string;
}

export function snapshotPaths(dir: string, modelId: string): SnapshotPaths {
  return { index: path.join(dir, `${modelId}.hnsw`), manifest: path.join(dir, `${modelId}.json`) };
}

/** Hex SHA-256 and size of a file, streamed. */
export async function fileChecksum(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Publishes an index file already written at `tmpIndex`: fsync, checksum, rename, then the
 * manifest the same way. Removes the temporary files on failure.
 */
export async function publishSnapshot(
  paths: SnapshotPaths,
  tmpIndex: string,
  meta: Omit<SnapshotManifest, 'format' | 'bytes' | 'sha256' | 'createdAt' | 'space'>,
): Promise<SnapshotManifest> {
  const tmpManifest = tempPath(paths.manifest);
  try {
    await fsyncFile(tmpIndex);
    const { sha256, bytes } = await fileChecksum(tmpIndex);
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      ...meta,
      space: 'cosine',
      createdAt: new Date().toISOString(),
      bytes,
      sha256,
    };
    await fs.rename(tmpIndex, paths.index);
    await fs.writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncFile(tmpManifest);
    await fs.rename(tmpManifest, paths.manifest);
    await fsyncDir(path.dirname(paths.manifest));
    return manifest;
  } catch (err) {
    await fs.rm(tmpIndex, { force: true });
    await fs.rm(tmpManifest, { force: true });
    throw err;
  }
}

export type ManifestCheck = { ok: true; manifest: SnapshotManifest } | { ok: false; reason: string };

const isInt = (v: unknown, min = 0): v is number => Number.isInteger(v) && (v as number) >= min;

/**
 * Reads the manifest and checks that it describes an index this gallery may load: same format,
 * model, dimension and store, and an index file whose size and checksum match.
 */
export async function checkSnapshot(
  paths: SnapshotPaths,
  expect: { modelId: string; dim: number; galleryId: string; maxSeq: number },
): Promise<ManifestCheck> {
  let text: string;
  try {
    text = await fs.readFile(paths.manifest, 'utf8');
  } catch (err) {
    return { ok: false, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no snapshot' : `manifest unreadable: ${(err as Error).message}` };
  }
  let m: Partial<SnapshotManifest>;
  try {
    m = JSON.parse(text) as Partial<SnapshotManifest>;
  } catch {
    return { ok: false, reason: 'manifest is not valid JSON' };
  }
  if (typeof m !== 'object' || m === null) return { ok: false, reason: 'manifest is not an object' };
  if (m.format !== SNAPSHOT_FORMAT) return { ok: false, reason: `manifest format ${String(m.format)} is not ${SNAPSHOT_FORMAT}` };
  if (m.modelId !== expect.modelId) return { ok: false, reason: `snapshot is for model ${String(m.modelId)}, not ${expect.modelId}` };
  if (m.dim !== expect.dim) return { ok: false, reason: `snapshot has dimension ${String(m.dim)}, not ${expect.dim}` };
  if (m.space !== 'cosine') return { ok: false, reason: `snapshot space ${String(m.space)} is not cosine` };
  if (m.galleryId !== expect.galleryId) return { ok: false, reason: 'snapshot was built from another store file' };
  if (!isInt(m.lastSeq) || !isInt(m.count) || !isInt(m.deleted) || !isInt(m.bytes, 1) || typeof m.sha256 !== 'string' || m.deleted > m.count) {
    return { ok: false, reason: 'manifest fields are malformed' };
  }
  if (m.lastSeq > expect.maxSeq) return { ok: false, reason: `snapshot seq ${m.lastSeq} is ahead of the store (${expect.maxSeq})` };
  let actual: { sha256: string; bytes: number };
  try {
    actual = await fileChecksum(paths.index);
  } catch (err) {
    return { ok: false, reason: `index file unreadable: ${(err as Error).message}` };
  }
  if (actual.bytes !== m.bytes || actual.sha256 !== m.sha256) return { ok: false, reason: 'index file checksum does not match its manifest' };
  return { ok: true, manifest: m as SnapshotManifest };
}
