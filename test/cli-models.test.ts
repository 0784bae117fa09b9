/**
 * `dfg models build | list` into the DFG_MODELS_DIR of the environment (test/model-build.test.ts
 * covers the builders themselves): the files written are the committed ones, byte for byte.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ROOT, tempDir } from './helpers/app.js';
import { dfg, dfgInProcess } from './helpers/cli.js';
import { registerCoreCommands } from '../src/cli/commands/core.js';

t.test('dfg models build residual-v1, then models list', async (t) => {
  const dir = tempDir('dfg-cli-models-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const models = path.join(dir, 'models');

  const built = await dfg(['models', 'build', 'residual-v1'], { DFG_MODELS_DIR: models });
  t.equal(built.code, 0, built.out);
  const committed = (f: string) => fs.readFileSync(path.join(ROOT, 'models', 'residual-v1', f));
  const sha = createHash('sha256').update(committed('model.onnx')).digest('hex');
  t.equal(built.stdout, `residual-v1\t${sha}\t${path.join(models, 'residual-v1', 'model.onnx')}\n`, 'one line: id, sha256, path');
  t.same(fs.readdirSync(path.join(models, 'residual-v1')).sort(), ['model.json', 'model.onnx'], 'no temporary file left');
  for (const f of ['model.onnx', 'model.json']) t.ok(fs.readFileSync(path.join(models, 'residual-v1', f)).equals(committed(f)), `${f} equals the committed file`);

  process.env.DFG_MODELS_DIR = models;
  const run = (args: string[]) => dfgInProcess(registerCoreCommands, args);
  t.equal((await run(['models', 'list'])).stdout, 'residual-v1\n');
  t.match((await run(['models', 'build', 'residual-v1', 'no-such-model'])).error, { code: 'DFG_ERR_MODEL_NOT_FOUND' }, 'an unknown id');
  t.same(fs.readdirSync(models), ['residual-v1'], 'is refused before anything is written');
  fs.mkdirSync(path.join(dir, 'empty'));
  process.env.DFG_MODELS_DIR = path.join(dir, 'empty');
  const none = await run(['models', 'list']);
  t.equal(none.error, null);
  t.match(none.stderr, /no models in .*empty; build the project's own with `dfg models build`/, 'an empty folder says how to fill it');
});
