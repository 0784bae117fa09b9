/**
 * Hostile-safe image decoding: the only module in src/ that hands input images to sharp. The other
 * two sharp users are listed exceptions in .dependency-cruiser.cjs: embedding/render.ts rasterises
 * our own SVG plots, genome/image-io.ts writes and reads the synthesised genome images.
 *
 * Order of checks matters: byte limits and format sniffing run before sharp sees the bytes (so
 * SVG, PDF and every other libvips loader stay unreachable), and the pixel limit is checked from
 * the header before any pixel is decoded (decompression bombs are small on disk).
 */
import sharp, { type Metadata } from 'sharp';
import { dfgError } from '../errors.js';

/** Formats the service decodes. `avif` and `heif` share libheif; `heif` here means a non-AV1 HEIF (HEIC). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heif';

export interface DecodeLimits {
  /** Largest accepted encoded size in bytes. */
  maxBytes: number;
  /** Largest accepted width x height (after orientation, which does not change the product). */
  maxPixels: number;
}

export interface DecodedImage {
  /** RGB interleaved, 8 bits per channel, row-major, `width * height * 3` bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  format: ImageFormat;
}

// ISO-BMFF major/compatible brands of AVIF and of HEVC-coded HEIF.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function startsWith(bytes: Uint8Array, sig: readonly number[]): boolean {
  if (bytes.length < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[i] !== sig[i]) return false;
  return true;
}

/**
 * Identifies an allowed image format from its magic bytes, or returns null.
 * Pure byte inspection: nothing is parsed beyond the signature (and the ISO-BMFF brand list).
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  const head6 = ascii(bytes, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  // Classic TIFF (42) and BigTIFF (43), either byte order.
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (bytes.length >= 16 && ascii(bytes, 4, 8) === 'ftyp') {
    const boxSize = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
    const end = Math.min(bytes.length, boxSize >= 16 ? boxSize : 16, 256);
    const brands = [ascii(bytes, 8, 12)];
    for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(bytes, i, i + 4));
    if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
    if (brands.some((b) => HEIF_BRANDS.has(b))) return 'heif';
  }
  return null;
}

/** A short name for a refused input, for the error message only. */
function describeRefused(bytes: Uint8Array): string {
  const head = ascii(bytes, 0, 512).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (head.startsWith('%pdf')) return 'pdf';
  if (head.includes('<svg')) return 'svg';
  if (head.startsWith('<')) return 'xml/html';
  if (startsWith(bytes, [0x42, 0x4d])) return 'bmp';
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50])) return 'jpeg2000';
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 12) === 'JXL \r\n\x87\n') return 'jpeg-xl';
  if (head.startsWith('p') && /^p[1-7]\s/.test(head)) return 'pnm';
  return 'unrecognised signature';
}

// sharp's metadata().format for each sniffed format: the loader libvips picked must be the one
// the signature promised, so no other loader ever runs on client bytes.
const LOADER_OF: Record<ImageFormat, string> = {
  jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff', avif: 'heif', heif: 'heif',
};

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split('\n').find((l) => l.trim() !== '') ?? 'unknown decoder error';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/**
 * Decodes untrusted image bytes to 8-bit interleaved RGB at native resolution (never resized).
 *
 * Applies EXIF orientation; converts greyscale, palette, 16-bit and CMYK input to 8-bit sRGB;
 * drops alpha (the colour values are kept as stored, not composited, to preserve generator
 * traces); reads the first frame of animated or multi-page images.
 *
 * Rejects with `DFG_ERR_IMAGE_EMPTY`, `DFG_ERR_IMAGE_TOO_LARGE`,
 * `DFG_ERR_IMAGE_UNSUPPORTED_FORMAT`, `DFG_ERR_IMAGE_TOO_MANY_PIXELS` or `DFG_ERR_IMAGE_CORRUPT`.
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodedImage> {
  if (bytes.length === 0) throw dfgError('DFG_ERR_IMAGE_EMPTY');
  if (bytes.length > limits.maxBytes) throw dfgError('DFG_ERR_IMAGE_TOO_LARGE', bytes.length, limits.maxBytes);
  const sniffed = sniffFormat(bytes);
  if (sniffed === null) throw dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', describeRefused(bytes));

  // Header only: metadata() reads no pixel data, so the pixel limit is enforced here by us and
  // sharp's own limit is lifted for this call (it would otherwise refuse without the numbers).
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (err) {
    throw dfgError('DFG_ERR_IMAGE_CORRUPT', firstLine(err));
  }
  if (meta.format !== LOADER_OF[sniffed]) {
    throw dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', `${String(meta.format)} (signature says ${sniffed})`);
  }
  const format: ImageFormat = sniffed === 'avif' || sniffed === 'heif'
    ? (meta.compression === 'av1' ? 'avif' : 'heif')
    : sniffed;
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw dfgError('DFG_ERR_IMAGE_CORRUPT', 'image header has no dimensions');
  if (width * height > limits.maxPixels) {
    throw dfgError('DFG_ERR_IMAGE_TOO_MANY_PIXELS', width * height, limits.maxPixels);
  }

  try {
    const { data, info } = await sharp(bytes, {
      // 'warning' is the strictest level: libjpeg reports corrupt entropy-coded data only as a
      // warning and would otherwise fill the damage with grey blocks, which embed as a confident
      // wrong answer. Benign oddities (trailing bytes after the end marker) still decode.
      failOn: 'warning',
      // Second line of defence: libvips re-checks the header dimensions before allocating.
      limitInputPixels: limits.maxPixels,
      autoOrient: true,
      pages: 1,
      page: 0,
    })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw dfgError('DFG_ERR_IMAGE_CORRUPT', `decoder produced ${info.channels} channels instead of 3`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      format,
    };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'DFG_ERR_IMAGE_CORRUPT') throw err;
    const line = firstLine(err);
    if (/pixel limit/i.test(line)) throw dfgError('DFG_ERR_IMAGE_TOO_MANY_PIXELS', width * height, limits.maxPixels);
    if (format === 'heif') {
      // Prebuilt libvips carries an AV1 decoder only; HEVC-coded HEIF (HEIC) is a format gap, not damage.
      throw dfgError('DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', `heif/${String(meta.compression ?? 'unknown')} (${line})`);
    }
    throw dfgError('DFG_ERR_IMAGE_CORRUPT', line);
  }
}

/**
 * Sets how many libvips threads each decode may use (process-wide). A worker pool that already
 * runs one worker per core sets 1, so parallel decodes do not oversubscribe the CPU.
 */
export function setDecoderConcurrency(threads: number): void {
  sharp.concurrency(threads);
  // Client images are never decoded twice; libvips' operation cache would only hold memory.
  sharp.cache(false);
}

/**
 * A WebP thumbnail no larger than `maxSide` on either side (never enlarged), of bytes that were
 * already accepted by decodeImage once (kept enrolment images). The pixel limit still applies,
 * so a damaged blob cannot become a decompression bomb.
 */
export async function thumbnailImage(bytes: Uint8Array, maxSide: number, limits: DecodeLimits): Promise<Buffer> {
  try {
    return await sharp(bytes, { limitInputPixels: limits.maxPixels, autoOrient: true, pages: 1, page: 0 })
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  } catch (err) {
    throw dfgError('DFG_ERR_IMAGE_CORRUPT', firstLine(err));
  }
}
