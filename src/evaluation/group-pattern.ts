/**
 * How the files of a dataset are grouped by source (shots and probes never share one). Apart from
 * dataset.ts so that `dfg eval`'s option defaults need no TypeBox at start-up.
 */
import path from 'node:path';
import { dfgError } from '../errors.js';

/** Tiles cut from one grid are named `<source>__tNN.<ext>`: the source is the part before `__t`. */
export const DEFAULT_GROUP_PATTERN = '^(.*)__t\\d+\\.[A-Za-z]+$';

/** Compiles a group pattern, refusing one that is invalid or has no capture group. */
export function compileGroupPattern(source: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--group-pattern ${JSON.stringify(source)} is not a regular expression (${(err as Error).message})`);
  }
  // An alternative that always matches the empty string reveals the group count.
  const groups = new RegExp(`${source}|`).exec('')!.length - 1;
  if (groups < 1) throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `--group-pattern ${JSON.stringify(source)} needs a capture group naming the source`);
  return re;
}

/**
 * The source group of a file: the pattern's first capture group on the file name, or else the
 * file name without extension; prefixed by its sub-folder inside the algorithm folder.
 */
export function groupOf(fileName: string, subdir: string, pattern: RegExp): string {
  const m = pattern.exec(fileName);
  const name = m && m[1] !== undefined && m[1] !== '' ? m[1] : fileName.slice(0, fileName.length - path.extname(fileName).length);
  return subdir ? `${subdir}/${name}` : name;
}
