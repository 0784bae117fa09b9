/**
 * Signed gallery bundles: two algorithms exported from one gallery are imported into a gallery of
 * the same model (vectors used as they are) and into one of another model (embedded again from the
 * bundle's image bytes), and attribution finds them in both; bundles that are unsigned, from an
 * unknown publisher, changed by one byte, of another format version, with vectors of the wrong
 * dimension or truncated are refused with their code and write nothing.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { ROOT, tempDir } from './helpers/app.js';
import { generatorImage } from './helpers/images.js';
import { openGallery, type Gallery } from '../src/gallery/gallery.js';
import { createEmbedder, type Embedder } from '../src/embedding/index.js';
import { enrolImages } from '../src/use-cases/enrol.js';
import { isDfgError } from '../src/errors.js';
import { createSigningKey, exportBundle, importBundle, packBundle, verifyBundle, type TrustList } from '../src/exchange/index.js';
import crypto from 'node:crypto';
import { testDatabase } from './helpers/pg.js';

const MODELS = path.join(ROOT, 'models');

interface Site { gallery: Gallery; embedder: Embedder; dir: string }

async function site(t: { teardown(fn: () => unknown): void }, model: string, store?: string): Promise<Site> {
  const dir = tempDir('dfg-exchange-');
  const embedder = await createEmbedder({ modelsDir: MODELS, modelId: model, threads: 1, maxQueue: 64, limits: { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 } });
  const gallery = await openGallery({ dir, store, modelId: model, dim: embedder.model.dim, keepImages: true });
  t.teardown(async () => {
    await gallery.close();
    await embedder.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { gallery, embedder, dir };
}

async function counts(g: Gallery) {
  const algs = await g.listAlgorithms({ limit: 1000 });
  return { algorithms: algs.total, samples: algs.items.reduce((n, a) => n + a.sampleCount, 0) };
}

/** The name of the algorithm of the nearest sample to the probe. */
async function nearest(s: Site, probe: Buffer): Promise<string | undefined> {
  const emb = await s.embedder.embed(probe);
  const hit = s.gallery.search(emb.vector, 1)[0];
  return hit && s.gallery.algorithmSummary(hit.algorithmId)?.name;
}

const publisher = createSigningKey('org-a');
const signer = { publisher: 'org-a', key: crypto.createPrivateKey(publisher.privateKey.privateKey) };
const trust: TrustList = { publishers: [publisher.publicKey] };

t.test('export two algorithms, import them under the same and under another model', async (t) => {
  const a = await site(t, 'residual-v2');
  const x = await a.gallery.createAlgorithm({ name: 'Nearest', forgeryType: 'EFS', architecture: 'GAN', description: 'upsampled by nearest neighbour', reference: 'https://example.org/n' });
  const y = await a.gallery.createAlgorithm({ name: 'Bilinear', forgeryType: 'FS', architecture: 'Diffusion' });
  await a.gallery.createAlgorithm({ name: 'Not exported' });
  const xs = await Promise.all([1, 2, 3].map((s) => generatorImage('nearest2', s)));
  const ys = await Promise.all([11, 12, 13].map((s) => generatorImage('bilinear4', s)));
  t.equal((await enrolImages(a, x.id, xs.map((bytes, i) => ({ filename: `x${i}.png`, bytes })))).created, 3);
  t.equal((await enrolImages(a, y.id, ys.map((bytes, i) => ({ filename: `y${i}.png`, bytes })))).created, 3);

  const models = a.embedder.models.map((m) => ({ id: m.id, version: m.version, dim: m.dim }));
  const plain = await exportBundle(a.gallery, { algorithms: ['nearest', y.id], models, signer });
  const plainBytes = await buffer(plain.stream);
  t.match(plain.summary, { algorithms: 2, samples: 6, images: 0, skipped: [] });
  const full = await exportBundle(a.gallery, { algorithms: ['Nearest', 'Bilinear'], models, signer, images: true });
  const fullBytes = await buffer(full.stream);
  t.match(full.summary, { algorithms: 2, samples: 6, images: 6 });
  t.ok(fullBytes.length > plainBytes.length + 6 * 1000, 'the image bytes are in the bundle');

  const verified = await verifyBundle(plainBytes, trust);
  t.equal(verified.publisher, 'org-a');
  t.same(verified.manifest.models, [{ id: 'residual-v2', version: models[0]!.version, dim: models[0]!.dim }]);
  t.same(verified.manifest.algorithms.map((al) => [al.name, al.forgeryType, al.architecture, al.samples.length]), [['Nearest', 'EFS', 'GAN', 3], ['Bilinear', 'FS', 'Diffusion', 3]]);
  t.equal(verified.sha256, crypto.createHash('sha256').update(plainBytes).digest('hex'));

  const probeX = await generatorImage('nearest2', 40);
  const probeY = await generatorImage('bilinear4', 40);

  t.test('same model: vectors used as they are', async (t) => {
    const b = await site(t, 'residual-v2');
    const r = await importBundle(b, plainBytes, { trust });
    t.same(r.models, { 'residual-v2': 'bundle' });
    t.match(r, { publisher: 'org-a', created: 6, duplicates: 0 });
    t.same(r.algorithms.map((al) => [al.name, al.action, al.created]), [['Nearest', 'created', 3], ['Bilinear', 'created', 3]]);
    const imported = await b.gallery.getAlgorithm(r.algorithms[0]!.id!);
    t.match(imported, { forgeryType: 'EFS', architecture: 'GAN', reference: 'https://example.org/n', description: 'upsampled by nearest neighbour' });
    const fingerprint = crypto.createHash('sha256').update(Buffer.from(publisher.publicKey.publicKey, 'base64url')).digest('hex');
    const expected = { bundleId: r.bundleId, bundleSha256: verified.sha256, publisher: 'org-a', keyFingerprint: fingerprint, software: 'deepfake-genome', exportedAt: verified.manifest.createdAt };
    t.match(imported.provenance, { ...expected, sourceId: x.id }, 'the algorithm records the bundle it came from and its id there');
    t.match(r, { bundleId: /^bnd_/, keyFingerprint: fingerprint, total: 6, skipped: 0, reembedded: 0 });
    const sample = (await b.gallery.listSamples(imported.id)).items[0]!;
    t.match(sample.filename, /^x\d\.png$/, 'the filename is the exporter\'s, as it was');
    const src = (await a.gallery.findBySha(sample.sha256))[0]!;
    t.same(sample.provenance, { ...expected, importedAt: sample.provenance!.importedAt, sourceId: src.id }, 'each sample records its bundle, publisher, key, export time and source id');
    t.same(await b.gallery.getSample(imported.id, sample.id), sample, 'read back the same');
    t.equal((await a.gallery.getSample(src.algorithmId, src.id)).provenance, null, 'enrolled samples have none');
    t.same([...(await b.gallery.evidenceProvenance([sample.id, 'smp_none']))!.keys()], [sample.id], 'evidence provenance for imported samples only');
    // The vectors are the exporter's, bit for bit.
    const va = (await a.gallery.sampleVectors([src.id])).get(src.id)!.get('residual-v2')!;
    const vb = (await b.gallery.sampleVectors([sample.id])).get(sample.id)!.get('residual-v2')!;
    t.same(Buffer.from(vb.buffer), Buffer.from(va.buffer));
    t.equal(await nearest(b, probeX), 'Nearest');
    t.equal(await nearest(b, probeY), 'Bilinear');

    // Again: by option, a new name, a merge (every sample a duplicate), or nothing.
    const again = await importBundle(b, plainBytes, { trust });
    t.same(again.algorithms.map((al) => al.galleryName), ['Nearest (org-a)', 'Bilinear (org-a)']);
    t.equal(again.bundleId, r.bundleId, 'one record per bundle file');
    const merged = await importBundle(b, plainBytes, { trust, onConflict: 'merge' });
    t.match(merged, { created: 0, duplicates: 6 });
    // Read from a file: a stream, images on demand.
    const file = path.join(b.dir, 'plain.dfgb');
    fs.writeFileSync(file, plainBytes);
    const skipped = await importBundle(b, file, { trust, onConflict: 'skip' });
    t.same(skipped.algorithms.map((al) => al.action), ['skipped', 'skipped']);
    t.match(skipped, { skipped: 6, created: 0, bundleSha256: verified.sha256 });
    t.same(await counts(b.gallery), { algorithms: 4, samples: 12 });
  });

  t.test('another model: embedded again from the bundle\'s image bytes', async (t) => {
    const c = await site(t, 'residual-v3');
    const refused = await importBundle(c, plainBytes, { trust }).catch((e: unknown) => e);
    t.ok(isDfgError(refused, 'DFG_ERR_BUNDLE_NOT_EMBEDDABLE'), `no images, other model: ${(refused as Error).message}`);
    t.same(await counts(c.gallery), { algorithms: 0, samples: 0 }, 'nothing written');
    const file = path.join(c.dir, 'full.dfgb');
    fs.writeFileSync(file, fullBytes);
    const phases = new Set<string>();
    const r = await importBundle(c, file, { trust, onProgress: (p) => phases.add(`${p.phase} ${p.done}/${p.total}`) });
    t.same(r.models, { 'residual-v3': 'embedded' });
    t.match(r, { created: 6, reembedded: 6 });
    t.ok(phases.has('verified 0/6') && phases.has('embedding 6/6') && phases.has('writing 6/6'), `progress reported: ${[...phases].join(', ')}`);
    t.equal(await nearest(c, probeX), 'Nearest');
    t.equal(await nearest(c, probeY), 'Bilinear');
    t.ok(await c.gallery.readImage(full.manifest.algorithms[0]!.samples[0]!.sha256), 'the imported bytes are kept for later re-embedding');
  });

  t.test('the PostgreSQL store: the same import, and a failed one undone', async (t) => {
    const url = await testDatabase(t, 'exchange');
    await t.test('import', async (t) => {
      const p = await site(t, 'residual-v2', url);
      p.gallery.expectSwitch({ list: 'another-model', at: new Date(0).toISOString(), forced: false });
      const failed = await importBundle(p, fullBytes, { trust }).catch((e: unknown) => e);
      t.ok(isDfgError(failed, 'DFG_ERR_MODEL_SWITCHED'), 'the store refuses the import');
      t.same(await counts(p.gallery), { algorithms: 0, samples: 0 }, 'nothing of it landed');
      p.gallery.expectSwitch(undefined);
      const r = await importBundle(p, fullBytes, { trust });
      t.match(r, { created: 6, models: { 'residual-v2': 'bundle' } });
      const alg = (await p.gallery.listAlgorithms()).items[0]!;
      t.match(alg.provenance, { bundleId: r.bundleId, publisher: 'org-a', bundleSha256: r.bundleSha256 }, 'PostgreSQL: the algorithm\'s provenance');
      const smp = (await p.gallery.listSamples(alg.id)).items[0]!;
      t.match(smp.provenance, { bundleId: r.bundleId, publisher: 'org-a', keyFingerprint: r.keyFingerprint, exportedAt: full.manifest.createdAt });
      t.same((await p.gallery.evidenceProvenance([smp.id]))!.get(smp.id), smp.provenance, 'PostgreSQL: evidence provenance');
      t.equal(await nearest(p, probeX), 'Nearest');
      t.ok(await p.gallery.readImage(full.manifest.algorithms[1]!.samples[0]!.sha256), 'image bytes kept in the shared store');
      const back = await exportBundle(p.gallery, { algorithms: ['Nearest', 'Bilinear'], models, signer, images: true });
      const v = await verifyBundle(await buffer(back.stream), trust);
      t.same(v.vectors.get('residual-v2')!.map((r) => Buffer.from(r.buffer).toString('hex')), verified.vectors.get('residual-v2')!.map((r) => Buffer.from(r.buffer).toString('hex')), 'exported again from PostgreSQL: the same vectors');
    });
  });

  t.test('refused bundles write nothing', async (t) => {
    const b = await site(t, 'residual-v2');
    const refuse = async (bytes: Uint8Array, code: string, what: string, trustList = trust) => {
      const err = await importBundle(b, bytes, { trust: trustList }).then(() => undefined, (e: unknown) => e);
      t.equal((err as { code?: string } | undefined)?.code, code, what);
    };
    const repack = async (change: (m: typeof verified.manifest, v: Map<string, Uint8Array>) => void, by = signer) => {
      const v = await verifyBundle(plainBytes, trust);
      const manifest = structuredClone(v.manifest);
      const vectors = new Map([...v.vectors].map(([id, rows]) => [id, Buffer.concat(rows.map((r) => Buffer.from(r.buffer)))]));
      change(manifest, vectors);
      return buffer(packBundle({ manifest, vectors }, by));
    };

    // Unsigned: the same entries without signature.json.
    const unsigned = await (async () => {
      const tar = (await import('tar-stream')).default;
      const pack = tar.pack();
      const extract = tar.extract();
      extract.end(plainBytes);
      for await (const e of extract) {
        const data = await buffer(e as unknown as AsyncIterable<Buffer>);
        if (e.header.name !== 'signature.json') pack.entry({ name: e.header.name, size: data.length }, data);
      }
      pack.finalize();
      return buffer(pack as unknown as AsyncIterable<Buffer>);
    })();
    await refuse(unsigned, 'DFG_ERR_BUNDLE_UNSIGNED', 'unsigned');

    const stranger = createSigningKey('org-b');
    await refuse(await repack(() => {}, { publisher: 'org-b', key: crypto.createPrivateKey(stranger.privateKey.privateKey) }), 'DFG_ERR_BUNDLE_UNKNOWN_PUBLISHER', 'unknown publisher');
    // A key claiming a trusted publisher's id.
    await refuse(await repack(() => {}, { publisher: 'org-a', key: crypto.createPrivateKey(stranger.privateKey.privateKey) }), 'DFG_ERR_BUNDLE_BAD_SIGNATURE', 'signed by another key under a trusted id');
    await refuse(await repack((m) => { (m as { version: number }).version = 2; }), 'DFG_ERR_BUNDLE_VERSION_UNSUPPORTED', 'format version 2');
    await refuse(await repack((m, v) => {
      const dim = m.models[0]!.dim;
      m.models[0]!.dim = dim - 1;
      const rows = v.get('residual-v2')!;
      const out = Buffer.alloc(6 * (dim - 1) * 4);
      for (let i = 0; i < 6; i++) Buffer.from(rows.buffer, rows.byteOffset + i * dim * 4, (dim - 1) * 4).copy(out, i * (dim - 1) * 4);
      v.set('residual-v2', out);
    }), 'DFG_ERR_BUNDLE_DIMENSION_MISMATCH', 'vectors of another dimension than the served model');
    await refuse(await repack((_m, v) => { v.set('residual-v2', Buffer.from(v.get('residual-v2')!).subarray(4)); }), 'DFG_ERR_BUNDLE_DIMENSION_MISMATCH', 'a vector file one float short');
    for (const cut of [100, 1024, Math.floor(plainBytes.length / 2), plainBytes.length - 512]) {
      await refuse(plainBytes.subarray(0, cut), 'DFG_ERR_BUNDLE_TRUNCATED', `truncated to ${cut} bytes`);
    }
    for (const limits of [{ maxEntryBytes: 1000 }, { maxBytes: plainBytes.length - 1 }, { maxEntries: 2 }]) {
      const tooLarge = await importBundle(b, plainBytes, { trust, limits }).catch((e: unknown) => e);
      t.ok(isDfgError(tooLarge, 'DFG_ERR_BUNDLE_TOO_LARGE'), `over the limits (bombs): ${JSON.stringify(limits)}`);
    }
    const notConfigured = await importBundle(b, plainBytes, { trust: { publishers: [] } }).catch((e: unknown) => e);
    t.ok(isDfgError(notConfigured, 'DFG_ERR_BUNDLE_UNKNOWN_PUBLISHER'), 'an empty trust list trusts nobody');

    // One byte changed anywhere: every 97th byte, and every byte of the first header and of the end blocks.
    const positions = new Set<number>();
    for (let i = 0; i < plainBytes.length; i += 97) positions.add(i);
    for (let i = 0; i < 512; i++) positions.add(i);
    for (let i = plainBytes.length - 1024; i < plainBytes.length; i++) positions.add(i);
    const accepted: number[] = [];
    const codes = new Set<string>();
    for (const at of positions) {
      const bytes = Buffer.from(plainBytes);
      bytes[at] = bytes[at]! ^ 0x20;
      try {
        await verifyBundle(bytes, trust);
        accepted.push(at);
      } catch (err) {
        if (isDfgError(err) && err.code.startsWith('DFG_ERR_BUNDLE_')) codes.add(err.code);
        else accepted.push(-at - 1);
      }
    }
    t.same(accepted, [], `each of ${positions.size} one-byte changes refused with a bundle code (${[...codes].sort().join(', ')})`);
    t.ok(codes.has('DFG_ERR_BUNDLE_TAMPERED'));
    t.same(await counts(b.gallery), { algorithms: 0, samples: 0 }, 'nothing written by any refused bundle');

    await refuse(await repack((m) => { m.algorithms[1]!.name = m.algorithms[0]!.name.toUpperCase(); }), 'DFG_ERR_BUNDLE_MALFORMED', 'two algorithms of one name');
    // A write the store refuses (another process switched the gallery's models): the import's one
    // transaction lands nothing, not even the first algorithm.
    b.gallery.expectSwitch({ list: 'another-model', at: new Date(0).toISOString(), forced: false });
    await refuse(plainBytes, 'DFG_ERR_MODEL_SWITCHED', 'the store refuses the samples midway');
    b.gallery.expectSwitch(undefined);
    t.same(await counts(b.gallery), { algorithms: 0, samples: 0 }, 'no algorithm of it landed');
    t.match(await importBundle(b, plainBytes, { trust }), { created: 6 }, 'and the same bundle imports afterwards');
  });
});
