/**
 * A model switch survives restarts: it is recorded in the gallery store before PUT /v1/model
 * answers; a service started without DFG_MODEL serves the recorded list, one with DFG_MODEL set
 * serves DFG_MODEL (the record kept), and a record that can no longer be served falls back to
 * DFG_MODEL without failing the start. GET /v1/gallery says where the served list came from.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ROOT, tempDir } from './helpers/app.js';
import { reembed, servedGallery, serviceBeside } from './helpers/model-switch.js';
import { generatorImage } from './helpers/images.js';
import { writeTinyModel } from './helpers/tiny-model.js';
import { serve, stop, upload } from './helpers/serve.js';
import { readLastSwitch, writeSwitchRecord } from '../src/gallery/gallery.js';

/** The service again over the same gallery and models folder, with `env` changed (DFG_MODEL '' = unset). */
const restart = (t: Parameters<typeof serviceBeside>[0], s: Parameters<typeof serviceBeside>[1], env: Record<string, string>) => serviceBeside(t, s, env);

async function stopApp(s: { app: { close(): Promise<unknown> }; services: { close(): Promise<void> } }): Promise<void> {
  await s.app.close();
  await s.services.close();
}

t.test('a switch is recorded before the answer and served after a restart unless DFG_MODEL names another list', async (t) => {
  const s = await servedGallery(t);
  const dir = s.config.DFG_GALLERY_DIR;
  t.match((await s.gallery()).model, { list: 'residual-v1', source: 'config', configured: 'residual-v1', lastSwitch: null });
  await reembed(s.config, 'tiny-clip');

  const res = await s.put({ model: 'tiny-clip' });
  t.equal(res.statusCode, 200);
  // Read through another connection while the service still runs: committed, so it survives kill -9.
  const record = (await readLastSwitch(dir));
  t.match(record, { list: 'tiny-clip', forced: false });
  t.ok(Number.isFinite(Date.parse(record!.at)), 'an ISO time');
  t.same(res.json().gallery.model.lastSwitch, record);
  t.match(res.json().gallery.model, { list: 'tiny-clip', source: 'switch', configured: 'residual-v1' });
  await stopApp(s);

  // DFG_MODEL unset: the recorded list.
  const unset = await restart(t, s, { DFG_MODEL: '' });
  t.match((await unset.gallery()).model, { list: 'tiny-clip', source: 'switch', configured: null, lastSwitch: record });
  t.equal((await unset.attribute()).model.id, 'tiny-clip');
  t.ok(unset.logs.lines.some((l) => l.msg === 'serving the model list of the last switch'));
  t.same(unset.logs.warnings(), []);
  await stopApp(unset);

  // DFG_MODEL set to another list: it wins, the record is kept and the override is logged.
  const set = await restart(t, s, { DFG_MODEL: 'residual-v1' });
  t.match((await set.gallery()).model, { list: 'residual-v1', source: 'config', configured: 'residual-v1', lastSwitch: record });
  t.equal((await set.attribute()).model.id, 'residual-v1');
  t.match(set.logs.lines.find((l) => l.level === 40), { msg: /DFG_MODEL overrides the model list of the last switch/, DFG_MODEL: 'residual-v1', lastSwitch: { list: 'tiny-clip' } });
  t.same((await readLastSwitch(dir)), record, 'the record is kept');

  // Switching to the served list records it: nothing reloads, and restarts serve it without DFG_MODEL.
  const same = (await set.put({ model: 'residual-v1' })).json();
  t.match(same, { switched: false, model: 'residual-v1', gallery: { model: { source: 'switch', lastSwitch: { list: 'residual-v1' } } } });
  t.equal((await readLastSwitch(dir))?.list, 'residual-v1');
  const again = (await set.put({ model: 'residual-v1' })).json();
  t.same(again.gallery.model.lastSwitch, same.gallery.model.lastSwitch, 'the same list again rewrites nothing');
  await stopApp(set);
  t.match((await (await restart(t, s, { DFG_MODEL: '' })).gallery()).model, { list: 'residual-v1', source: 'switch', configured: null });
});

t.test('a recorded list that can no longer be served falls back to DFG_MODEL, never failing the start', async (t) => {
  const s = await servedGallery(t);
  const dir = s.config.DFG_GALLERY_DIR;
  // The default list (DFG_MODEL unset) must be loadable for the fall-back.
  fs.cpSync(path.join(ROOT, 'models', 'residual-v3'), path.join(s.models, 'residual-v3'), { recursive: true });
  await reembed(s.config, 'tiny-clip');
  t.equal((await s.put({ model: 'tiny-clip' })).statusCode, 200);
  await stopApp(s);

  const cases: Array<[string, () => void | Promise<unknown>, RegExp]> = [
    ['its model folder is gone', () => fs.rmSync(path.join(s.models, 'tiny-clip'), { recursive: true }), /cannot be served; serving the default, residual-v3/],
    ['its ONNX file does not load', async () => {
      writeTinyModel(s.models, 'bad-onnx', {}, Buffer.from('not an onnx model'));
      await writeSwitchRecord(dir, 'bad-onnx', true);
    }, /failed to load; serving the default, residual-v3/],
    ['the record is malformed', () => {
      const db = new Database(path.join(dir, 'gallery.sqlite'));
      db.prepare("UPDATE meta SET value = '{\"list\": 7}' WHERE key = 'model_switch'").run();
      db.close();
    }, /the recorded model switch is unreadable/],
  ];
  for (const [what, breakIt, warning] of cases) {
    await breakIt();
    const r = await restart(t, s, { DFG_MODEL: '' });
    t.match((await r.gallery()).model, { list: 'residual-v3', source: 'config', configured: null }, what);
    t.ok(r.logs.warnings().some((w) => warning.test(w)), `${what}: warned`);
    t.equal((await r.attribute()).model.id, 'residual-v3', `${what}: serving`);
    await stopApp(r);
  }
  // A later switch replaces the malformed record.
  const r = await restart(t, s, { DFG_MODEL: 'residual-v1' });
  t.equal((await r.put({ model: 'residual-v1' })).statusCode, 200);
  t.equal((await readLastSwitch(dir))?.list, 'residual-v1');
});

t.test('dfg serve: a switch survives kill -9', async (t) => {
  const dir = tempDir();
  let p = await serve(dir, { DFG_MODEL: '' });
  t.teardown(() => { p.child.kill('SIGKILL'); });
  const put = await fetch(`${p.url}/v1/model`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'residual-v1' }) });
  t.equal(put.status, 200);
  t.equal(await stop(p, 'SIGKILL'), null);

  p = await serve(dir, { DFG_MODEL: '' });
  const g = await (await fetch(`${p.url}/v1/gallery`)).json() as { model: { list: string; source: string } };
  t.match(g.model, { list: 'residual-v1', source: 'switch' });
  t.match(p.output(), /serving the model list of the last switch/);
  const answer = await (await upload(`${p.url}/v1/attribute`, [['p.png', await generatorImage('nearest2', 1)]])).json() as { model: { id: string } };
  t.equal(answer.model.id, 'residual-v1');
  await stop(p, 'SIGTERM');
});
