/**
 * The projection file `dfg genome fit` writes and model builders read
 * (models/residual-lda-v1/projection.json, models/residual-v3/projection.json): the mean and matrix of y = (x - mean) · matrix on
 * a base model's raw (unnormalised) per-crop features, with the fit's provenance. Values are
 * stored at float32 precision, which is what the ONNX graph holds.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const PROJECTION_FORMAT = 'dfg-projection/1';

export const ProjectionFileSchema = Type.Object({
  format: Type.Literal(PROJECTION_FORMAT),
  method: Type.String({ minLength: 1 }),
  baseModel: Type.String({ minLength: 1 }),
  baseVersion: Type.String({ minLength: 1 }),
  /** sha256 of the base model.onnx the features came from. */
  baseOnnxSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  inputDim: Type.Integer({ minimum: 1 }),
  outputDim: Type.Integer({ minimum: 1 }),
  fit: Type.Object({
    genome: Type.Object({ name: Type.String(), seed: Type.String(), tool: Type.String(), version: Type.String(), algorithms: Type.Integer(), perAlgorithm: Type.Integer() }),
    images: Type.Integer({ minimum: 1 }),
    algorithms: Type.Integer({ minimum: 2 }),
    shrinkage: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    eigenvalues: Type.Array(Type.Number()),
    skipped: Type.Integer({ minimum: 0 }),
    /** pca: how many of `images` came from the genome (the rest from `real`). */
    genomeImages: Type.Optional(Type.Integer({ minimum: 0 })),
    /** pca: share of the normalised features' variance the kept axes hold. */
    explained: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** pca: the real-photo patches added to the fitting set. */
    real: Type.Optional(Type.Object({ folder: Type.String(), patches: Type.Integer({ minimum: 0 }), tool: Type.String() })),
  }),
  mean: Type.Array(Type.Number()),
  matrix: Type.Array(Type.Number()),
}, { additionalProperties: false });

export type ProjectionFile = Static<typeof ProjectionFileSchema>;

/** Float32 value printed with the fewest digits that round-trip. */
export function f32(v: number): number {
  return Number(Math.fround(v).toPrecision(9));
}

/** Problems with a parsed projection file (schema and shape), empty when usable. */
export function projectionErrors(value: unknown): string[] {
  const errors = [...Value.Errors(ProjectionFileSchema, value)].map((e) => `${e.path || '/'} ${e.message}`);
  if (errors.length > 0) return errors.slice(0, 10);
  const p = value as ProjectionFile;
  if (p.mean.length !== p.inputDim) errors.push(`/mean has ${p.mean.length} values, inputDim is ${p.inputDim}`);
  if (p.matrix.length !== p.inputDim * p.outputDim) errors.push(`/matrix has ${p.matrix.length} values, inputDim x outputDim is ${p.inputDim * p.outputDim}`);
  if (![...p.mean, ...p.matrix].every(Number.isFinite)) errors.push('non-finite values');
  return errors;
}

/** Text of the file: fixed key order, one line per matrix row, so diffs stay readable. */
export function projectionText(p: ProjectionFile): string {
  const head = { ...p, mean: undefined, matrix: undefined };
  const json = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  const rows: string[] = [];
  for (let a = 0; a < p.inputDim; a++) rows.push(`    ${p.matrix.slice(a * p.outputDim, (a + 1) * p.outputDim).map((v) => JSON.stringify(v)).join(', ')}`);
  return `${json},\n  "mean": ${JSON.stringify(p.mean)},\n  "matrix": [\n${rows.join(',\n')}\n  ]\n}\n`;
}
