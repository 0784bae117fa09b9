/**
 * The algorithms a service evaluation registers: names under the run's prefix, taxonomy mapped
 * onto the API's vocabulary, and their removal, which sweeps the prefix so that an algorithm
 * created by a request the run stopped waiting for (Ctrl-C) goes too.
 */
import { createHash } from 'node:crypto';
import { dfgError } from '../../errors.js';
import { forEachLimit } from '../../lib/limit.js';
import { AlgorithmAnswer, AlgorithmPage, checked } from './answers.js';
import { answer, type ServiceClient } from './client.js';

const FORGERY_TYPES = ['FS', 'FR', 'EFS', 'FE', 'authentic', 'unknown'] as const;
const ARCHITECTURES = ['CNN', 'CG', 'GAN', 'Diffusion', 'VAR', 'closed-source', 'authentic', 'other'] as const;
/** The API's page size limit. */
const PAGE = 500;
/** Longest dataset name kept readable in a service name (the API allows 200 characters in all). */
const READABLE_MAX = 150;

/** `eval-<runId>-`: every algorithm of the run starts with it. */
export const runPrefix = (runId: string) => `eval-${runId}-`;

function pick<T extends string>(vocabulary: readonly T[], value: string, fallback: T): T {
  return vocabulary.find((v) => v.toLowerCase() === value.toLowerCase()) ?? fallback;
}

/** genome.json's forgery type and architecture in the API's vocabulary (`unknown` / `other` when outside it). */
export function serviceTaxonomy(a: { forgeryType: string; architecture: string; authentic: boolean }): { forgeryType: (typeof FORGERY_TYPES)[number]; architecture: (typeof ARCHITECTURES)[number] } {
  return {
    forgeryType: a.authentic ? 'authentic' : pick(FORGERY_TYPES, a.forgeryType, 'unknown'),
    architecture: pick(ARCHITECTURES, a.architecture, a.authentic ? 'authentic' : 'other'),
  };
}

/**
 * Service names for dataset algorithms: `<prefix><name>`, or, where the name has whitespace or
 * control characters, is long, or equals another one but for case (the API compares names
 * case-insensitively), a cleaned name plus a hash of the original.
 */
export function serviceNames(prefix: string, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const lower = new Map<string, number>();
  for (const n of names) lower.set(n.toLowerCase(), (lower.get(n.toLowerCase()) ?? 0) + 1);
  for (const n of names) {
    const clean = n.replace(/[\s\p{C}]+/gu, '_').slice(0, READABLE_MAX);
    const plain = clean === n && lower.get(n.toLowerCase()) === 1;
    out.set(n, plain ? `${prefix}${n}` : `${prefix}${clean}~${createHash('sha256').update(n).digest('hex').slice(0, 10)}`);
  }
  return out;
}

/** Every algorithm of the service, page by page. */
export async function listAlgorithms(client: ServiceClient, signal?: AbortSignal): Promise<AlgorithmAnswer[]> {
  const all: AlgorithmAnswer[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const what = `GET ${client.base}/v1/algorithms?limit=${PAGE}&offset=${offset}`;
    const page = checked(AlgorithmPage, await answer(client.api.GET('/v1/algorithms', { params: { query: { limit: PAGE, offset } }, signal: signal ?? client.signal }), what), what);
    all.push(...page.items);
    if (page.items.length < PAGE || offset + PAGE >= page.total) return all;
  }
}

/** Refuses to run among enabled algorithms the run did not create (they would compete), unless allowed. */
export function checkExisting(existing: readonly AlgorithmAnswer[], allow: boolean, base: string): string[] {
  const enabled = existing.filter((a) => a.enabled).map((a) => a.name);
  if (enabled.length > 0 && !allow) {
    const named = enabled.slice(0, 10).join(', ') + (enabled.length > 10 ? `, … (${enabled.length - 10} more)` : '');
    const stale = enabled.some((n) => /^eval-[0-9a-f]{8}-/.test(n)) ? ' Names starting eval-<8 hex>- were left by an interrupted dfg eval: delete them (DELETE /v1/algorithms/{id}).' : '';
    throw dfgError('DFG_ERR_EVAL_PROTOCOL_INVALID', `the service at ${base} has ${enabled.length} enabled algorithm(s) this run did not register (${named}); they would compete with the registered classes and skew every number. Evaluate against an empty gallery, disable them, or pass --allow-existing to measure the deployed gallery as it is.${stale}`);
  }
  return enabled;
}

export interface ClassToRegister {
  name: string;
  forgeryType: string;
  architecture: string;
  authentic: boolean;
}

/**
 * Registers one algorithm per class; resolves to dataset name → algorithm id. Ids created before
 * a failure are already in `created`, so the caller's cleanup finds them.
 */
export async function registerClasses(client: ServiceClient, runId: string, classes: readonly ClassToRegister[], created: Map<string, string>, concurrency: number, signal?: AbortSignal): Promise<Map<string, string>> {
  const names = serviceNames(runPrefix(runId), classes.map((c) => c.name));
  const ids = new Map<string, string>();
  await forEachLimit(classes, concurrency, async (c) => {
    const what = `POST ${client.base}/v1/algorithms`;
    const body = {
      name: names.get(c.name)!,
      ...serviceTaxonomy(c),
      description: `dfg eval run ${runId}: registered for one protocol repeat, deleted after it`,
      enabled: true,
    };
    const alg = checked(AlgorithmAnswer, await answer(client.api.POST('/v1/algorithms', { body, signal: client.signal }), what), what);
    created.set(alg.id, c.name);
    ids.set(c.name, alg.id);
  }, signal);
  return ids;
}

/**
 * Deletes the given algorithms and every other one named under the run's prefix. Uses its own
 * signal (the run's may be aborted already). Resolves to the names it could not delete.
 */
export async function removeRunAlgorithms(client: ServiceClient, runId: string, ids: Iterable<string>, concurrency: number): Promise<string[]> {
  const signal = () => AbortSignal.timeout(60_000);
  const targets = new Set(ids);
  const failed: string[] = [];
  try {
    for (const a of await listAlgorithms(client, signal())) if (a.name.startsWith(runPrefix(runId))) targets.add(a.id);
  } catch (err) {
    failed.push(`(listing for leftovers failed: ${(err as Error).message})`);
  }
  await forEachLimit([...targets], concurrency, async (id) => {
    try {
      await client.api.DELETE('/v1/algorithms/{id}', { params: { path: { id } }, signal: signal() });
    } catch (err) {
      if ((err as { code?: string }).code !== 'DFG_ERR_ALGORITHM_NOT_FOUND') failed.push(`${id} (${(err as Error).message})`);
    }
  });
  return failed;
}
