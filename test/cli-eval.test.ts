/**
 * Local `dfg eval` without --model evaluates the list a service started now would serve
 * (src/serving/served-models.ts): DFG_MODEL, else the last model switch recorded in the gallery, else the
 * default; it says which on stderr, and creates no gallery to find out.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/app.js';
import { dfg } from './helpers/cli.js';
import { generatorImage, type Family } from './helpers/images.js';
import { writeTinyModel, tinyOnnx } from './helpers/tiny-model.js';
import { writeSwitchRecord } from '../src/gallery/gallery.js';

const dir = tempDir('dfg-cli-eval-');
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (...p: string[]) => path.join(dir, ...p);
// Two tiny models (different weights), and no residual-v3: the default fails to load, after the line that names it.
writeTinyModel(at('models'), 'tiny-a', {}, tinyOnnx(1));
writeTinyModel(at('models'), 'tiny-b', {}, tinyOnnx(2));
const switched = at('switched');
fs.mkdirSync(switched);
const record = await writeSwitchRecord(switched, 'tiny-a,tiny-b:0.5', false);
const env = { DFG_MODELS_DIR: at('models'), DFG_THREADS: '1', DFG_MODEL: undefined, LOG_LEVEL: undefined };
const protocol = ['--shots', '2', '--repeats', '1', '--unknown-list', 'jpeg50', '--no-baseline', '--no-cache'];

t.before(async () => {
  const families: Family[] = ['nearest2', 'bilinear4', 'jpeg50', 'camera'];
  for (const [i, f] of families.entries()) {
    fs.mkdirSync(at('data', f), { recursive: true });
    for (let s = 0; s < 4; s += 1) fs.writeFileSync(at('data', f, `${s}.${f === 'jpeg50' ? 'jpg' : 'png'}`), await generatorImage(f, 10 * i + s + 1, 64));
  }
});

/** `dfg eval` on the dataset; the evaluated model id (report.json) or null when it failed. */
async function evaluate(name: string, extraEnv: Record<string, string | undefined>, args: string[] = []) {
  const r = await dfg(['eval', '--data', at('data'), '--out', at('reports', name), ...protocol, ...args], { ...env, ...extraEnv });
  const report = r.code === 0 ? JSON.parse(fs.readFileSync(at('reports', name, 'report.json'), 'utf8')) as { model: { id: string; members: { id: string; weight: number }[] } } : null;
  return { ...r, report };
}

t.test('without DFG_MODEL: the list of the recorded switch, with its weights', async (t) => {
  const r = await evaluate('switch', { DFG_GALLERY_DIR: switched });
  t.equal(r.code, 0, r.out);
  t.match(r.stderr, `evaluating tiny-a,tiny-b:0.5 (the last model switch, recorded in the gallery in ${switched} at ${record.at}: the service serves it while DFG_MODEL is unset)\n`);
  t.match(r.report?.model, { id: 'tiny-a+tiny-b', members: [{ id: 'tiny-a', weight: 1 }, { id: 'tiny-b', weight: 0.5 }] });
});

t.test('DFG_MODEL wins over the record, as in the service, and says that it overrides it', async (t) => {
  const r = await evaluate('config', { DFG_GALLERY_DIR: switched, DFG_MODEL: 'tiny-b' });
  t.equal(r.code, 0, r.out);
  t.match(r.stderr, 'evaluating tiny-b (DFG_MODEL, which overrides the last model switch recorded in the gallery, to tiny-a,tiny-b:0.5)\n');
  t.match(r.stderr, /"level":40,.*"msg":"DFG_MODEL overrides the model list of the last switch/, 'the service\'s warning too');
  t.equal(r.report?.model.id, 'tiny-b');
});

t.test('--model wins over both', async (t) => {
  const r = await evaluate('option', { DFG_GALLERY_DIR: switched, DFG_MODEL: 'tiny-b' }, ['--model', 'tiny-a']);
  t.equal(r.code, 0, r.out);
  t.match(r.stderr, /^evaluating tiny-a \(--model\)$/m);
  t.notMatch(r.stderr, /overrides/, 'the record is not even read');
  t.equal(r.report?.model.id, 'tiny-a');
});

t.test('no DFG_MODEL and no gallery: the default, and no gallery created', async (t) => {
  const none = at('no-gallery');
  const r = await evaluate('default', { DFG_GALLERY_DIR: none });
  t.match(r.stderr, `evaluating residual-v3 (the default: DFG_MODEL is unset and there is no gallery in ${none})\n`);
  t.equal(r.code, 1, 'residual-v3 is not in this models folder');
  t.match(r.stderr, /DFG_ERR_MODEL_NOT_FOUND: Model residual-v3 not found/);
  t.notOk(fs.existsSync(none), 'no gallery folder created');

  const empty = at('empty-gallery');
  fs.mkdirSync(empty);
  const e = await evaluate('default-empty', { DFG_GALLERY_DIR: empty });
  t.match(e.stderr, `evaluating residual-v3 (the default: DFG_MODEL is unset and there is no gallery in ${empty})\n`);
  t.same(fs.readdirSync(empty), [], 'nothing created in an existing folder');
});
