/**
 * The model switch record of a gallery directory (see Store.lastSwitch), through a short-lived
 * store connection: a service reads it before it knows which models, hence which gallery index,
 * to open, and a switch writes it beside the gallery it is about to serve.
 */
import { openStore } from './store.js';
import { hasGalleryStore, storeFile } from './store-file.js';
import type { SwitchRecord } from './types.js';

/**
 * The last model switch recorded in the gallery in `dir`, or null (none, or no store yet: nothing
 * is created). Throws when the store cannot be opened or the record is malformed.
 */
export function readLastSwitch(dir: string): SwitchRecord | null {
  if (!hasGalleryStore(dir)) return null;
  const store = openStore(storeFile(dir));
  try {
    return store.lastSwitch();
  } finally {
    store.close();
  }
}

/** Records a successful switch to `list` in the gallery in `dir`: committed (synchronous = FULL) when it returns. */
export function writeSwitchRecord(dir: string, list: string, forced: boolean): SwitchRecord {
  const store = openStore(storeFile(dir));
  try {
    return store.recordSwitch(list, forced);
  } finally {
    store.close();
  }
}
