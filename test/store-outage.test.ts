/**
 * PostgreSQL going away under a serving replica, without stopping the shared server: the replica
 * reaches it through a TCP proxy of the test's own, which is shut (every connection cut, new ones
 * refused) and opened again. Attribution answers from memory meanwhile, writes answer 503
 * DFG_ERR_STORE_UNAVAILABLE, and the replica recovers on its own, catching up with what another
 * process committed during the outage.
 */
import t from 'tap';
import net from 'node:net';
import { buildTestApp } from './helpers/app.js';
import { generatorImage } from './helpers/images.js';
import { files } from './helpers/multipart.js';
import { testDatabase } from './helpers/pg.js';
import { openPgGalleryStore } from '../src/gallery/store/pg.js';

/** A TCP proxy to `target` on a fixed local port that can be shut and opened again. */
async function proxy(target: URL): Promise<{ port: number; shut(): Promise<void>; open(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await open();
  return { port, shut, open, close: shut };
}

t.test('PostgreSQL down and back: attribution from memory, writes 503, recovery on its own', async (t) => {
  const direct = await testDatabase(t);
  const p = await proxy(new URL(direct));
  t.teardown(() => p.close());
  const viaProxy = new URL(direct);
  viaProxy.port = String(p.port);
  const { app } = await buildTestApp(t, { env: { DFG_STORE: viaProxy.toString() } });

  const nn = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'nearest', forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const imgs = await Promise.all([1, 2, 3, 4].map((s) => generatorImage('nearest2', 40 + s)));
  const enrol = (i: number) => app.inject({ method: 'POST', url: `/v1/algorithms/${nn.id}/samples`, ...files([`n${i}.png`, imgs[i]!]) });
  t.equal((await enrol(0)).statusCode, 201);
  t.equal((await enrol(1)).statusCode, 201);

  await p.shut();
  const during = await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', imgs[3]!]) });
  t.equal(during.statusCode, 200, 'attribution keeps answering from memory');
  t.equal(during.json().candidates[0].algorithm.id, nn.id);
  t.equal(during.json().provenanceUnavailable, true, 'and says the provenance of its evidence could not be read');
  t.equal(during.json().attributionId, null, 'an answer the store could not keep has no id for feedback');
  const refused = await enrol(2);
  t.equal(refused.statusCode, 503, refused.body);
  t.equal(refused.json().code, 'DFG_ERR_STORE_UNAVAILABLE');
  const created = await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'late', forgeryType: 'FS', architecture: 'GAN' } });
  t.equal(created.json().code, 'DFG_ERR_STORE_UNAVAILABLE', 'every write');

  // Another process writes while this one cannot reach the store.
  const other = await openPgGalleryStore(direct);
  t.teardown(() => other.close());
  await other.createAlgorithm({ name: 'elsewhere', forgeryType: 'FS', architecture: 'GAN', description: '', reference: '', enabled: true, threshold: null });

  await p.open();
  const t0 = Date.now();
  let res = await enrol(2);
  while (res.statusCode !== 201 && Date.now() - t0 < 10_000) {
    await new Promise((r) => setTimeout(r, 100));
    res = await enrol(2);
  }
  t.equal(res.statusCode, 201, `writes work again on their own (${Date.now() - t0} ms)`);
  // Recording pauses a few seconds after a failure (answers must not wait on a dead store), then resumes.
  const t1 = Date.now();
  let kept = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', imgs[3]!]) })).json();
  while (kept.attributionId === null && Date.now() - t1 < 15_000) {
    await new Promise((r) => setTimeout(r, 250));
    kept = (await app.inject({ method: 'POST', url: '/v1/attribute', ...files(['p.png', imgs[3]!]) })).json();
  }
  t.match(kept.attributionId, /^att_/, `answers are kept for feedback again (${Date.now() - t1} ms)`);
  // The change listener reconnects and catches up with the commit made during the outage (no polling in this app).
  let algorithms = 0;
  while (Date.now() - t0 < 10_000) {
    algorithms = (await app.inject({ method: 'GET', url: '/v1/gallery' })).json().counts.algorithms;
    if (algorithms === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(algorithms, 2, 'the algorithm created elsewhere during the outage is in this replica\'s cache');

  // A replica started while the store is down waits for it, then serves.
  await p.shut();
  let ready = false;
  const starting = buildTestApp(t, { env: { DFG_STORE: viaProxy.toString() } }).then((r) => {
    ready = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 1500));
  t.notOk(ready, 'not ready while the store is down');
  await p.open();
  const late = await starting;
  t.equal((await late.app.inject({ method: 'GET', url: '/v1/gallery' })).json().counts.samples, 3, 'ready once it answers, with the whole gallery');
});
