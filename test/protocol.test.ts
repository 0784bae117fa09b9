import t from 'tap';
import { makeSplit, unknownCount, validateProtocol, type ProtocolAlgorithm } from '../src/evaluation/protocol.js';
import { isDfgError } from '../src/errors.js';

interface F { id: string; group: string }
const alg = (name: string, groups: number[], authentic = false): ProtocolAlgorithm<F> => ({
  name,
  authentic,
  files: groups.flatMap((n, g) => Array.from({ length: n }, (_, i) => ({ id: `${name}/g${g}/${i}`, group: `g${g}` }))),
});
const algorithms = [
  alg('real', [1, 1, 1, 1, 1, 1, 1, 1], true),
  alg('a', [3, 5, 8]),
  alg('b', [1, 1, 1, 1, 1, 1, 1]),
  alg('c', [40]), // one source group
  alg('d', [2, 2]), // fewer images than 5 shots
  alg('e', [6, 6, 6, 6]),
  alg('f', [63, 56]),
];
const opts = { shots: 5, unknownFraction: 0.3, seed: 7 };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return isDfgError(err) ? err.code : String(err);
  }
};

t.test('unknownCount', async (t) => {
  t.equal(unknownCount(6, 0.3), 2, 'round(1.8)');
  t.equal(unknownCount(11, 0.3), 3);
  t.equal(unknownCount(3, 0.01), 1, 'a positive fraction holds out at least one');
  t.equal(unknownCount(3, 0.99), 2, 'never all');
  t.equal(unknownCount(1, 0.5), 0, 'a single algorithm cannot be held out');
  t.equal(unknownCount(6, 0), 0);
});

t.test('a split is seeded, respects groups and never holds out authentic classes', async (t) => {
  const s = makeSplit(algorithms, opts, 0);
  t.same(makeSplit(algorithms, opts, 0), s, 'same seed and repeat: same split');
  t.equal(s.unknown.length, 2, '30% of 6 non-authentic algorithms');
  t.notOk(s.unknown.includes('real'));
  const seenUnknown = new Set<string>();
  for (let r = 0; r < 40; r += 1) {
    const split = makeSplit(algorithms, opts, r);
    split.unknown.forEach((u) => seenUnknown.add(u));
    t.notOk(split.unknown.includes('real'), `repeat ${r}: authentic stays registered`);
    t.ok(split.known.includes('real'));
    for (const [name, shots] of split.gallery) {
      t.equal(shots.length, 5, `repeat ${r} ${name}: 5 shots`);
      const shotGroups = new Set(shots.map((f) => f.group));
      const probes = split.knownProbes.filter((f) => f.id.startsWith(`${name}/`));
      t.notOk(probes.some((p) => shotGroups.has(p.group)), `repeat ${r} ${name}: no probe shares a shot's source`);
      t.notOk(probes.some((p) => shots.includes(p)), 'no probe is a shot');
    }
    const unknownFiles = algorithms.filter((a) => split.unknown.includes(a.name)).reduce((n, a) => n + a.files.length, 0);
    t.equal(split.unknownProbes.length, unknownFiles, 'every image of a held-out algorithm is an unknown probe');
  }
  t.ok(seenUnknown.size >= 5, `repeats vary the held-out set (${[...seenUnknown].join(',')})`);
});

t.test('small and single-source algorithms', async (t) => {
  const s = makeSplit(algorithms, { ...opts, unknownList: ['b'] }, 0);
  t.same(s.unknown, ['b']);
  t.ok(s.known.includes('c') && s.galleryOnly.includes('c'), 'one source group: registered without probes');
  t.notOk(s.known.includes('d'), 'fewer images than shots: not registered');
  t.same(s.excluded, [{ algorithm: 'd', reason: '4 usable image(s), fewer than --shots 5' }]);
  const f = s.gallery.get('f')!;
  t.equal(new Set(f.map((x) => x.group)).size, 1, 'shots come from one group when it is large enough');
  const fProbes = s.knownProbes.filter((p) => p.id.startsWith('f/')).length;
  t.ok(fProbes === 63 || fProbes === 56, 'the other group becomes the probes, the rest of the drawn group is left out');
  const a = s.gallery.get('a')!;
  t.ok(new Set(a.map((x) => x.group)).size >= 1 && a.length === 5);
  const d = makeSplit(algorithms, { ...opts, unknownList: ['d'] }, 0);
  t.equal(d.unknownProbes.length, 4, 'a small algorithm still serves as unknown');
});

t.test('one algorithm does not change the others', async (t) => {
  const fixed = { ...opts, unknownList: ['b'] };
  const before = makeSplit(algorithms, fixed, 3);
  const after = makeSplit([...algorithms, alg('zz', [4, 4, 4])], fixed, 3);
  for (const name of before.known) t.same(after.gallery.get(name), before.gallery.get(name), `${name}: same shots`);
});

t.test('bad options are refused with a reason', async (t) => {
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, shots: 0 })), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, shots: 2.5 })), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, unknownFraction: 1 })), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, unknownFraction: NaN })), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, unknownList: ['nope'] })), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, unknownList: ['real'] })), 'DFG_ERR_EVAL_PROTOCOL_INVALID', 'authentic cannot be held out');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, unknownList: ['a', 'a'] })), 'DFG_ERR_EVAL_PROTOCOL_INVALID');
  t.equal(codeOf(() => validateProtocol(algorithms, { ...opts, unknownList: ['a', 'b', 'c', 'd', 'e', 'f'] })), 'DFG_ERR_EVAL_PROTOCOL_INVALID', 'holding out everything');
  t.equal(codeOf(() => makeSplit([alg('x', [2, 2]), alg('y', [9, 9])], { ...opts, unknownFraction: 0 }, 0)), 'DFG_ERR_EVAL_PROTOCOL_INVALID', 'fewer than two registrable classes');
  try {
    makeSplit([alg('x', [2, 2]), alg('y', [9, 9])], { ...opts, unknownFraction: 0 }, 0);
  } catch (err) {
    t.match((err as Error).message, /x: 4 usable image\(s\), fewer than --shots 5/, 'the message says which algorithm and why');
  }
});
