/**
 * Writes a bundle as a tar stream: manifest.json, the vector files, the images (read one at a time
 * from `images`, so a bundle with images is never held whole), then signature.json over the sha256
 * of every entry before it.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { BUNDLE_VERSION, MANIFEST_ENTRY, SIGNATURE_ENTRY, SIGNATURE_FORMAT, imageEntry, vectorEntry, type BundleManifest, type BundleSignature } from './format.js';
import { signEntries } from './signing.js';

export interface BundleParts {
  manifest: BundleManifest;
  /** Per model id of the manifest: float32 little-endian rows in manifest sample order. */
  vectors: ReadonlyMap<string, Uint8Array>;
  /** Image bytes by sha256 (only when the manifest says `images: true`). */
  images?: AsyncIterable<{ sha256: string; bytes: Uint8Array }>;
}

export interface Signer {
  publisher: string;
  key: crypto.KeyObject;
}

/** Entry mtime: the manifest's creation time, so the tar says when the bundle was made. */
function mtimeOf(manifest: BundleManifest): Date {
  const t = Date.parse(manifest.createdAt);
  return Number.isFinite(t) ? new Date(t) : new Date(0);
}

/** The bundle as a tar stream; errors (an image that cannot be read) destroy the stream. */
export function packBundle(parts: BundleParts, signer: Signer): Readable {
  const pack = tar.pack();
  const mtime = mtimeOf(parts.manifest);
  const listed: BundleSignature['entries'] = [];
  const add = (name: string, bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      listed.push({ name, size: bytes.byteLength, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
      pack.entry({ name, size: bytes.byteLength, mtime, mode: 0o644 }, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => (err ? reject(err) : resolve()));
    });
  (async () => {
    await add(MANIFEST_ENTRY, Buffer.from(JSON.stringify(parts.manifest, null, 2) + '\n', 'utf8'));
    for (const m of parts.manifest.models) await add(vectorEntry(m.id), parts.vectors.get(m.id) ?? new Uint8Array(0));
    if (parts.images) for await (const img of parts.images) await add(imageEntry(img.sha256), img.bytes);
    const signature: BundleSignature = {
      format: SIGNATURE_FORMAT,
      version: BUNDLE_VERSION,
      algorithm: 'ed25519',
      publisher: signer.publisher,
      entries: listed,
      signature: signEntries(signer.key, signer.publisher, listed),
    };
    await add(SIGNATURE_ENTRY, Buffer.from(JSON.stringify(signature, null, 2) + '\n', 'utf8'));
    listed.pop();
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack as AsyncIterable<Buffer>);
}
