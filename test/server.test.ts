import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';
import { ROOT, tempDir } from './helpers/app.js';
import { generatorImage } from './helpers/images.js';
import { serve, stop, upload } from './helpers/serve.js';
import pino from 'pino';

t.test('acknowledged samples survive kill -9; index snapshot and rebuild give the same answers', async (t) => {
  const dir = tempDir();
  let p = await serve(dir);
  t.teardown(() => { p.child.kill('SIGKILL'); });
  // A new gallery is logged with its absolute path, so a mistyped DFG_GALLERY_DIR shows at start.
  const newGallery = (out: string) => out.split('\n').filter((l) => l.includes('"msg":"new gallery: store created"')).map((l) => JSON.parse(l) as { level: number; gallery: string });
  t.match(newGallery(p.output()), [{ level: 30, gallery: dir }], 'a new gallery: logged at info with its path');

  const alg = await (await fetch(`${p.url}/v1/algorithms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nn', forgeryType: 'EFS', architecture: 'GAN' }) })).json() as { id: string };
  const other = await (await fetch(`${p.url}/v1/algorithms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bl', forgeryType: 'EFS', architecture: 'Diffusion' }) })).json() as { id: string };
  await upload(`${p.url}/v1/algorithms/${other.id}/samples`, await Promise.all([31, 32, 33].map(async (s) => [`b${s}.png`, await generatorImage('bilinear4', s)] as [string, Buffer])));
  const enrol = await upload(`${p.url}/v1/algorithms/${alg.id}/samples`, await Promise.all([1, 2, 3, 4].map(async (s) => [`n${s}.png`, await generatorImage('nearest2', s)] as [string, Buffer])));
  t.equal(enrol.status, 201, 'acknowledged');
  const probe = await generatorImage('nearest2', 77);
  const before = await (await upload(`${p.url}/v1/attribute`, [['p.png', probe]])).json() as { decision: string; score: number; algorithm: { id: string } | null };

  // kill -9 right after the acknowledgement: no graceful close, no snapshot.
  t.equal(await stop(p, 'SIGKILL'), null);
  p = await serve(dir);
  t.same(newGallery(p.output()), [], 'an existing gallery: not logged as new');
  const samples = await (await fetch(`${p.url}/v1/algorithms/${alg.id}/samples`)).json() as { total: number };
  t.equal(samples.total, 4, 'every acknowledged sample is there');
  const after = await (await upload(`${p.url}/v1/attribute`, [['p.png', probe]])).json() as typeof before;
  t.equal(after.decision, before.decision);
  t.equal(after.algorithm?.id, before.algorithm?.id);
  t.ok(Math.abs(after.score - before.score) < 1e-6, 'same score after restart');

  // Graceful stop writes a snapshot; the next start loads it.
  t.equal(await stop(p, 'SIGTERM'), 0, 'clean exit on SIGTERM');
  const indexDir = path.join(dir, 'index');
  t.ok(fs.readdirSync(indexDir).some((f) => f.endsWith('.json')), 'snapshot manifest written');
  p = await serve(dir);
  const g1 = await (await fetch(`${p.url}/v1/gallery`)).json() as { index: { builtFrom: string; size: number } };
  t.equal(g1.index.builtFrom, 'snapshot');
  await stop(p, 'SIGKILL');

  // A corrupt snapshot is never trusted: rebuilt from the store, same answer.
  for (const f of fs.readdirSync(indexDir)) if (!f.endsWith('.json')) fs.writeFileSync(path.join(indexDir, f), 'garbage');
  p = await serve(dir);
  const g2 = await (await fetch(`${p.url}/v1/gallery`)).json() as { index: { builtFrom: string } };
  t.equal(g2.index.builtFrom, 'rebuild');
  const rebuilt = await (await upload(`${p.url}/v1/attribute`, [['p.png', probe]])).json() as typeof before;
  t.equal(rebuilt.algorithm?.id, before.algorithm?.id);
  t.ok(Math.abs(rebuilt.score - before.score) < 1e-6);
  await stop(p, 'SIGTERM');
});

t.test('SIGTERM with requests in flight on keep-alive connections: every request settles, clean exit, snapshot', async (t) => {
  const dir = tempDir();
  const p = await serve(dir);
  t.teardown(() => { p.child.kill('SIGKILL'); });
  const alg = await (await fetch(`${p.url}/v1/algorithms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nn', forgeryType: 'EFS', architecture: 'GAN' }) })).json() as { id: string };
  t.equal((await upload(`${p.url}/v1/algorithms/${alg.id}/samples`, [['n1.png', await generatorImage('nearest2', 1)]])).status, 201);
  const probe = await generatorImage('nearest2', 5, 512);
  // fetch keeps its connections alive: the server must close them itself once they go idle.
  const inflight = Array.from({ length: 12 }, () => upload(`${p.url}/v1/attribute`, [['p.png', probe]]).then((r) => r.status, () => 'reset'));
  await new Promise((r) => setTimeout(r, 150));
  const t0 = Date.now();
  const code = await stop(p, 'SIGTERM');
  const waited = Date.now() - t0;
  t.equal(code, 0, 'clean exit (no abort from native calls in flight, no forced exit)');
  t.ok(waited < 8000, `closed without waiting for the clients' keep-alive (${waited} ms)`);
  const statuses = await Promise.all(inflight);
  t.ok(statuses.every((s) => s === 200 || s === 503 || s === 'reset'), `each request answered, refused or cut: ${statuses.join(',')}`);
  t.ok(statuses.includes(200), 'requests accepted before the signal were answered');
  t.ok(fs.readdirSync(path.join(dir, 'index')).some((f) => f.endsWith('.json')), 'snapshot written');
});

t.test('start-up safety', async (t) => {
  t.throws(() => loadConfig({ PORT: 'abc', DFG_THRESHOLD: '5', LOG_LEVEL: 'loud' }), { code: 'DFG_ERR_CONFIG_INVALID', message: /PORT[\s\S]*DFG_THRESHOLD|DFG_THRESHOLD[\s\S]*PORT/ });
  const err = await startServer(loadConfig({ HOST: '0.0.0.0', PORT: '0', DFG_GALLERY_DIR: tempDir(), DFG_MODELS_DIR: path.join(ROOT, 'models') }), pino({ level: 'silent' })).then(() => null, (e: Error) => e);
  t.match(err, { code: 'DFG_ERR_CONFIG_UNSAFE_BIND' });
});
