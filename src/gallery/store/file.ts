/**
 * Where a gallery directory keeps its store, and whether it has one, without opening (or creating)
 * anything: the CLI checks this before loading the store, and tools that must not create a gallery
 * (readLastSwitch) test it first.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The SQLite store's file name inside a gallery directory. */
export const STORE_FILE = 'gallery.sqlite';

/** The store file of the gallery in `dir`. */
export const storeFile = (dir: string): string => path.join(dir, STORE_FILE);

/** Whether `dir` holds a gallery store (false when `dir` does not exist). Creates nothing. */
export const hasGalleryStore = (dir: string): boolean => fs.existsSync(storeFile(dir));
