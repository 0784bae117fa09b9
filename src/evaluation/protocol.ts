/**
 * Seeded protocol splits: which algorithms are registered (known) and which are held out
 * (unknown), which images of each known algorithm are its registration shots, which are probes.
 *
 * - Authentic reference classes are always registered, never held out.
 * - Shots and probes of one algorithm never share a source group: shots are drawn group by
 *   group (in seeded order) until there are enough; the rest of the last drawn group is left
 *   out, and the probes are the images of the undrawn groups. An algorithm with one source
 *   group is registered without probes (it is probed only in the repeats that hold it out).
 * - A known algorithm with fewer images than shots cannot be registered: it is excluded from
 *   that repeat and listed.
 * - Every draw is seeded by (seed, repeat, purpose[, algorithm]), so a repeat is reproducible
 *   and one algorithm's shots do not depend on the others.
 */
import { dfgError } from '../errors.js';
import { createRng, shuffled } from '../math/random.js';

export interface ProtocolFile {
  group: string;
}

export interface ProtocolAlgorithm<F extends ProtocolFile> {
  name: string;
  authentic: boolean;
  files: readonly F[];
}

export interface ProtocolOptions {
  /** Registration images per known algorithm. */
  shots: number;
  /** Share of the non-authentic algorithms held out as unknown (ignored when unknownList is set). */
  unknownFraction: number;
  /** Held-out algorithms by name (fixed across repeats). */
  unknownList?: readonly string[];
  seed: string | number;
}

export interface Split<F extends ProtocolFile> {
  repeat: number;
  /** Registered classes (authentic included), sorted. */
  known: string[];
  /** Held-out algorithms, sorted. */
  unknown: string[];
  /** Registration shots per registered class. */
  gallery: Map<string, F[]>;
  knownProbes: F[];
  unknownProbes: F[];
  /** Registered classes left without any probe (a single source group). */
  galleryOnly: string[];
  /** Known algorithms that could not be registered in this repeat. */
  excluded: { algorithm: string; reason: string }[];
}

const sorted = (names: Iterable<string>) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Validates protocol options against the algorithms; throws DFG_ERR_EVAL_PROTOCOL_INVALID. */
export function validateProtocol<F extends ProtocolFile>(algorithms: readonly ProtocolAlgorithm<F>[], opts: ProtocolOptions): void {
  if (!Number.isInteger(opts.shots) || opts.shots < 1) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--shots must be a positive integer, got ${opts.shots}`);
  if (opts.unknownList && opts.unknownList.length > 0) {
    const byName = new Map(algorithms.map((a) => [a.name, a]));
    for (const name of opts.unknownList) {
      const a = byName.get(name);
      if (!a) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--unknown-list names ${name}, which is not an algorithm with images (have: ${sorted(byName.keys()).join(', ')})`);
      if (a.authentic) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--unknown-list names ${name}, an authentic reference class: those are always registered`);
    }
    if (new Set(opts.unknownList).size !== opts.unknownList.length) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', '--unknown-list names an algorithm twice');
    if (opts.unknownList.length >= algorithms.filter((a) => !a.authentic).length) {
      throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', '--unknown-list holds out every algorithm: at least one must stay registered');
    }
  } else if (!(opts.unknownFraction >= 0 && opts.unknownFraction < 1)) {
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--unknown must be a fraction in [0, 1), got ${opts.unknownFraction}`);
  }
}

/** How many of `eligible` algorithms a fraction holds out: at least one when the fraction is positive, never all. */
export function unknownCount(eligible: number, fraction: number): number {
  if (eligible < 2 || fraction <= 0) return 0;
  return Math.min(eligible - 1, Math.max(1, Math.round(fraction * eligible)));
}

/**
 * Draws one repeat's split. Throws DFG_ERR_EVAL_PROTOCOL_INVALID when fewer than two classes
 * can be registered (retrieval and calibration need a choice to make).
 */
export function makeSplit<F extends ProtocolFile>(algorithms: readonly ProtocolAlgorithm<F>[], opts: ProtocolOptions, repeat: number): Split<F> {
  validateProtocol(algorithms, opts);
  const key = `${opts.seed}:${repeat}`;
  let unknown: Set<string>;
  if (opts.unknownList && opts.unknownList.length > 0) unknown = new Set(opts.unknownList);
  else {
    const eligible = sorted(algorithms.filter((a) => !a.authentic).map((a) => a.name));
    const n = unknownCount(eligible.length, opts.unknownFraction);
    unknown = new Set(shuffled(eligible, createRng(`${key}:unknown`)).slice(0, n));
  }

  const split: Split<F> = { repeat, known: [], unknown: sorted(unknown), gallery: new Map(), knownProbes: [], unknownProbes: [], galleryOnly: [], excluded: [] };
  for (const a of [...algorithms].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    if (unknown.has(a.name)) {
      split.unknownProbes.push(...a.files);
      continue;
    }
    if (a.files.length < opts.shots) {
      split.excluded.push({ algorithm: a.name, reason: `${a.files.length} usable image(s), fewer than --shots ${opts.shots}` });
      continue;
    }
    const rng = createRng(`${key}:shots:${a.name}`);
    const groups = new Map<string, F[]>();
    for (const f of a.files) {
      const g = groups.get(f.group);
      if (g) g.push(f);
      else groups.set(f.group, [f]);
    }
    const order = shuffled(sorted(groups.keys()), rng);
    const shots: F[] = [];
    let used = 0;
    while (shots.length < opts.shots) {
      const members = shuffled(groups.get(order[used])!, rng);
      shots.push(...members.slice(0, opts.shots - shots.length));
      used += 1;
    }
    const probes = order.slice(used).flatMap((g) => groups.get(g)!);
    split.known.push(a.name);
    split.gallery.set(a.name, shots);
    if (probes.length === 0) split.galleryOnly.push(a.name);
    split.knownProbes.push(...probes);
  }
  if (split.known.length < 2) {
    const why = split.excluded.map((e) => `${e.algorithm}: ${e.reason}`).join('; ');
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `repeat ${repeat} registers ${split.known.length} class(es); at least two are needed${why ? ` (excluded: ${why})` : ''}`);
  }
  return split;
}
