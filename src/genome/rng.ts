/**
 * Seeded randomness for the genome: every draw comes from a stream named by a key
 * (`seed:algorithm:3:weights`), so one algorithm's weights never depend on how many draws
 * another made, and the same seed gives the same bytes on every platform.
 */
import { createRng } from '../math/random.js';

export interface GenomeRng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** true with probability p. */
  chance(p: number): boolean;
  /** A uint32 seed for a sub-stream. */
  seed(): number;
}

export function createGenomeRng(key: string): GenomeRng {
  const base = createRng(key);
  const next = () => base.next();
  return {
    next,
    int: (n) => base.int(n),
    uniform: (a, b) => a + (b - a) * next(),
    normal() {
      // 1 - u keeps the logarithm finite.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick: (items) => {
      if (items.length === 0) throw new RangeError('Expected a non-empty list to pick from');
      return items[base.int(items.length)];
    },
    chance: (p) => next() < p,
    seed: () => Math.floor(next() * 4294967296) >>> 0,
  };
}

/** Rounds to a few significant digits so genome.json stays readable and parameters print exactly. */
export function round(v: number, digits = 4): number {
  return Number(v.toPrecision(digits));
}
