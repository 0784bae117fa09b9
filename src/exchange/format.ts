/**
 * The signed gallery bundle format (README, "Sharing galleries: signed bundles"): a tar of
 * `manifest.json`, `vectors/<model>.f32`, optional `images/<sha256>` and, last, `signature.json`.
 * Schemas and constants only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ARCHITECTURES, FORGERY_TYPES } from '../gallery/types.js';

export const BUNDLE_FORMAT = 'dfg-gallery-bundle';
export const BUNDLE_VERSION = 1;
export const SIGNATURE_FORMAT = 'dfg-bundle-signature';
export const MANIFEST_ENTRY = 'manifest.json';
export const SIGNATURE_ENTRY = 'signature.json';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const ModelId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });

export const BundleModelSchema = Type.Object({
  id: ModelId,
  version: Type.String({ minLength: 1, maxLength: 64 }),
  dim: Type.Integer({ minimum: 1, maximum: 65536 }),
});

export const BundleSampleSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  sha256: Sha256,
  width: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }),
  height: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }),
  filename: Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]),
});

export const BundleAlgorithmSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  /** As the gallery's names: 1 to 200 characters, no control characters, no surrounding spaces. */
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f\\s](?:[^\\u0000-\\u001f\\u007f]*[^\\u0000-\\u001f\\u007f\\s])?$' }),
  forgeryType: Type.Union(FORGERY_TYPES.map((f) => Type.Literal(f))),
  architecture: Type.Union(ARCHITECTURES.map((a) => Type.Literal(a))),
  description: Type.String({ maxLength: 4000 }),
  reference: Type.String({ maxLength: 4000 }),
  samples: Type.Array(BundleSampleSchema),
});

export const ManifestSchema = Type.Object({
  format: Type.Literal(BUNDLE_FORMAT),
  version: Type.Literal(BUNDLE_VERSION),
  createdAt: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$' }),
  exporter: Type.Object({ publisher: Type.String({ minLength: 1, maxLength: 128 }), software: Type.String({ maxLength: 200 }) }),
  models: Type.Array(BundleModelSchema, { minItems: 1, maxItems: 16 }),
  images: Type.Boolean(),
  algorithms: Type.Array(BundleAlgorithmSchema, { minItems: 1 }),
});
export type BundleManifest = Static<typeof ManifestSchema>;
export type BundleModel = Static<typeof BundleModelSchema>;

export const SignatureSchema = Type.Object({
  format: Type.Literal(SIGNATURE_FORMAT),
  version: Type.Literal(BUNDLE_VERSION),
  algorithm: Type.Literal('ed25519'),
  publisher: Type.String({ minLength: 1, maxLength: 128 }),
  entries: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 512 }), size: Type.Integer({ minimum: 0 }), sha256: Sha256 })),
  signature: Type.String({ pattern: '^[A-Za-z0-9+/]+={0,2}$' }),
});
export type BundleSignature = Static<typeof SignatureSchema>;

/** A publisher's public key, as `dfg keys signing create` writes it and the trust list holds it. */
export const PublicKeySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  algorithm: Type.Literal('ed25519'),
  /** The raw 32-byte Ed25519 public key, base64url (RFC 8037 `x`). */
  publicKey: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
});
export type PublicKeyEntry = Static<typeof PublicKeySchema>;

/** DFG_TRUSTED_PUBLISHERS: the keys whose bundles may be imported. */
export const TrustListSchema = Type.Object({ publishers: Type.Array(PublicKeySchema) });
export type TrustList = Static<typeof TrustListSchema>;

/** The private key file of `dfg keys signing create` (mode 0600). */
export const PrivateKeySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  algorithm: Type.Literal('ed25519'),
  /** PKCS#8 PEM. */
  privateKey: Type.String({ minLength: 1 }),
});
export type PrivateKeyEntry = Static<typeof PrivateKeySchema>;

/** The entry a model's vectors are stored in. */
export const vectorEntry = (modelId: string) => `vectors/${modelId}.f32`;
/** The entry an image's bytes are stored in. */
export const imageEntry = (sha256: string) => `images/${sha256}`;

/**
 * The bytes the Ed25519 signature covers: a header line naming the format, version and publisher,
 * then one `sha256 size name` line per entry, in tar order (every entry but signature.json).
 */
export function signedPayload(publisher: string, entries: ReadonlyArray<{ name: string; size: number; sha256: string }>): Buffer {
  const lines = [`${SIGNATURE_FORMAT} ${BUNDLE_VERSION} ed25519 ${publisher}`, ...entries.map((e) => `${e.sha256} ${e.size} ${e.name}`)];
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}
