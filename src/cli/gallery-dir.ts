/**
 * The gallery a local command works on must exist, unless the command is one that creates it
 * (`dfg serve`, `dfg enrol --create`). Opening the gallery creates a missing one, so a mistyped
 * DFG_GALLERY_DIR would otherwise give an empty gallery: `dfg attribute` would answer unknown for
 * every image, `dfg calibrate` would find nothing, and a worker would enrol where the service never
 * looks. Checked before anything is opened: a refusal creates no directory and no file.
 */
import path from 'node:path';
import { hasGalleryStore, STORE_FILE } from '../gallery/store/file.js';
import { isPostgresUrl } from '../gallery/store/pg.js';

/**
 * Throws the CLI's one-line refusal when `dir` (DFG_GALLERY_DIR) holds no gallery store. A shared
 * store (`store`, DFG_STORE) always has one: its schema is created by whichever process opens it first.
 */
export function requireGallery(dir: string, store?: string): void {
  if (isPostgresUrl(store) || hasGalleryStore(dir)) return;
  throw new Error(
    `No gallery in ${path.resolve(dir)} (DFG_GALLERY_DIR): it has no ${STORE_FILE}. Check DFG_GALLERY_DIR, ` +
      'or create the gallery there: `dfg enrol --create <algorithm> <images...>`, or start the service (`dfg serve`)',
  );
}
