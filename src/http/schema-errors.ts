/**
 * Route schema failures (Ajv errors) as the one sentence the gallery's checks use:
 * "Expected X for NAME but received V", NAME being `body/name`, `querystring/limit`, `params/id`.
 * Ajv runs with `verbose` (app.ts), so each error carries the value it refused.
 */
import type { FastifyError } from 'fastify';
import { invalid, type DfgError } from '../errors.js';

type AjvError = NonNullable<FastifyError['validation']>[number] & { data?: unknown };

const article = (noun: string) => (noun === 'null' ? noun : /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** What one failed keyword expected, in words. */
function expectation(e: AjvError): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': return String(p.type).split(',').map(article).join(' or ');
    case 'minLength': return `a string of at least ${p.limit} characters`;
    case 'maxLength': return `a string of at most ${p.limit} characters`;
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum': return `a number ${p.comparison} ${p.limit}`;
    case 'minItems': return `at least ${p.limit} items`;
    case 'maxItems': return `at most ${p.limit} items`;
    case 'minProperties': return `at least ${p.limit} properties`;
    case 'pattern': return `a string matching /${p.pattern}/`;
    case 'format': return `a ${p.format} string`;
    case 'const': return JSON.stringify(p.allowedValue);
    case 'enum': return `one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required': return 'a value';
    case 'additionalProperties': return 'no such property';
    default: return `a value that ${e.message ?? `passes ${e.keyword}`}`;
  }
}

/** The catalogue error (DFG_ERR_REQUEST_INVALID) for a request that fails its route schema in `context` (body, querystring, ...). */
export function schemaError(context: string, errors: AjvError[]): DfgError {
  // A union (anyOf: a forgery type, a threshold or null) fails each branch before itself: one sentence for all of them.
  const union = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const at = union ?? errors[0]!;
  let name = `${context}${at.instancePath}`;
  let value = at.data;
  let expected: string;
  if (union) {
    const branches = errors.filter((e) => e !== union && e.instancePath === union.instancePath);
    expected = branches.length > 0 && branches.every((e) => e.keyword === 'const')
      ? `one of ${branches.map((e) => String((e.params as { allowedValue: unknown }).allowedValue)).join(', ')}`
      : branches.map(expectation).join(' or ') || expectation(union);
  } else {
    expected = expectation(at);
    const prop = (at.params as { missingProperty?: string; additionalProperty?: string });
    const key = prop.missingProperty ?? prop.additionalProperty;
    if (key !== undefined) {
      name = `${name}/${key}`;
      value = (at.data as Record<string, unknown> | undefined)?.[key];
    }
  }
  return invalid(expected, name, value);
}
