/**
 * Reads and verifies a bundle before anything is written: the bytes are read (bounded), the tar is
 * parsed with tar-stream and its framing checked (padding and end blocks are zeros, so no byte of
 * the file goes unchecked), every entry's sha256 is compared with the signed list, the signature
 * with the publisher's trusted key, and the manifest and vector files with each other.
 */
import crypto from 'node:crypto';
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
  /** Per model id, one vector per sample in manifest order (algorithms, then their samples). */
  vectors: Map<string, Float32Array[]>;
  images: Map<string, Buffer>;
}

const BLOCK = 512;
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

interface Entry { name: string; size: number; sha256: string; data: Buffer }

/** Entries of the tar in order (plain files only), with the limits applied as headers arrive. */
async function parseTar(buf: Buffer, limits: BundleLimits): Promise<Entry[]> {
  const extract = tar.extract();
  extract.end(buf);
  const entries: Entry[] = [];
  try {
    for await (const e of extract) {
      const h = e.header;
      if ((h.type ?? 'file') !== 'file') throw malformed(`entry ${JSON.stringify(h.name)} is a ${h.type}, not a file`);
      if (entries.length >= limits.maxEntries) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${limits.maxEntries} entries`);
      const size = h.size ?? 0;
      if (size > limits.maxEntryBytes) throw dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `entry ${JSON.stringify(h.name)} of ${size} bytes (at most ${limits.maxEntryBytes})`);
      const chunks: Buffer[] = [];
      for await (const c of e as AsyncIterable<Buffer>) chunks.push(c);
      const data = Buffer.concat(chunks);
      if (data.length !== size) throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', `entry ${JSON.stringify(h.name)} ends early`);
      entries.push({ name: h.name, size, sha256: sha256(data), data });
    }
  } catch (err) {
    extract.destroy();
    if (isDfgError(err)) throw err;
    const msg = (err as Error).message;
    if (/unexpected end/i.test(msg)) throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', msg);
    throw malformed(`not a bundle tar (${msg})`);
  }
  return entries;
}

/**
 * Tar framing outside the entries' data, which the signature does not cover: each entry's padding
 * and the end-of-archive blocks must be zeros, and the file must end with them.
 */
function checkFraming(buf: Buffer): void {
  let at = 0;
  const zero = (from: number, to: number) => buf.subarray(from, to).every((b) => b === 0);
  while (at + BLOCK <= buf.length) {
    if (zero(at, at + BLOCK)) {
      if (buf.length - at < 2 * BLOCK) throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', 'the end-of-archive blocks are missing');
      if (!zero(at, buf.length)) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', 'after the end of the archive');
      return;
    }
    // The one header field its checksum does not cover: only the two terminations tar writers use.
    if (!/^[0-7]{6}( \0|\0 )$/.test(buf.subarray(at + 148, at + 156).toString('latin1'))) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', `tar header at byte ${at}`);
    const size = Number.parseInt(buf.subarray(at + 124, at + 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw malformed('a tar header has no valid size');
    const end = at + BLOCK + size;
    const next = at + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (next > buf.length) throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', 'an entry ends past the end of the file');
    if (!zero(end, next)) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', `padding at byte ${end}`);
    at = next;
  }
  throw dfgError('DFG_ERR_BUNDLE_TRUNCATED', 'the end-of-archive blocks are missing');
}

function parseJson(e: Entry): unknown {
  try {
    return JSON.parse(e.data.toString('utf8'));
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
 * DFG_ERR_BUNDLE_* codes (see errors.ts) and nothing else.
 */
export async function verifyBundle(source: AsyncIterable<Uint8Array> | Uint8Array, trust: TrustList, limits: Partial<BundleLimits> = {}): Promise<VerifiedBundle> {
  const lim = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  const buf = await readBounded(source, lim.maxBytes);
  const entries = await parseTar(buf, lim);
  checkFraming(buf);

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
  verifyEntries(trust, sigDoc.publisher, sigDoc.entries, sigDoc.signature);

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
        const v = e.data.readFloatLE((i * m.dim + j) * 4);
        if (!Number.isFinite(v)) throw malformed(`${e.name}: row ${i} is not finite`);
        row[j] = v;
        norm += v * v;
      }
      if (norm === 0) throw malformed(`${e.name}: row ${i} is all zeros`);
      rows.push(row);
    }
    vectors.set(m.id, rows);
  }
  const images = new Map<string, Buffer>();
  for (const [name, e] of byName) {
    const m = /^images\/([0-9a-f]{64})$/.exec(name);
    if (!m || !manifest.images) throw malformed(`unexpected entry ${JSON.stringify(name)}`);
    if (e.sha256 !== m[1]) throw malformed(`${name} does not hash to its name`);
    if (e.size === 0) throw malformed(`${name} is empty`);
    images.set(m[1]!, e.data);
  }
  return { manifest, sha256: sha256(buf), publisher: sigDoc.publisher, vectors, images };
}
