import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runEvaluation, type EmbedFn } from '../src/evaluation/run.js';
import type { Dataset, DatasetAlgorithm } from '../src/evaluation/dataset.js';
import { confusionOf, topConfusions } from '../src/evaluation/confusion.js';
import { confusionSvg } from '../src/evaluation/plots.js';
import { writeReport } from '../src/evaluation/report.js';
import { svgToPng } from '../src/embedding/render.js';
import { createRng } from '../src/math/random.js';
import { unitVector } from '../src/math/vector.js';
import { probeOutcome, UNKNOWN_LABEL, type SplitResult } from '../src/evaluation/evaluate-split.js';
import type { Confusion, ConfusionCell, Report } from '../src/evaluation/types.js';

// Vectors designed so the rank-1 confusions are known whatever shots a repeat draws
// (3 source groups of 2 files per class, 2 shots = one whole group, top-m 2 over every shot):
// - real, A, B and HOSTILE each own an axis: their probes rank themselves first;
// - B2 (family gan, like B): the first file of each group on its own axis, the second on B's.
//   B2's two shots are then one of each; its B-like probes score 1 with B, 0.5 with B2: half
//   of B2's probes rank B first, and B's own probes still rank B (1 against 0.5);
// - X is held out in every repeat and lies next to A: all its probes rank A first.
const HOSTILE = `C<&"'`;
const DIM = 7;
const AXIS: Record<string, number> = { real: 0, A: 1, B: 2, [HOSTILE]: 3, B2: 5 };
const FAMILY: Record<string, string> = { real: 'authentic', A: 'diffusion', B: 'gan', B2: 'gan', [HOSTILE]: 'cnn', X: 'diffusion' };
const NAMES = ['A', 'B', 'B2', HOSTILE, 'X', 'real'].sort();
const REPEATS = 2;

function dataset(): Dataset {
  const algorithms: DatasetAlgorithm[] = NAMES.map((name) => ({
    name,
    forgeryType: name === 'real' ? 'authentic' : 'EFS',
    architecture: FAMILY[name],
    family: FAMILY[name],
    authentic: name === 'real',
    files: [0, 1, 2].flatMap((g) => [0, 1].map((k) => ({ path: `/nowhere/${name}/s${g}__${k}.png`, rel: `${name}/s${g}__${k}.png`, algorithm: name, group: `s${g}` }))),
  }));
  return { root: '/nowhere', genome: true, algorithms, skipped: [], warnings: [] };
}

const embed: EmbedFn = async (file) => {
  const v = new Float32Array(DIM);
  const rng = createRng(file.rel);
  for (let i = 0; i < DIM; i += 1) v[i] = (rng.next() - 0.5) * 0.04;
  const second = file.rel.endsWith('__1.png');
  if (file.algorithm === 'X') {
    v[AXIS.A] += 0.95;
    v[4] += 0.3;
  } else if (file.algorithm === 'B2' && second) v[AXIS.B] += 1;
  else v[AXIS[file.algorithm]] += 1;
  return unitVector(v);
};

const model = { id: 'designed', version: 't', dim: DIM, members: [{ id: 'designed', version: 't', dim: DIM, weight: 1 }] };
const cellsOf = (cells: readonly ConfusionCell[], algorithm: string, registered = true) => cells.filter((c) => c.algorithm === algorithm && c.registered === registered);
const sum = (cells: readonly ConfusionCell[]) => cells.reduce((s, c) => s + c.count, 0);

/** Tags balanced, attributes quoted, no bare `<` or `&` in text: what an XML parser needs. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    if (/[<>]/.test(text) || /&(?!(amp|lt|gt|quot|apos);)/.test(text)) return false;
    last = tag.lastIndex;
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else if (!m[4]) stack.push(m[2]);
  }
  return stack.length === 0 && svg.slice(last).trim() === '';
}

t.test('confusion matrices of a designed dataset: known counts, consistent with the report', async (t) => {
  const report = await runEvaluation({ dataset: dataset(), shots: 2, unknownFraction: 0, unknownList: ['X'], seed: 'confusion', repeats: REPEATS, topM: 2, targetFpir: 0.05, margin: 0, model, baseline: { model: { ...model, id: 'same' }, embed } }, embed);
  const c = report.confusion;
  const totalProbes = report.protocol.splits.reduce((s, x) => s + x.knownProbes + x.unknownProbes, 0);

  t.same(c.rows.map((r) => [r.algorithm, r.registered]), [['real', true], [HOSTILE, true], ['A', true], ['B', true], ['B2', true], ['X', false]],
    'registered rows first, by family (authentic, cnn, diffusion, gan), held-out rows after');
  t.same(c.columns, ['real', HOSTILE, 'A', 'B', 'B2'], 'columns: the registered classes in family order');
  t.notOk(c.columns.includes('X'), 'a class never registered is no column');
  t.equal(c.rows.find((r) => r.algorithm === 'X')!.probes, 6 * REPEATS, 'every file of the held-out algorithm, every repeat');
  for (const r of c.rows.filter((x) => x.registered)) t.equal(r.probes, 4 * REPEATS, `${r.algorithm}: the two groups left after the shots`);

  for (const cells of [c.rank1, c.decisions]) {
    t.equal(sum(cells), totalProbes, 'the cells count every probe of every repeat once');
    for (const r of c.rows) t.equal(sum(cellsOf(cells, r.algorithm, r.registered)), r.probes, `${r.algorithm}: row sums to its probes`);
    t.ok(cells.every((x) => x.count > 0), 'sparse: no zero cell');
    t.notOk(cells.some((x) => !x.registered && x.predicted === x.algorithm), 'held-out rows have no diagonal');
  }
  for (const row of report.perAlgorithm.filter((r) => r.probes > 0)) {
    const diag = cellsOf(c.rank1, row.name).find((x) => x.predicted === row.name)?.count ?? 0;
    t.equal(diag / row.probes, row.rank1, `${row.name}: diagonal = pooled Rank-1`);
    const decided = cellsOf(c.decisions, row.name).find((x) => x.predicted === row.name)?.count ?? 0;
    t.equal(decided / row.probes, row.correctAtThreshold, `${row.name}: decided diagonal = correct @thr`);
  }
  const rejected = cellsOf(c.decisions, 'X', false).find((x) => x.predicted === null)?.count ?? 0;
  t.equal(rejected / (6 * REPEATS), report.perAlgorithm.find((r) => r.name === 'X')!.unknownRejected, 'held out answered unknown = unknown rejected');

  t.same(cellsOf(c.rank1, 'X', false), [{ algorithm: 'X', registered: false, predicted: 'A', count: 6 * REPEATS }], 'the held-out algorithm is always nearest to A');
  t.same(cellsOf(c.rank1, 'B2').map((x) => [x.predicted, x.count]), [['B', 2 * REPEATS], ['B2', 2 * REPEATS]], 'half of B2 is taken for B (same family)');
  for (const name of ['A', 'B', HOSTILE, 'real']) t.same(cellsOf(c.rank1, name).map((x) => [x.predicted, x.count]), [[name, 4 * REPEATS]], `${name}: all on the diagonal`);
  t.ok(report.baselines.content!.confusion.rows.length > 0, 'the baseline space has its own matrices');

  t.same(topConfusions(c).map((x) => [x.algorithm, x.registered, x.predicted, x.count, x.share]), [['X', false, 'A', 12, 1], ['B2', true, 'B', 4, 0.5]]);
  const wrong = topConfusions(c, 10, 'decisions');
  for (const x of wrong) {
    t.not(x.predicted, null, 'unknown answers are not false attributions');
    t.ok(!(x.registered && x.predicted === x.algorithm), 'no diagonal cell');
    const attributed = cellsOf(c.decisions, x.algorithm, x.registered).find((y) => y.predicted === x.predicted)!.count;
    t.equal(x.count, attributed);
  }
  const xWrong = wrong.filter((x) => x.algorithm === 'X').reduce((n, x) => n + x.count, 0);
  t.equal(xWrong, 6 * REPEATS - rejected, 'the held-out probes not rejected are all false attributions');

  const svg = confusionSvg(report);
  t.ok(wellFormed(svg), 'the SVG is well-formed');
  t.notOk(wellFormed('<svg><text>a<b & c</text></svg>') || wellFormed('<svg><g></svg>'), '(the check can fail)');
  t.notMatch(svg, /C<&/, 'no raw hostile label');
  t.match(svg, /C&lt;&amp;&quot;&apos;/, 'the hostile label, escaped');
  t.match(svg, />not registered/);
  t.match(svg, />unknown</);
  t.match(svg, />real \(authentic\)</);
  t.match(svg, />50%</, 'the B2 row: percentages printed');

  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-confusion-'));
  t.teardown(() => fs.rm(out, { recursive: true, force: true }));
  const written = await writeReport(report, out, svgToPng);
  t.ok(written.includes(path.join(out, 'confusion.svg')) && written.includes(path.join(out, 'confusion.png')));
  const meta = await sharp(await fs.readFile(path.join(out, 'confusion.png'))).metadata();
  t.ok(meta.width! >= 640 && meta.height! > 200, 'rasterised');
  const md = await fs.readFile(path.join(out, 'report.md'), 'utf8');
  t.match(md, /## Most frequent confusions/);
  t.match(md, /\| X \(not registered\) \| A \| 12 \| 100\.0 % \|\n\| B2 \| B \| 4 \| 50\.0 % \|/, 'the confusions, most frequent first');
  t.match(md, /!\[confusion\.png\]\(confusion\.png\)/);
  t.match(md, /### Most frequent false attributions at the calibrated thresholds/);
  const json = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8')) as Report;
  t.same(json.confusion, c, 'in report.json');
  t.ok(json.baselines.content!.confusion, 'per space');
});

t.test('confusionOf: rows per registration state, service labels, probes with no ranking', async (t) => {
  const outcome = (algorithm: string, known: boolean, ranked: string[], predicted: string) => probeOutcome({ id: `${algorithm}-${ranked.join()}`, algorithm }, known, ranked.map((a, i) => ({ algorithm: a, score: 1 - i / 10 })), NaN, predicted);
  const result = (probes: ReturnType<typeof outcome>[]) => ({ probes } as unknown as SplitResult);
  const algorithms = [{ name: 'p', family: 'f' }, { name: 'q', family: 'f' }, { name: 'r', family: 'e' }];
  const c: Confusion = confusionOf([
    result([outcome('p', true, ['p', 'q'], 'p'), outcome('q', true, ['service/old', 'q'], 'service/old'), outcome('r', false, ['p', 'q'], UNKNOWN_LABEL)]),
    result([outcome('r', true, ['r', 'q'], 'r'), outcome('q', false, [], UNKNOWN_LABEL)]),
  ], algorithms, [['p', 'q'], ['q', 'r']]);
  t.same(c.rows, [
    { algorithm: 'r', registered: true, probes: 1 }, { algorithm: 'p', registered: true, probes: 1 }, { algorithm: 'q', registered: true, probes: 1 },
    { algorithm: 'r', registered: false, probes: 1 }, { algorithm: 'q', registered: false, probes: 1 },
  ], 'an algorithm registered in one repeat and held out in another has a row for each');
  t.same(c.columns, ['r', 'p', 'q', 'service/old'], 'a service algorithm the run did not register comes last');
  t.same(c.rank1.find((x) => x.algorithm === 'q' && !x.registered), { algorithm: 'q', registered: false, predicted: null, count: 1 }, 'nothing ranked: the null column');
  t.same(c.decisions.map((x) => [x.algorithm, x.registered, x.predicted]), [['r', true, 'r'], ['p', true, 'p'], ['q', true, 'service/old'], ['r', false, null], ['q', false, null]]);
  t.same(topConfusions(c).map((x) => [x.algorithm, x.predicted]), [['q', 'service/old'], ['r', 'p']], 'held-out rows count as confusions, the null column does not');
  t.same(confusionOf([], algorithms, []), { rows: [], columns: [], rank1: [], decisions: [] });
});
