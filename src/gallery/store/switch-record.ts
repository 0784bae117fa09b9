/**
 * The model switch record of a gallery (see GalleryStore.lastSwitch), through a short-lived
 * store connection: a service reads it before it knows which models, hence which gallery index,
 * to open, and a switch writes it beside the gallery it is about to serve.
 */
import { hasStore, openGalleryStore, type StoreLocation } from './open.js';
import type { AuditNote, SwitchRecord } from '../types.js';

const location = (where: string | StoreLocation): StoreLocation => (typeof where === 'string' ? { dir: where } : where);

/**
 * The last model switch recorded in the gallery (a directory, or a location naming the shared
 * store), or null (none, or no SQLite store yet: nothing is created). Throws when the store
 * cannot be opened or the record is malformed.
 */
export async function readLastSwitch(where: string | StoreLocation): Promise<SwitchRecord | null> {
  const loc = location(where);
  if (!hasStore(loc)) return null;
  const store = await openGalleryStore(loc);
  try {
    return await store.lastSwitch();
  } finally {
    await store.close();
  }
}

/** Records a successful switch to `list`: committed when it resolves. */
export async function writeSwitchRecord(where: string | StoreLocation, list: string, forced: boolean, audit?: AuditNote): Promise<SwitchRecord> {
  const store = await openGalleryStore(location(where));
  try {
    return await store.recordSwitch(list, forced, audit);
  } finally {
    await store.close();
  }
}
