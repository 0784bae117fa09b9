/**
 * Reads and verifies a bundle before anything is written: the file (or buffer) is streamed once
 * through the framing check (padding and end blocks are zeros, so no byte of the file goes
 * unchecked) into tar-stream; every entry's sha256 is compared with the signed list, the signature
 * with the publisher's trusted key, and the manifest and vector files with each other. The
 * manifest, signature and vectors are held; image bytes stay in the file and are read on demand.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { Value } from '@sinclair/typebox/value';
import { dfgError, isDfgError } from '../errors.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  MANIFEST_ENTRY,
  ManifestSchema,
  SIGNATURE_ENTRY,
  SIGNATURE_FORMAT,
  SignatureSchema,
  vectorEntry,
  type BundleManifest,
} from './format.js';
import { verifyEntries } from './signing.js';
import { TarFraming } from './tar-framing.js';
import type { TrustList } from './format.js';

export interface BundleLimits {
  /** Whole bundle (default 1 GiB). */
  maxBytes: number;
  /** One entry (default 256 MiB). */
  maxEntryBytes: number;
  /** Entries (default 200,000). */
  maxEntries: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = { maxBytes: 1024 ** 3, maxEntryBytes: 256 * 1024 ** 2, maxEntries: 200_000 };

export interface VerifiedBundle {
  manifest: BundleManifest;
  /** sha256 of the whole bundle file (provenance). */
  sha256: string;
  publisher: string;
  /** SHA-256 (hex) of the raw public key the signature verified with. */
  keyFingerprint: string;
  /** Per model id, one vector per sample in manifest order (algorithms, then their samples). */
  vectors: Map<string, Float32Array[]>;
  /** sha256 of each image the bundle holds. */
  images: ReadonlySet<string>;
  /**
   * An image's bytes, read from the bundle when asked (never held all at once). Throws
   * DFG_ERR_BUNDLE_TAMPERED when the file changed since it was verified.
   */
  readImage(sha256: string): Promise<Buffer>;
  /** Releases the bundle file (idempotent). */
  close(): Promise<void>;
}

/** A bundle: the path of its file (read as a stream, images on demand), or its bytes. */
export type BundleSource = string | Uint8Array;

const malformed = (why: string) => dfgError('DFG_ERR_BUNDLE_MALFORMED', why);
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** The source's bytes; DFG_ERR_BUNDLE_TOO_LARGE past `max`. */
export async function readBounded(source: AsyncIterable<Uint8Array> | Uint8Array, max: number): Promise<Buffer> {
  if (source instanceof Uint8Array) {
    if (source.byteLength > max) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${max} bytes`);
    return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    n += c.byteLength;
    if (n > max) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${max} bytes`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks, n);
}

/** Sequential and positioned reads of a bundle file or buffer. */
interface Access {
  size: number;
  stream(): Readable;
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

async function access(source: BundleSource): Promise<Access> {
  if (typeof source !== 'string') {
    const buf = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return {
      size: buf.length,
      stream: () => Readable.from([buf]),
      read: async (offset, length) => buf.subarray(offset, offset + length),
      close: async () => {},
    };
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(source, 'r');
  } catch (err) {
    throw dfgError('DFG_ERR_BUNDLE_MALFORMED', `cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let closed = false;
  return {
    size: (await handle.stat()).size,
    // One handle for both, so the bytes read later are those of the file that was verified (or the check fails).
    stream: () => handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1024 * 1024 }),
    async read(offset, length) {
      const out = Buffer.alloc(length);
      const { bytesRead } = await handle.read(out, 0, length, offset);
      return out.subarray(0, bytesRead);
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/** Entries whose bytes verification needs; the others (images) are only hashed. */
const KEPT = (name: string) => name === MANIFEST_ENTRY || name === SIGNATURE_ENTRY || name.startsWith('vectors/');

interface Entry { name: string; size: number; sha256: string; offset: number; data?: Buffer }

/**
 * Entries of the tar in order (plain files only), read as a stream with the limits applied as
 * headers arrive; the framing is checked (tar-framing.ts) and the whole file hashed on the way.
 */
async function scanTar(src: Access, limits: BundleLimits): Promise<{ entries: Entry[]; sha256: string }> {
  if (src.size > limits.maxBytes) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${limits.maxBytes} bytes`);
  const framing = new TarFraming(limits.maxBytes);
  const extract = tar.extract();
  const pump = pipeline(src.stream(), framing, extract);
  pump.catch(() => {}); // its error reaches the loop below through the extract stream
  const entries: Entry[] = [];
  try {
    for await (const e of extract) {
      const h = e.header;
      if ((h.type ?? 'file') !== 'file') throw malformed(`entry ${JSON.stringify(h.name)} is a ${h.type}, not a file`);
      if (entries.length >= limits.maxEntries) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${limits.maxEntries} entries`);
      const size = h.size ?? 0;
      if (size > limits.maxEntryBytes) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `entry ${JSON.stringify(h.name)} of ${size} bytes (at most ${limits.maxEntryBytes})`);
      const place = framing.entries[entries.length];
      if (!place || place.size !== size) throw malformed(`entry ${JSON.stringify(h.name)} is framed unlike its header`);
      const hash = crypto.createHash('sha256');
      const keep = KEPT(h.name);
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of e as AsyncIterable<Buffer>) {
        hash.update(c);
        n += c.length;
        if (keep) chunks.push(c);
      }
      if (n !== size) throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', `entry ${JSON.stringify(h.name)} ends early`);
      entries.push({ name: h.name, size, sha256: hash.digest('hex'), offset: place.offset, ...(keep ? { data: Buffer.concat(chunks, n) } : {}) });
    }
    await pump;
  } catch (err) {
    extract.destroy();
    if (isDfgError(err)) throw err;
    const msg = (err as Error).message;
    if (/unexpected end/i.test(msg)) throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', msg);
    throw malformed(`not a bundle tar (${msg})`);
  }
  return { entries, sha256: framing.digest() };
}

function parseJson(e: Entry): unknown {
  try {
    return JSON.parse(e.data!.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A format/version pair this release cannot read: refused before anything else is trusted. */
function checkVersion(doc: unknown, format: string): void {
  if (typeof doc !== 'object' || doc === null) return;
  const d = doc as { format?: unknown; version?: unknown };
  if (d.format !== format || d.version !== BUNDLE_VERSION) {
    throw dfgError('DFG_ERR_BUNDLE_VERSION_UNSUPPORTED', `${JSON.stringify(d.format)} version ${JSON.stringify(d.version)}`, `${format} version ${BUNDLE_VERSION}`);
  }
}

/**
 * Verifies a bundle end to end; resolves only when every check passed. Throws the
 * DFG_ERR_BUNDLE_* codes (see errors.ts) and nothing else. The caller closes what it resolves to.
 */
export async function verifyBundle(source: BundleSource, trust: TrustList, limits: Partial<BundleLimits> = {}): Promise<VerifiedBundle> {
  const lim = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  const src = await access(source);
  try {
    return await verifyEntriesOf(src, trust, lim);
  } catch (err) {
    await src.close();
    throw err;
  }
}

async function verifyEntriesOf(src: Access, trust: TrustList, lim: BundleLimits): Promise<VerifiedBundle> {
  const { entries, sha256: bundleSha } = await scanTar(src, lim);

  if (entries.length === 0 || entries[0]!.name !== MANIFEST_ENTRY) throw malformed(`the first entry must be ${MANIFEST_ENTRY}`);
  const manifestDoc = parseJson(entries[0]!);
  checkVersion(manifestDoc, BUNDLE_FORMAT);
  const last = entries[entries.length - 1]!;
  if (last.name !== SIGNATURE_ENTRY) {
    if (entries.some((e) => e.name === SIGNATURE_ENTRY)) throw malformed(`${SIGNATURE_ENTRY} must be the last entry`);
    throw dfgError('DFG_ERR_BUNDLE_UNSIGNED', `no ${SIGNATURE_ENTRY}`);
  }
  const sigDoc = parseJson(last);
  checkVersion(sigDoc, SIGNATURE_FORMAT);
  if (!Value.Check(SignatureSchema, sigDoc)) throw malformed(`${SIGNATURE_ENTRY} fails its schema`);

  const signed = entries.slice(0, -1);
  if (sigDoc.entries.length !== signed.length) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', `list (${signed.length} entries, ${sigDoc.entries.length} signed)`);
  signed.forEach((e, i) => {
    const s = sigDoc.entries[i]!;
    if (s.name !== e.name || s.size !== e.size || s.sha256 !== e.sha256) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', JSON.stringify(e.name));
  });
  const keyFingerprint = verifyEntries(trust, sigDoc.publisher, sigDoc.entries, sigDoc.signature);

  // Signed by a trusted publisher from here on; still checked, as a bug there must not reach the gallery.
  if (!Value.Check(ManifestSchema, manifestDoc)) {
    const first = [...Value.Errors(ManifestSchema, manifestDoc)][0];
    throw malformed(`manifest.json: ${first?.path || '/'}: ${first?.message}`);
  }
  const manifest = manifestDoc;
  if (manifest.exporter.publisher !== sigDoc.publisher) throw malformed(`manifest names publisher ${JSON.stringify(manifest.exporter.publisher)}, signed by ${JSON.stringify(sigDoc.publisher)}`);
  const names = manifest.algorithms.map((a) => a.name.toLowerCase());
  if (new Set(names).size !== names.length) throw malformed('two algorithms share a name (names are case-insensitive)');
  const modelIds = manifest.models.map((m) => m.id);
  if (new Set(modelIds).size !== modelIds.length) throw malformed('a model is listed twice');

  const byName = new Map(signed.map((e) => [e.name, e]));
  if (byName.size !== signed.length) throw malformed('an entry name repeats');
  byName.delete(MANIFEST_ENTRY);
  const samples = manifest.algorithms.flatMap((a) => a.samples);
  const vectors = new Map<string, Float32Array[]>();
  for (const m of manifest.models) {
    const e = byName.get(vectorEntry(m.id));
    if (!e) throw malformed(`no ${vectorEntry(m.id)}`);
    byName.delete(e.name);
    if (e.size !== samples.length * m.dim * 4) throw dfgError('DFG_ERR_BUNDLE_DIMENSION_MISMATCH', m.id, `${e.size} bytes do not hold ${samples.length} rows of dimension ${m.dim}`);
    const rows: Float32Array[] = [];
    for (let i = 0; i < samples.length; i++) {
      const row = new Float32Array(m.dim);
      let norm = 0;
      for (let j = 0; j < m.dim; j++) {
        const v = e.data!.readFloatLE((i * m.dim + j) * 4);
        if (!Number.isFinite(v)) throw malformed(`${e.name}: row ${i} is not finite`);
        row[j] = v;
        norm += v * v;
      }
      if (norm === 0) throw malformed(`${e.name}: row ${i} is all zeros`);
      rows.push(row);
    }
    vectors.set(m.id, rows);
  }
  const images = new Map<string, Entry>();
  for (const [name, e] of byName) {
    const m = /^images\/([0-9a-f]{64})$/.exec(name);
    if (!m || !manifest.images) throw malformed(`unexpected entry ${JSON.stringify(name)}`);
    if (e.sha256 !== m[1]) throw malformed(`${name} does not hash to its name`);
    if (e.size === 0) throw malformed(`${name} is empty`);
    images.set(m[1]!, e);
  }
  return {
    manifest, sha256: bundleSha, publisher: sigDoc.publisher, keyFingerprint, vectors,
    images: new Set(images.keys()),
    async readImage(sha) {
      const e = images.get(sha);
      if (!e) throw dfgError('DFG_ERR_BUNDLE_MALFORMED', `no image ${sha}`);
      const bytes = await src.read(e.offset, e.size);
      if (bytes.length !== e.size || sha256(bytes) !== sha) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', `images/${sha} changed after the bundle was verified`);
      return bytes;
    },
    close: () => src.close(),
  };
}
