import t from 'tap';
import type { InjectOptions } from 'fastify';
import sharp from 'sharp';
import zlib from 'node:zlib';
import { buildTestApp } from './helpers/app.js';
import { files, multipart } from './helpers/multipart.js';
import { generatorImage, jpeg } from './helpers/images.js';

/** A PNG header claiming width x height over a tiny zlib stream of zeros: a decompression bomb. */
function bombPng(width: number, height: number): Buffer {
  const crc = (buf: Buffer) => {
    let c = ~0;
    for (const b of buf) { c ^= b; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
    return (~c) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 0; // 8-bit greyscale
  const row = Buffer.alloc(1 + width);
  const idat = zlib.deflateSync(Buffer.concat(Array.from({ length: 64 }, () => row)), { level: 9 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

t.test('hostile uploads get coded 4xx, write nothing, and the server keeps serving', async (t) => {
  const { app } = await buildTestApp(t, { env: { DFG_MAX_IMAGE_BYTES: String(2 * 1024 * 1024), DFG_MAX_PIXELS: String(20_000_000), DFG_MAX_FILES: '4' } });
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'target', forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const good = await jpeg(320, 240, 5);
  const truncatedJpeg = good.subarray(0, Math.floor(good.length / 2));
  const png = await generatorImage('camera', 3);
  const truncatedPng = png.subarray(0, Math.floor(png.length * 0.6));
  const huge = Buffer.concat([good, Buffer.alloc(2 * 1024 * 1024)]);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><rect width="100%" height="100%"/></svg>');
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF');
  const tiny = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();

  const cases: Array<[string, Buffer, number, string]> = [
    ['zero-byte', Buffer.alloc(0), 400, 'DFG_ERR_IMAGE_EMPTY'],
    ['random bytes', Buffer.from('this is not an image at all, just text'), 415, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT'],
    ['svg', svg, 415, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT'],
    ['pdf', pdf, 415, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT'],
    ['truncated jpeg', truncatedJpeg, 422, 'DFG_ERR_IMAGE_CORRUPT'],
    ['truncated png', truncatedPng, 422, 'DFG_ERR_IMAGE_CORRUPT'],
    ['decompression bomb', bombPng(30000, 30000), 413, 'DFG_ERR_IMAGE_TOO_MANY_PIXELS'],
    ['over byte limit', huge, 413, 'DFG_ERR_IMAGE_TOO_LARGE'],
    ['too small', tiny, 422, 'DFG_ERR_IMAGE_TOO_SMALL'],
  ];
  for (const [name, bytes, status, code] of cases) {
    for (const url of [`/v1/algorithms/${alg.id}/samples`, '/v1/attribute']) {
      const res = await app.inject({ method: 'POST', url, ...files([`${name}.bin`, bytes]) });
      t.equal(res.statusCode, status, `${name} → ${url} status`);
      t.equal(res.json().code, code, `${name} → ${url} code`);
      t.match(res.json(), { statusCode: status, error: String, message: String });
    }
  }
  t.equal((await app.inject({ url: `/v1/algorithms/${alg.id}/samples` })).json().total, 0, 'nothing was written');

  const tooMany = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(...Array.from({ length: 5 }, (_, i) => [`f${i}.jpg`, good] as [string, Buffer])) });
  t.equal(tooMany.statusCode, 413);
  t.equal(tooMany.json().code, 'DFG_ERR_UPLOAD_TOO_MANY_FILES');
  t.equal((await app.inject({ url: `/v1/algorithms/${alg.id}/samples` })).json().total, 0, 'too many files writes nothing');

  const noFile = await app.inject({ method: 'POST', url: '/v1/attribute', ...multipart([{ name: 'note', data: 'hello' }]) });
  t.equal(noFile.statusCode, 400);
  t.equal(noFile.json().code, 'DFG_ERR_UPLOAD_NO_FILE');

  const notMultipart = await app.inject({ method: 'POST', url: '/v1/attribute', headers: { 'content-type': 'application/json' }, payload: '{}' });
  t.equal(notMultipart.statusCode, 415);
  t.equal(notMultipart.json().code, 'DFG_ERR_REQUEST_UNSUPPORTED_MEDIA');
  const rawImage = await app.inject({ method: 'POST', url: '/v1/attribute', headers: { 'content-type': 'image/jpeg' }, payload: good });
  t.equal(rawImage.statusCode, 415);

  const garbled = await app.inject({ method: 'POST', url: '/v1/attribute', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, payload: '--xyz\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nabc' });
  t.ok([400, 422].includes(garbled.statusCode), `garbled multipart → ${garbled.statusCode}`);
  t.match(garbled.json().code, /^DFG_ERR_/);

  const badJson = await app.inject({ method: 'POST', url: '/v1/algorithms', headers: { 'content-type': 'application/json' }, payload: '{"name": "x", ' });
  t.equal(badJson.statusCode, 400);
  t.equal(badJson.json().code, 'DFG_ERR_REQUEST_BAD_JSON');
  const wrongShape = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'x', forgeryType: 'nope', architecture: 'GAN' } });
  t.equal(wrongShape.statusCode, 400);
  t.equal(wrongShape.json().code, 'DFG_ERR_REQUEST_INVALID');
  const extra = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'x', forgeryType: 'FS', architecture: 'GAN', evil: true } });
  t.equal(extra.statusCode, 400);
  const badQuery = await app.inject({ method: 'POST', url: '/v1/attribute?k=0', ...files(['a.jpg', good]) });
  t.equal(badQuery.statusCode, 400);
  const badThreshold = await app.inject({ method: 'POST', url: '/v1/attribute?threshold=7', ...files(['a.jpg', good]) });
  t.equal(badThreshold.statusCode, 400);

  // A mixed batch: good files are enrolled, bad ones reported per file.
  const mixed = await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['good.jpg', good], ['bad.bin', Buffer.from('garbage')]) });
  t.equal(mixed.statusCode, 201);
  t.match(mixed.json(), { created: 1, failed: 1 });
  t.equal(mixed.json().results[1].error.code, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT');

  const alive = await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['good.jpg', good]) });
  t.equal(alive.statusCode, 200, 'still serving after all of it');
  t.equal(alive.json().decision === 'attributed' || alive.json().decision === 'unknown', true);
});

t.test('framework 4xx get codes of their own, not DFG_ERR_REQUEST_INVALID', async (t) => {
  const { app } = await buildTestApp(t);
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['undecodable URL', { method: 'GET', url: '/v1/algorithms/%E0%A4%A' }, 400, 'DFG_ERR_REQUEST_BAD_URL'],
    ['body shorter than its Content-Length', { method: 'POST', url: '/v1/algorithms', headers: { 'content-type': 'application/json', 'content-length': '5' }, payload: '{"a":1,"b":2}' }, 400, 'DFG_ERR_REQUEST_BAD_CONTENT_LENGTH'],
    ['a Range outside the file', { method: 'GET', url: '/console/index.html', headers: { range: 'bytes=99999999-' } }, 416, 'DFG_ERR_REQUEST_RANGE_NOT_SATISFIABLE'],
    ['an If-Match that does not hold', { method: 'GET', url: '/console/index.html', headers: { 'if-match': '"nope"' } }, 412, 'DFG_ERR_REQUEST_PRECONDITION_FAILED'],
    ['a JSON body over the limit', { method: 'POST', url: '/v1/algorithms', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(2 * 1024 * 1024) }, 413, 'DFG_ERR_REQUEST_BODY_TOO_LARGE'],
  ];
  for (const [what, request, status, code] of cases) {
    const res = await app.inject(request);
    t.match(res.json(), { statusCode: status, code }, what);
    t.equal(res.statusCode, status, `${what}: HTTP ${status}`);
  }
});

t.test('route schema failures read as the gallery checks do: Expected X for NAME but received V', async (t) => {
  const { app } = await buildTestApp(t);
  const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/algorithms', payload });
  const base = { name: 'alg', forgeryType: 'FS', architecture: 'GAN' };
  const cases: Array<[string, Promise<{ json(): { code: string; message: string } }>, string]> = [
    ['a name over its limit', post({ ...base, name: 'x'.repeat(201) }), 'Expected a string of at most 200 characters for body/name but received "xxx'],
    ['a forgery type outside the list', post({ ...base, forgeryType: 'XX' }), 'Expected one of FS, FR, EFS, FE, authentic, unknown for body/forgeryType but received "XX"'],
    ['a threshold out of range', post({ ...base, threshold: 2 }), 'Expected a number <= 1 or null for body/threshold but received 2'],
    ['a missing field', post({ forgeryType: 'FS', architecture: 'GAN' }), 'Expected a value for body/name but received undefined'],
    ['an unknown field', post({ ...base, extra: 1 }), 'Expected no such property for body/extra but received 1'],
    ['a limit below 1', app.inject({ method: 'GET', url: '/v1/algorithms?limit=0' }), 'Expected a number >= 1 for querystring/limit but received 0'],
    ['a limit that is not a number', app.inject({ method: 'GET', url: '/v1/algorithms?limit=abc' }), 'Expected an integer for querystring/limit but received "abc"'],
    ['an infinite limit', app.inject({ method: 'GET', url: '/v1/algorithms?limit=Infinity' }), 'Expected a finite number for querystring/limit but received Infinity'],
  ];
  for (const [what, response, message] of cases) {
    const body = (await response).json();
    t.equal(body.code, 'DFG_ERR_REQUEST_INVALID', what);
    t.ok(body.message.startsWith(`Invalid request: ${message}`), `${what}: ${body.message}`);
  }
});
