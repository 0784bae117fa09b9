/**
 * The GPU training command at toy scale on the CPU (issue 17): pack a generated dataset, train
 * scripts/train/train.py --toy with PyTorch, and load what it writes as a model the service
 * serves. Needs a python3 with torch and numpy (Debian's python3-torch; `.ci/run` installs it).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pack } from '../scripts/train/pack.js';
import { generatorImage, type Family } from './helpers/images.js';
import { ROOT, tempDir } from './helpers/app.js';
import { loadManifest } from '../src/embedding/manifest.js';
import { createEmbedder } from '../src/embedding/index.js';

/** A python3 that imports torch: DFG_PYTHON, else python3 on PATH, else Debian's. */
function torchPython(): string | null {
  for (const py of [process.env.DFG_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    if (spawnSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

const python = torchPython();

t.test('pack → train --toy → a model the service loads and serves', { skip: python || process.env.CI ? false : 'no python3 with torch (apt-get install python3-torch)' }, async (t) => {
  t.ok(python, 'a python3 with torch (CI installs python3-torch)');
  if (!python) return;
  const dir = tempDir('dfg-train-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  const families: Family[] = ['nearest2', 'bilinear4', 'jpeg50'];
  for (const f of families) {
    fs.mkdirSync(path.join(data, f), { recursive: true });
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(data, f, `img${i}.png`), await generatorImage(f, 10 * i + families.indexOf(f), 96));
  }
  // One image too small for the crop: skipped, not an error.
  fs.writeFileSync(path.join(data, 'nearest2', 'tiny.png'), await generatorImage('nearest2', 99, 16));

  const packFile = path.join(dir, 'pack.bin');
  const lines: string[] = [];
  const packed = await pack({ data: [data], out: packFile, crop: 32, perImage: 3, maxMiB: 40, seed: '1', log: (l) => lines.push(l) });
  t.equal(packed.classes, 3);
  t.equal(packed.count, 12 * 3, '3 crops of each of the 12 usable images');
  t.match(lines.join('\n'), /1 smaller images skipped/);
  t.ok(fs.statSync(packFile).size < 12 * 3 * 32 * 32 * 3, 'compressed');

  const out = path.join(dir, 'models', 'toy-v1');
  const run = spawnSync(python, [path.join(ROOT, 'scripts/train/train.py'), '--pack', packFile, '--out', out, '--id', 'toy-v1', '--toy', '--holdout', '0.34', '--device', 'cpu'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(run.status, 0, `train.py exits 0\n${run.stderr.slice(-2000)}`);
  const log = fs.readFileSync(path.join(out, 'train.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(log.map((e) => e.event), ['start', 'step', 'step', 'done', 'exported'], 'progress lines, then done and exported');
  t.equal(log[0]!.held_out && (log[0]!.held_out as string[]).length, 1, 'one generator held out of training');
  const done = log.find((e) => e.event === 'done')!;
  t.equal(done.steps, 20);
  t.ok(typeof done.val_rank1 === 'number' && done.val_rank1 >= 0 && done.val_rank1 <= 1, 'leave-generators-out validation reported');

  // The service reads the manifest and serves the model as it is.
  const { manifest } = await loadManifest(path.join(dir, 'models'), 'toy-v1');
  t.equal(manifest.output.dim, 16);
  t.equal(manifest.crop.size, 32);
  const embedder = await createEmbedder({ modelsDir: path.join(dir, 'models'), modelId: 'toy-v1', threads: 1, maxQueue: 8, limits: { maxBytes: 1 << 24, maxPixels: 1 << 24 } });
  t.teardown(() => embedder.close());
  const r = await embedder.embed(await generatorImage('bilinear4', 123, 80));
  t.equal(r.vector.length, 16);
  const norm = Math.hypot(...r.vector);
  t.ok(Math.abs(norm - 1) < 1e-4, 'unit vector');
  t.equal(embedder.cohort, null, 'no cohort until dfg models cohort makes one');
});
