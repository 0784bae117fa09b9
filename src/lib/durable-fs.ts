/**
 * Durable file writes: a file's bytes and a folder's names reach the disk before the caller goes
 * on (temp file, fsync, rename, fsync of the folder). Used by the gallery's blobs and snapshots.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A temporary name beside `file`, unique per process and call, so concurrent writers of one file never share it. */
export const tempPath = (file: string): string => `${file}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;

/** Flushes a written file's bytes to the disk. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a rename durable; some filesystems refuse to open directories, which only costs durability of the name. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch {
    // best effort: the file contents are already synced
  } finally {
    await fh?.close();
  }
}

/** Writes a file whole or not at all: a temp file beside it, fsynced, renamed over it, the folder fsynced. */
export async function writeFileDurably(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPath(file);
  try {
    await fs.writeFile(tmp, data);
    await fsyncFile(tmp);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}
