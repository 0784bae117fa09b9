/**
 * Archive sources of batch jobs: zip, tar and tar.gz, recognised by their bytes, read with
 * limits on entries, total uncompressed size and compression ratio. Traversal entries refuse the
 * archive; symlinks and directories are ignored; non-image entries come back as item errors.
 */
import fs from 'node:fs/promises';
import { dfgError } from '../../../errors.js';
import { readZip } from './zip.js';
import { readTar } from './tar.js';
import type { ArchiveItem, ArchiveLimits } from './types.js';

export type { ArchiveItem, ArchiveLimits } from './types.js';
export { checkEntryName } from './names.js';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

/** Recognises zip, tar and gzip from the first bytes (names and content types are not trusted). */
export function sniffArchive(head: Uint8Array): ArchiveFormat | null {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06)) return 'zip';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return 'tar';
  return null;
}

/**
 * Reads every file entry of the archive at `file`, in archive order.
 * Throws `DFG_ERR_ARCHIVE_INVALID` (corrupt, traversal, over a limit) before or while yielding.
 */
export async function* readArchive(file: string, limits: ArchiveLimits): AsyncGenerator<ArchiveItem> {
  const handle = await fs.open(file, 'r');
  let head: Buffer;
  let size: number;
  try {
    size = (await handle.stat()).size;
    head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (size === 0) throw dfgError('DFG_ERR_ARCHIVE_INVALID', 'empty file');
  const format = sniffArchive(head);
  if (!format) throw dfgError('DFG_ERR_ARCHIVE_INVALID', 'not a zip, tar or tar.gz archive');
  if (format === 'zip') yield* readZip(file, size, limits);
  else yield* readTar(file, size, format === 'tar.gz', limits);
}
