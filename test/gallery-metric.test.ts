import t from 'tap';
import {
  applyMetric, fitGalleryMetric, metricFromBytes, metricHeader, metricInfo, metricNormSq, metricSquare, metricToBytes,
} from '../src/attribution/gallery-metric.js';
import { metricText, parseMetric } from '../src/config/metric-setting.js';
import { symmetricEigen } from '../src/math/eigen.js';
import { cosine, near, randomUnit, rng } from './helpers/gallery.js';

/** Two algorithms whose samples differ from their centre mostly along axis 0 ("content"). */
function contentHeavy(dim: number, perAlgorithm: number, seed: number): Map<string, Float32Array[]> {
  const rand = rng(seed);
  const out = new Map<string, Float32Array[]>();
  for (const [name, sign] of [['A', 1], ['B', -1]] as const) {
    const vs: Float32Array[] = [];
    for (let i = 0; i < perAlgorithm; i += 1) {
      const v = near(Float32Array.from({ length: dim }, (_, j) => (j === 1 ? sign * 0.6 : j === 2 ? 1 : 0)), 0.02, rand);
      v[0] += (rand() - 0.5) * 3; // large within-algorithm spread along one direction
      vs.push(v);
    }
    out.set(name, vs);
  }
  return out;
}

const unit = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

t.test('whitening damps the direction the samples of one algorithm spread along', async (t) => {
  const data = contentHeavy(8, 20, 11);
  const m = fitGalleryMetric(data, { shrinkage: 0.2 })!;
  t.ok(m, 'fitted');
  t.equal(m.dim, 8);
  t.equal(m.samples, 40);
  t.equal(m.algorithms, 2);
  // Two probes of different algorithms that share a large "content" offset along axis 0.
  const a = unit(Float32Array.from([1, 0.6, 1, 0, 0, 0, 0, 0]));
  const b = unit(Float32Array.from([1, -0.6, 1, 0, 0, 0, 0, 0]));
  const a2 = unit(Float32Array.from([-1, 0.6, 1, 0, 0, 0, 0, 0]));
  t.ok(cosine(a, b) > cosine(a, a2), 'plain cosine: content dominates');
  const [wa, wb, wa2] = [a, b, a2].map((v) => applyMetric(m, v));
  t.ok(cosine(wa!, wa2!) > cosine(wa!, wb!), 'whitened: the algorithm dominates');
  t.ok(Math.abs(Math.hypot(...wa!) - 1) < 1e-6, 'unit output');
  t.same(applyMetric(m, new Float32Array(8)), new Float32Array(8), 'zero stays zero');
});

t.test('shrinkage 1 is the plain cosine; too little data fits nothing', async (t) => {
  const data = contentHeavy(6, 5, 12);
  const id = fitGalleryMetric(data, { shrinkage: 1 })!;
  const v = randomUnit(6, rng(13));
  const w = applyMetric(id, v);
  for (let j = 0; j < 6; j += 1) t.ok(Math.abs(w[j]! - v[j]!) < 1e-6);
  t.equal(fitGalleryMetric(new Map([['A', data.get('A')!]])), null, 'one algorithm');
  t.equal(fitGalleryMetric(new Map([['A', data.get('A')!.slice(0, 2)], ['B', data.get('B')!.slice(0, 2)]])), null, 'four samples');
  t.equal(fitGalleryMetric(new Map([['A', [v]], ['B', [v]], ['C', [v]]])), null, 'single samples have no within scatter');
  const same = new Map([['A', [v, v, v]], ['B', [w, w, w]]]);
  t.equal(fitGalleryMetric(same), null, 'no spread at all');
  t.throws(() => fitGalleryMetric(data, { shrinkage: 0 }), RangeError);
  t.throws(() => fitGalleryMetric(new Map([['A', [v, v, v]], ['B', [new Float32Array(3), new Float32Array(3), new Float32Array(3)]]])), RangeError, 'mixed dimensions');
});

/** S^(-1/2)·probe, unit length, computed directly from the definition (full dim × dim eigen). */
function explicitWhitened(data: Map<string, Float32Array[]>, alpha: number, probe: Float32Array): Float32Array {
  const dim = probe.length;
  const rows: number[][] = [];
  for (const vs of data.values()) {
    const mean = Array.from({ length: dim }, (_, j) => vs.reduce((s, v) => s + v[j]!, 0) / vs.length);
    for (const v of vs) rows.push(Array.from(v, (x, j) => x - mean[j]!));
  }
  const r = new Float64Array(dim * dim);
  for (const row of rows) for (let i = 0; i < dim; i += 1) for (let j = 0; j < dim; j += 1) r[i * dim + j] += (row[i]! * row[j]!) / rows.length;
  let tr = 0;
  for (let i = 0; i < dim; i += 1) tr += r[i * dim + i]!;
  const s = r.map((x, k) => ((1 - alpha) * x) / (tr / dim) + (k % (dim + 1) === 0 ? alpha : 0));
  const e = symmetricEigen(s, dim, 1e-14);
  const out = new Float64Array(dim);
  for (let k = 0; k < dim; k += 1) {
    let p = 0;
    for (let j = 0; j < dim; j += 1) p += e.vectors[j * dim + k]! * probe[j]!;
    for (let j = 0; j < dim; j += 1) out[j] += (e.vectors[j * dim + k]! * p) / Math.sqrt(e.values[k]!);
  }
  return unit(Float32Array.from(out));
}

t.test('both routes (Gram below the dimension, scatter above) equal the explicit inverse square root', async (t) => {
  const rand = rng(14);
  for (const [dim, per] of [[12, 3], [6, 10]] as const) {
    const data = new Map<string, Float32Array[]>();
    for (const name of ['A', 'B', 'C']) data.set(name, Array.from({ length: per }, () => randomUnit(dim, rand)));
    const alpha = 0.4;
    const m = fitGalleryMetric(data, { shrinkage: alpha })!;
    t.ok(m.coeffs.length <= Math.min(dim, 3 * per - 3), 'rank at most samples minus algorithms');
    const probe = randomUnit(dim, rand);
    const want = explicitWhitened(data, alpha, probe);
    const got = applyMetric(m, probe);
    let err = 0;
    for (let j = 0; j < dim; j += 1) err = Math.max(err, Math.abs(got[j]! - want[j]!));
    t.ok(err < 1e-4, `dim ${dim}, ${3 * per} samples: max error ${err}`);
  }
});

t.test('the W²·q form of the similarity equals the cosine of whitened vectors', async (t) => {
  const rand = rng(16);
  const data = new Map(['A', 'B', 'C', 'D'].map((k) => [k, [0, 1, 2, 3, 4].map(() => randomUnit(16, rand))]));
  const m = fitGalleryMetric(data, { shrinkage: 0.2 })!;
  for (let i = 0; i < 5; i += 1) {
    const q = randomUnit(16, rand);
    const x = randomUnit(16, rand);
    const want = cosine(applyMetric(m, q), applyMetric(m, x));
    const u = metricSquare(m, q);
    const got = u.reduce((s, v, j) => s + v * x[j]!, 0) / Math.sqrt(metricNormSq(m, q) * metricNormSq(m, x));
    t.ok(Math.abs(got - want) < 1e-6, `pair ${i}: ${got} vs ${want}`);
  }
});

t.test('settings and bytes round-trip', async (t) => {
  t.same(parseMetric('cosine'), { kind: 'cosine' });
  t.same(parseMetric('WCCN'), { kind: 'wccn', shrinkage: 0.2 });
  t.same(parseMetric('wccn:0.25'), { kind: 'wccn', shrinkage: 0.25 });
  t.same(parseMetric('wccn:1'), { kind: 'wccn', shrinkage: 1 });
  for (const bad of ['', 'wccn:0', 'wccn:1.5', 'wccn:x', 'lda', 'wccn:']) t.equal(parseMetric(bad), null, bad);
  t.equal(metricText({ kind: 'wccn', shrinkage: 0.25 }), 'wccn:0.25');
  t.equal(metricText({ kind: 'cosine' }), 'cosine');

  const m = fitGalleryMetric(contentHeavy(8, 6, 15))!;
  const back = metricFromBytes(JSON.parse(JSON.stringify(metricHeader(m))), metricToBytes(m));
  t.same(Array.from(back.basis), Array.from(m.basis));
  t.same(Array.from(back.coeffs), Array.from(m.coeffs));
  t.equal(back.samples, m.samples);
  t.throws(() => metricFromBytes(metricHeader(m), metricToBytes(m).subarray(4)), RangeError, 'truncated bytes');
  t.throws(() => metricFromBytes({ ...metricHeader(m), dim: 0 }, metricToBytes(m)), RangeError);
  t.same(metricInfo(undefined), { kind: 'cosine', shrinkage: null, directions: 0, samples: 0 });
  t.equal(metricInfo(m).directions, m.coeffs.length);
});
