/**
 * The subset of the ONNX protobuf messages this writer emits, declared as protobufjs reflection
 * JSON from the field numbers of the ONNX IR specification (onnx.proto, IR version 8). Only
 * fields the writer sets are declared: an encoder never needs the rest.
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values used by the writer. */
export const DataType = { float32: 1, int32: 6, int64: 7 } as const;
export type DataTypeName = keyof typeof DataType;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const one = (type: string, id: number) => ({ type, id });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        OperatorSetIdProto: { fields: { domain: one('string', 1), version: one('int64', 2) } },
        StringStringEntryProto: { fields: { key: one('string', 1), value: one('string', 2) } },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            dataType: one('int32', 2),
            name: one('string', 8),
            docString: one('string', 12),
            rawData: one('bytes', 9),
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: one('int64', 1), dimParam: one('string', 2) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: one('Tensor', 1) },
          nested: {
            Tensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
          },
        },
        ValueInfoProto: {
          fields: { name: one('string', 1), type: one('TypeProto', 2), docString: one('string', 3) },
        },
        AttributeProto: {
          fields: {
            name: one('string', 1),
            docString: one('string', 13),
            type: one('int32', 20),
            f: one('float', 2),
            i: one('int64', 3),
            s: one('bytes', 4),
            t: one('TensorProto', 5),
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            strings: repeated('bytes', 9),
          },
        },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: one('string', 3),
            opType: one('string', 4),
            domain: one('string', 7),
            attribute: repeated('AttributeProto', 5),
            docString: one('string', 6),
          },
        },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: one('string', 2),
            initializer: repeated('TensorProto', 5),
            docString: one('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            valueInfo: repeated('ValueInfoProto', 13),
          },
        },
        ModelProto: {
          fields: {
            irVersion: one('int64', 1),
            opsetImport: repeated('OperatorSetIdProto', 8),
            producerName: one('string', 2),
            producerVersion: one('string', 3),
            domain: one('string', 4),
            modelVersion: one('int64', 5),
            docString: one('string', 6),
            graph: one('GraphProto', 7),
            metadataProps: repeated('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

let root: protobuf.Root | undefined;

/** The ModelProto message type (the reflection root is built once, on first use). */
export function modelProtoType(): protobuf.Type {
  root ??= protobuf.Root.fromJSON(descriptor);
  return root.lookupType('onnx.ModelProto');
}
