/**
 * What `dfg demo` does (its options: ../commands/demo.ts): synthesises images of a few simulated
 * forgery algorithms (the genome, on stand-in photos), then, through the service's HTTP API,
 * registers all of them but one, enrols their images except one held back each, and attributes a
 * held-back image and an image of the unregistered algorithm, printing what the service answers.
 * The demo's algorithms are named `demo-…` and described `dfg demo: …`; a run first removes those
 * of an earlier run, `--reset` only removes them.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { synthGenome, type GenomeFile } from '../../genome/synth.js';
import { writeStandInPhotos } from '../../genome/stand-in-photos.js';
import { formData, imageFile, type components } from '../../api-client/index.js';
import { api, ok, type ApiOptions, type CliApi } from '../api.js';
import { progressBar } from '../progress.js';

type Attribution = components['schemas']['Attribution'];

export interface DemoOptions extends ApiOptions {
  out?: string;
  algorithms: number;
  samples: number;
  seed: string;
  imagesOnly?: boolean;
  reset?: boolean;
  json?: boolean;
  /** Seconds to wait for the service's automatic calibration of the new samples before attributing (0: none). */
  wait: number;
}

/** Whole-picture generators: every pixel carries the algorithm's traces (the region families leave most of the photo as it was). */
export const DEMO_FAMILIES = ['transposed-conv', 'nearest-conv', 'bilinear-conv', 'pixel-shuffle', 'latent-diffusion', 'multiscale-vq'];
const NAME_PREFIX = 'demo-';
const DESCRIPTION_PREFIX = 'dfg demo: ';
const SIZE = 256;
const PHOTOS = 8;
/** Stand-in photos a bit larger than the output, so the genome's larger work sizes crop without enlarging. */
const PHOTO_SIZE = 384;

export interface DemoAlgorithm {
  /** The genome's name (also its folder under genome/). */
  genomeName: string;
  /** The name it is registered under (`demo-` + genome name), or null for the unregistered one. */
  name: string | null;
  family: string;
  forgeryType: string;
  architecture: string;
  /** Image files: the first `samples` are enrolled, the last is held back. */
  files: string[];
}

export interface DemoImages {
  out: string;
  genome: GenomeFile;
  registered: DemoAlgorithm[];
  unregistered: DemoAlgorithm;
}

/** The genome an earlier run with these options wrote under `out`, or null. */
async function earlierGenome(out: string, o: Pick<DemoOptions, 'algorithms' | 'samples' | 'seed'>): Promise<GenomeFile | null> {
  const text = await fs.readFile(path.join(out, 'genome', 'genome.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  let g: Partial<GenomeFile>;
  try {
    g = JSON.parse(text) as Partial<GenomeFile>;
  } catch {
    return null;
  }
  const algorithms = Object.values(g.algorithms ?? {});
  const same = g.generator?.tool === 'dfg genome synth' && g.seed === o.seed && g.size === SIZE && g.perAlgorithm === o.samples + 1
    && algorithms.length === o.algorithms + 1 && algorithms.every((a) => DEMO_FAMILIES.includes(a.family));
  return same ? (g as GenomeFile) : null;
}

/**
 * Writes stand-in photos and the genome under `out` (absent or empty), or reuses those an earlier
 * run with the same options wrote there (same options, same bytes); `reused` says which.
 */
export async function writeDemoImages(out: string, o: Pick<DemoOptions, 'algorithms' | 'samples' | 'seed'>): Promise<DemoImages & { reused: boolean }> {
  const existing = await fs.readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new Error(`--out ${out} cannot be used: ${err.message}`, { cause: err });
  });
  const genomeDir = path.join(out, 'genome');
  let genome = existing.length > 0 ? await earlierGenome(out, o) : null;
  const reused = genome !== null;
  if (existing.length > 0 && !genome) {
    throw new Error(`--out ${out} is not empty and holds no demo images made with these options (--seed, --algorithms, --samples); choose a new folder (or leave --out out for a temporary one)`);
  }
  if (!genome) {
    await writeStandInPhotos({ outDir: path.join(out, 'photos'), count: PHOTOS, size: PHOTO_SIZE, seed: o.seed });
    let bar: ReturnType<typeof progressBar> | undefined;
    genome = await synthGenome({
      realDir: path.join(out, 'photos'), outDir: genomeDir, algorithms: o.algorithms + 1, perAlgorithm: o.samples + 1, seed: o.seed, size: SIZE, families: DEMO_FAMILIES,
      onProgress: (_done, total, name) => {
        bar ??= progressBar('synthesising', total);
        bar.tick(1, name);
      },
    });
    bar?.stop();
  }
  const algorithms: DemoAlgorithm[] = [];
  for (const [genomeName, a] of Object.entries(genome.algorithms)) {
    const files = (await fs.readdir(path.join(genomeDir, genomeName)).catch(() => [])).sort().map((f) => path.join(genomeDir, genomeName, f));
    if (files.length !== o.samples + 1) throw new Error(`--out ${out}: genome/${genomeName} holds ${files.length} files, not the ${o.samples + 1} images the demo wrote; choose a new folder`);
    algorithms.push({ genomeName, name: `${NAME_PREFIX}${genomeName}`, family: a.family, forgeryType: a.forgeryType, architecture: a.architecture, files });
  }
  const unregistered = algorithms.pop()!;
  return { out, genome, registered: algorithms, unregistered: { ...unregistered, name: null }, reused };
}

/** The service's algorithms that an earlier `dfg demo` registered. */
async function demoAlgorithms(service: CliApi): Promise<Array<{ id: string; name: string }>> {
  const found: Array<{ id: string; name: string }> = [];
  for (let offset = 0; ; ) {
    const page = await ok(service.client.GET('/v1/algorithms', { params: { query: { limit: 500, offset } } }));
    for (const a of page.items) if (a.name.startsWith(NAME_PREFIX) && a.description.startsWith(DESCRIPTION_PREFIX)) found.push({ id: a.id, name: a.name });
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) return found;
  }
}

async function removeDemoAlgorithms(service: CliApi): Promise<string[]> {
  const found = await demoAlgorithms(service);
  for (const a of found) await ok(service.client.DELETE('/v1/algorithms/{id}', { params: { path: { id: a.id } } }));
  return found.map((a) => a.name);
}

const rel = (out: string, file: string) => path.relative(out, file);
const fixed = (v: number) => v.toFixed(3);

/** The service's answer for one image, as lines; `expected` is the registered name of the algorithm that made it, or null. */
export function describeAnswer(a: Attribution, expected: string | null): string[] {
  const lines = [`  decision   ${a.decision}`];
  if (a.algorithm) {
    const verdict = expected === null ? 'but that algorithm did not make it' : a.algorithm.name === expected ? 'the algorithm that made it' : `not ${expected}, which made it`;
    lines.push(`  algorithm  ${a.algorithm.name} (${a.algorithm.forgeryType}, ${a.algorithm.architecture}): ${verdict}`);
  }
  lines.push(`  score      ${fixed(a.score)} (threshold ${fixed(a.threshold)}, margin over the runner-up ${fixed(a.margin)})`);
  if (a.decision === 'unknown' && a.candidates.length > 0) {
    lines.push(`  why        ${a.score < a.threshold ? 'the best score is below the threshold' : 'the best score is too close to the runner-up\'s'}: no registered algorithm claims it`);
  }
  const best = a.candidates.slice(0, 3).map((c) => `${c.algorithm.name} ${fixed(c.score)}`);
  lines.push(`  candidates ${best.length ? best.join(', ') : '(none: the gallery is empty)'}`);
  return lines;
}

/** The service's current calibration (version and the algorithms it covers), or null before any. */
async function currentCalibration(service: CliApi): Promise<{ version: number; global: number; ids: Set<string> } | null> {
  const call = service.client.GET('/v1/calibration');
  const { response } = await call;
  if (response.status === 404) return null;
  const c = await ok(call);
  return { version: c.version ?? 0, global: c.global, ids: new Set(c.perAlgorithm.map((a) => a.algorithmId)) };
}

/**
 * Waits until a calibration newer than `after` covers every id (the service calibrates on its own
 * once enrolments have settled, DFG_AUTO_CALIBRATE_MS); resolves to it, or null at the deadline.
 */
async function awaitCalibration(service: CliApi, after: number, ids: string[], seconds: number): Promise<{ version: number; global: number } | null> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const c = await currentCalibration(service);
    if (c && c.version > after && ids.every((id) => c.ids.has(id))) return c;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(0, deadline - Date.now()))));
  }
}

async function attributeFile(service: CliApi, file: string): Promise<Attribution> {
  return ok(service.client.POST('/v1/attribute', {
    params: { query: { k: 3 } },
    body: { file: imageFile(path.basename(file), await fs.readFile(file)) },
    bodySerializer: formData,
  }));
}

/** What `dfg demo --json` prints. */
export interface DemoSummary {
  service: string | null;
  out: string;
  registered: Array<DemoAlgorithm & { id: string | null; enrolled: { created: number; duplicates: number; failed: number } | null }>;
  unregistered: DemoAlgorithm;
  /** The calibration the demo waited for (null: none came in time; absent: it did not wait). */
  calibration?: { version: number; global: number } | null;
  /** The service's answers for the held-back image of the first registered algorithm and for an image of the unregistered one. */
  answers: { registered: { file: string; expected: string; answer: Attribution }; unregistered: { file: string; answer: Attribution } } | null;
}

/** `dfg demo` */
export async function demo(o: DemoOptions): Promise<void> {
  const say = (line: string) => (o.json ? console.error(line) : console.log(line));
  if (o.reset) {
    const service = api(o);
    const removed = await removeDemoAlgorithms(service);
    if (o.json) console.log(JSON.stringify({ service: service.base, removed }));
    else console.log(removed.length ? `removed ${removed.length} demo algorithm(s) and their samples from ${service.base}: ${removed.join(', ')}` : `no demo algorithms on ${service.base}`);
    return;
  }
  // Reach the service before writing anything or spending seconds on images.
  const service = o.imagesOnly ? null : api(o);
  const gallery = service ? await ok(service.client.GET('/v1/gallery')) : null;
  const out = path.resolve(o.out ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-demo-'))));

  say(`1. synthesising ${o.algorithms + 1} algorithms x ${o.samples + 1} images (simulated genome, seed ${JSON.stringify(o.seed)}) into ${out}`);
  const started = Date.now();
  const images = await writeDemoImages(out, o);
  if (images.reused) say('   (the images an earlier run wrote there with these options: same options, same images)');
  for (const a of [...images.registered, images.unregistered]) {
    say(`   ${a.genomeName.padEnd(22)} ${a.family} (${a.forgeryType}, ${a.architecture})${a.name ? '' : '  (left unregistered)'}`);
  }
  say(`   ${((Date.now() - started) / 1000).toFixed(1)} s; photos/ holds the stand-in photos they were made from, genome/genome.json every algorithm's parameters`);
  const summary: DemoSummary = {
    service: service?.base ?? null, out, registered: images.registered.map((a) => ({ ...a, id: null, enrolled: null })), unregistered: images.unregistered, answers: null,
  };
  if (!service || !gallery) {
    if (o.json) console.log(JSON.stringify(summary, null, 2));
    else say(`images written to ${out}`);
    return;
  }

  say(`2. registering ${images.registered.length} algorithms on ${service.base} (model ${gallery.model.id})`);
  const removed = await removeDemoAlgorithms(service);
  if (removed.length) say(`   removed ${removed.length} demo algorithm(s) of an earlier run first`);
  for (const a of summary.registered) {
    const created = await ok(service.client.POST('/v1/algorithms', {
      body: {
        name: a.name!,
        forgeryType: a.forgeryType as components['schemas']['Algorithm']['forgeryType'],
        architecture: a.architecture as components['schemas']['Algorithm']['architecture'],
        description: `${DESCRIPTION_PREFIX}simulated ${a.family} algorithm, genome seed ${o.seed}`,
      },
    }));
    a.id = created.id;
    say(`   ${created.name.padEnd(27)} ${created.id}`);
  }

  const calibratedBefore = (await currentCalibration(service))?.version ?? 0;
  say(`3. enrolling ${o.samples} images of each (the last image of each is held back)`);
  const bar = progressBar('enrolling', images.registered.length * o.samples);
  const enrolled: string[] = [];
  for (const a of summary.registered) {
    const files = await Promise.all(a.files.slice(0, o.samples).map(async (f) => imageFile(path.basename(f), await fs.readFile(f))));
    const r = await ok(service.client.POST('/v1/algorithms/{id}/samples', { params: { path: { id: a.id! } }, body: { files }, bodySerializer: formData }));
    bar.tick(files.length, a.name!);
    a.enrolled = { created: r.created, duplicates: r.duplicates, failed: r.failed };
    enrolled.push(`   ${a.name!.padEnd(27)} ${r.created} created, ${r.duplicates} duplicate, ${r.failed} failed`);
    for (const f of r.results) if (f.status === 'error') enrolled.push(`     ${f.filename}: ${f.error?.code}: ${f.error?.message}`);
  }
  bar.stop();
  for (const line of enrolled) say(line);

  let step = 4;
  if (o.wait > 0) {
    say(`${step++}. waiting up to ${o.wait} s for the service to calibrate its thresholds on the new samples (it does so once enrolments have settled: DFG_AUTO_CALIBRATE_MS, 10 s by default)`);
    const waited = Date.now();
    const c = await awaitCalibration(service, calibratedBefore, summary.registered.map((a) => a.id!), o.wait);
    summary.calibration = c ? { version: c.version, global: c.global } : null;
    say(c
      ? `   calibration ${c.version} after ${((Date.now() - waited) / 1000).toFixed(1)} s: threshold ${fixed(c.global)}`
      : `   no calibration of these samples within ${o.wait} s (automatic calibration off?): the answers below use the service's current thresholds`);
  }
  const probe = images.registered[0];
  const probeFile = probe.files[o.samples];
  const strangerFile = images.unregistered.files[o.samples];
  say(`${step++}. attributing a held-back image of ${probe.name}: ${rel(out, probeFile)}`);
  const registeredAnswer = await attributeFile(service, probeFile);
  for (const line of describeAnswer(registeredAnswer, probe.name)) say(line);
  say(`${step}. attributing an image of the unregistered ${images.unregistered.genomeName}: ${rel(out, strangerFile)}`);
  const unregisteredAnswer = await attributeFile(service, strangerFile);
  for (const line of describeAnswer(unregisteredAnswer, null)) say(line);
  summary.answers = { registered: { file: probeFile, expected: probe.name!, answer: registeredAnswer }, unregistered: { file: strangerFile, answer: unregisteredAnswer } };

  say('');
  say('Now by hand (README, "Five minutes with dfg demo"):');
  say(`  curl -s -XPOST ${service.base}/v1/attribute -F file=@${probeFile}`);
  say(`  curl -s -XPOST ${service.base}/v1/attribute -F file=@${strangerFile}`);
  say(`  dfg demo --reset    # removes the ${images.registered.length} demo algorithms`);
  if (o.json) console.log(JSON.stringify(summary, null, 2));
}
