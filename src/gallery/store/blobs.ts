/**
 * Enrolled image bytes kept content-addressed under the gallery folder, `blobs/ab/<sha256>`, so
 * a gallery can be re-embedded with a new model without the original files. A blob is written
 * (temp file, fsync, rename, fsync of the folder) before the sample that names it is committed,
 * so an acknowledged sample always has its bytes; it is removed once no sample names it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { dfgError } from '../../errors.js';
import { writeFileDurably } from '../../lib/durable-fs.js';

const SHA = /^[0-9a-f]{64}$/;

export interface BlobStore {
  /** Root folder (`<gallery>/blobs`). */
  readonly dir: string;
  /** Writes the bytes under their sha256 unless already there. Throws DFG_ERR_REQUEST_INVALID when `sha256` is not theirs. */
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  /** The bytes, or null when not kept. */
  get(sha256: string): Promise<Buffer | null>;
  has(sha256: string): boolean;
  /** Removes the blob (no error when absent). */
  remove(sha256: string): void;
}

export function createBlobStore(galleryDir: string): BlobStore {
  const dir = path.join(galleryDir, 'blobs');
  const file = (sha: string): string => {
    // Content addresses only: also keeps a name from escaping the folder.
    if (!SHA.test(sha)) throw dfgError('DFG_ERR_REQUEST_INVALID', `Expected a lower-case hex sha256 for a blob but received ${JSON.stringify(sha).slice(0, 80)}`);
    return path.join(dir, sha.slice(0, 2), sha);
  };

  return {
    dir,
    async put(sha256, bytes) {
      const target = file(sha256);
      if (fs.existsSync(target)) return;
      if (crypto.createHash('sha256').update(bytes).digest('hex') !== sha256) {
        throw dfgError('DFG_ERR_REQUEST_INVALID', `image bytes do not hash to ${sha256}`);
      }
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await writeFileDurably(target, bytes);
    },
    async get(sha256) {
      try {
        return await fsp.readFile(file(sha256));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    has: (sha256) => fs.existsSync(file(sha256)),
    remove(sha256) {
      fs.rmSync(file(sha256), { force: true });
    },
  };
}
