/**
 * Plain-data description of an ONNX model and its deterministic protobuf encoding. The same
 * specification always yields the same bytes: attributes and metadata are written in sorted
 * order, tensors as little-endian raw data, and no timestamps or host details are recorded.
 */
import { AttributeType, DataType, modelProtoType, type DataTypeName } from './schema.js';

/** A dimension: a fixed size, or a symbolic name for a dynamic axis (`'N'`, `'H'`). */
export type Dim = number | string;

export type TensorData = Float32Array | Int32Array | BigInt64Array;

export interface TensorSpec {
  name: string;
  dataType: DataTypeName;
  dims: number[];
  data: TensorData;
  doc?: string;
}

export type AttrSpec =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorSpec };

export interface NodeSpec {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrSpec>;
  doc?: string;
}

export interface ValueInfoSpec {
  name: string;
  dataType: DataTypeName;
  dims: Dim[];
  doc?: string;
}

export interface GraphSpec {
  name: string;
  doc?: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
}

export interface ModelSpec {
  graph: GraphSpec;
  /** Version of the default ("ai.onnx") operator set the graph is written against. */
  opset: number;
  /** IR version; 8 is the one that goes with opsets 15 to 18. */
  irVersion?: number;
  producerName: string;
  producerVersion: string;
  domain?: string;
  modelVersion?: number;
  doc?: string;
  /** Free-form key/value pairs stored in `metadata_props`. */
  metadata?: Record<string, string>;
}

const utf8 = new TextEncoder();

const byName = <T>(entries: [string, T][]): [string, T][] =>
  [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function elementCount(dims: number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** Little-endian bytes of a tensor, independent of the host's byte order. */
function rawBytes(t: TensorSpec): Uint8Array {
  const expected = elementCount(t.dims);
  if (t.data.length !== expected) {
    throw new RangeError(`Tensor ${t.name}: dims [${t.dims.join(', ')}] need ${expected} values but received ${t.data.length}`);
  }
  const kindOk =
    (t.dataType === 'float32' && t.data instanceof Float32Array) ||
    (t.dataType === 'int32' && t.data instanceof Int32Array) ||
    (t.dataType === 'int64' && t.data instanceof BigInt64Array);
  if (!kindOk) throw new TypeError(`Tensor ${t.name}: data does not match data type ${t.dataType}`);
  const width = t.dataType === 'int64' ? 8 : 4;
  const out = new Uint8Array(t.data.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (t.dataType === 'float32') view.setFloat32(i * 4, v as number, true);
    else if (t.dataType === 'int32') view.setInt32(i * 4, v as number, true);
    else view.setBigInt64(i * 8, v as bigint, true);
  }
  return out;
}

function tensorMessage(t: TensorSpec) {
  return {
    dims: t.dims,
    dataType: DataType[t.dataType],
    name: t.name,
    ...(t.doc ? { docString: t.doc } : {}),
    rawData: rawBytes(t),
  };
}

function attributeMessage(name: string, a: AttrSpec) {
  switch (a.kind) {
    case 'float': return { name, type: AttributeType.FLOAT, f: a.value };
    case 'int': return { name, type: AttributeType.INT, i: a.value };
    case 'string': return { name, type: AttributeType.STRING, s: utf8.encode(a.value) };
    case 'floats': return { name, type: AttributeType.FLOATS, floats: a.value };
    case 'ints': return { name, type: AttributeType.INTS, ints: a.value };
    case 'strings': return { name, type: AttributeType.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensor': return { name, type: AttributeType.TENSOR, t: tensorMessage(a.value) };
  }
}

function valueInfoMessage(v: ValueInfoSpec) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DataType[v.dataType],
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
    ...(v.doc ? { docString: v.doc } : {}),
  };
}

/** Serialises a model specification to ONNX protobuf bytes (byte-deterministic). */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const g = spec.graph;
  const message = {
    irVersion: spec.irVersion ?? 8,
    opsetImport: [{ domain: '', version: spec.opset }],
    producerName: spec.producerName,
    producerVersion: spec.producerVersion,
    ...(spec.domain ? { domain: spec.domain } : {}),
    ...(spec.modelVersion !== undefined ? { modelVersion: spec.modelVersion } : {}),
    ...(spec.doc ? { docString: spec.doc } : {}),
    graph: {
      node: g.nodes.map((n) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name,
        opType: n.opType,
        attribute: byName(Object.entries(n.attributes)).map(([k, a]) => attributeMessage(k, a)),
        ...(n.doc ? { docString: n.doc } : {}),
      })),
      name: g.name,
      initializer: g.initializers.map(tensorMessage),
      ...(g.doc ? { docString: g.doc } : {}),
      input: g.inputs.map(valueInfoMessage),
      output: g.outputs.map(valueInfoMessage),
    },
    metadataProps: byName(Object.entries(spec.metadata ?? {})).map(([key, value]) => ({ key, value })),
  };
  const type = modelProtoType();
  const problem = type.verify(message);
  if (problem) throw new TypeError(`ONNX model ${g.name} does not fit ModelProto: ${problem}`);
  return type.encode(message).finish();
}
