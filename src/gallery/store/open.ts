/**
 * Which store a gallery uses: PostgreSQL when `store` is a postgres:// URL (DFG_STORE), else the
 * SQLite store in the gallery directory. Index snapshots stay in the directory either way.
 */
import { openSqliteGalleryStore } from './sqlite.js';
import { isPostgresUrl, openPgGalleryStore } from './pg.js';
import { hasGalleryStore } from './file.js';
import type { GalleryStore } from './api.js';

export interface StoreLocation {
  /** Gallery directory (SQLite file, kept images and index snapshots). */
  dir: string;
  /** A postgres:// URL: the shared store; absent: SQLite under `dir`. */
  store?: string;
  busyTimeoutMs?: number;
  onError?: (err: unknown) => void;
}

export function openGalleryStore(loc: StoreLocation): Promise<GalleryStore> {
  if (isPostgresUrl(loc.store)) return openPgGalleryStore(loc.store, { onError: loc.onError });
  return Promise.resolve().then(() => openSqliteGalleryStore(loc.dir, { busyTimeoutMs: loc.busyTimeoutMs }));
}

/** Whether a gallery exists there (PostgreSQL: always, its schema is created on first open). Creates nothing. */
export const hasStore = (loc: StoreLocation): boolean => isPostgresUrl(loc.store) || hasGalleryStore(loc.dir);
