/**
 * Image input and output for the genome tools (the only sharp import under src/genome/):
 * decoding real photos to RGB, resizing, and encoding PNG or JPEG outputs. These run on
 * trusted local files chosen by the operator, not on uploads; the pixel limit still guards
 * against a stray huge file.
 */
import sharp from 'sharp';

export interface Rgb {
  /** Interleaved 8-bit RGB, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos3';

export interface EncodeOptions {
  format: 'png' | 'jpeg';
  /** JPEG quality 1..100. */
  quality?: number;
  /** JPEG chroma subsampling. */
  chromaSubsampling?: '4:2:0' | '4:4:4';
}

/** Largest photo decoded (width x height). */
export const MAX_PHOTO_PIXELS = 60_000_000;

/** Decodes any still image sharp reads into RGB, EXIF orientation applied, alpha dropped. */
export async function decodeRgb(input: string | Uint8Array): Promise<Rgb> {
  const { data, info } = await sharp(input, { limitInputPixels: MAX_PHOTO_PIXELS, failOn: 'error' })
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`Expected 3 channels after decoding but received ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Resizes RGB to exactly width x height with the given kernel. */
export async function resizeRgb(img: Rgb, width: number, height: number, kernel: ResizeKernel): Promise<Rgb> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { kernel, fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/** Encodes RGB as PNG (lossless, deterministic) or baseline JPEG. */
export async function encodeRgb(img: Rgb, o: EncodeOptions): Promise<Buffer> {
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (o.format === 'png') return s.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
  return s.jpeg({ quality: o.quality ?? 90, chromaSubsampling: o.chromaSubsampling ?? '4:2:0', mozjpeg: false }).toBuffer();
}

/** Crops a rectangle of RGB (in JavaScript: no re-encoding, no resampling). */
export function cropRgb(img: Rgb, left: number, top: number, width: number, height: number): Rgb {
  if (left < 0 || top < 0 || left + width > img.width || top + height > img.height) {
    throw new RangeError(`Crop ${width}x${height} at (${left}, ${top}) leaves the ${img.width}x${img.height} image`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = ((top + y) * img.width + left) * 3;
    data.set(img.data.subarray(src, src + width * 3), y * width * 3);
  }
  return { data, width, height };
}
