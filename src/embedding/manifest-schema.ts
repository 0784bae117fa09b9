/**
 * Schema of `models/<id>/model.json`. Preprocessing is data, not code: the runtime reads crop
 * size, crop plan and normalisation from here. The Manifest type is derived from the schema.
 */
import { Type, type Static } from '@sinclair/typebox';

export const ManifestSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }),
  version: Type.String({ minLength: 1 }),
  description: Type.String(),
  /** How the model came to be: builder script, definitions, training data recipe. */
  provenance: Type.Record(Type.String(), Type.Unknown()),
  input: Type.Object({
    name: Type.String(),
    /** NCHW, channels RGB (or 1 channel grey when `channels` is 1). */
    layout: Type.Literal('NCHW'),
    channels: Type.Union([Type.Literal(1), Type.Literal(3)]),
    /** Pixel value v in 0..255 is fed as (v * scale - mean[c]) / std[c]. */
    scale: Type.Number({ exclusiveMinimum: 0 }),
    mean: Type.Array(Type.Number(), { minItems: 1, maxItems: 3 }),
    std: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, maxItems: 3 }),
  }),
  output: Type.Object({
    name: Type.String(),
    dim: Type.Integer({ minimum: 1 }),
    /** l2: the runtime L2-normalises the mean of the crop embeddings (cosine space). */
    normalise: Type.Union([Type.Literal('l2'), Type.Literal('none')]),
  }),
  /**
   * Optional resizing before cropping, for semantic models (CLIP, DINOv2 exports): the shorter
   * side is scaled to `shortestEdge` (antialiased bilinear or bicubic), then the crop plan runs
   * on the resized image (usually `center` with `size` = 224). Absent: native resolution, as
   * forensic models need (resizing erases generator traces).
   */
  resize: Type.Optional(Type.Object({
    shortestEdge: Type.Integer({ minimum: 8, maximum: 4096 }),
    filter: Type.Union([Type.Literal('bilinear'), Type.Literal('bicubic')]),
  }, { additionalProperties: false })),
  crop: Type.Object({
    /** Side of the square crops fed to the model, at native resolution unless `resize` is set. */
    size: Type.Integer({ minimum: 8 }),
    /**
     * center: one crop; grid: up to `count` crops spread over the image.
     * Images smaller than `size` are fed whole, cut to a multiple of `multiple` (the model must
     * accept dynamic H and W then) and refused below `minSize`.
     */
    plan: Type.Union([Type.Literal('center'), Type.Literal('grid')]),
    count: Type.Integer({ minimum: 1, maximum: 64 }),
    minSize: Type.Integer({ minimum: 1 }),
    multiple: Type.Integer({ minimum: 1 }),
    /** Whether the model accepts any H and W (>= minSize) rather than exactly size x size. */
    dynamic: Type.Boolean(),
  }),
  /**
   * Decision defaults suited to this model's score scale (optional; DFG_MARGIN and DFG_THRESHOLD override them).
   * A model whose scores sit close together needs a smaller margin than one whose classes spread
   * apart; how the value was chosen belongs in the model card, never on validation data.
   */
  decision: Type.Optional(Type.Object({
    /** Required lead of the best algorithm's score over the runner-up, in cosine units. */
    margin: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    /** Similarity an attribution needs while the gallery has no calibration (cosine). */
    threshold: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
  }, { additionalProperties: false })),
  /**
   * A score-normalisation cohort shipped beside the model (attribution/score-norm.ts): this
   * model's embeddings of images that belong to no registered algorithm (other generators, real
   * photos), float32 little-endian rows of `output.dim`, written by `dfg models cohort`.
   */
  cohort: Type.Optional(Type.Object({
    /** File name inside the model's folder. */
    file: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }),
    count: Type.Integer({ minimum: 1 }),
    /** sha256 of the file: a cohort embedded by another build of the model must not load. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** sha256 over the ordered images' sha256s: fused models share a cohort only when equal. */
    itemsSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** Where the images came from (data set, recipe). */
    source: Type.String(),
    /** The model version the vectors were embedded with. */
    version: Type.String(),
  }, { additionalProperties: false })),
});

export type Manifest = Static<typeof ManifestSchema>;
