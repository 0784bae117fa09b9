import fs from 'node:fs/promises';
import path from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/** Expands files and folders (recursively, sorted, images by extension) into file paths. */
export async function expandImagePaths(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const st = await fs.stat(input).catch(() => null);
    if (!st) throw new Error(`No such file or folder: ${input}`);
    if (st.isFile()) out.push(input);
    else if (st.isDirectory()) {
      const entries = await fs.readdir(input, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
        .map((e) => path.join(e.parentPath ?? input, e.name))
        .sort();
      out.push(...files);
    }
  }
  return out;
}
