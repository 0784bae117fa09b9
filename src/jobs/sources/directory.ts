/**
 * Server-side directory sources: only below the configured import roots, checked on the real
 * path (a symlink out of a root is refused). The API lists the files; each worker reads them
 * and checks the path again against its own roots.
 */
import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { dfgError, invalid } from '../../errors.js';
import { notAnImage } from './images.js';

/** Parses DFG_IMPORT_ROOTS (colon-separated absolute directories). */
export function parseImportRoots(value: string): string[] {
  return value.split(':').map((s) => s.trim()).filter(Boolean).map((s) => path.resolve(s));
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function realRoots(roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    const real = await fs.realpath(r).catch(() => null);
    if (real) out.push(real);
  }
  return out;
}

/**
 * Resolves a requested import directory to its real path below one of `roots`.
 * Throws `DFG_ERR_IMPORT_PATH_FORBIDDEN` outside the roots (whether or not it exists, so the
 * answer reveals nothing), `DFG_ERR_REQUEST_INVALID` for a relative path or a missing directory.
 */
export async function resolveImportDir(requested: string, roots: string[]): Promise<string> {
  if (!path.isAbsolute(requested)) throw invalid('an absolute path', 'source.path', requested);
  if (roots.length === 0) throw dfgError('DFG_ERR_IMPORT_PATH_FORBIDDEN', `${requested} (no import roots configured: set DFG_IMPORT_ROOTS)`);
  const lexical = path.resolve(requested);
  const reals = await realRoots(roots);
  if (!roots.some((r) => inside(r, lexical)) && !reals.some((r) => inside(r, lexical))) throw dfgError('DFG_ERR_IMPORT_PATH_FORBIDDEN', requested);
  const real = await fs.realpath(lexical).catch(() => null);
  if (!real) throw dfgError('DFG_ERR_REQUEST_INVALID', `no such directory ${requested}`);
  if (!reals.some((r) => inside(r, real))) throw dfgError('DFG_ERR_IMPORT_PATH_FORBIDDEN', requested);
  const st = await fs.stat(real);
  if (!st.isDirectory()) throw dfgError('DFG_ERR_REQUEST_INVALID', `${requested} is not a directory`);
  return real;
}

export interface DirectoryListing {
  /** Relative POSIX paths of image files, sorted. */
  images: string[];
  /** Relative paths of other regular files (reported as skipped). */
  others: string[];
}

/**
 * Lists regular files below `dir` recursively (symlinks are neither listed nor followed).
 * Throws `DFG_ERR_REQUEST_INVALID` past `maxItems` files.
 */
export async function listImportDir(dir: string, maxItems: number): Promise<DirectoryListing> {
  const images: string[] = [];
  const others: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) {
        if (images.length + others.length >= maxItems) throw dfgError('DFG_ERR_REQUEST_INVALID', `more than ${maxItems} files under the import directory (DFG_JOB_MAX_ITEMS)`);
        (notAnImage(child) ? others : images).push(child);
      }
    }
  };
  await walk('');
  return { images, others };
}

/**
 * Reads one listed file for a worker: the directory must still resolve below `roots`, the file
 * must be a regular file (not a symlink) of at most `maxBytes`.
 */
export async function readImportFile(dir: string, rel: string, roots: string[], maxBytes: number): Promise<Buffer> {
  const parts = rel.split('/');
  if (path.isAbsolute(rel) || parts.includes('..') || parts.includes('')) throw dfgError('DFG_ERR_IMPORT_PATH_FORBIDDEN', rel);
  const full = path.join(dir, ...parts);
  const realParent = await fs.realpath(path.dirname(full)).catch(() => null);
  const reals = await realRoots(roots);
  if (!realParent || !reals.some((r) => inside(r, realParent))) throw dfgError('DFG_ERR_IMPORT_PATH_FORBIDDEN', full);
  const handle = await fs.open(path.join(realParent, path.basename(full)), constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') throw dfgError('DFG_ERR_IMPORT_PATH_FORBIDDEN', `${full} (symbolic link)`);
    if (err.code === 'ENOENT') throw dfgError('DFG_ERR_REQUEST_INVALID', `${rel} disappeared from the import directory`);
    throw err;
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw dfgError('DFG_ERR_REQUEST_INVALID', `${rel} is not a regular file`);
    if (st.size > maxBytes) throw dfgError('DFG_ERR_IMAGE_TOO_LARGE', st.size, maxBytes);
    if (st.size === 0) throw dfgError('DFG_ERR_IMAGE_EMPTY');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
