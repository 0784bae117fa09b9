/**
 * The local-gallery commands as a user runs them, beyond test/cli-local.test.ts (enrol and the
 * plain runs): stdout that parses (`gallery info | jq`, `attribute --json`) with the services'
 * warnings on stderr, the attribute table and -k, `gallery rebuild`, `gallery reembed` up to its
 * page size, `calibrate --dry-run --json`; bad option values and unknown models refused before any
 * work, in one line. Child processes for what a run prints; refusals are parsed in this process.
 */
import t from 'tap';
import type tap from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { ROOT, tempDir, testConfig } from './helpers/app.js';
import { dfg, dfgInProcess } from './helpers/cli.js';
import { generatorImage } from './helpers/images.js';
import { startServices } from '../src/serving/services.js';
import { enrolImages } from '../src/use-cases/enrol.js';
import { openGallery } from '../src/gallery/gallery.js';
import { loadManifest } from '../src/embedding/manifest.js';
import { registerCoreCommands } from '../src/cli/commands/core.js';
import { registerCalibrateCommand } from '../src/cli/commands/calibrate.js';

const dir = tempDir('dfg-cli-gallery-');
t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
const env = { DFG_GALLERY_DIR: path.join(dir, 'gallery'), DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: '1' };
// The in-process runs read the same configuration.
Object.assign(process.env, env, { LOG_LEVEL: 'silent' });
const probe = path.join(dir, 'probe.png');
const SAMPLES = 6;

/** Two algorithms of three samples each, enrolled in this process (cli-local.test.ts runs `dfg enrol`). */
async function seedGallery(): Promise<void> {
  const services = startServices(testConfig(env), pino({ level: 'silent' }), { refreshMs: 0 });
  await services.whenReady;
  try {
    const { embedder, gallery } = services.need();
    for (const [i, family] of (['nearest2', 'bilinear4'] as const).entries()) {
      const alg = await gallery.createAlgorithm({ name: family, forgeryType: 'EFS', architecture: 'GAN' });
      const inputs = await Promise.all([1, 2, 3].map(async (s) => ({ filename: `${s}.png`, bytes: await generatorImage(family, 10 * i + s) })));
      t.equal((await enrolImages({ embedder, gallery }, alg.id, inputs)).created, 3);
    }
  } finally {
    await services.close();
  }
  await fs.writeFile(probe, await generatorImage('bilinear4', 777));
}

const oneLine = (t: Pick<typeof tap, 'equal' | 'notMatch'>, r: { code: number | null; out: string }, what: string) => {
  t.equal(r.code, 1, `${what}: exit 1`);
  t.equal(r.out.trim().split('\n').length, 1, `${what}: one line (${r.out.trim()})`);
  t.notMatch(r.out, /^\s+at /m, `${what}: no stack trace`);
};

t.before(seedGallery);

t.test('stdout carries only the output; warnings and start-up errors are one line on stderr', async (t) => {
  // A copy of the store without its index snapshot: the services warn that they rebuild it.
  const copy = path.join(dir, 'copy');
  await fs.mkdir(copy);
  await fs.copyFile(path.join(env.DFG_GALLERY_DIR, 'gallery.sqlite'), path.join(copy, 'gallery.sqlite'));
  const info = await dfg(['gallery', 'info'], { ...env, DFG_GALLERY_DIR: copy, LOG_LEVEL: undefined });
  t.equal(info.code, 0, info.out);
  t.match(info.stderr, /"level":40,.*"msg":"index snapshot not used; rebuilding from the store"/, 'a warning on stderr');
  t.match(JSON.parse(info.stdout), { counts: { algorithms: 2, samples: SAMPLES }, coverage: { stored: SAMPLES } }, 'stdout is the JSON document alone');

  const missing = await dfg(['gallery', 'info'], { ...env, DFG_MODEL: 'no-such-model', LOG_LEVEL: undefined });
  oneLine(t, missing, 'an unknown DFG_MODEL');
  t.match(missing.out, /^DFG_ERR_MODEL_NOT_FOUND: Model no-such-model not found/);
});

t.test('dfg attribute: JSON lines with -k candidates, or a table', async (t) => {
  const ok = await dfg(['attribute', probe, '--json', '-k', '1'], { ...env, LOG_LEVEL: undefined });
  t.equal(ok.code, 0, ok.out);
  const lines = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; decision: string; candidates: { algorithm: { name: string } }[] });
  t.equal(lines.length, 1, 'one JSON line per image, nothing else on stdout');
  t.equal(lines[0]!.file, probe);
  t.equal(lines[0]!.candidates.length, 1, '-k 1: one candidate');
  t.equal(lines[0]!.candidates[0]!.algorithm.name, 'bilinear4');

  const table = await dfg(['attribute', probe], env);
  t.equal(table.code, 0, table.out);
  const [head, rule, row] = table.stdout.split('\n');
  t.match(head, /^file\s+decision\s+algorithm\s+score\s+threshold\s+margin\s+candidates$/);
  t.match(rule, /^-+ {2}-+/);
  t.match(row, /^probe\.png\s+(attributed|unknown)\s+\S+\s+\d\.\d{3}\s+\d\.\d{3}\s+\d\.\d{3}\s+bilinear4:\d\.\d{3} nearest2:/, 'default k 3: both algorithms');
});

t.test('dfg gallery rebuild, then reembed with another model a page at a time', async (t) => {
  const rebuilt = await dfg(['gallery', 'rebuild'], env);
  t.equal(rebuilt.code, 0, rebuilt.out);
  t.match(rebuilt.stdout, new RegExp(`^rebuilt ${SAMPLES} entries in \\d+ ms`));

  // Before the fix, any --batch over the gallery's page limit (1000) failed once the model was loaded.
  const reembed = await dfg(['gallery', 'reembed', '--model', 'residual-v1', '--batch', '1000', '--json'], env);
  t.equal(reembed.code, 0, reembed.out);
  t.match(JSON.parse(reembed.stdout), { modelId: 'residual-v1', total: SAMPLES, stored: SAMPLES, notKept: 0, failed: 0, switch: null });
});

t.test('refusals before any work', async (t) => {
  const core = (args: string[]) => dfgInProcess(registerCoreCommands, args);
  for (const k of ['0', '21', '2x', '']) {
    const r = await core(['attribute', probe, '-k', k]);
    t.match(r.error, { code: 'commander.invalidArgument', message: /-k <k>.*Expected an integer in \[1, 20\]/ }, `-k ${JSON.stringify(k)}`);
  }
  await fs.mkdir(path.join(dir, 'empty'));
  t.match((await core(['attribute', path.join(dir, 'empty')])).error?.message, /^No image files found$/, 'a folder without images');
  t.match((await core(['attribute', probe, path.join(dir, 'nothing-here.png')])).error?.message, /^No such file or folder: .*nothing-here\.png$/, 'a missing file');

  for (const b of ['0', '1001', 'abc']) {
    const r = await core(['gallery', 'reembed', '--model', 'residual-v2', '--batch', b]);
    t.match(r.error, { code: 'commander.invalidArgument', message: /Expected an integer in \[1, 1000\]/ }, `--batch ${b}`);
  }
  t.match((await core(['gallery', 'reembed', '--model', 'residual-v2:0.5'])).error?.message, /Expected one model id \(no weight\)/);
  const badSwitch = await core(['gallery', 'reembed', '--model', 'residual-v2', '--switch', 'residual-v2,no-such-model']);
  t.match(badSwitch.error, { code: 'DFG_ERR_MODEL_NOT_FOUND' }, 'an unknown model in --switch');
  const g = await openGallery({ dir: env.DFG_GALLERY_DIR, modelId: 'residual-v2', dim: (await loadManifest(env.DFG_MODELS_DIR, 'residual-v2')).manifest.output.dim });
  t.equal((await g.samplesMissing('residual-v2', 0, 1000)).length, SAMPLES, 'and no vector was stored before the refusal');
  await g.close();

  process.env.DFG_MODELS_DIR = path.join(dir, 'no-models');
  t.match((await core(['models', 'list'])).error?.message, /DFG_MODELS_DIR .*no-models is not a folder/);
  process.env.DFG_MODELS_DIR = env.DFG_MODELS_DIR;
});

t.test('dfg calibrate: --dry-run stores nothing, --json prints the stored version', async (t) => {
  const cal = (args: string[]) => dfgInProcess(registerCalibrateCommand, ['calibrate', ...args]);
  for (const v of ['0', '1', '1.5', 'abc', '']) {
    t.match((await cal(['--target-fpir', v])).error, { code: 'commander.invalidArgument', message: /Expected a number in \(0, 1\)/ }, `--target-fpir ${JSON.stringify(v)}`);
  }
  const dry = await cal(['--dry-run', '--json', '--target-fpir', '0.2']);
  t.equal(dry.error, null);
  t.match(JSON.parse(dry.stdout), { version: null, stats: { targetFpir: 0.2, global: { genuine: SAMPLES } } });
  const stored = await cal(['--json', '--target-fpir', '0.2']);
  t.match(JSON.parse(stored.stdout), { version: 1 }, 'the dry run stored nothing: the first stored calibration is version 1');

  process.env.DFG_GALLERY_DIR = path.join(dir, 'empty-gallery');
  await (await openGallery({ dir: process.env.DFG_GALLERY_DIR, modelId: 'residual-v1', dim: (await loadManifest(env.DFG_MODELS_DIR, 'residual-v1')).manifest.output.dim })).close();
  t.match((await cal([])).error, { code: 'DFG_ERR_CALIBRATION_INSUFFICIENT' }, 'an empty gallery cannot be calibrated');
  process.env.DFG_GALLERY_DIR = env.DFG_GALLERY_DIR;
});
