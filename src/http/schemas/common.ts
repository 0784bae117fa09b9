import { Type, type TSchema } from '@sinclair/typebox';
import { ERRORS } from '../../errors.js';
import { ARCHITECTURES, FORGERY_TYPES } from '../../gallery/types.js';
import { DEFAULT_PAGE_LIMIT, MAX_ID_LENGTH } from '../../gallery/validate.js';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.Union(Object.keys(ERRORS).map((c) => Type.Literal(c)), { description: 'Catalogue code; clients branch on it.' }),
    error: Type.String(),
    message: Type.String(),
  },
  { $id: 'Error', title: 'Error' },
);

/** Response schemas for the given error statuses, all referencing the one Error body. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = Type.Ref('Error');
  return out;
}

/**
 * Largest offset a list accepts. Unbounded, `1e20` passed the integer check and reached SQLite
 * (datatype mismatch) and Redis (not an integer) as a 500; no gallery or job list is this long.
 */
export const MAX_OFFSET = 1_000_000_000;

/** Largest page of a list over HTTP: a response stays small (the store pages internal readers by more). */
export const MAX_LIST_LIMIT = 500;

export const Pagination = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_PAGE_LIMIT }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 }),
});

/** An algorithm, sample or job id. */
export const Id = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH });

export const IdParam = Type.Object({ id: Id });

export const ForgeryType = Type.Union(FORGERY_TYPES.map((v) => Type.Literal(v)), {
  description: 'FS face swapping, FR face reenactment, EFS entire face synthesis, FE face editing, authentic reference class, unknown.',
});
export const Architecture = Type.Union(ARCHITECTURES.map((v) => Type.Literal(v)));
