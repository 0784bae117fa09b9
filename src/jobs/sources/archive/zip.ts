/** Reads a zip archive with yauzl: the central directory is vetted whole before any entry is inflated. */
import yauzl from 'yauzl';
import { dfgError } from '../../../errors.js';
import { notAnImage } from '../images.js';
import { checkEntryName } from './names.js';
import { RATIO_FLOOR, type ArchiveItem, type ArchiveLimits } from './types.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

type Planned = { name: string; entry?: yauzl.Entry; error?: ArchiveItem['error'] };

function invalid(reason: string) {
  return dfgError('DFG_ERR_ARCHIVE_INVALID', reason);
}

/** yauzl's own refusals (bad names, sizes, structure) become archive errors; the traversal ones say so. */
function fromYauzl(err: unknown) {
  const msg = err instanceof Error ? err.message : String(err);
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(msg)) return invalid(`path traversal entry (${msg.slice(0, 200)})`);
  return invalid(`corrupt zip: ${msg.slice(0, 200)}`);
}

async function readAll(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw invalid(`an entry inflates beyond its declared size`);
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}

export async function* readZip(file: string, fileSize: number, limits: ArchiveLimits): AsyncGenerator<ArchiveItem> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
  } catch (err) {
    throw fromYauzl(err);
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw invalid(`${zip.entryCount} entries (limit ${limits.maxEntries})`);
    const planned: Planned[] = [];
    let total = 0;
    try {
      for await (const entry of zip.eachEntry()) {
        const checked = checkEntryName(entry.fileName);
        if ('refused' in checked) throw invalid(checked.refused);
        if (entry.fileName.endsWith('/')) continue;
        if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) continue; // symlinks are ignored, never followed
        total += entry.uncompressedSize;
        if (total > limits.maxTotalBytes) throw invalid(`more than ${limits.maxTotalBytes} bytes uncompressed`);
        if (entry.uncompressedSize > RATIO_FLOOR && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
          throw invalid(`entry ${JSON.stringify(checked.name.slice(0, 200))} has a compression ratio over ${limits.maxRatio}`);
        }
        const why = notAnImage(checked.name);
        if (why) planned.push({ name: checked.name, error: dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', why) });
        else if (entry.isEncrypted()) planned.push({ name: checked.name, error: dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', 'encrypted zip entry') });
        else if (!entry.canDecodeFileData()) planned.push({ name: checked.name, error: dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', `zip compression method ${entry.compressionMethod}`) });
        else if (entry.uncompressedSize > limits.maxEntryBytes) planned.push({ name: checked.name, error: dfgError('DFG_ERR_IMAGE_TOO_LARGE', entry.uncompressedSize, limits.maxEntryBytes) });
        else if (entry.uncompressedSize === 0) planned.push({ name: checked.name, error: dfgError('DFG_ERR_IMAGE_EMPTY') });
        else planned.push({ name: checked.name, entry });
      }
    } catch (err) {
      throw (err as { code?: string }).code === 'DFG_ERR_ARCHIVE_INVALID' ? err : fromYauzl(err);
    }
    if (total > RATIO_FLOOR && total > limits.maxRatio * Math.max(1, fileSize)) throw invalid(`compression ratio over ${limits.maxRatio}`);

    for (const p of planned) {
      if (!p.entry) {
        yield { name: p.name, error: p.error };
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readAll(await zip.openReadStreamPromise(p.entry), p.entry.uncompressedSize);
      } catch (err) {
        throw (err as { code?: string }).code === 'DFG_ERR_ARCHIVE_INVALID' ? err : fromYauzl(err);
      }
      yield { name: p.name, bytes };
    }
  } finally {
    zip.close();
  }
}
