import { Type } from '@sinclair/typebox';
import { Architecture, ForgeryType } from './common.js';
import { Id } from './common.js';
import { MAX_NAME_LENGTH, MAX_REFERENCE_LENGTH, MAX_TEXT_LENGTH, MAX_THRESHOLD, MIN_THRESHOLD } from '../../gallery/validate.js';

const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: '^\\S(.*\\S)?$', description: 'Unique (case-insensitive), no leading or trailing spaces.' });
const Threshold = Type.Union([Type.Number({ minimum: MIN_THRESHOLD, maximum: MAX_THRESHOLD }), Type.Null()], { description: 'Per-algorithm threshold override; null = global default or calibration.' });

export const AlgorithmCreate = Type.Object(
  {
    name: Name,
    forgeryType: ForgeryType,
    architecture: Architecture,
    description: Type.Optional(Type.String({ maxLength: MAX_TEXT_LENGTH })),
    reference: Type.Optional(Type.String({ maxLength: MAX_REFERENCE_LENGTH, description: 'Where the algorithm was found (URL, case id).' })),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    threshold: Type.Optional(Threshold),
  },
  { additionalProperties: false },
);

export const AlgorithmPatch = Type.Partial(
  Type.Object({
    name: Name,
    forgeryType: ForgeryType,
    architecture: Architecture,
    description: Type.String({ maxLength: MAX_TEXT_LENGTH }),
    reference: Type.String({ maxLength: MAX_REFERENCE_LENGTH }),
    enabled: Type.Boolean(),
    threshold: Threshold,
  }),
  { additionalProperties: false, minProperties: 1 },
);

/** Where an imported sample or algorithm came from (README, "Sharing galleries: signed bundles"). */
export const Provenance = Type.Object(
  {
    bundleId: Type.String({ description: 'The gallery\'s record of the bundle (`bnd_…`); every row imported from one bundle file names the same.' }),
    bundleSha256: Type.String({ description: 'SHA-256 of the bundle file.' }),
    publisher: Type.String({ description: 'Publisher (key id) whose signature verified.' }),
    keyFingerprint: Type.String({ description: 'SHA-256 (hex) of the raw Ed25519 public key the signature verified with.' }),
    software: Type.String({ description: 'Exporting software named in the manifest.' }),
    exportedAt: Type.String({ description: 'When the bundle was exported (manifest createdAt).' }),
    importedAt: Type.String({ format: 'date-time', description: 'When something was first imported from the bundle.' }),
    sourceId: Type.String({ description: 'The id it had in the exporting gallery.' }),
  },
  { $id: 'Provenance', title: 'Provenance' },
);

const ProvenanceOrNull = Type.Union([Type.Ref('Provenance'), Type.Null()], { description: 'Set when it was imported from a signed bundle; null when registered or enrolled here.' });

export const Algorithm = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    forgeryType: ForgeryType,
    architecture: Architecture,
    description: Type.String(),
    reference: Type.String(),
    enabled: Type.Boolean(),
    threshold: Threshold,
    sampleCount: Type.Integer({ description: 'Samples enrolled for the serving model.' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    provenance: ProvenanceOrNull,
  },
  { $id: 'Algorithm', title: 'Algorithm' },
);

export const AlgorithmRef = Type.Object(
  { id: Type.String(), name: Type.String(), forgeryType: ForgeryType, architecture: Architecture },
  { $id: 'AlgorithmRef', title: 'AlgorithmRef' },
);

export const AlgorithmList = Type.Object({
  items: Type.Array(Type.Ref('Algorithm')),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const Sample = Type.Object(
  {
    id: Type.String(),
    algorithmId: Type.String(),
    models: Type.Array(Type.String(), { description: 'Model ids the sample has a stored vector for; it is searched once it has one for every served model.' }),
    sha256: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    filename: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    provenance: ProvenanceOrNull,
  },
  { $id: 'Sample', title: 'Sample' },
);

export const SampleList = Type.Object({
  items: Type.Array(Type.Ref('Sample')),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const ItemError = Type.Object(
  { statusCode: Type.Integer(), code: Type.String(), message: Type.String() },
  { $id: 'ItemError', title: 'ItemError' },
);

export const EnrolResult = Type.Object({
  created: Type.Integer(),
  duplicates: Type.Integer(),
  failed: Type.Integer(),
  results: Type.Array(
    Type.Object({
      filename: Type.String(),
      status: Type.Union([Type.Literal('created'), Type.Literal('duplicate'), Type.Literal('error')]),
      sampleId: Type.Optional(Type.String()),
      sha256: Type.Optional(Type.String()),
      error: Type.Optional(Type.Ref('ItemError')),
    }),
  ),
});

export const SampleParams = Type.Object({
  id: Id,
  sampleId: Id,
});
