/**
 * Parts of the generated OpenAPI document that no route schema carries: tags with their
 * descriptions, the server, and the rewrites that make TypeBox's JSON Schema valid OpenAPI 3.0.3.
 */

/** Tags in the order the document lists them. */
export const OPENAPI_TAGS = [
  { name: 'attribution', description: 'Attribute an image to the nearest registered forgery algorithm, or to `unknown`.' },
  { name: 'algorithms', description: 'Register, list, update and remove forgery algorithms (the blacklist).' },
  { name: 'samples', description: 'Enrol, list and delete the reference samples of an algorithm.' },
  { name: 'gallery', description: 'The gallery as a whole: its state, the calibration of the thresholds, the served models.' },
  { name: 'jobs', description: 'Batch jobs over many images (enrol, attribute, re-embed): submit, follow, fetch results, cancel.' },
  { name: 'exchange', description: 'Signed gallery bundles shared between organisations: export and import.' },
  { name: 'health', description: 'Liveness, readiness and Prometheus metrics; no API key needed.' },
];

/** Where `dfg serve` listens with the default HOST and PORT. */
export const OPENAPI_SERVERS = [{ url: 'http://127.0.0.1:8080', description: 'dfg serve with the default HOST and PORT' }];

/**
 * JSON Schema (draft 7, what TypeBox writes and Ajv validates) states exclusive bounds as numbers;
 * OpenAPI 3.0 states them as `minimum` plus `exclusiveMinimum: true`. Returns a rewritten copy: the
 * document shares its schema objects with the routes, whose validators must keep the numbers.
 */
export function exclusiveBoundsAsOpenApi30<T>(doc: T): T {
  const copy = structuredClone(doc);
  rewriteBounds(copy);
  return copy;
}

function rewriteBounds(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteBounds(item);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const [bound, flag] of [['minimum', 'exclusiveMinimum'], ['maximum', 'exclusiveMaximum']] as const) {
      if (typeof o[flag] === 'number') {
        o[bound] = o[flag];
        o[flag] = true;
      }
    }
    for (const v of Object.values(o)) rewriteBounds(v);
  }
}
