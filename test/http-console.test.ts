/**
 * The console's server side: the sample thumbnail route (bounded WebP of a kept image, register
 * scope, coded 404s) and the static console at /console (strict CSP, JavaScript budget).
 */
import t from 'tap';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { buildTestApp } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { jpeg } from './helpers/images.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { CONSOLE_CSP } from '../src/http/plugins/console.js';

t.test('thumbnail of a kept sample: WebP, at most 256 px a side, register scope', async (t) => {
  const reg = generateKey('reg', ['register']);
  const attr = generateKey('attr', ['attribute']);
  const { app } = await buildTestApp(t, { keys: [reg.entry, attr.entry] });
  const auth = { authorization: `Bearer ${reg.key}` };
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', headers: auth, payload: { name: 'wide', forgeryType: 'FS', architecture: 'GAN' } })).json();
  const other = (await app.inject({ method: 'POST', url: '/v1/algorithms', headers: auth, payload: { name: 'other', forgeryType: 'FS', architecture: 'GAN' } })).json();
  const form = files(['wide.jpg', await jpeg(600, 400, 3)], ['small.jpg', await jpeg(160, 120, 4)]);
  const enrolled = (await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, payload: form.payload, headers: { ...form.headers, ...auth } })).json();
  const [wide, small] = enrolled.results.map((r: { sampleId: string }) => r.sampleId);
  const url = (a: string, s: string) => `/v1/algorithms/${a}/samples/${s}/thumbnail`;

  const res = await app.inject({ method: 'GET', url: url(alg.id, wide), headers: auth });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'image/webp');
  t.match(res.headers['cache-control'], /private/);
  t.match(res.headers.vary, /authorization/i, 'browser caches keep thumbnails per key');
  const meta = await sharp(res.rawPayload).metadata();
  t.match(meta, { format: 'webp', width: 256, height: 171 }, 'the long side bounded to 256 px, aspect kept');
  const smallMeta = await sharp((await app.inject({ method: 'GET', url: url(alg.id, small), headers: auth })).rawPayload).metadata();
  t.match(smallMeta, { width: 160, height: 120 }, 'never enlarged');

  const codeOf = async (u: string, headers: Record<string, string> = auth) => {
    const r = await app.inject({ method: 'GET', url: u, headers });
    return `${r.statusCode} ${r.json().code}`;
  };
  t.equal(await codeOf(url(alg.id, wide), {}), '401 DFG_ERR_AUTH_MISSING_KEY');
  t.equal(await codeOf(url(alg.id, wide), { authorization: `Bearer ${attr.key}` }), '403 DFG_ERR_AUTH_FORBIDDEN', 'attribute keys do not see enrolled images');
  t.equal(await codeOf(url(alg.id, 'smp_nope')), '404 DFG_ERR_SAMPLE_NOT_FOUND');
  t.equal(await codeOf(url(other.id, wide)), '404 DFG_ERR_SAMPLE_NOT_FOUND', 'a sample under another algorithm is not found');
  t.equal(await codeOf(url('alg_nope', wide)), '404 DFG_ERR_ALGORITHM_NOT_FOUND');
  t.equal(await codeOf(`/v1/algorithms/${alg.id}/samples/${'x'.repeat(65)}/thumbnail`), '400 DFG_ERR_REQUEST_INVALID');
});

t.test('thumbnail of a sample whose bytes were not kept: coded 404', async (t) => {
  const { app } = await buildTestApp(t, { env: { DFG_KEEP_IMAGES: 'false' } });
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'nokeep', forgeryType: 'FS', architecture: 'GAN' } })).json();
  const sampleId = (await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['a.jpg', await jpeg(300, 300, 9)]) })).json().results[0].sampleId;
  const res = await app.inject({ method: 'GET', url: `/v1/algorithms/${alg.id}/samples/${sampleId}/thumbnail` });
  t.equal(res.statusCode, 404);
  t.match(res.json(), { code: 'DFG_ERR_SAMPLE_IMAGE_NOT_KEPT', message: new RegExp(sampleId) });
});

t.test('/console: built static files under a strict CSP, JavaScript under budget, nothing outside the folder', async (t) => {
  const { app } = await buildTestApp(t);
  const redirect = await app.inject({ method: 'GET', url: '/console' });
  t.equal(redirect.statusCode, 301);
  t.equal(redirect.headers.location, '/console/');
  const index = await app.inject({ method: 'GET', url: '/console/' });
  t.equal(index.statusCode, 200);
  t.match(index.headers['content-type'], /text\/html/);
  t.equal(index.headers['content-security-policy'], CONSOLE_CSP);
  t.notMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|https?:/, 'no inline code and no other origin allowed');
  t.notMatch(index.body, /<script>|<style|style=|https?:\/\//, 'no inline script or style, nothing from another origin');
  const scripts = [...index.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  t.same(scripts, ['./app.js']);
  const js = await app.inject({ method: 'GET', url: '/console/app.js' });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /javascript/);
  const gz = zlib.gzipSync(js.rawPayload).length;
  t.ok(gz < 200 * 1024, `first load JavaScript ${gz} bytes gzipped, under 200 KB`);
  t.notMatch(js.body, /https?:\/\/(?!www\.w3\.org)[a-z]/i, 'the bundle names no other origin to fetch from');
  t.equal((await app.inject({ method: 'GET', url: '/console/console.css' })).statusCode, 200);
  const escape = await app.inject({ method: 'GET', url: '/console/..%2f..%2fpackage.json' });
  t.equal(escape.statusCode, 404, 'no path out of the console folder');
  t.equal(escape.json().code, 'DFG_ERR_ROUTE_NOT_FOUND');
});
