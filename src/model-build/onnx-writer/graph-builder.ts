/**
 * A small graph builder over the plain-data spec of `encode.ts`. Values are named tensors;
 * each op call appends one node in call order, so a definition that runs the same calls
 * builds the same graph. Wrappers emit the operator forms of opset 17 (the `OPSET` below):
 * ReduceMean takes `axes` as an attribute there, ReduceSum, Slice, Unsqueeze and Clip take
 * them as inputs.
 */
import type { AttrSpec, Dim, GraphSpec, NodeSpec, TensorSpec, ValueInfoSpec } from './encode.js';
import type { DataTypeName } from './schema.js';

/** The operator-set version the wrappers below are written for. */
export const OPSET = 17;

/** A tensor in the graph under construction. */
export interface Value {
  readonly name: string;
}

/** Typed attribute constructors (ONNX distinguishes INT from FLOAT even for `1`). */
export const attr = {
  int: (value: number): AttrSpec => ({ kind: 'int', value }),
  float: (value: number): AttrSpec => ({ kind: 'float', value }),
  string: (value: string): AttrSpec => ({ kind: 'string', value }),
  ints: (value: number[]): AttrSpec => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrSpec => ({ kind: 'floats', value }),
};

export interface ConvOptions {
  strides?: [number, number];
  /** [top, left, bottom, right]. Default: no padding. */
  pads?: [number, number, number, number];
  dilations?: [number, number];
  group?: number;
}

export interface OpOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output tensor names (default: `<node name>:<index>`). */
  outputNames?: string[];
  doc?: string;
}

export interface GraphBuilder {
  /** Declares a graph input. String dims are dynamic axes. */
  input(name: string, dims: Dim[], dataType?: DataTypeName, doc?: string): Value;
  /** Declares `value` as a graph output called `name` (through an Identity when names differ). */
  output(value: Value, name: string, dims: Dim[], dataType?: DataTypeName, doc?: string): void;
  /** A float32 initializer. */
  constant(name: string, data: Float32Array | readonly number[], dims: number[], doc?: string): Value;
  /** An int64 initializer (shapes, axes, slice bounds). */
  constantInt64(name: string, values: readonly number[], dims?: number[]): Value;
  /** A float32 scalar initializer, shared between all uses of the same value. */
  scalar(value: number): Value;
  /** Runs `fn` with `prefix/` prepended to the names it creates (scopes nest). */
  scope<T>(prefix: string, fn: () => T): T;
  /** Appends any node; returns its outputs. */
  op(opType: string, inputs: readonly (Value | null)[], attributes?: Record<string, AttrSpec>, opts?: OpOptions): Value[];

  conv(x: Value, w: Value, opts?: ConvOptions): Value;
  add(a: Value, b: Value): Value;
  sub(a: Value, b: Value): Value;
  mul(a: Value, b: Value): Value;
  div(a: Value, b: Value): Value;
  max(...xs: Value[]): Value;
  abs(x: Value): Value;
  sqrt(x: Value): Value;
  log(x: Value): Value;
  matMul(a: Value, b: Value): Value;
  reshape(x: Value, shape: readonly number[]): Value;
  transpose(x: Value, perm: readonly number[]): Value;
  concat(xs: readonly Value[], axis: number): Value;
  slice(x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): Value;
  reduceMean(x: Value, axes: readonly number[], keepdims?: boolean): Value;
  reduceSum(x: Value, axes: readonly number[], keepdims?: boolean): Value;
  globalAveragePool(x: Value): Value;
  averagePool(x: Value, kernel: [number, number], strides?: [number, number]): Value;
  spaceToDepth(x: Value, blocksize: number): Value;
  clip(x: Value, min: number | null, max: number | null): Value;
  /** The finished graph. The builder must not be used afterwards. */
  build(doc?: string): GraphSpec;
}

export function createGraphBuilder(graphName: string): GraphBuilder {
  const nodes: NodeSpec[] = [];
  const initializers: TensorSpec[] = [];
  const inputs: ValueInfoSpec[] = [];
  const outputs: ValueInfoSpec[] = [];
  const names = new Set<string>();
  const scalars = new Map<number, Value>();
  const scopes: string[] = [];
  const counters = new Map<string, number>();
  let built = false;

  const scoped = (name: string) => (scopes.length > 0 ? `${scopes.join('/')}/${name}` : name);

  function claim(name: string): string {
    if (built) throw new Error(`Graph ${graphName} is already built`);
    if (names.has(name)) throw new Error(`Graph ${graphName}: name ${name} is used twice`);
    names.add(name);
    return name;
  }

  /** Next free auto-generated name for an op type within the current scope. */
  function fresh(base: string): string {
    const key = scoped(base);
    let n = counters.get(key) ?? 0;
    let name = `${key}_${n}`;
    while (names.has(name)) name = `${key}_${++n}`;
    counters.set(key, n + 1);
    return name;
  }

  function op(opType: string, ins: readonly (Value | null)[], attributes: Record<string, AttrSpec> = {}, opts: OpOptions = {}): Value[] {
    const nodeName = claim(fresh(opType));
    const outs = opts.outputNames
      ? opts.outputNames.map(claim)
      : Array.from({ length: opts.outputs ?? 1 }, (_, i) => claim(`${nodeName}:${i}`));
    for (const v of ins) {
      if (v !== null && !names.has(v.name)) throw new Error(`Graph ${graphName}: ${opType} reads ${v.name}, which is not defined`);
    }
    nodes.push({
      name: nodeName,
      opType,
      inputs: ins.map((v) => (v === null ? '' : v.name)),
      outputs: outs,
      attributes,
      ...(opts.doc ? { doc: opts.doc } : {}),
    });
    return outs.map((name) => ({ name }));
  }
  const one = (opType: string, ins: readonly (Value | null)[], attributes?: Record<string, AttrSpec>): Value =>
    op(opType, ins, attributes)[0]!;

  function pushInt64(name: string, values: readonly number[], dims: number[]): Value {
    for (const v of values) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`Int64 constant ${name}: ${v} is not a safe integer`);
    }
    initializers.push({ name: claim(name), dataType: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });
    return { name };
  }
  const ints = (base: string, values: readonly number[]) => pushInt64(fresh(base), values, [values.length]);

  const b: GraphBuilder = {
    input(name, dims, dataType = 'float32', doc) {
      inputs.push({ name: claim(name), dataType, dims, ...(doc ? { doc } : {}) });
      return { name };
    },
    output(value, name, dims, dataType = 'float32', doc) {
      if (value.name !== name) op('Identity', [value], {}, { outputNames: [name] });
      outputs.push({ name, dataType, dims, ...(doc ? { doc } : {}) });
    },
    constant(name, data, dims, doc) {
      const values = data instanceof Float32Array ? data : Float32Array.from(data);
      for (const v of values) {
        if (!Number.isFinite(v)) throw new RangeError(`Constant ${name} holds a non-finite value`);
      }
      initializers.push({ name: claim(scoped(name)), dataType: 'float32', dims, data: values, ...(doc ? { doc } : {}) });
      return { name: scoped(name) };
    },
    constantInt64: (name, values, dims = [values.length]) => pushInt64(scoped(name), values, dims),
    scalar(value) {
      const key = Object.is(value, -0) ? 0 : value;
      let v = scalars.get(key);
      if (!v) {
        if (!Number.isFinite(key)) throw new RangeError(`Scalar ${key} is not finite`);
        const name = claim(`scalar_${scalars.size}`);
        initializers.push({ name, dataType: 'float32', dims: [], data: Float32Array.of(key) });
        v = { name };
        scalars.set(key, v);
      }
      return v;
    },
    scope(prefix, fn) {
      scopes.push(prefix);
      try {
        return fn();
      } finally {
        scopes.pop();
      }
    },
    op,
    conv(x, w, o = {}) {
      const attributes: Record<string, AttrSpec> = {
        strides: attr.ints(o.strides ?? [1, 1]),
        pads: attr.ints(o.pads ?? [0, 0, 0, 0]),
        dilations: attr.ints(o.dilations ?? [1, 1]),
        group: attr.int(o.group ?? 1),
      };
      return one('Conv', [x, w], attributes);
    },
    add: (a, c) => one('Add', [a, c]),
    sub: (a, c) => one('Sub', [a, c]),
    mul: (a, c) => one('Mul', [a, c]),
    div: (a, c) => one('Div', [a, c]),
    max: (...xs) => one('Max', xs),
    abs: (x) => one('Abs', [x]),
    sqrt: (x) => one('Sqrt', [x]),
    log: (x) => one('Log', [x]),
    matMul: (a, c) => one('MatMul', [a, c]),
    reshape: (x, shape) => one('Reshape', [x, ints('shape', shape)]),
    transpose: (x, perm) => one('Transpose', [x], { perm: attr.ints([...perm]) }),
    concat: (xs, axis) => one('Concat', xs, { axis: attr.int(axis) }),
    slice(x, starts, ends, axes, steps) {
      const ins = [x, ints('starts', starts), ints('ends', ends), ints('axes', axes)];
      if (steps) ins.push(ints('steps', steps));
      return one('Slice', ins);
    },
    reduceMean: (x, axes, keepdims = true) =>
      one('ReduceMean', [x], { axes: attr.ints([...axes]), keepdims: attr.int(keepdims ? 1 : 0) }),
    reduceSum: (x, axes, keepdims = true) =>
      one('ReduceSum', [x, ints('axes', axes)], { keepdims: attr.int(keepdims ? 1 : 0) }),
    globalAveragePool: (x) => one('GlobalAveragePool', [x]),
    averagePool: (x, kernel, strides = kernel) =>
      one('AveragePool', [x], { kernel_shape: attr.ints(kernel), strides: attr.ints(strides) }),
    spaceToDepth: (x, blocksize) => one('SpaceToDepth', [x], { blocksize: attr.int(blocksize) }),
    clip: (x, min, max) =>
      one('Clip', [x, min === null ? null : b.scalar(min), max === null ? null : b.scalar(max)]),
    build(doc) {
      if (outputs.length === 0) throw new Error(`Graph ${graphName} has no output`);
      built = true;
      return { name: graphName, ...(doc ? { doc } : {}), nodes, initializers, inputs, outputs };
    },
  };
  return b;
}
