import { Type } from '@sinclair/typebox';

export const AttributeQuery = Type.Object({
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, description: 'Candidates returned (default 5).' })),
  threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Override the threshold for this call (bounded to 0..1).' })),
});

export const Attribution = Type.Object(
  {
    attributionId: Type.Union([Type.String(), Type.Null()], {
      description: 'Id of this answer, kept DFG_ATTRIBUTION_RETENTION_DAYS days for feedback (POST /v1/attributions/{id}/feedback). null when answers are not kept (retention 0) or the store could not keep this one.',
    }),
    decision: Type.Union([Type.Literal('attributed'), Type.Literal('unknown'), Type.Literal('authentic')]),
    algorithm: Type.Union([Type.Ref('AlgorithmRef'), Type.Null()]),
    score: Type.Number({ description: 'Best per-algorithm score: the mean of its best M similarities, or, under a calibration with score normalisation (GET /v1/gallery calibration.scoreNorm), that score normalised against the model\'s cohort, in (-1, 1).' }),
    threshold: Type.Number({ description: 'Threshold applied to the best algorithm.' }),
    margin: Type.Number({ description: 'Best score minus runner-up score.' }),
    candidates: Type.Array(
      Type.Object({
        algorithm: Type.Ref('AlgorithmRef'),
        score: Type.Number(),
        evidence: Type.Array(Type.String(), { description: 'Sample ids behind the score.' }),
        provenance: Type.Optional(Type.Record(Type.String(), Type.Ref('Provenance'), {
          description: 'By sample id, the provenance of those evidence samples that were imported from a signed bundle; absent when none was.',
        })),
      }),
    ),
    model: Type.Object({
      id: Type.String({ description: 'The model id, or for a fusion the index id naming models and weights (`a:1+b:0.5`).' }),
      version: Type.String({ description: 'The model version (for a fusion, the versions joined by +).' }),
      members: Type.Array(Type.Object({ id: Type.String(), version: Type.String(), weight: Type.Number() }), {
        description: 'The models whose similarities are fused, with their weights (one entry without fusion).',
      }),
    }),
    galleryVersion: Type.Integer(),
    provenanceUnavailable: Type.Optional(Type.Literal(true, {
      description: 'Present while the shared store (DFG_STORE) cannot be reached: the answer comes from memory, and the candidates carry no provenance even where their evidence was imported.',
    })),
    timings: Type.Object({ decodeMs: Type.Number(), embedMs: Type.Number(), searchMs: Type.Number(), totalMs: Type.Number() }),
    image: Type.Object({ width: Type.Integer(), height: Type.Integer(), sha256: Type.String() }),
  },
  { $id: 'Attribution', title: 'Attribution' },
);

export const FeedbackBody = Type.Object({
  verdict: Type.Union([Type.Literal('confirm'), Type.Literal('reject'), Type.Literal('relabel')], {
    description: 'confirm: the answer was right; reject: the attributed algorithm was wrong (an impostor score for calibration); relabel: it was `algorithmId` (a genuine score of that algorithm).',
  }),
  algorithmId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'relabel only: the right algorithm.' })),
  enrol: Type.Optional(Type.Boolean({
    default: false,
    description: 'confirm, relabel: add the upload as a sample of the algorithm the verdict names, from the vectors kept with the answer (the image bytes were not kept, so the sample cannot be re-embedded later).',
  })),
}, { additionalProperties: false });

export const FeedbackResult = Type.Object({
  attributionId: Type.String(),
  decision: Type.Union([Type.Literal('attributed'), Type.Literal('unknown'), Type.Literal('authentic')], { description: 'What the answer decided.' }),
  attributed: Type.Union([Type.String(), Type.Null()], { description: 'The algorithm the answer named (null: unknown).' }),
  verdict: Type.Union([Type.Literal('confirm'), Type.Literal('reject'), Type.Literal('relabel')]),
  algorithmId: Type.Union([Type.String(), Type.Null()], { description: 'The algorithm the verdict is about: the attributed one (confirm, reject) or the right one (relabel).' }),
  enrolled: Type.Union([Type.Object({ sampleId: Type.String(), duplicate: Type.Boolean() }), Type.Null()], { description: 'The sample enrolled from the upload (enrol).' }),
});

export const AttributionBatch = Type.Object({
  results: Type.Array(
    Type.Object({
      filename: Type.String(),
      result: Type.Optional(Type.Ref('Attribution')),
      error: Type.Optional(Type.Ref('ItemError')),
    }),
  ),
});

/** The similarity a calibration was computed in, which searches use while it is current. */
export const MetricInfo = Type.Object({
  kind: Type.Union([Type.Literal('cosine'), Type.Literal('wccn')], { description: 'cosine, or wccn: cosine after whitening the within-algorithm scatter of the enrolled samples (DFG_METRIC).' }),
  shrinkage: Type.Union([Type.Number(), Type.Null()], { description: 'wccn: weight of the identity in the whitened scatter, (0, 1].' }),
  directions: Type.Integer({ description: 'wccn: within-algorithm directions damped (0 for cosine).' }),
  samples: Type.Integer({ description: 'wccn: samples it was fitted on (0 for cosine).' }),
}, { description: 'Similarity of the calibration: its thresholds, and the scores /v1/attribute returns while it is current.' });

/** The score normalisation of a calibration, which /v1/attribute applies while it is current. */
export const ScoreNormInfo = Type.Object({
  kind: Type.Union([Type.Literal('none'), Type.Literal('asnorm')], { description: 'asnorm: every score is normalised against the model\'s cohort (adaptive symmetric normalisation, reported as tanh(z / 4)) and all algorithms share the global threshold (DFG_SCORE_NORM); none: raw scores.' }),
  topK: Type.Union([Type.Integer(), Type.Null()], { description: 'asnorm: cohort scores kept on each side.' }),
  cohort: Type.Integer({ description: 'asnorm: images in the cohort (0 for none).' }),
}, { description: 'Score normalisation of the calibration: its thresholds, and the scores /v1/attribute returns while it is current.' });

export const GalleryInfo = Type.Object({
  model: Type.Object({
    id: Type.String({ description: 'Index id: the model id, or for a fusion the models and weights (`a:1+b:0.5`); calibrations belong to it.' }),
    list: Type.String({ description: 'The served model list in DFG_MODEL syntax (`a,b:0.5`): see `source`.' }),
    source: Type.Union([Type.Literal('config'), Type.Literal('switch')], {
      description: '`switch`: the list of a model switch (PUT /v1/model), made by this process or recorded by an earlier one and served at start because DFG_MODEL is unset. ' +
        '`config`: DFG_MODEL (unset: the default), also when it overrides a recorded switch or a recorded list could not be loaded.',
    }),
    configured: Type.Union([Type.String(), Type.Null()], { description: 'DFG_MODEL of this process when set (it wins over a recorded switch at start), else null.' }),
    lastSwitch: Type.Union([
      Type.Object({
        list: Type.String({ description: 'The list switched to.' }),
        at: Type.String({ description: 'When (ISO 8601).' }),
        forced: Type.Boolean({ description: 'Switched with `force` past samples lacking a vector of a listed model.' }),
      }),
      Type.Null(),
    ], { description: 'The last successful model switch, recorded in the gallery store: a restart serves its list unless DFG_MODEL is set or the list can no longer be loaded. null: none.' }),
    version: Type.String(),
    dimension: Type.Integer({ description: 'Dimension of the index vectors (the sum of the models\' dimensions for a fusion).' }),
    members: Type.Array(Type.Object({
      id: Type.String(),
      version: Type.String(),
      dimension: Type.Integer(),
      weight: Type.Number(),
      missingSamples: Type.Integer({ description: 'Samples with no vector of this model: left out of the index until re-embedded (dfg gallery reembed) or enrolled again.' }),
    })),
  }),
  version: Type.Integer({ description: 'Monotonic gallery version (last change sequence number).' }),
  counts: Type.Object({
    algorithms: Type.Integer(),
    enabledAlgorithms: Type.Integer(),
    samples: Type.Integer({ description: 'Samples in the index (searched).' }),
    stored: Type.Integer({ description: 'Samples in the store.' }),
    needsReembedding: Type.Integer({ description: 'Stored samples lacking a vector of some served model, hence not searched.' }),
  }),
  index: Type.Object({
    state: Type.String(),
    size: Type.Integer(),
    deleted: Type.Integer(),
    lastSeq: Type.Integer(),
    snapshotSeq: Type.Integer(),
    builtFrom: Type.String(),
  }),
  decision: Type.Object({ threshold: Type.Number(), margin: Type.Number(), topM: Type.Integer(), k: Type.Integer() }),
  calibration: Type.Union([
    Type.Object({
      version: Type.Integer(),
      createdAt: Type.String(),
      targetFpir: Type.Number(),
      global: Type.Number(),
      perAlgorithm: Type.Record(Type.String(), Type.Number()),
      metric: MetricInfo,
      scoreNorm: ScoreNormInfo,
    }),
    Type.Null(),
  ]),
});
