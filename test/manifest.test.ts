/**
 * Model manifests in temp directories: valid, missing, unparsable, schema violations (all listed),
 * cross-field rules, and which models listModels reports.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listModels, loadManifest } from '../src/embedding/manifest.js';
import type { Manifest } from '../src/embedding/manifest-schema.js';

function validManifest(id: string): Manifest {
  return {
    id,
    version: '1.0.0',
    description: 'test model',
    provenance: { builder: 'test' },
    input: { name: 'image', layout: 'NCHW', channels: 3, scale: 1 / 255, mean: [0.5], std: [0.25] },
    output: { name: 'embedding', dim: 16, normalise: 'l2' },
    crop: { size: 64, plan: 'grid', count: 4, minSize: 16, multiple: 8, dynamic: true },
  };
}

function modelsDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dfg-manifest-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeModel(root: string, id: string, manifest: unknown, opts: { onnx?: boolean; raw?: string } = {}) {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), opts.raw ?? JSON.stringify(manifest, null, 2));
  if (opts.onnx !== false) fs.writeFileSync(path.join(dir, 'model.onnx'), Buffer.from([0x08, 0x08]));
}

t.test('a valid manifest loads with absolute paths', async (t) => {
  const root = modelsDir(t);
  writeModel(root, 'tiny-v1', validManifest('tiny-v1'));
  const loaded = await loadManifest(root, 'tiny-v1');
  t.same(loaded.manifest, validManifest('tiny-v1'));
  t.equal(loaded.dir, path.join(root, 'tiny-v1'));
  t.equal(loaded.onnxPath, path.join(root, 'tiny-v1', 'model.onnx'));
  t.ok(path.isAbsolute(loaded.onnxPath));
  const rel = await loadManifest(path.relative(process.cwd(), root), 'tiny-v1');
  t.equal(rel.onnxPath, loaded.onnxPath, 'a relative modelsDir is resolved');
});

t.test('unknown models and non-ids are MODEL_NOT_FOUND', async (t) => {
  const root = modelsDir(t);
  await t.rejects(loadManifest(root, 'nope'), { code: 'DFG_ERR_MODEL_NOT_FOUND', message: /nope/ });
  await t.rejects(loadManifest(path.join(root, 'missing-dir'), 'nope'), { code: 'DFG_ERR_MODEL_NOT_FOUND' });
  // A model outside modelsDir must not be reachable through the id.
  writeModel(path.join(root, 'inner'), 'escape', validManifest('escape'));
  for (const id of ['../inner/escape', '..', '/etc', 'inner/escape', '', 'UPPER']) {
    await t.rejects(loadManifest(path.join(root, 'inner', 'escape'), id), { code: 'DFG_ERR_MODEL_NOT_FOUND' }, JSON.stringify(id));
  }
  fs.mkdirSync(path.join(root, 'empty'));
  await t.rejects(loadManifest(root, 'empty'), { code: 'DFG_ERR_MODEL_NOT_FOUND' }, 'directory without model.json');
});

t.test('unparsable JSON is MANIFEST_INVALID', async (t) => {
  const root = modelsDir(t);
  writeModel(root, 'broken', null, { raw: '{ "id": "broken", ' });
  await t.rejects(loadManifest(root, 'broken'), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID', message: /not JSON/ });
  writeModel(root, 'array', [1, 2, 3]);
  await t.rejects(loadManifest(root, 'array'), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID' });
});

t.test('every schema violation is listed in one error', async (t) => {
  const root = modelsDir(t);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- breaks the manifest field by field on purpose
  const bad = validManifest('many') as unknown as Record<string, any>;
  delete bad.version;
  bad.input.channels = 2;
  bad.input.std = [0];
  bad.output.normalise = 'l1';
  bad.crop.size = 4;
  bad.crop.plan = 'random';
  writeModel(root, 'many', bad);
  const err = await loadManifest(root, 'many').then(() => null, (e: Error & { code?: string }) => e);
  t.equal(err?.code, 'DFG_ERR_MODEL_MANIFEST_INVALID');
  for (const where of ['version', 'input.channels', 'input.std.0', 'output.normalise', 'crop.size', 'crop.plan']) {
    t.match(err?.message, new RegExp(`\\b${where.replace(/\./g, '\\.')}:`), `lists ${where}`);
  }
  t.match(err?.message, /many[\\/]model\.json/, 'names the file');
});

t.test('cross-field rules: mean/std against channels, crop geometry, id', async (t) => {
  const root = modelsDir(t);
  const cases: Array<[string, (m: Manifest) => void, RegExp]> = [
    ['mean2', (m) => { m.input.mean = [0.1, 0.2]; }, /input\.mean: Expected 1 or 3 values/],
    ['std3-grey', (m) => { m.input.channels = 1; m.input.std = [1, 2, 3]; }, /input\.std: Expected 1 or 1 values/],
    ['minsize', (m) => { m.crop.minSize = 128; }, /crop\.minSize: Expected at most crop\.size/],
    ['multiple', (m) => { m.crop.minSize = 20; }, /crop\.minSize: Expected a multiple of crop\.multiple/],
    ['size', (m) => { m.crop.size = 60; m.crop.minSize = 8; m.crop.multiple = 8; }, /crop\.size: Expected a multiple/],
    ['other-id', (m) => { m.id = 'someone-else'; }, /id: Expected the directory name "other-id"/],
  ];
  for (const [id, mutate, re] of cases) {
    const m = validManifest(id);
    mutate(m);
    writeModel(root, id, m);
    await t.rejects(loadManifest(root, id), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID', message: re }, id);
  }
  const ok = validManifest('grey-ok');
  ok.input.channels = 1;
  writeModel(root, 'grey-ok', ok);
  t.equal((await loadManifest(root, 'grey-ok')).manifest.input.channels, 1, 'one-channel model with scalar mean/std is valid');
  const perChannel = validManifest('rgb-ok');
  perChannel.input.mean = [0.485, 0.456, 0.406];
  perChannel.input.std = [0.229, 0.224, 0.225];
  writeModel(root, 'rgb-ok', perChannel);
  t.same((await loadManifest(root, 'rgb-ok')).manifest.input.std, [0.229, 0.224, 0.225]);
});

t.test('a valid manifest without model.onnx is MODEL_LOAD_FAILED', async (t) => {
  const root = modelsDir(t);
  writeModel(root, 'no-weights', validManifest('no-weights'), { onnx: false });
  await t.rejects(loadManifest(root, 'no-weights'), { code: 'DFG_ERR_MODEL_LOAD_FAILED', message: /model\.onnx is missing/ });
});

t.test('listModels reports only loadable models, sorted', async (t) => {
  const root = modelsDir(t);
  writeModel(root, 'zeta', validManifest('zeta'));
  writeModel(root, 'alpha', validManifest('alpha'));
  writeModel(root, 'broken', null, { raw: 'nope' });
  writeModel(root, 'no-weights', validManifest('no-weights'), { onnx: false });
  fs.writeFileSync(path.join(root, 'README.md'), 'not a model');
  t.same(await listModels(root), ['alpha', 'zeta']);
  t.same(await listModels(path.join(root, 'absent')), [], 'missing directory lists nothing');
});

t.test('decision defaults: optional, and validated when present', async (t) => {
  const root = modelsDir(t);
  writeModel(root, 'with-margin', { ...validManifest('with-margin'), decision: { margin: 0.005 } });
  t.same((await loadManifest(root, 'with-margin')).manifest.decision, { margin: 0.005 });
  t.equal((await loadManifest(root, 'with-margin')).manifest.id, 'with-margin');
  writeModel(root, 'with-threshold', { ...validManifest('with-threshold'), decision: { threshold: 0.97 } });
  t.same((await loadManifest(root, 'with-threshold')).manifest.decision, { threshold: 0.97 }, 'either default alone');
  writeModel(root, 'empty-decision', { ...validManifest('empty-decision'), decision: {} });
  t.same((await loadManifest(root, 'empty-decision')).manifest.decision, {}, 'an empty decision block states no default');
  const cases: Array<[string, unknown, RegExp]> = [
    ['negative', { margin: -0.01 }, /decision\.margin:/],
    ['too-large', { margin: 2.5 }, /decision\.margin:/],
    ['not-a-number', { margin: '0.01' }, /decision\.margin:/],
    ['threshold-too-large', { threshold: 1.5 }, /decision\.threshold:/],
    ['threshold-not-a-number', { margin: 0, threshold: 'high' }, /decision\.threshold:/],
    ['extra-key', { margin: 0, topM: 3 }, /decision/],
  ];
  for (const [id, decision, re] of cases) {
    writeModel(root, id, { ...validManifest(id), decision });
    await t.rejects(loadManifest(root, id), { code: 'DFG_ERR_MODEL_MANIFEST_INVALID', message: re }, id);
  }
});
