/**
 * Reads a tar or tar.gz archive with tar-stream. Tar has no central directory, so limits are
 * enforced as the stream goes: declared sizes per entry, and for gzip the bytes actually
 * inflated, which stops a gzip bomb after at most maxRatio x its own size.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { dfgError, isDfgError } from '../../../errors.js';
import { notAnImage } from '../images.js';
import { checkEntryName } from './names.js';
import { RATIO_FLOOR, type ArchiveItem, type ArchiveLimits } from './types.js';

function invalid(reason: string) {
  return dfgError('DFG_ERR_ARCHIVE_INVALID', reason);
}

/** Counts inflated bytes and fails the stream once they pass the ratio or the absolute bound. */
function inflationGuard(compressedSize: number, limits: ArchiveLimits, maxTarBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > maxTarBytes) return cb(invalid(`more than ${limits.maxTotalBytes} bytes uncompressed`));
      if (seen > RATIO_FLOOR && seen > limits.maxRatio * Math.max(1, compressedSize)) return cb(invalid(`compression ratio over ${limits.maxRatio}`));
      cb(null, chunk);
    },
  });
}

async function drain(entry: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of entry) { /* discard */ }
}

async function readAll(entry: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of entry) {
    n += c.length;
    if (n > max) throw invalid('an entry is longer than its header says');
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}

export async function* readTar(file: string, fileSize: number, gzipped: boolean, limits: ArchiveLimits): AsyncGenerator<ArchiveItem> {
  // Tar framing adds a 512-byte header (plus padding, long-name and pax records) per entry.
  const maxTarBytes = limits.maxTotalBytes + (limits.maxEntries + 16) * 2048;
  const extract = tar.extract();
  const stages: NodeJS.ReadWriteStream[] = gzipped ? [zlib.createGunzip(), inflationGuard(fileSize, limits, maxTarBytes)] : [inflationGuard(Infinity, limits, maxTarBytes)];
  let streamError: unknown;
  const chain = [fs.createReadStream(file), ...stages, extract] as unknown as ReadonlyArray<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream>;
  const piping = pipeline(chain).catch((err: unknown) => {
    streamError = err;
    extract.destroy(err as Error);
  });

  let files = 0;
  let total = 0;
  try {
    for await (const e of extract) {
      const entry = e as unknown as AsyncIterable<Buffer>;
      const h = e.header;
      const checked = checkEntryName(h.name);
      if ('refused' in checked) throw invalid(checked.refused);
      const type = h.type ?? 'file';
      if (type !== 'file' && type !== 'contiguous-file') {
        await drain(entry); // directories, symlinks, hard links, devices: ignored, never followed
        continue;
      }
      const size = h.size ?? 0;
      if (++files > limits.maxEntries) throw invalid(`more than ${limits.maxEntries} entries`);
      total += size;
      if (total > limits.maxTotalBytes) throw invalid(`more than ${limits.maxTotalBytes} bytes uncompressed`);
      const why = notAnImage(checked.name);
      let error: ArchiveItem['error'];
      if (why) error = dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', why);
      else if (size > limits.maxEntryBytes) error = dfgError('DFG_ERR_IMAGE_TOO_LARGE', size, limits.maxEntryBytes);
      else if (size === 0) error = dfgError('DFG_ERR_IMAGE_EMPTY');
      if (error) {
        await drain(entry);
        yield { name: checked.name, error };
        continue;
      }
      const bytes = await readAll(entry, size);
      yield { name: checked.name, bytes };
    }
  } catch (err) {
    throw asArchiveError(streamError ?? err);
  } finally {
    if (!extract.destroyed) extract.destroy();
    await piping;
  }
  if (streamError) throw asArchiveError(streamError);
}

function asArchiveError(err: unknown) {
  if (isDfgError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return invalid(`corrupt tar: ${msg.slice(0, 200)}`);
}
