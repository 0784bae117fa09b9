/**
 * `dfg genome photos | synth | fit` end to end on tiny inputs (test/genome.test.ts covers the
 * functions): what each writes and prints, and refusals of folders that cannot be used.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { ROOT, tempDir } from './helpers/app.js';
import { dfg, dfgInProcess } from './helpers/cli.js';
import { generatorImage } from './helpers/images.js';
import { registerGenomeCommands } from '../src/cli/commands/genome.js';
import type { GenomeFile } from '../src/genome/synth.js';

t.test('photos → synth → fit', async (t) => {
  const dir = tempDir('dfg-cli-genome-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: '1', XDG_CACHE_HOME: path.join(dir, 'cache') };
  const at = (...p: string[]) => path.join(dir, ...p);
  fs.mkdirSync(at('src', 'sub'), { recursive: true });
  fs.writeFileSync(at('src', 'a.png'), await generatorImage('camera', 1));
  fs.writeFileSync(at('src', 'sub', 'b.png'), await generatorImage('camera', 2));

  // 256 px photos, 64 px patches: one at native resolution, one at 1/2 and one at 1/4 scale each.
  const photos = await dfg(['genome', 'photos', '--src', at('src'), '--out', at('patches'), '--size', '64', '--per-image', '1'], env);
  t.equal(photos.code, 0, photos.out);
  t.match(photos.stdout, /^6 patches from 2 photos written to .*patches \(0 skipped\)$/m);
  const patches = fs.readdirSync(at('patches'));
  t.equal(patches.length, 6);
  t.ok(patches.every((p) => /^(a|sub_b)__s[124]_\d+_\d+\.png$/.test(p)), `patch names say photo, scale and position: ${patches.join(' ')}`);
  t.match(await sharp(at('patches', patches[0]!)).metadata(), { width: 64, height: 64 });

  const synth = await dfg(['genome', 'synth', '--real', at('patches'), '--out', at('genome'), '--algorithms', '3', '--per-algorithm', '2', '--size', '64'], env);
  t.equal(synth.code, 0, synth.out);
  t.match(synth.stdout, /^3 algorithms x 2 images from 6 photos in [\d.]+ s → .*genome$/m);
  const genome = JSON.parse(fs.readFileSync(at('genome', 'genome.json'), 'utf8')) as GenomeFile;
  t.match(genome, { generator: { tool: 'dfg genome synth' }, seed: '1', size: 64, perAlgorithm: 2, realPhotos: 6 });
  const names = Object.keys(genome.algorithms);
  t.equal(names.length, 3);
  t.same(fs.readdirSync(at('genome')).sort(), [...names, 'genome.json'].sort(), 'one folder per algorithm beside genome.json');
  for (const name of names) {
    const images = fs.readdirSync(at('genome', name));
    t.equal(images.length, 2, `${name}: 2 images`);
    t.match(await sharp(at('genome', name, images[0]!)).metadata(), { width: 64, height: 64 }, `${name}: --size 64`);
    t.ok(genome.families[genome.algorithms[name]!.family], `${name}: its family is described`);
  }

  const out = at('proj', 'projection.json');
  const fit = await dfg(['genome', 'fit', '--genome', at('genome'), '--out', out, '--dim', '2'], env);
  t.equal(fit.code, 0, fit.out);
  t.match(fit.stdout, /^projection \d+ → 2 from 6 images of 3 algorithms written to .*projection\.json$/m);
  const committed = createHash('sha256').update(fs.readFileSync(path.join(ROOT, 'models', 'residual-v1', 'model.onnx'))).digest('hex');
  t.match(JSON.parse(fs.readFileSync(out, 'utf8')), { format: 'dfg-projection/1', baseModel: 'residual-v1', baseOnnxSha256: committed, outputDim: 2, fit: { images: 6, algorithms: 3 } });

  // Refusals, in this process: nothing is written.
  const genomeCmd = (args: string[]) => dfgInProcess(registerGenomeCommands, ['genome', ...args]);
  const tooBig = await genomeCmd(['photos', '--src', at('src'), '--out', at('none'), '--size', '512']);
  t.match(tooBig.error?.message, /^No patches written: none of the 2 photos under .* has a 512 px square/, 'photos: every photo too small');
  t.match(tooBig.stderr, /skipped a\.png: 256x256 is smaller than 512 px/, 'and each skipped photo says why');
  t.match((await genomeCmd(['photos', '--src', at('missing'), '--out', at('none')])).error, { code: 'DFG_ERR_GENOME_INVALID', message: /--src .*missing cannot be read/ });
  t.match((await genomeCmd(['synth', '--real', at('patches'), '--out', at('genome'), '--algorithms', '3'])).error, { code: 'DFG_ERR_GENOME_INVALID', message: /is not empty/ }, 'synth: into a used folder');
  t.match((await genomeCmd(['synth', '--real', at('patches'), '--out', at('none'), '--algorithms', '0'])).error, { code: 'commander.invalidArgument' });
  t.match((await genomeCmd(['fit', '--genome', at('patches'), '--out', at('p.json'), '--dim', '2'])).error, { code: 'DFG_ERR_GENOME_INVALID', message: /has no genome\.json/ }, 'fit: a folder synth did not write');
  t.notOk(fs.existsSync(at('p.json')), 'no projection written');
});
