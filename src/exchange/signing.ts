/**
 * Ed25519 publisher keys (node:crypto): creating a pair, reading the private key file and the
 * trusted publishers list (DFG_TRUSTED_PUBLISHERS), signing and verifying a bundle's entry list.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { dfgError } from '../errors.js';
import { PrivateKeySchema, TrustListSchema, signedPayload, type PrivateKeyEntry, type PublicKeyEntry, type TrustList } from './format.js';

/** A new Ed25519 pair for publisher `id`: the private key file's content and the public entry for trust lists. */
export function createSigningKey(id: string): { privateKey: PrivateKeyEntry; publicKey: PublicKeyEntry } {
  const pair = crypto.generateKeyPairSync('ed25519');
  const jwk = pair.publicKey.export({ format: 'jwk' });
  return {
    privateKey: { id, algorithm: 'ed25519', privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
    publicKey: { id, algorithm: 'ed25519', publicKey: jwk.x! },
  };
}

/** A publisher's signing key from its private key file. Throws DFG_ERR_BUNDLE_SIGNING_KEY_INVALID. */
export async function readSigningKey(file: string): Promise<{ id: string; key: crypto.KeyObject }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw dfgError('DFG_ERR_BUNDLE_SIGNING_KEY_INVALID', file, (err as Error).message.replace(/\s+/g, ' '));
  }
  if (!Value.Check(PrivateKeySchema, parsed)) throw dfgError('DFG_ERR_BUNDLE_SIGNING_KEY_INVALID', file, 'not a private key file of dfg keys signing create');
  try {
    const key = crypto.createPrivateKey(parsed.privateKey);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an ${key.asymmetricKeyType} key, not ed25519`);
    return { id: parsed.id, key };
  } catch (err) {
    throw dfgError('DFG_ERR_BUNDLE_SIGNING_KEY_INVALID', file, (err as Error).message);
  }
}

/** The trusted publishers list. Throws DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED when unset, unreadable or invalid. */
export async function readTrustList(file: string): Promise<TrustList> {
  if (!file) throw dfgError('DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED', 'set DFG_TRUSTED_PUBLISHERS to a trusted publishers file');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw dfgError('DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED', `${file}: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
  if (!Value.Check(TrustListSchema, parsed)) {
    const first = [...Value.Errors(TrustListSchema, parsed)][0];
    throw dfgError('DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED', `${file} is not a trusted publishers list (${first?.path || '/'}: ${first?.message})`);
  }
  return parsed;
}

type Entries = ReadonlyArray<{ name: string; size: number; sha256: string }>;

/** Base64 Ed25519 signature of the entry list (format.ts, signedPayload). */
export function signEntries(key: crypto.KeyObject, publisher: string, entries: Entries): string {
  return crypto.sign(null, signedPayload(publisher, entries), key).toString('base64');
}

/** SHA-256 (hex) of a publisher's raw 32-byte public key: names the key in provenance records. */
export function keyFingerprint(entry: PublicKeyEntry): string {
  return crypto.createHash('sha256').update(Buffer.from(entry.publicKey, 'base64url')).digest('hex');
}

/**
 * Verifies a signature against the trusted key of `publisher`; returns that key's fingerprint.
 * Throws DFG_ERR_BUNDLE_UNKNOWN_PUBLISHER or DFG_ERR_BUNDLE_BAD_SIGNATURE.
 */
export function verifyEntries(trust: TrustList, publisher: string, entries: Entries, signature: string): string {
  const entry = trust.publishers.find((p) => p.id === publisher);
  if (!entry) throw dfgError('DFG_ERR_BUNDLE_UNKNOWN_PUBLISHER', JSON.stringify(publisher));
  let ok: boolean;
  try {
    const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: entry.publicKey }, format: 'jwk' });
    ok = crypto.verify(null, signedPayload(publisher, entries), key, Buffer.from(signature, 'base64'));
  } catch {
    ok = false; // a trusted key that is no Ed25519 point verifies nothing
  }
  if (!ok) throw dfgError('DFG_ERR_BUNDLE_BAD_SIGNATURE', JSON.stringify(publisher));
  return keyFingerprint(entry);
}
