/**
 * The ONNX writer: graphs it encodes load and compute the right numbers in onnxruntime, the
 * encoding is byte-deterministic, and misuse of the builder fails loudly at build time.
 */
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { attr, createGraphBuilder, encodeModel, OPSET } from '../src/model-build/onnx-writer/index.js';

const meta = { opset: OPSET, producerName: 'test', producerVersion: '0' };

/** y = LeakyRelu(Conv(x, w) + 1, 0.5) over a dynamic H x W, then the first two columns. */
function tinyModel(attrOrder: 'ab' | 'ba' = 'ab') {
  const g = createGraphBuilder('tiny');
  const x = g.input('x', ['N', 1, 'H', 'W']);
  const w = g.constant('w', [1, -1], [1, 1, 1, 2]);
  const conv = g.conv(x, w);
  const shifted = g.add(conv, g.scalar(1));
  const [leaky] = g.op('LeakyRelu', [shifted], { alpha: attr.float(0.5) });
  const cut = g.slice(leaky!, [0], [2], [3]);
  const pooled = g.op('ReduceMean', [cut], attrOrder === 'ab'
    ? { axes: attr.ints([2, 3]), keepdims: attr.int(0) }
    : { keepdims: attr.int(0), axes: attr.ints([2, 3]) })[0]!;
  g.output(pooled, 'y', ['N', 1]);
  return encodeModel({ graph: g.build('tiny test graph'), ...meta, metadata: attrOrder === 'ab' ? { a: '1', b: '2' } : { b: '2', a: '1' } });
}

t.test('an encoded graph runs in onnxruntime with the expected numbers', async (t) => {
  const session = await ort.InferenceSession.create(tinyModel());
  t.same(session.inputNames, ['x']);
  t.same(session.outputNames, ['y']);
  // One row [1, 5, 2, 2]: conv gives [1-5, 5-2, 2-2] = [-4, 3, 0]; +1 -> [-3, 4, 1];
  // LeakyRelu(0.5) -> [-1.5, 4, 1]; first two columns -> mean of [-1.5, 4] = 1.25.
  const x = new ort.Tensor('float32', Float32Array.of(1, 5, 2, 2), [1, 1, 1, 4]);
  const y = (await session.run({ x })).y!;
  t.same(y.dims, [1, 1]);
  t.equal((y.data as Float32Array)[0], 1.25);
  // Dynamic N, H and W.
  const x2 = new ort.Tensor('float32', new Float32Array(2 * 3 * 5).fill(7), [2, 1, 3, 5]);
  t.same([...((await session.run({ x: x2 })).y!.data as Float32Array)], [1, 1]);
});

t.test('encoding is byte-deterministic and independent of attribute and metadata order', async (t) => {
  const a = tinyModel('ab');
  t.same(Buffer.from(a), Buffer.from(tinyModel('ab')));
  t.same(Buffer.from(a), Buffer.from(tinyModel('ba')));
});

t.test('scalars are shared and scopes prefix names', async (t) => {
  const g = createGraphBuilder('s');
  const x = g.input('x', [1]);
  t.equal(g.scalar(2).name, g.scalar(2).name);
  t.not(g.scalar(2).name, g.scalar(3).name);
  const y = g.scope('outer', () => g.scope('inner', () => g.add(x, g.scalar(2))));
  t.match(y.name, /^outer\/inner\/Add_0:0$/);
  g.output(y, 'y', [1]);
  const graph = g.build();
  t.same(graph.outputs.map((o) => o.name), ['y']);
  t.equal(graph.nodes[graph.nodes.length - 1]!.opType, 'Identity');
});

t.test('builder misuse fails at build time', async (t) => {
  const g = createGraphBuilder('bad');
  const x = g.input('x', [1]);
  t.throws(() => g.input('x', [1]), /used twice/);
  t.throws(() => g.add(x, { name: 'ghost' }), /not defined/);
  t.throws(() => g.constant('nan', [Number.NaN], [1]), /non-finite/);
  t.throws(() => g.constantInt64('big', [2 ** 60], [1]), /safe integer/);
  t.throws(() => g.build(), /no output/);
  const bad = createGraphBuilder('dims');
  bad.output(bad.constant('c', [1, 2, 3], [2, 2]), 'y', [2, 2]);
  t.throws(() => encodeModel({ graph: bad.build(), ...meta }), /need 4 values but received 3/);
  const done = createGraphBuilder('done');
  done.output(done.input('x', [1]), 'x', [1]);
  done.build();
  t.throws(() => done.scalar(1), /already built/);
});
