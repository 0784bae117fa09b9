/** Which entries of a batch source are images, and how their names are shown. */
import path from 'node:path';

/** Extensions the service decodes (JPEG, PNG, WebP, GIF, TIFF, AVIF); the decoder checks the bytes again. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/** Longest item name kept in job records and results. */
export const MAX_ITEM_NAME = 1024;

/**
 * Why a name is not an image, or null when it is one. macOS resource forks (`._x.png`, `__MACOSX/`)
 * carry image extensions but no image.
 */
export function notAnImage(name: string): string | null {
  const base = path.posix.basename(name);
  if (name.startsWith('__MACOSX/') || base.startsWith('._')) return 'macOS metadata, not an image';
  const ext = path.posix.extname(base).toLowerCase();
  if (!IMAGE_EXTENSIONS.has(ext)) return `not an image file name (${ext || 'no extension'})`;
  return null;
}

/**
 * A URL item's name without its query and fragment: signed URLs carry their secret there, and job
 * results, errors and enrolled samples' filenames are kept for days. Other names are unchanged.
 */
function withoutQuery(name: string): string {
  if (!/^https?:\/\//i.test(name)) return name;
  try {
    const u = new URL(name);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return name.replace(/[?#].*$/s, '');
  }
}

/** A name safe to show in records, logs and CSV: URL queries dropped, control characters replaced, length bounded. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = withoutQuery(name).replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > MAX_ITEM_NAME ? `${clean.slice(0, MAX_ITEM_NAME - 1)}…` : clean;
}
