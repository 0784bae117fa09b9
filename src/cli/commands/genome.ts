/**
 * `dfg genome`: the simulated forgery genome. `photos` cuts real-photo patches, `synth`
 * renders the algorithms, `fit` learns a projection of a base model's features on them.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { FAMILY_NAMES } from '../../genome/families/index.js';
import { fitGenomeProjection, type FitMethod } from '../../genome/fit-command.js';
import { cutPhotoPatches } from '../../genome/photos.js';
import { synthGenome } from '../../genome/synth.js';
import { progressBar } from '../progress.js';

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min} but received ${JSON.stringify(v)}`);
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError(`Expected a number in [0, 1) but received ${JSON.stringify(v)}`);
  return n;
};
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** Registers `dfg genome photos|synth|fit` on the program. */
export function registerGenomeCommands(program: Command): void {
  const genome = program.command('genome').description('Simulated forgery genome: real-photo patches, synthetic algorithms, projections learned on them');

  genome
    .command('photos')
    .description('Cut real photos (recursively under --src) into square patches at native resolution plus 1/2 and 1/4 scale')
    .requiredOption('--src <dir>', 'folder of real photos (e.g. extracted wallpaper packages; see scripts/gather-real-photos.sh)')
    .requiredOption('--out <dir>', 'patch folder')
    .option('--size <px>', 'patch side', integer(64), 384)
    .option('--per-image <n>', 'native-resolution patches per photo', integer(1), 6)
    .option('--seed <seed>', 'seed of the patch positions', '1')
    .action(async (o: { src: string; out: string; size: number; perImage: number; seed: string }) => {
      const r = await cutPhotoPatches({ srcDir: o.src, outDir: o.out, size: o.size, perImage: o.perImage, seed: o.seed });
      for (const s of r.skipped) console.error(`skipped ${s.file}: ${s.reason}`);
      if (r.patches === 0) throw new Error(`No patches written: none of the ${r.photos + r.skipped.length} photos under ${o.src} has a ${o.size} px square with fine detail`);
      console.log(`${r.patches} patches from ${r.photos} photos written to ${o.out} (${r.skipped.length} skipped)`);
    });

  genome
    .command('synth')
    .description('Synthesise forgery algorithms from real photos into a dataset folder with genome.json')
    .requiredOption('--real <dir>', 'folder of real photos or patches (at least --size px; patches from `dfg genome photos`)')
    .requiredOption('--out <dir>', 'output dataset folder (absent or empty)')
    .option('--algorithms <n>', 'number of algorithms', integer(1), 100)
    .option('--per-algorithm <n>', 'images per algorithm', integer(1), 20)
    .option('--seed <seed>', 'seed of everything drawn', '1')
    .option('--size <px>', 'output side in pixels (multiple of 16)', integer(64), 256)
    .option('--families <names>', `comma-separated subset of: ${FAMILY_NAMES.join(', ')}`, list)
    .action(async (o: { real: string; out: string; algorithms: number; perAlgorithm: number; seed: string; size: number; families?: string[] }) => {
      let bar: ReturnType<typeof progressBar> | undefined;
      const started = Date.now();
      const g = await synthGenome({
        realDir: o.real, outDir: o.out, algorithms: o.algorithms, perAlgorithm: o.perAlgorithm, seed: o.seed, size: o.size, families: o.families,
        onProgress: (done, total, name) => {
          bar ??= progressBar('synthesising', total);
          bar.tick(1, name);
        },
      });
      bar?.stop();
      const counts = new Map<string, number>();
      for (const a of Object.values(g.algorithms)) counts.set(a.family, (counts.get(a.family) ?? 0) + 1);
      console.log(`${Object.keys(g.algorithms).length} algorithms x ${g.perAlgorithm} images from ${g.realPhotos} photos in ${((Date.now() - started) / 1000).toFixed(1)} s → ${o.out}`);
      console.log([...counts].map(([f, n]) => `${f} ${n}`).join(', '));
    });

  genome
    .command('fit')
    .description('Fit a projection of a base model\'s features on a genome folder (LDA with shrinkage, NAP, WCCN or PCA); writes the projection JSON that the residual-lda-v1 and residual-v3 builders read')
    .requiredOption('--genome <dir>', 'genome dataset folder (from `dfg genome synth`); never a validation set')
    .requiredOption('--out <file>', 'projection JSON (e.g. models/residual-lda-v1/projection.json)')
    .option('--base <id>', 'base model id in the models folder', 'residual-v1')
    .option('--method <m>', 'lda (centred discriminant projection to --dim), nap (remove --dim within-algorithm directions), wccn (within-class whitening) or pca (the --dim leading principal axes, no labels)', 'lda')
    .option('--dim <n>', 'lda, pca: output dimension; nap: directions removed', integer(1), 96)
    .option('--real <dir>', 'pca: also fit on this folder of real-photo patches (from `dfg genome photos`)')
    .option('--centre', 'pca: subtract the features\' mean before projecting (default: uncentred, zero stays zero)')
    .option('--shrinkage <s>', 'within-class scatter shrinkage toward its mean variance, in [0, 1)', nonNegative, 0.1)
    .option('--threads <n>', 'onnxruntime threads', integer(1), 1)
    .action(async (o: { genome: string; out: string; base: string; method: FitMethod; dim: number; shrinkage: number; threads: number; real?: string; centre?: boolean }) => {
      const config = loadConfig();
      let bar: ReturnType<typeof progressBar> | undefined;
      const p = await fitGenomeProjection({
        genomeDir: o.genome, outFile: o.out, modelsDir: config.DFG_MODELS_DIR, baseModel: o.base, method: o.method, dim: o.dim, shrinkage: o.shrinkage, threads: o.threads, realDir: o.real, centre: o.centre,
        limits: { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS },
        onProgress: (done, total) => {
          bar ??= progressBar('embedding', total);
          bar.tick(1);
        },
      });
      bar?.stop();
      console.log(`projection ${p.inputDim} → ${p.outputDim} from ${p.fit.images} images of ${p.fit.algorithms} algorithms written to ${o.out}`);
      if (p.fit.explained !== undefined) console.log(`variance kept: ${(p.fit.explained * 100).toFixed(1)}% (${p.fit.genomeImages} genome images, ${p.fit.real?.patches ?? 0} real patches)`);
      else console.log(`discriminant ratios (top 5): ${p.fit.eigenvalues.slice(0, 5).map((v) => v.toFixed(3)).join(', ')}`);
    });
}
