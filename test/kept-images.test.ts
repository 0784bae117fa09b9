/**
 * Enrolled image bytes kept content-addressed under the gallery folder: written before the
 * sample is acknowledged, shared by samples of the same bytes, removed with the last of them,
 * never written with DFG_KEEP_IMAGES=false, and refused when bytes and hash disagree.
 */
import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildTestApp } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { openGallery } from '../src/gallery/gallery.js';
import { tempDir } from './helpers/gallery.js';

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

t.test('kept bytes follow their samples', async (t) => {
  const { app, config } = await buildTestApp(t);
  const blob = (b: Buffer) => path.join(config.DFG_GALLERY_DIR, 'blobs', sha(b).slice(0, 2), sha(b));
  const register = async (name: string) => (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name, forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const a = await register('A');
  const b = await register('B');
  const img1 = await generatorImage('nearest2', 1);
  const img2 = await generatorImage('nearest2', 2);
  const enrolA = (await app.inject({ method: 'POST', url: `/v1/algorithms/${a.id}/samples`, ...files(['1.png', img1], ['2.png', img2]) })).json();
  t.equal(enrolA.created, 2);
  t.same(fs.readFileSync(blob(img1)), img1, 'bytes kept, content-addressed');
  t.same(fs.readFileSync(blob(img2)), img2);
  const enrolB = (await app.inject({ method: 'POST', url: `/v1/algorithms/${b.id}/samples`, ...files(['1.png', img1]) })).json();
  t.equal(enrolB.created, 1);

  // The same bytes under B keep the blob alive when A's sample goes.
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${a.id}/samples/${enrolA.results[0].sampleId}` })).statusCode, 204);
  t.ok(fs.existsSync(blob(img1)), 'still named by B');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${b.id}` })).statusCode, 204);
  t.notOk(fs.existsSync(blob(img1)), 'gone with the last sample naming it');
  t.ok(fs.existsSync(blob(img2)));
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${a.id}/samples/${enrolA.results[1].sampleId}` })).statusCode, 204);
  t.notOk(fs.existsSync(blob(img2)));
});

t.test('DFG_KEEP_IMAGES=false keeps embeddings only', async (t) => {
  const { app, config } = await buildTestApp(t, { env: { DFG_KEEP_IMAGES: 'false' } });
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'A', forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const img = await generatorImage('bilinear4', 3);
  t.equal((await app.inject({ method: 'POST', url: `/v1/algorithms/${alg.id}/samples`, ...files(['1.png', img]) })).statusCode, 201);
  t.notOk(fs.existsSync(path.join(config.DFG_GALLERY_DIR, 'blobs')), 'nothing written');
});

t.test('the blob store refuses bytes that do not match their hash and names that are not hashes', async (t) => {
  const dir = tempDir();
  const g = await openGallery({ dir, modelId: 'm', dim: 4, keepImages: true });
  t.teardown(() => g.close());
  const bytes = Buffer.from('some image bytes');
  await t.rejects(g.keepImages([{ sha256: sha(Buffer.from('other')), bytes }]), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(g.keepImages([{ sha256: '../../etc/passwd', bytes }]), { code: 'DFG_ERR_REQUEST_INVALID' });
  await g.keepImages([{ sha256: sha(bytes).toUpperCase(), bytes }]);
  t.same(await g.readImage(sha(bytes)), bytes);
  t.equal(await g.readImage(sha(Buffer.from('never kept'))), null);
  t.same(fs.readdirSync(path.join(dir, 'blobs', sha(bytes).slice(0, 2))), [sha(bytes)], 'no temp file left behind');
});

t.test('a delete racing an enrolment of the same bytes never leaves a sample without its bytes', async (t) => {
  const { app, services, config } = await buildTestApp(t);
  await services.whenReady;
  const { embedder, gallery } = services.need();
  const { enrolImages } = await import('../src/use-cases/enrol.js');
  const img = await generatorImage('bilinear4', 7);
  const blob = path.join(config.DFG_GALLERY_DIR, 'blobs', sha(img).slice(0, 2), sha(img));
  const register = async (name: string) => (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name, forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const a = await register('A');
  const b = await register('B');
  const first = (await app.inject({ method: 'POST', url: `/v1/algorithms/${a.id}/samples`, ...files(['x.png', img]) })).json();
  const vector = (await embedder.embed(img)).vectors;

  // The interleaving: B's bytes are "already kept", then A's sample (the last naming them) goes.
  await gallery.keepImages([{ sha256: sha(img), bytes: img }]);
  await gallery.deleteSample(a.id, first.results[0].sampleId);
  t.notOk(fs.existsSync(blob), 'the delete removed the bytes');
  await t.rejects(async () => gallery.addSamples(b.id, [{ sha256: sha(img), vectors: vector, width: 64, height: 64 }]), { code: 'DFG_ERR_IMAGE_NOT_KEPT' }, 'the commit sees they are gone');
  t.equal((await gallery.getAlgorithm(b.id)).sampleCount, 0, 'and commits nothing');

  // Through enrolImages the same race is retried: the bytes are written again, then committed.
  const again = (await app.inject({ method: 'POST', url: `/v1/algorithms/${a.id}/samples`, ...files(['x.png', img]) })).json();
  let raced = false;
  const racing = new Proxy(gallery, {
    get(target, prop, receiver) {
      if (prop === 'addSamples') {
        return async (...args: Parameters<typeof gallery.addSamples>) => {
          if (!raced) {
            raced = true;
            await target.deleteSample(a.id, again.results[0].sampleId);
          }
          return target.addSamples(...args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const res = await enrolImages({ embedder, gallery: racing }, b.id, [{ filename: 'x.png', bytes: img }]);
  t.ok(raced, 'the delete ran between keeping and committing');
  t.equal(res.created, 1);
  t.ok(fs.existsSync(blob), 'the acknowledged sample has its bytes');
  t.same(await gallery.readImage(sha(img)), img);
});
