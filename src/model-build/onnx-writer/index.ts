/**
 * A minimal ONNX writer: a graph builder plus a deterministic protobuf encoder. Enough to
 * express the project's own feature-extraction graphs; not a general ONNX toolkit.
 */
export { attr, createGraphBuilder, OPSET, type ConvOptions, type GraphBuilder, type OpOptions, type Value } from './graph-builder.js';
export { encodeModel, type AttrSpec, type Dim, type GraphSpec, type ModelSpec, type NodeSpec, type TensorSpec, type ValueInfoSpec } from './encode.js';
export type { DataTypeName } from './schema.js';
