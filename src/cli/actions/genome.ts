/**
 * What `dfg genome photos | synth | fit` do: cut real-photo patches, render the simulated
 * algorithms, learn a projection of a base model's features on them. Their options:
 * ../commands/genome.ts.
 */
import { loadConfig } from '../../config/index.js';
import { fitGenomeProjection, type FitMethod } from '../../genome/fit-command.js';
import { cutPhotoPatches } from '../../genome/photos.js';
import { synthGenome } from '../../genome/synth.js';
import { progressBar } from '../progress.js';

/** `dfg genome photos` */
export async function photos(o: { src: string; out: string; size: number; perImage: number; seed: string }): Promise<void> {
  const r = await cutPhotoPatches({ srcDir: o.src, outDir: o.out, size: o.size, perImage: o.perImage, seed: o.seed });
  for (const s of r.skipped) console.error(`skipped ${s.file}: ${s.reason}`);
  if (r.patches === 0) throw new Error(`No patches written: none of the ${r.photos + r.skipped.length} photos under ${o.src} has a ${o.size} px square with fine detail`);
  console.log(`${r.patches} patches from ${r.photos} photos written to ${o.out} (${r.skipped.length} skipped)`);
}

/** `dfg genome synth` */
export async function synth(o: { real: string; out: string; algorithms: number; perAlgorithm: number; seed: string; size: number; families?: string[] }): Promise<void> {
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
}

/** `dfg genome fit` */
export async function fit(o: { genome: string; out: string; base: string; method: FitMethod; dim: number; shrinkage: number; threads: number; real?: string; centre?: boolean }): Promise<void> {
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
}
