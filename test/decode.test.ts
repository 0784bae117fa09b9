/**
 * Hostile and unusual images through decodeImage. Every fixture is generated here with sharp
 * (or by hand for byte-level cases): no binary fixtures.
 */
import t from 'tap';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, sniffFormat } from '../src/embedding/decode.js';

const LIMITS = { maxBytes: 5 * 1024 * 1024, maxPixels: 40_000_000 };

function noiseRgb(width: number, height: number, seed = 1): Buffer {
  let s = seed;
  const buf = Buffer.alloc(width * height * 3);
  for (let i = 0; i < buf.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    buf[i] = (s >>> 16) & 0xff;
  }
  return buf;
}

const raw = (width: number, height: number, channels: 1 | 2 | 3 | 4 = 3) => ({ raw: { width, height, channels } });

/** A real PNG of w x h, 1-bit greyscale, all zero: a few tens of KB that inflate to w*h pixels. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = zlib.deflateSync(Buffer.alloc((1 + Math.ceil(width / 8)) * height), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const pixel = (d: { data: Uint8Array; width: number }, x: number, y: number) => {
  const i = (y * d.width + x) * 3;
  return [d.data[i], d.data[i + 1], d.data[i + 2]];
};

t.test('sniffFormat recognises allowed signatures only', async (t) => {
  const img = sharp(noiseRgb(16, 16), raw(16, 16));
  t.equal(sniffFormat(await img.clone().jpeg().toBuffer()), 'jpeg');
  t.equal(sniffFormat(await img.clone().png().toBuffer()), 'png');
  t.equal(sniffFormat(await img.clone().webp().toBuffer()), 'webp');
  t.equal(sniffFormat(await img.clone().gif().toBuffer()), 'gif');
  t.equal(sniffFormat(await img.clone().tiff().toBuffer()), 'tiff');
  t.equal(sniffFormat(await img.clone().tiff({ bigtiff: true }).toBuffer()), 'tiff');
  t.equal(sniffFormat(await img.clone().avif().toBuffer()), 'avif');
  t.equal(sniffFormat(Buffer.from('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic', 'latin1')), 'heif');
  t.equal(sniffFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), null);
  t.equal(sniffFormat(Buffer.from('%PDF-1.4\n')), null);
  t.equal(sniffFormat(Buffer.from('BM\x00\x00', 'latin1')), null);
  t.equal(sniffFormat(new Uint8Array([0xff, 0xd8])), null, 'too short for a JPEG signature');
  t.equal(sniffFormat(new Uint8Array(0)), null);
});

t.test('byte-level refusals come before any decoding', async (t) => {
  await t.rejects(decodeImage(new Uint8Array(0), LIMITS), { code: 'DFG_ERR_IMAGE_EMPTY' });
  const big = await sharp(noiseRgb(64, 64), raw(64, 64)).png().toBuffer();
  await t.rejects(decodeImage(big, { ...LIMITS, maxBytes: big.length - 1 }), { code: 'DFG_ERR_IMAGE_TOO_LARGE', message: new RegExp(`${big.length} bytes`) });
  const ok = await decodeImage(big, { ...LIMITS, maxBytes: big.length });
  t.equal(ok.width, 64, 'exactly maxBytes is accepted');
});

t.test('non-image and refused formats are UNSUPPORTED_FORMAT', async (t) => {
  await t.rejects(decodeImage(noiseRgb(100, 10, 7), LIMITS), { code: 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT' });
  const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>';
  await t.rejects(decodeImage(Buffer.from(svg), LIMITS), { code: 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', message: /svg/ });
  await t.rejects(decodeImage(Buffer.from(`\uFEFF  ${svg}`), LIMITS), { code: 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', message: /svg/ });
  const pdf = '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n';
  await t.rejects(decodeImage(Buffer.from(pdf), LIMITS), { code: 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', message: /pdf/ });
  await t.rejects(decodeImage(Buffer.from('BM' + 'x'.repeat(60)), LIMITS), { code: 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT', message: /bmp/ });
});

t.test('truncated and damaged data is CORRUPT, not grey pixels', async (t) => {
  const src = sharp(noiseRgb(128, 128), raw(128, 128));
  const jpg = await src.clone().jpeg({ quality: 90 }).toBuffer();
  const png = await src.clone().png().toBuffer();
  for (const cut of [0.3, 0.7, 0.98]) {
    await t.rejects(decodeImage(jpg.subarray(0, Math.floor(jpg.length * cut)), LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT', message: /JPEG|jpeg/ });
    await t.rejects(decodeImage(png.subarray(0, Math.floor(png.length * cut)), LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT' });
  }
  for (const other of [src.clone().gif(), src.clone().webp(), src.clone().tiff(), src.clone().avif()]) {
    const buf = await other.toBuffer();
    await t.rejects(decodeImage(buf.subarray(0, Math.floor(buf.length * 0.9)), LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT' }, `truncated ${sniffFormat(buf)}`);
  }
  // Only the signature survives: the header itself cannot be read.
  await t.rejects(decodeImage(png.subarray(0, 12), LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT' });
  await t.rejects(decodeImage(jpg.subarray(0, 4), LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT' });

  // Damaged entropy-coded data: libjpeg only warns and would fill grey blocks; failOn 'warning' refuses.
  const damaged = Buffer.from(jpg);
  damaged.fill(0xff, jpg.length >> 1, (jpg.length >> 1) + 40);
  await t.rejects(decodeImage(damaged, LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT', message: /Corrupt JPEG data/ });
  // A PNG whose compressed rows fail their checksum.
  const badCrc = Buffer.from(png);
  badCrc[png.length - 30] ^= 0xff;
  await t.rejects(decodeImage(badCrc, LIMITS), { code: 'DFG_ERR_IMAGE_CORRUPT' });

  // Benign oddity: bytes after the JPEG end marker do not make it corrupt.
  const trailing = await decodeImage(Buffer.concat([jpg, Buffer.from('trailing bytes')]), LIMITS);
  t.same([trailing.width, trailing.height], [128, 128]);
});

t.test('decompression bomb is refused from the header, before decoding', async (t) => {
  const bomb = bombPng(20000, 20000);
  t.ok(bomb.length < 100_000, `bomb is ${bomb.length} bytes on disk`);
  const start = performance.now();
  await t.rejects(decodeImage(bomb, LIMITS), { code: 'DFG_ERR_IMAGE_TOO_MANY_PIXELS', message: /400000000 pixels exceeds the limit of 40000000/ });
  // Inflating 20000 x 20000 pixels would take seconds and ~400 MB; the header check takes milliseconds.
  t.ok(performance.now() - start < 1000, 'refused without inflating the pixels');

  const edge = await sharp(noiseRgb(100, 50), raw(100, 50)).png().toBuffer();
  t.equal((await decodeImage(edge, { ...LIMITS, maxPixels: 5000 })).width, 100, 'exactly maxPixels is accepted');
  await t.rejects(decodeImage(edge, { ...LIMITS, maxPixels: 4999 }), { code: 'DFG_ERR_IMAGE_TOO_MANY_PIXELS' });
  const small = await decodeImage(bombPng(300, 200), LIMITS);
  t.same(pixel(small, 299, 199), [0, 0, 0], 'the same construction decodes when within limits (1-bit grey to RGB)');
});

t.test('colour models and bit depths become 8-bit RGB', async (t) => {
  const px16 = new Uint16Array(4 * 4 * 3).fill(32768);
  px16.set([65535, 257, 255], 0);
  const png16 = await sharp(px16, raw(4, 4)).toColourspace('rgb16').png().toBuffer();
  t.equal((await sharp(png16).metadata()).depth, 'ushort', 'fixture really is 16-bit');
  const d16 = await decodeImage(png16, LIMITS);
  t.same(pixel(d16, 0, 0), [255, 1, 0], '16-bit values scale by 1/256');
  t.same(pixel(d16, 1, 0), [128, 128, 128]);
  t.equal(d16.data.length, 4 * 4 * 3);

  const grey = await decodeImage(await sharp(Buffer.alloc(8 * 6, 77), raw(8, 6, 1)).png().toBuffer(), LIMITS);
  t.same(pixel(grey, 7, 5), [77, 77, 77], 'greyscale is replicated to RGB');
  t.equal(grey.data.length, 8 * 6 * 3);

  const grey16 = await sharp(new Uint16Array(16).fill(40000), raw(4, 4, 1)).toColourspace('grey16').png().toBuffer();
  t.same(pixel(await decodeImage(grey16, LIMITS), 3, 3), [156, 156, 156], '16-bit grey');

  const colours = [[200, 10, 20], [5, 250, 9], [30, 40, 220], [255, 255, 255]];
  const palSrc = Buffer.alloc(8 * 8 * 3);
  for (let i = 0; i < 64; i++) palSrc.set(colours[i % 4], i * 3);
  const palette = await sharp(palSrc, raw(8, 8)).png({ palette: true, colours: 4, dither: 0 }).toBuffer();
  t.ok((await sharp(palette).metadata()).isPalette, 'fixture really is a palette PNG');
  const dp = await decodeImage(palette, LIMITS);
  for (let i = 0; i < 4; i++) t.same(pixel(dp, i, 0), colours[i], `palette entry ${i}`);

  const rgba = Buffer.alloc(8 * 8 * 4);
  for (let i = 0; i < 64; i++) rgba.set([200, 10, 20, i % 2 === 0 ? 0 : 128], i * 4);
  const da = await decodeImage(await sharp(rgba, raw(8, 8, 4)).png().toBuffer(), LIMITS);
  t.equal(da.data.length, 8 * 8 * 3, 'alpha dropped');
  t.same(pixel(da, 0, 0), [200, 10, 20], 'colour kept where fully transparent (not composited)');
  t.same(pixel(da, 1, 0), [200, 10, 20]);

  const red = Buffer.alloc(40 * 20 * 3);
  for (let i = 0; i < 800; i++) red.set([230, 30, 30], i * 3);
  const cmyk = await sharp(red, raw(40, 20)).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  t.equal((await sharp(cmyk).metadata()).space, 'cmyk', 'fixture really is CMYK');
  const dc = await decodeImage(cmyk, LIMITS);
  const [r, g, b] = pixel(dc, 20, 10);
  t.ok(r > 180 && g < 100 && b < 100, `CMYK red comes back red in sRGB (got ${r},${g},${b})`);
  t.equal(dc.data.length, 40 * 20 * 3);
});

t.test('animated GIF and multi-page TIFF give their first frame', async (t) => {
  const frames = Buffer.alloc(8 * 16 * 3);
  for (let i = 0; i < 64; i++) frames.set([255, 0, 0], i * 3);
  for (let i = 64; i < 128; i++) frames.set([0, 0, 255], i * 3);
  const src = () => sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } });
  const gif = await src().gif().toBuffer();
  t.equal((await sharp(gif).metadata()).pages, 2, 'fixture really has two frames');
  const dg = await decodeImage(gif, LIMITS);
  t.same([dg.width, dg.height, dg.format], [8, 8, 'gif']);
  t.same(pixel(dg, 4, 4), [255, 0, 0], 'first frame (red), not the second (blue)');
  const dw = await decodeImage(await src().webp({ lossless: true }).toBuffer(), LIMITS);
  t.same([dw.width, dw.height, ...pixel(dw, 4, 4)], [8, 8, 255, 0, 0], 'animated WebP: first frame');
  const dt = await decodeImage(await src().tiff().toBuffer(), LIMITS);
  t.same([dt.width, dt.height], [8, 8], 'multi-page TIFF: first page');
  t.ok(pixel(dt, 4, 4)[0] > 240 && pixel(dt, 4, 4)[2] < 15);
});

t.test('EXIF orientation is applied', async (t) => {
  // A 40x20 image whose 8 left columns are red (a JPEG block wide, so chroma subsampling keeps
  // them red); orientation 6 means "rotate 90 degrees clockwise to view".
  const img = Buffer.alloc(40 * 20 * 3, 128);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 8; x++) img.set([255, 0, 0], (y * 40 + x) * 3);
  const jpg = await sharp(img, raw(40, 20)).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  t.equal((await sharp(jpg).metadata()).orientation, 6, 'fixture carries orientation 6');
  const d = await decodeImage(jpg, LIMITS);
  t.same([d.width, d.height], [20, 40], 'width and height swapped');
  const [r, g] = pixel(d, 10, 2);
  t.ok(r > 200 && g < 80, `the red left columns are now the top rows (got ${r},${g})`);
  const [r2] = pixel(d, 10, 39);
  t.ok(r2 < 160, 'bottom row is grey');
});

t.test('every allowed format decodes with its name and native size', async (t) => {
  const src = noiseRgb(48, 32, 3);
  const img = () => sharp(src, raw(48, 32));
  const cases: Array<[string, Buffer]> = [
    ['jpeg', await img().jpeg().toBuffer()],
    ['png', await img().png().toBuffer()],
    ['webp', await img().webp({ lossless: true }).toBuffer()],
    ['tiff', await img().tiff().toBuffer()],
    ['avif', await img().avif().toBuffer()],
    ['gif', await img().gif().toBuffer()],
  ];
  for (const [format, buf] of cases) {
    const d = await decodeImage(buf, LIMITS);
    t.same([d.format, d.width, d.height, d.data.length], [format, 48, 32, 48 * 32 * 3], format);
  }
  const lossless = await decodeImage(cases[1][1], LIMITS);
  t.same(Buffer.from(lossless.data), src, 'PNG round-trips bit-exactly (no resize, no colour change)');
  const webp = await decodeImage(cases[2][1], LIMITS);
  t.same(Buffer.from(webp.data), src, 'lossless WebP round-trips bit-exactly');
});

t.test('a signature that lies about the content is refused', async (t) => {
  const png = await sharp(noiseRgb(16, 16), raw(16, 16)).png().toBuffer();
  // GIF signature glued to PNG bytes: libvips would pick the GIF loader and fail to read it.
  const liar = Buffer.concat([Buffer.from('GIF89a'), png]);
  const err = await decodeImage(liar, LIMITS).then(() => null, (e: Error & { code?: string }) => e);
  t.ok(err && ['DFG_ERR_IMAGE_CORRUPT', 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT'].includes(err.code!), String(err?.code));
});
