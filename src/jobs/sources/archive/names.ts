/** Entry-name checks shared by the zip and tar readers (pure). */

/**
 * Normalises an archive entry name to a relative POSIX path, or returns why it is refused:
 * absolute paths, drive letters, `..` segments and NUL bytes would escape an extraction
 * directory, so an archive holding one is refused whole even though nothing is written to disk.
 */
export function checkEntryName(raw: string): { name: string } | { refused: string } {
  if (raw.includes('\0')) return { refused: `entry name with a NUL byte: ${JSON.stringify(raw.slice(0, 200))}` };
  const name = raw.replace(/\\/g, '/');
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return { refused: `absolute path entry ${JSON.stringify(raw.slice(0, 200))}` };
  const parts = name.split('/');
  if (parts.includes('..')) return { refused: `path traversal entry ${JSON.stringify(raw.slice(0, 200))}` };
  return { name: parts.filter((p) => p !== '' && p !== '.').join('/') };
}
