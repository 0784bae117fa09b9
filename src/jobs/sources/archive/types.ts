import type { DfgError } from '../../../errors.js';

/** Limits applied while reading an uploaded archive. */
export interface ArchiveLimits {
  /** Most file entries (directories and links are not counted). */
  maxEntries: number;
  /** Most uncompressed bytes over all entries. */
  maxTotalBytes: number;
  /** Highest compression ratio of the archive, and of any entry larger than RATIO_FLOOR. */
  maxRatio: number;
  /** Largest image entry; a larger one is reported as an item error and skipped. */
  maxEntryBytes: number;
}

/** One file entry: the bytes of an image, or why it was skipped. */
export interface ArchiveItem {
  name: string;
  bytes?: Buffer;
  error?: DfgError;
}

/**
 * Small entries compress far beyond any sane ratio (a 4 KiB blank PNG, tar padding), and cannot hurt:
 * ratios are judged only once this many uncompressed bytes are at stake.
 */
export const RATIO_FLOOR = 1024 * 1024;
