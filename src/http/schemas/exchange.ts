import { Type } from '@sinclair/typebox';

/** What an import did (POST /v1/imports answers it; an import job carries it once finished). */
export const ImportResult = Type.Object({
  bundleId: Type.String({ description: 'The gallery\'s record of the bundle: imported samples and algorithms name it in their provenance.' }),
  bundleSha256: Type.String(),
  publisher: Type.String(),
  keyFingerprint: Type.String({ description: 'SHA-256 (hex) of the publisher key the signature verified with.' }),
  models: Type.Record(Type.String(), Type.Union([Type.Literal('bundle'), Type.Literal('embedded')]), { description: 'Per served model: vectors used from the bundle, or embedded from its image bytes.' }),
  algorithms: Type.Array(Type.Object({
    name: Type.String({ description: 'Name in the bundle.' }),
    action: Type.Union([Type.Literal('created'), Type.Literal('merged'), Type.Literal('skipped')]),
    id: Type.Optional(Type.String()),
    galleryName: Type.Optional(Type.String()),
    created: Type.Integer(),
    duplicates: Type.Integer(),
  })),
  total: Type.Integer({ description: 'Samples in the bundle.' }),
  created: Type.Integer({ description: 'Samples imported.' }),
  duplicates: Type.Integer({ description: 'Samples the gallery had (by sha256).' }),
  skipped: Type.Integer({ description: 'Samples of algorithms left out (onConflict=skip).' }),
  reembedded: Type.Integer({ description: 'Images embedded again from the bundle\'s bytes.' }),
});
