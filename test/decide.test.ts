import t from 'tap';
import { DEFAULT_MARGIN, DEFAULT_THRESHOLD, decide, resolveMargin, resolveThreshold, scoreAlgorithms, type DecisionAlgorithm, type Neighbour } from '../src/attribution/decide.js';

interface Alg extends DecisionAlgorithm {
  name: string;
}

const algs: Record<string, Alg> = {
  A: { id: 'A', name: 'FaceSwap', forgeryType: 'FS', enabled: true, threshold: null },
  B: { id: 'B', name: 'Diffuser', forgeryType: 'EFS', enabled: true, threshold: null },
  R: { id: 'R', name: 'Real photos', forgeryType: 'authentic', enabled: true, threshold: null },
  D: { id: 'D', name: 'Disabled', forgeryType: 'FS', enabled: false, threshold: null },
  T: { id: 'T', name: 'Strict', forgeryType: 'FE', enabled: true, threshold: 0.9 },
};

/** Neighbours from `{ A: [0.9, 0.8], ... }`; sample ids are `<alg><index>`. */
function nb(spec: Record<string, number[]>): Neighbour[] {
  return Object.entries(spec).flatMap(([algorithmId, sims]) => sims.map((similarity, i) => ({ sampleId: `${algorithmId.toLowerCase()}${i}`, algorithmId, similarity })));
}

const opts = { threshold: 0.5, margin: 0.02, topM: 3 };
const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

t.test('scoreAlgorithms: mean of the best topM, evidence best first, fewer when fewer', async (t) => {
  const scores = scoreAlgorithms(nb({ A: [0.7, 0.9, 0.85, 0.8], B: [0.95], C: [Number.NaN, 0.2] }), 3);
  t.same(scores.map((s) => s.algorithmId), ['B', 'A', 'C']);
  t.ok(close(scores[0]!.score, 0.95), 'one sample: its similarity');
  t.ok(close(scores[1]!.score, (0.9 + 0.85 + 0.8) / 3));
  t.same(scores[1]!.evidence, ['a1', 'a2', 'a3'], 'best three, best first');
  t.same(scores[2], { algorithmId: 'C', score: 0.2, best: 0.2, evidence: ['c1'] }, 'NaN similarity ignored');
  t.same(scoreAlgorithms([], 3), []);
  t.throws(() => scoreAlgorithms([], 0), { code: 'DFG_ERR_REQUEST_INVALID' });
});

t.test('golden decisions', async (t) => {
  const cases: Array<{ name: string; n: Record<string, number[]>; o?: Partial<Parameters<typeof decide>[2]>; want: { decision: string; algorithm: string | null; score: number; threshold: number; margin: number; candidates: string[] } }> = [
    {
      name: 'clear attribution',
      n: { A: [0.9, 0.85, 0.8, 0.7], B: [0.5, 0.4] },
      want: { decision: 'attributed', algorithm: 'A', score: 0.85, threshold: 0.5, margin: 0.4, candidates: ['A', 'B'] },
    },
    {
      name: 'below the global threshold: unknown, candidates still listed',
      n: { A: [0.45, 0.44, 0.43], B: [0.2] },
      want: { decision: 'unknown', algorithm: null, score: 0.44, threshold: 0.5, margin: 0.24, candidates: ['A', 'B'] },
    },
    {
      name: 'runner-up too close: unknown',
      n: { A: [0.8], B: [0.79] },
      want: { decision: 'unknown', algorithm: null, score: 0.8, threshold: 0.5, margin: 0.01, candidates: ['A', 'B'] },
    },
    {
      name: 'margin exactly the required one passes (float sums do not flip it)',
      n: { A: [0.3], B: [0.28] },
      o: { threshold: 0.2 },
      want: { decision: 'attributed', algorithm: 'A', score: 0.3, threshold: 0.2, margin: 0.02, candidates: ['A', 'B'] },
    },
    {
      name: 'authentic reference class wins',
      n: { R: [0.95, 0.9, 0.85], A: [0.6] },
      want: { decision: 'authentic', algorithm: 'R', score: 0.9, threshold: 0.5, margin: 0.3, candidates: ['R', 'A'] },
    },
    {
      name: 'authentic class below threshold: unknown, not authentic',
      n: { R: [0.3], A: [0.1] },
      want: { decision: 'unknown', algorithm: null, score: 0.3, threshold: 0.5, margin: 0.2, candidates: ['R', 'A'] },
    },
    {
      name: 'exact tie with a margin required: unknown, ordered by id',
      n: { B: [0.7], A: [0.7] },
      want: { decision: 'unknown', algorithm: null, score: 0.7, threshold: 0.5, margin: 0, candidates: ['A', 'B'] },
    },
    {
      name: 'exact tie without a margin: deterministic (lower id)',
      n: { B: [0.7], A: [0.7] },
      o: { margin: 0 },
      want: { decision: 'attributed', algorithm: 'A', score: 0.7, threshold: 0.5, margin: 0, candidates: ['A', 'B'] },
    },
    {
      name: 'equal scores: the higher single best ranks first',
      n: { A: [0.7, 0.7], B: [0.8, 0.6] },
      o: { margin: 0 },
      want: { decision: 'attributed', algorithm: 'B', score: 0.7, threshold: 0.5, margin: 0, candidates: ['B', 'A'] },
    },
    {
      name: 'disabled algorithm dropped even when closest',
      n: { D: [0.99, 0.98, 0.97], A: [0.8, 0.8, 0.8] },
      want: { decision: 'attributed', algorithm: 'A', score: 0.8, threshold: 0.5, margin: 1.8, candidates: ['A'] },
    },
    {
      name: 'unknown (deleted) algorithm ids dropped',
      n: { GONE: [0.99], B: [0.6] },
      want: { decision: 'attributed', algorithm: 'B', score: 0.6, threshold: 0.5, margin: 1.6, candidates: ['B'] },
    },
    {
      name: 'per-algorithm threshold override beats the global one',
      n: { T: [0.86, 0.85, 0.84], A: [0.3] },
      want: { decision: 'unknown', algorithm: null, score: 0.85, threshold: 0.9, margin: 0.55, candidates: ['T', 'A'] },
    },
    {
      name: 'calibrated per-algorithm threshold used when the algorithm has none',
      n: { A: [0.6], B: [0.2] },
      o: { perAlgorithm: { A: 0.65, T: 0.1 } },
      want: { decision: 'unknown', algorithm: null, score: 0.6, threshold: 0.65, margin: 0.4, candidates: ['A', 'B'] },
    },
    {
      name: 'own threshold beats the calibrated one',
      n: { T: [0.95] },
      o: { perAlgorithm: { T: 0.99 } },
      want: { decision: 'attributed', algorithm: 'T', score: 0.95, threshold: 0.9, margin: 1.95, candidates: ['T'] },
    },
    {
      name: 'only the k nearest count',
      n: { A: [0.9, 0.5, 0.45], B: [0.88, 0.87] },
      o: { k: 3 },
      want: { decision: 'attributed', algorithm: 'A', score: 0.9, threshold: 0.5, margin: 0.025, candidates: ['A', 'B'] },
    },
    {
      name: 'empty gallery: unknown with score 0',
      n: {},
      want: { decision: 'unknown', algorithm: null, score: 0, threshold: 0.5, margin: 0, candidates: [] },
    },
  ];
  for (const c of cases) {
    const got = decide(nb(c.n), algs, { ...opts, ...c.o });
    t.equal(got.decision, c.want.decision, `${c.name}: decision`);
    t.equal(got.algorithm?.id ?? null, c.want.algorithm, `${c.name}: algorithm`);
    t.ok(close(got.score, c.want.score), `${c.name}: score ${got.score}`);
    t.equal(got.threshold, c.want.threshold, `${c.name}: threshold`);
    t.ok(close(got.margin, c.want.margin), `${c.name}: margin ${got.margin}`);
    t.same(got.candidates.map((x) => x.algorithm.id), c.want.candidates, `${c.name}: candidates`);
  }
});

t.test('answer shape: candidates carry the algorithm objects and evidence', async (t) => {
  const got = decide(nb({ A: [0.9, 0.8, 0.7, 0.6], B: [0.55] }), algs, opts);
  t.equal(got.algorithm, algs.A, 'the caller’s object comes back');
  t.same(got.candidates[0]!.evidence, ['a0', 'a1', 'a2']);
  t.same(got.candidates[1], { algorithm: algs.B, score: 0.55, evidence: ['b0'] });
});

t.test('independent of neighbour order and of the lookup form', async (t) => {
  const n = nb({ A: [0.9, 0.8, 0.75], B: [0.85, 0.6], R: [0.5] });
  const want = decide(n, algs, opts);
  const shuffled = [...n].reverse();
  t.same(decide(shuffled, algs, opts), want);
  t.same(decide(n, new Map(Object.entries(algs)), opts), want);
  t.same(decide(n, (id) => algs[id], opts), want);
});

t.test('candidates are capped', async (t) => {
  const spec: Record<string, number[]> = {};
  const many: Record<string, Alg> = {};
  for (let i = 0; i < 9; i++) {
    spec[`X${i}`] = [0.9 - i * 0.05];
    many[`X${i}`] = { id: `X${i}`, name: `x${i}`, forgeryType: 'FS' };
  }
  t.equal(decide(nb(spec), many, opts).candidates.length, 5, 'default 5');
  t.equal(decide(nb(spec), many, { ...opts, candidates: 2 }).candidates.length, 2);
  t.equal(decide(nb(spec), many, { ...opts, candidates: 20 }).candidates.length, 9);
});

t.test('bad options are refused with catalogue errors', async (t) => {
  const n = nb({ A: [0.9] });
  t.throws(() => decide(n, algs, { ...opts, topM: 0 }), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.throws(() => decide(n, algs, { ...opts, threshold: Number.NaN }), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.throws(() => decide(n, algs, { ...opts, margin: -0.1 }), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.throws(() => decide(n, algs, { ...opts, k: 1.5 }), { code: 'DFG_ERR_REQUEST_INVALID' });
});

t.test('resolveMargin: override, else the model default, else 0.02; fusions only when members agree', async (t) => {
  t.equal(DEFAULT_MARGIN, 0.02);
  t.equal(resolveMargin(undefined, [undefined]), 0.02, 'no model default: the historical 0.02');
  t.equal(resolveMargin(undefined, [0]), 0, 'the model default, zero included');
  t.equal(resolveMargin(undefined, [0.005]), 0.005);
  t.equal(resolveMargin(0.03, [0]), 0.03, 'DFG_MARGIN / --margin wins');
  t.equal(resolveMargin(0, [0.05]), 0, 'an explicit zero override wins too');
  t.equal(resolveMargin(undefined, [0.01, 0.01]), 0.01, 'fusion of members that agree');
  t.equal(resolveMargin(undefined, [0, 0.01]), 0.02, 'fusion of members that disagree');
  t.equal(resolveMargin(undefined, [0, undefined]), 0.02, 'fusion with a member without a default');
  t.equal(resolveMargin(undefined, []), 0.02);
});

t.test('resolveThreshold: DFG_THRESHOLD, else the models\' own default when they agree, else 0.5', async (t) => {
  t.equal(DEFAULT_THRESHOLD, 0.5);
  t.equal(resolveThreshold(undefined, [undefined]), 0.5);
  t.equal(resolveThreshold(undefined, [0.97]), 0.97);
  t.equal(resolveThreshold(0.3, [0.97]), 0.3, 'DFG_THRESHOLD wins');
  t.equal(resolveThreshold(-1, [0.97]), -1, 'even at the bottom of the range');
  t.equal(resolveThreshold(undefined, [0.97, 0.97]), 0.97);
  t.equal(resolveThreshold(undefined, [0.97, 0.9]), 0.5, 'members that disagree');
  t.equal(resolveThreshold(undefined, [0.97, undefined]), 0.5);
});

t.test('a close runner-up: attributed at margin 0, unknown at the default 0.02', async (t) => {
  // A: (0.80 + 0.78 + 0.76) / 3 = 0.78; B: (0.79 + 0.77 + 0.75) / 3 = 0.77; margin 0.01.
  const n = nb({ A: [0.8, 0.78, 0.76], B: [0.79, 0.77, 0.75] });
  const strict = decide(n, algs, { ...opts, margin: resolveMargin(undefined, [undefined]) });
  t.equal(strict.decision, 'unknown');
  t.ok(close(strict.margin, 0.01));
  const loose = decide(n, algs, { ...opts, margin: resolveMargin(undefined, [0]) });
  t.equal(loose.decision, 'attributed');
  t.equal(loose.algorithm?.id, 'A');
});
