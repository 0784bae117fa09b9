/**
 * The list of models a service embeds with: `DFG_MODEL` (and `--model`) as `id[:weight],...`.
 * Pure parsing; the manifests are checked when the embedder loads them.
 */
import { dfgError } from '../errors.js';

/** One listed model and its fusion weight. */
export interface ModelChoice {
  id: string;
  weight: number;
}

// Same as the manifest id pattern (also keeps an id from naming a path outside the models folder).
const ID = /^[a-z0-9][a-z0-9._-]*$/;
const MAX_MODELS = 8;

/**
 * Parses `id[:weight],...` (spaces around items ignored; weight default 1, a positive finite
 * number). Throws DFG_ERR_MODEL_LIST_INVALID for an empty list, a malformed id, a bad weight,
 * a model listed twice, or more than 8 models.
 */
export function parseModelList(spec: string): ModelChoice[] {
  if (typeof spec !== 'string' || spec.trim() === '') throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(spec), 'no model listed');
  const items = spec.split(',').map((s) => s.trim());
  if (items.length > MAX_MODELS) throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(spec), `at most ${MAX_MODELS} models`);
  const seen = new Set<string>();
  return items.map((item) => {
    const colon = item.indexOf(':');
    const id = colon < 0 ? item : item.slice(0, colon);
    const weightText = colon < 0 ? undefined : item.slice(colon + 1).trim();
    if (!ID.test(id) || id.length > 128) {
      throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(spec), `${JSON.stringify(id)} is not a model id (lower-case letters, digits, ".", "_", "-")`);
    }
    if (seen.has(id)) throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(spec), `${id} is listed twice`);
    seen.add(id);
    let weight = 1;
    if (weightText !== undefined) {
      weight = /^[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?$/i.test(weightText) ? Number(weightText) : Number.NaN;
      if (!(Number.isFinite(weight) && weight > 0)) {
        throw dfgError('DFG_ERR_MODEL_LIST_INVALID', JSON.stringify(spec), `weight ${JSON.stringify(weightText)} of ${id} is not a positive number`);
      }
    }
    return { id, weight };
  });
}

/** The list written back as `id:weight,...` (weight 1 left out), for logs and messages. */
export function formatModelList(models: readonly ModelChoice[]): string {
  return models.map((m) => (m.weight === 1 ? m.id : `${m.id}:${m.weight}`)).join(',');
}
