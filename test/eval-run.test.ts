import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runEvaluation, type EmbedFn, type EvalOptions } from '../src/evaluation/run.js';
import { contentEmbedding, CONTENT_BASELINE } from '../src/evaluation/content-baseline.js';
import { writeReport, summaryTable } from '../src/evaluation/report.js';
import { perAlgorithmSvg } from '../src/evaluation/plots.js';
import { svgToPng } from '../src/embedding/render.js';
import { createRng } from '../src/math/random.js';
import { dfgError } from '../src/errors.js';
import type { Report, Stat } from '../src/evaluation/types.js';
import { evaluateSplit, splitMetrics, UNKNOWN_LABEL } from '../src/evaluation/evaluate-split.js';
import { unitVector } from '../src/math/vector.js';

// Six classes, each with its own colour and stripe frequency (a stand-in for a generator
// trace), 3 source groups of 4 tiles. Generated here, so the test needs no external data.
const CLASSES = [
  { name: 'real', forgeryType: 'authentic', architecture: 'authentic', base: [120, 110, 100], f: 1 },
  { name: 'gan-a', forgeryType: 'EFS', architecture: 'GAN', base: [200, 60, 60], f: 2 },
  { name: 'gan-b', forgeryType: 'EFS', architecture: 'GAN', base: [60, 200, 60], f: 3 },
  { name: 'diff-c', forgeryType: 'EFS', architecture: 'Diffusion', base: [60, 60, 200], f: 4 },
  { name: 'diff-d', forgeryType: 'FE', architecture: 'Diffusion', base: [200, 200, 60], f: 5 },
  { name: 'swap-e', forgeryType: 'FS', architecture: 'CNN', base: [60, 200, 200], f: 6 },
];
const SIDE = 32;

async function makeDataset(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-eval-run-'));
  const rng = createRng('eval-run-images');
  const genome: Record<string, object> = {};
  for (const c of CLASSES) {
    genome[c.name] = { forgeryType: c.forgeryType, architecture: c.architecture, family: c.architecture };
    await fs.mkdir(path.join(root, c.name));
    for (let g = 0; g < 3; g += 1) {
      const phase = rng.next() * 0.6; // sources of one class differ a little
      for (let k = 0; k < 4; k += 1) {
        const px = Buffer.alloc(SIDE * SIDE * 3);
        for (let y = 0; y < SIDE; y += 1) {
          for (let x = 0; x < SIDE; x += 1) {
            const stripe = 50 * Math.sin((2 * Math.PI * c.f * (x + y)) / SIDE + phase);
            for (let ch = 0; ch < 3; ch += 1) px[(y * SIDE + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(c.base[ch] + stripe + (rng.next() - 0.5) * 30)));
          }
        }
        await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(path.join(root, c.name, `src${g}__t0${k}.png`));
      }
    }
  }
  await fs.writeFile(path.join(root, 'genome.json'), JSON.stringify({ algorithms: genome }));
  await fs.writeFile(path.join(root, 'gan-a', 'broken__t00.png'), 'not an image at all');
  await fs.writeFile(path.join(root, 'gan-a', 'notes.txt'), 'x');
  return root;
}

const limits = { maxBytes: 1 << 20, maxPixels: 1 << 20 };
const model = { id: 'thumb-as-model', version: 't', dim: CONTENT_BASELINE.dim, members: [{ id: 'thumb-as-model', version: 't', dim: CONTENT_BASELINE.dim, weight: 1 }] };
// A baseline that knows nothing: a random unit direction per file.
const noise: EmbedFn = async (file) => {
  const rng = createRng(file.rel);
  return new Float32Array(Array.from({ length: 32 }, () => rng.next() - 0.5));
};

const stats = (r: Report): Stat[] => [r.rank1, r.rank5, r.mAP, r.auroc, r.oscr, r.macroF1, ...Object.values(r.dirAtFpir)];

t.test('runEvaluation end to end on a generated dataset', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  let calls = 0;
  const embed: EmbedFn = async (file) => {
    calls += 1;
    return contentEmbedding(await fs.readFile(file.path), limits);
  };
  const opts: EvalOptions = {
    dataDir: root, shots: 4, unknownFraction: 0.4, seed: 'test', repeats: 3, topM: 2, targetFpir: 0.01, margin: 0, model,
    baseline: { model: { ...model, id: 'noise', members: [] }, embed: noise },
  };
  const report = await runEvaluation(opts, embed);
  t.equal(calls, 6 * 12 + 1, 'every image embedded exactly once (the broken one tried once)');

  t.equal(report.dataset.images, 73);
  t.equal(report.dataset.usable, 72);
  t.same(report.dataset.unreadable.map((u) => u.file), ['gan-a/broken__t00.png'], 'unreadable file listed, not fatal');
  t.match(report.dataset.unreadable[0].reason, /DFG_ERR_IMAGE_UNSUPPORTED_FORMAT/);
  t.same(report.dataset.skipped.map((s) => s.file), ['gan-a/notes.txt']);

  t.same(Object.keys(report.dirAtFpir), ['0.01', '0.001']);
  t.same(report.protocol.groups, Object.fromEntries(CLASSES.map((c) => [c.name, 3])), 'three sources per class (the broken file left out)');
  t.equal(report.protocol.splits.length, 3);
  for (const s of report.protocol.splits) {
    t.ok(s.known.includes('real') && !s.unknown.includes('real'), 'authentic always registered');
    t.equal(s.unknown.length, 2, 'round(0.4 × 5) held out');
    t.equal(s.unknownProbes, 24);
  }
  t.equal(report.rank1.mean, 1, 'separable classes: every known probe ranked first');
  t.equal(report.rank5.mean, 1);
  t.ok(report.mAP.mean! > 0.95, `mAP ${report.mAP.mean}`);
  t.ok(report.auroc.mean! > 0.9, `AUROC ${report.auroc.mean}`);
  t.ok(report.oscr.mean! <= report.rank1.mean! && report.oscr.mean! > 0.9, `OSCR ${report.oscr.mean}`);
  t.ok(report.macroF1.mean! > 0 && report.macroF1.mean! <= 1);
  t.equal(report.authenticFalselyAttributed.mean, 0, 'real images never attributed to a generator here');
  const real = report.perAlgorithm.find((r) => r.name === 'real')!;
  t.ok(real.authentic && real.probes > 0 && real.repeatsUnknown === 0, 'authentic probes evaluated in their own row, never held out');

  for (const s of stats(report)) t.ok(s.mean === null || (Number.isFinite(s.mean) && Number.isFinite(s.std!)), 'numbers or null');

  const content = report.baselines.content!;
  t.ok(content, 'baseline section present');
  t.ok(content.rank1.mean! < 0.8, `an uninformative baseline ranks near chance (${content.rank1.mean})`);
  t.equal(content.model.id, 'noise');

  t.equal(report.perAlgorithm.length, 6);
  const ganA = report.perAlgorithm.find((r) => r.name === 'gan-a')!;
  t.equal(ganA.forgeryType, 'EFS');
  t.equal(ganA.repeatsKnown + ganA.repeatsUnknown, 3);
  t.same(Object.keys(report.byForgeryType).sort(), ['EFS', 'FE', 'FS', 'authentic']);
  t.same(report.byArchitecture.GAN.algorithms, ['gan-a', 'gan-b']);
  t.equal(report.curves.roc.length, 3, 'one ROC per repeat');
  t.equal(report.curves.cmc[0], 1);

  const again = await runEvaluation(opts, embed);
  t.same(stats(again), stats(report), 'same seed, same numbers');

  const out = path.join(root, 'out');
  const written = await writeReport(report, out, svgToPng);
  for (const name of ['report.json', 'report.md', 'roc.png', 'cmc.png', 'per-algorithm.png', 'roc.svg']) {
    t.ok(written.includes(path.join(out, name)), `${name} written`);
  }
  const png = await fs.readFile(path.join(out, 'roc.png'));
  t.same([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
  t.ok((await sharp(png).metadata()).width! >= 640, 'rasterised at full size');
  const md = await fs.readFile(path.join(out, 'report.md'), 'utf8');
  t.match(md, /\| Rank-1 \| 1\.000 ± 0\.000 \|/);
  t.match(md, /gan-a\/broken__t00\.png/);
  t.match(md, /!\[roc\.png\]\(roc\.png\)/);
  const json = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8')) as Report;
  t.equal(json.rank1.mean, 1);
  t.match(summaryTable(report), /^metric\s+thumb-as-model\s+content baseline/);
});

t.test('--metric wccn is fitted per repeat on the shots and named in the report', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const embed: EmbedFn = async (file) => contentEmbedding(await fs.readFile(file.path), limits);
  const base = { dataDir: root, shots: 4, unknownFraction: 0.4, seed: 'metric', repeats: 2, topM: 2, targetFpir: 0.01, margin: 0, model } as const;
  const plain = await runEvaluation(base, embed);
  const wccn = await runEvaluation({ ...base, metric: { kind: 'wccn', shrinkage: 0.5 } }, embed);
  t.equal(plain.protocol.metric, 'cosine');
  t.equal(wccn.protocol.metric, 'wccn:0.5');
  t.same(wccn.protocol.splits, plain.protocol.splits, 'the same splits');
  t.not(JSON.stringify(wccn.calibration), JSON.stringify(plain.calibration), 'thresholds taken in another space');
  t.equal(wccn.rank1.mean, 1, 'separable classes stay separable');
  const ident = await runEvaluation({ ...base, metric: { kind: 'wccn', shrinkage: 1 } }, embed);
  t.same(stats(ident).map((s) => s.mean!.toFixed(6)), stats(plain).map((s) => s.mean!.toFixed(6)), 'shrinkage 1 is the cosine');
});

t.test('no unknown algorithms: open-set metrics are null, closed-set ones defined', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const report = await runEvaluation({ dataDir: root, shots: 4, unknownFraction: 0, seed: 1, repeats: 1, topM: 2, targetFpir: 0.01, margin: 0, model },
    async (file) => contentEmbedding(await fs.readFile(file.path), limits));
  t.same(report.auroc, { mean: null, std: null });
  t.same(report.dirAtFpir['0.01'], { mean: null, std: null });
  t.equal(report.rank1.mean, 1);
  t.same(report.baselines, {});
  t.ok(report.macroF1.mean !== null);
});

t.test('failures that are not about one image stop the run', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const base = { dataDir: root, shots: 4, unknownFraction: 0.3, seed: 1, repeats: 1, topM: 2, targetFpir: 0.01, margin: 0, model };
  await t.rejects(runEvaluation(base, async () => {
    throw dfgError('DFG_ERR_MODEL_LOAD_FAILED', 'm', 'boom');
  }), { code: 'DFG_ERR_MODEL_LOAD_FAILED' });
  await t.rejects(runEvaluation({ ...base, shots: 13 }, noise), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID', message: /fewer than --shots 13/ }, 'too few images for the shots');
  await t.rejects(runEvaluation({ ...base, unknownList: ['nope'] }, noise), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID' });
  await t.rejects(runEvaluation({ ...base, shots: 12 }, noise), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID', message: /no registered forgery algorithm has a probe left.*gan-b 3/ }, 'shots use every source: nothing to probe');
  await t.rejects(runEvaluation({ ...base, repeats: 0 }, noise), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID' });
  let calls = 0;
  await t.rejects(runEvaluation({ ...base, unknownList: ['real'] }, async (f) => {
    calls += 1;
    return noise(f);
  }), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID' });
  t.equal(calls, 0, 'bad options fail before any embedding');
});

t.test('plots escape names taken from folder names', async (t) => {
  const row = { name: '<b>&"x', forgeryType: 'EFS', architecture: 'GAN', family: 'GAN', authentic: false, probes: 1, rank1: 0.5, ap: 0.5, correctAtThreshold: 0.5, repeatsKnown: 1, repeatsUnknown: 0, unknownProbes: 0, unknownRejected: null };
  const svg = perAlgorithmSvg({ model, perAlgorithm: [row], baselines: {} } as unknown as Report);
  t.notMatch(svg, /<b>/);
  t.match(svg, /&lt;b&gt;&amp;&quot;x/);
  const png = await svgToPng(svg);
  t.ok(png.length > 100, 'still renders');
});

t.test('evaluateSplit: authentic probes are decided but stay out of the attribution metrics', async (t) => {
  const u = (...x: number[]) => unitVector(new Float32Array(x));
  const gallery = new Map([
    ['A', [u(1, 0, 0), u(0.99, 0.14, 0)]],
    ['B', [u(0, 1, 0), u(0.14, 0.99, 0)]],
    ['R', [u(0, 0, 1), u(0, 0.14, 0.99)]],
  ]);
  const r = evaluateSplit({
    gallery,
    knownProbes: [{ id: 'a1', algorithm: 'A', vector: u(0.98, 0.2, 0) }, { id: 'r1', algorithm: 'R', vector: u(0.05, 0.99, 0.3) }],
    unknownProbes: [{ id: 'x1', algorithm: 'X', vector: u(0.5, 0.5, 0.7) }],
    topM: 2, targetFpir: 0.01, margin: 0, maxRank: 3, authentic: new Set(['R']),
  });
  t.equal(r.metrics.rank1, 1, 'the misranked authentic probe does not count against Rank-1');
  t.equal(r.metrics.authenticFalselyAttributed, 1, 'but it is reported as a real image attributed to a generator');
  const r1 = r.probes.find((p) => p.id === 'r1')!;
  t.equal(r1.best, 'B');
  t.equal(r1.predicted, 'B');
  t.equal(r1.rank, 2);
  t.equal(r.probes.find((p) => p.id === 'a1')!.predicted, 'A');
  t.equal(r.metrics.knownCorrectAtThreshold, 1);
  t.equal(r.metrics.auroc, 1, 'the unknown probe scores below the known one');
  t.equal(r.probes.find((p) => p.id === 'x1')!.rank, Infinity);
  t.ok(r.probes.every((p) => p.predicted === UNKNOWN_LABEL || gallery.has(p.predicted)));
  // Detection: the authentic probe r1 looks like B, so its generated score (best forgery score
  // minus best authentic score) falls between a1's (far from R) and x1's (closest to R).
  const gen = (id: string) => r.probes.find((p) => p.id === id)!.generatedScore;
  t.ok(gen('a1') > gen('r1') && gen('r1') > gen('x1'), 'generated score: forgery best minus authentic best');
  t.equal(r.metrics.detectionAuroc, 0.5, 'one generator probe above the authentic one, one below');
  t.ok(['R', UNKNOWN_LABEL].includes(r.probes.find((p) => p.id === 'x1')!.predicted), 'the held-out probe is not given a generator');
  t.equal(r.metrics.falseAttributionRate, 0, 'a1 right, x1 not attributed to a generator');
});

t.test('splitMetrics: false attributions and detection AUROC from outcomes', async (t) => {
  const o = (id: string, algorithm: string, known: boolean, predicted: string, generatedScore: number) =>
    ({ id, algorithm, known, best: predicted || 'A', bestScore: 0.5, runnerUpScore: 0.4, rank: known ? 1 : Infinity, ap: known ? 1 : NaN, predicted, generatedScore });
  const probes = [
    o('k1', 'A', true, 'A', 0.3), // right
    o('k2', 'A', true, 'B', 0.2), // wrong algorithm: a false attribution
    o('u1', 'X', false, 'B', 0.1), // held out, attributed: a false attribution
    o('u2', 'X', false, UNKNOWN_LABEL, -0.1), // rejected
    o('r1', 'R', true, 'R', 0.0), // authentic, answered authentic: not a generator probe
  ];
  const m = splitMetrics(probes, { authentic: new Set(['R']), maxRank: 5 });
  t.equal(m.falseAttributionRate, 2 / 4);
  t.equal(m.detectionAuroc, 0.75, 'u2 scores below the authentic probe, the three others above');
  const none = splitMetrics(probes.filter((p) => p.algorithm !== 'R'), { maxRank: 5 });
  t.ok(Number.isNaN(none.detectionAuroc), 'no authentic probe: undefined');
});
