/**
 * Test images made on the fly with sharp (no binary fixtures): synthetic "generators" whose
 * traces differ (nearest 2x upsampling, bilinear 4x upsampling, JPEG re-encoding), over seeded
 * noise-and-gradient content so no two images share content.
 */
import sharp from 'sharp';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/** Smooth random content: gradients plus low-frequency blobs plus mild noise, RGB 8-bit. */
export function content(width: number, height: number, seed: number): Buffer {
  const r = rng(seed);
  const buf = Buffer.alloc(width * height * 3);
  const cx = r() * width, cy = r() * height, base = [r() * 200, r() * 200, r() * 200];
  const fx = 2 + r() * 6, fy = 2 + r() * 6;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.hypot(x - cx, y - cy) / Math.max(width, height);
      const wave = Math.sin((x / width) * fx * Math.PI) * Math.cos((y / height) * fy * Math.PI);
      for (let c = 0; c < 3; c++) {
        const v = base[c]! * (1 - d) + 40 * wave + (r() - 0.5) * 24 + c * 10;
        buf[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return buf;
}

export type Family = 'nearest2' | 'bilinear4' | 'jpeg50' | 'camera';

/** A PNG (or JPEG for jpeg50) of size x size carrying the family's trace. */
export async function generatorImage(family: Family, seed: number, size = 256): Promise<Buffer> {
  const raw = (w: number, h: number) => sharp(content(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
  switch (family) {
    case 'nearest2':
      return raw(size / 2, size / 2).resize(size, size, { kernel: 'nearest' }).png().toBuffer();
    case 'bilinear4':
      return raw(size / 4, size / 4).resize(size, size, { kernel: 'linear' }).png().toBuffer();
    case 'jpeg50':
      return sharp(await raw(size, size).jpeg({ quality: 50 }).toBuffer()).png().toBuffer();
    case 'camera':
      return raw(size, size).png().toBuffer();
  }
}

export async function jpeg(width: number, height: number, seed: number, quality = 90): Promise<Buffer> {
  return sharp(content(width, height, seed), { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
