/**
 * Hot model switch (PUT /v1/model, dfg model switch): a gallery re-embedded for another model is
 * served with it without a restart; refused switches change nothing; requests in flight finish on
 * the models they started with; one switch at a time; close() during a switch leaks nothing.
 */
import t from 'tap';
import { generatorImage } from './helpers/images.js';
import { writeTinyModel } from './helpers/tiny-model.js';
import { dfg } from './helpers/cli.js';
import { adminKey, reembed, servedGallery } from './helpers/model-switch.js';
import { attributeImage } from '../src/use-cases/attribute.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { readLastSwitch } from '../src/gallery/gallery.js';

const FUSED = 'residual-v1:1+tiny-clip:0.5';

/** Worker threads alive in this process beyond those of the test runner (one pool thread per embedder here: DFG_THREADS=1). */
const RUNNER_WORKERS = workerCount();
function workerCount(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}
const liveWorkers = () => workerCount() - RUNNER_WORKERS;

t.test('a refused or failed switch changes nothing: the old model keeps serving', async (t) => {
  const s = await servedGallery(t);
  const before = await s.attribute();
  t.equal(before.model.id, 'residual-v1');

  const refusals: Array<[unknown, number, string]> = [
    [{ model: 'tiny-clip' }, 409, 'DFG_ERR_MODEL_SWITCH_INCOMPLETE'],
    [{ model: 'residual-v1,tiny-clip:0.5' }, 409, 'DFG_ERR_MODEL_SWITCH_INCOMPLETE'],
    [{ model: 'no-such-model' }, 404, 'DFG_ERR_MODEL_NOT_FOUND'],
    [{ model: '../residual-v1' }, 400, 'DFG_ERR_MODEL_LIST_INVALID'],
    [{ model: 'residual-v1,residual-v1' }, 400, 'DFG_ERR_MODEL_LIST_INVALID'],
    [{ model: 'residual-v1:-1' }, 400, 'DFG_ERR_MODEL_LIST_INVALID'],
    [{ model: '' }, 400, 'DFG_ERR_REQUEST_INVALID'],
    [{}, 400, 'DFG_ERR_REQUEST_INVALID'],
    [{ model: 'residual-v1', extra: 1 }, 400, 'DFG_ERR_REQUEST_INVALID'],
    [{ model: 'residual-v1', force: 'yes' }, 400, 'DFG_ERR_REQUEST_INVALID'],
  ];
  for (const [body, status, code] of refusals) {
    const res = await s.put(body);
    t.equal(res.statusCode, status, JSON.stringify(body));
    t.equal(res.json().code, code, JSON.stringify(body));
  }
  t.match((await s.put({ model: 'tiny-clip' })).json().message, /5 stored sample\(s\) lack a vector of tiny-clip/);

  // A bad manifest and an ONNX file that does not load: 422, whether refused before or after loading.
  writeTinyModel(s.models, 'bad-manifest', { output: { name: 'image_embeds', dim: 0, normalise: 'l2' } });
  writeTinyModel(s.models, 'bad-onnx', {}, Buffer.from('not an onnx model'));
  for (const model of ['bad-manifest', 'bad-onnx']) {
    const res = await s.put({ model, force: true });
    t.equal(res.statusCode, 422, model);
    t.equal(res.json().code, 'DFG_ERR_MODEL_UNUSABLE', model);
  }

  t.equal(await s.served(), 'residual-v1');
  t.equal((await readLastSwitch(s.config.DFG_GALLERY_DIR)), null, 'a refused switch records nothing');
  const after = await s.attribute();
  t.equal(after.model.id, 'residual-v1');
  t.same(after.candidates, before.candidates, 'the same answers after every refusal');
  t.equal(liveWorkers(), 1, 'the embedders loaded by failed switches were closed');
});

t.test('switch between re-embedded models while requests run; one switch at a time', async (t) => {
  const s = await servedGallery(t);
  const before = await s.attribute();
  await reembed(s.config, 'tiny-clip');

  // Requests before, during and after the switch all succeed, each with one model list; a second switch meanwhile is refused.
  const inFlight = Array.from({ length: 6 }, () => s.attribute());
  const [first, second] = (await Promise.all([s.put({ model: 'residual-v1, tiny-clip:0.5' }), s.put({ model: 'residual-v1,tiny-clip:0.5' })]))
    .sort((a, b) => a.statusCode - b.statusCode);
  const during = await Promise.all([...inFlight, s.attribute()]);
  t.equal(first!.statusCode, 200);
  t.equal(second!.statusCode, 409);
  t.equal(second!.json().code, 'DFG_ERR_MODEL_SWITCH_BUSY');
  for (const r of during) {
    t.ok(['residual-v1', FUSED].includes(r.model.id), `answered with ${r.model.id}`);
    t.equal(r.model.members.length, r.model.id === FUSED ? 2 : 1);
  }
  t.match(first!.json(), {
    switched: true, previous: 'residual-v1', model: 'residual-v1,tiny-clip:0.5', calibrated: false,
    gallery: {
      model: { id: FUSED, list: 'residual-v1,tiny-clip:0.5', members: [{ id: 'residual-v1', weight: 1, missingSamples: 0 }, { id: 'tiny-clip', weight: 0.5, missingSamples: 0 }] },
      counts: { samples: 5, stored: 5, needsReembedding: 0 }, calibration: null,
    },
  });

  const fused = await s.attribute();
  t.equal(fused.model.id, FUSED);
  t.equal(fused.algorithm.id, s.x.id);
  t.not(fused.score, before.score, 'scored with the fused similarity');
  t.equal(await s.served(), 'residual-v1,tiny-clip:0.5');
  t.equal(liveWorkers(), 1, 'the old embedder is closed');

  // The calibration belongs to the index id: one made now comes back with this list, not with another.
  t.equal((await s.app.inject({ method: 'POST', url: '/v1/calibration', payload: {} })).statusCode, 201);
  const single = (await s.put({ model: 'tiny-clip' })).json();
  t.match(single, { switched: true, model: 'tiny-clip', calibrated: false, gallery: { model: { id: 'tiny-clip' } } });
  t.equal((await s.attribute()).model.id, 'tiny-clip');
  t.match((await s.put({ model: 'residual-v1,tiny-clip:0.5' })).json(), { switched: true, calibrated: true, gallery: { calibration: { version: Number } } });

  // Back to the first model: the same answers as before the switches; the same list again is a no-op.
  t.equal((await s.put({ model: 'residual-v1' })).statusCode, 200);
  t.same((await s.attribute()).candidates, before.candidates);
  t.match((await s.put({ model: 'residual-v1' })).json(), { switched: false, previous: 'residual-v1', model: 'residual-v1', loadMs: 0 });
});

t.test('requests holding the old models finish on them; close() during a switch leaks nothing', async (t) => {
  const s = await servedGallery(t);
  await reembed(s.config, 'tiny-clip');
  const old = s.services.need();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  // A request that took the models before the switch and embeds only after it.
  const held = s.services.use(async (parts) => {
    await gate;
    return attributeImage({ ...parts, config: s.config }, s.probe, {});
  });
  let answered = false;
  const switching = s.put({ model: 'tiny-clip' }).then((r) => { answered = true; return r; });
  for (const until = Date.now() + 30_000; s.services.need().embedder === old.embedder;) {
    if (Date.now() > until) throw new Error('the switch did not install the new models');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal((await s.attribute()).model.id, 'tiny-clip', 'new requests get the new model at once');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(answered, 'the switch waits for the request holding the old models');
  t.equal(liveWorkers(), 2, 'both embedders are open meanwhile');
  release();
  const r = await held;
  t.equal(r.model.id, 'residual-v1', 'the held request finished on the old model');
  const res = await switching;
  t.equal(res.statusCode, 200);
  t.ok(res.json().drainMs >= 100, 'the old models closed after the request released them');
  await t.rejects(old.embedder.embed(s.probe), { code: 'DFG_ERR_SERVER_NOT_READY' }, 'the old embedder is closed');
  await t.rejects(async () => old.gallery.coverage(), { code: 'DFG_ERR_SERVER_NOT_READY' }, 'the old gallery is closed');

  // close() while a switch loads: the switch gives up and closes what it loaded.
  const late = s.put({ model: 'residual-v1', force: true });
  await new Promise((resolve) => setTimeout(resolve, 10));
  await s.services.close();
  const lateRes = await late;
  t.equal(lateRes.statusCode, 503);
  t.equal(lateRes.json().code, 'DFG_ERR_SERVER_NOT_READY');
  t.equal((await readLastSwitch(s.config.DFG_GALLERY_DIR))?.list, 'tiny-clip', 'a switch given up records nothing');
  t.equal(liveWorkers(), 0, 'no embedder left running');
  t.equal((await s.put({ model: 'residual-v1' })).statusCode, 503, 'no switch after close');
});

t.test('force serves without the samples that lack a vector of a listed model', async (t) => {
  const s = await servedGallery(t);
  await reembed(s.config, 'tiny-clip');
  // Enrolled after the re-embedding, with residual-v1 only.
  await s.enrol(s.y.id, [await generatorImage('bilinear4', 13)]);
  const refused = await s.put({ model: 'residual-v1,tiny-clip:0.5' });
  t.equal(refused.json().code, 'DFG_ERR_MODEL_SWITCH_INCOMPLETE');
  t.match(refused.json().message, /1 stored sample\(s\) lack a vector of tiny-clip/);
  t.equal(await s.served(), 'residual-v1');
  const forced = (await s.put({ model: 'residual-v1,tiny-clip:0.5', force: true })).json();
  t.match(forced, { switched: true, gallery: { counts: { samples: 5, stored: 6, needsReembedding: 1 }, model: { members: [{ missingSamples: 0 }, { missingSamples: 1 }] } } });
  t.equal((await s.attribute()).model.id, FUSED);
});

t.test('PUT /v1/model needs the admin scope; dfg model switch calls it', async (t) => {
  const attr = generateKey('platform', ['attribute']);
  const reg = generateKey('tns', ['register']);
  const s = await servedGallery(t, [attr.entry, reg.entry, adminKey.entry]);
  const put = (headers: Record<string, string>) => s.app.inject({ method: 'PUT', url: '/v1/model', headers, payload: { model: 'residual-v1' } });
  t.equal((await put({})).json().code, 'DFG_ERR_AUTH_MISSING_KEY');
  t.equal((await put({ authorization: `Bearer ${attr.key}` })).json().code, 'DFG_ERR_AUTH_FORBIDDEN');
  t.equal((await put({ authorization: `Bearer ${reg.key}` })).json().code, 'DFG_ERR_AUTH_FORBIDDEN');
  t.equal((await put({ authorization: `Bearer ${adminKey.key}` })).statusCode, 200);

  await reembed(s.config, 'tiny-clip');
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  const forbidden = await dfg(['model', 'switch', 'tiny-clip', '--url', url, '--key', attr.key]);
  t.equal(forbidden.code, 1);
  t.match(forbidden.out, /DFG_ERR_AUTH_FORBIDDEN/);
  const ok = await dfg(['model', 'switch', 'tiny-clip', '--url', url, '--key', adminKey.key]);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /serving tiny-clip \(was residual-v1\)/);
  t.match(ok.out, /not calibrated/);
  t.match(ok.out, /DFG_MODEL=residual-v1 wins at its next restart: unset it/, 'the service\'s DFG_MODEL names another list');
  t.equal(await s.served(), 'tiny-clip');
  const unknown = await dfg(['models', 'switch', 'nope', '--json', '--url', url, '--key', adminKey.key]);
  t.equal(unknown.code, 1);
  t.match(unknown.out, /DFG_ERR_MODEL_NOT_FOUND/);
});
