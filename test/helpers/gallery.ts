/** Fixtures for gallery tests: seeded random vectors, fake image hashes, temp dirs, a recording logger. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GalleryLogger } from '../../src/gallery/gallery.js';

/** mulberry32: a tiny seeded PRNG, so every test vector is reproducible. */
export { seededRandom as rng } from '../../src/math/random.js';

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

/** A random unit vector. */
export function randomUnit(dim: number, rand: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = gaussian(rand);
  return normalise(v);
}

/** A unit vector near `base`: base plus Gaussian noise of scale `noise` per coordinate. */
export function near(base: Float32Array, noise: number, rand: () => number): Float32Array {
  const v = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) v[i] = base[i]! + noise * gaussian(rand);
  return normalise(v);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** A syntactically valid sha256 for item `i` of series `series`. */
export function sha(i: number, series = 0): string {
  return `${series.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`;
}

const created: string[] = [];
process.once('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed when the test process exits. */
export function tempDir(prefix = 'dfg-gallery-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

/** A logger that keeps what it is given, to assert on "rebuilt because ..." messages. */
export function recordingLog(): { log: GalleryLogger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (obj: object, msg?: string) => {
    records.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, records };
}

/** Every value of an async iterable (Array.fromAsync arrives in Node 22). */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The first element for which the async predicate holds. */
export async function findAsync<T>(xs: readonly T[], pred: (x: T) => Promise<boolean>): Promise<T | undefined> {
  for (const x of xs) if (await pred(x)) return x;
  return undefined;
}
