/**
 * The service's answers as the evaluation reads them: the few fields it uses, checked before use
 * (a proxy or another program on that port must not pass for a result), and one attribution
 * answer turned into a probe outcome. Pure apart from the checks.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { dfgError } from '../../errors.js';
import { probeOutcome, rankedAp, UNKNOWN_LABEL, type ProbeOutcome, type RankedScore } from '../evaluate-split.js';

const Ref = Type.Object({ id: Type.String(), name: Type.String() });
const Score = Type.Number({ minimum: -1.000001, maximum: 1.000001 });

export const AttributionAnswer = Type.Object({
  decision: Type.Union([Type.Literal('attributed'), Type.Literal('unknown'), Type.Literal('authentic')]),
  algorithm: Type.Union([Ref, Type.Null()]),
  score: Type.Number(),
  candidates: Type.Array(Type.Object({ algorithm: Ref, score: Score })),
  model: Type.Object({ id: Type.String(), version: Type.String() }),
});
export type AttributionAnswer = Static<typeof AttributionAnswer>;

const ItemErrorAnswer = Type.Object({ statusCode: Type.Integer(), code: Type.String(), message: Type.String() });

export const BatchAnswer = Type.Object({
  results: Type.Array(Type.Object({ result: Type.Optional(AttributionAnswer), error: Type.Optional(ItemErrorAnswer) })),
});

export const EnrolAnswer = Type.Object({
  results: Type.Array(Type.Object({ status: Type.Union([Type.Literal('created'), Type.Literal('duplicate'), Type.Literal('error')]), error: Type.Optional(ItemErrorAnswer) })),
});

export const GalleryAnswer = Type.Object({
  model: Type.Object({ id: Type.String(), version: Type.String(), dimension: Type.Integer({ minimum: 1 }) }),
  decision: Type.Object({ threshold: Type.Number(), margin: Type.Number(), topM: Type.Integer({ minimum: 1 }), k: Type.Integer({ minimum: 1 }) }),
  calibration: Type.Union([Type.Object({
    version: Type.Integer(), targetFpir: Type.Number(), global: Type.Number(),
    // Absent from services older than the gallery-adapted similarity: their scores are cosine.
    metric: Type.Optional(Type.Object({ kind: Type.String(), shrinkage: Type.Union([Type.Number(), Type.Null()]) })),
  }), Type.Null()]),
});
export type GalleryAnswer = Static<typeof GalleryAnswer>;

export const AlgorithmAnswer = Type.Object({ id: Type.String({ minLength: 1 }), name: Type.String(), enabled: Type.Boolean() });
export type AlgorithmAnswer = Static<typeof AlgorithmAnswer>;

export const AlgorithmPage = Type.Object({ items: Type.Array(AlgorithmAnswer), total: Type.Integer({ minimum: 0 }) });

/** Returns `value` typed by `schema`, or throws DFG_ERR_EVAL_SERVICE_FAILED naming the call and the first mismatches. */
export function checked<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  if (Value.Check(schema, value)) return value;
  const first = [...Value.Errors(schema, value)].slice(0, 3).map((e) => `${e.path || '(root)'}: ${e.message}`);
  throw dfgError('DFG_ERR_EVAL_SERVICE_FAILED', what, `unexpected answer (${first.join('; ')}): is this a dfg service?`);
}

/** Label of a candidate this run did not register: `/` never occurs in a folder name. */
export const foreignLabel = (name: string) => `service/${name}`;

export interface AnswerOutcome {
  outcome: ProbeOutcome;
  /** Registered classes absent from the candidates (scored −1). */
  missing: number;
  /** The probe's own class was among them. */
  ownMissing: boolean;
  /** The best candidate is an algorithm this run did not register. */
  foreignBest: boolean;
}

/**
 * A probe's outcome from the service's answer. `classes` maps the ids of this repeat's algorithms
 * to their dataset names. Candidates keep the service's order (score first); every registered
 * class missing from them follows at score −1 (the lowest cosine), sorted by name; candidates of
 * algorithms this run did not register rank like the others under `foreignLabel(name)`. The AP
 * is taken over this ranking of algorithms.
 */
export function answerOutcome(
  probe: { id: string; algorithm: string },
  known: boolean,
  answer: AttributionAnswer,
  classes: ReadonlyMap<string, string>,
  authentic?: ReadonlySet<string>,
): AnswerOutcome {
  const labelOf = (ref: { id: string; name: string }) => classes.get(ref.id) ?? foreignLabel(ref.name);
  const order = answer.candidates.map((c, i) => ({ c, i })).sort((a, b) => (b.c.score - a.c.score) || (a.i - b.i)).map(({ c }) => c);
  const listed: RankedScore[] = order.map((c) => ({ algorithm: labelOf(c.algorithm), score: c.score }));
  const seen = new Set(listed.map((r) => r.algorithm));
  const absent = [...classes.values()].filter((name) => !seen.has(name)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const ranked = [...listed, ...absent.map((algorithm) => ({ algorithm, score: -1 }))];
  const predicted = answer.decision === 'unknown' || !answer.algorithm ? UNKNOWN_LABEL : labelOf(answer.algorithm);
  return {
    outcome: probeOutcome(probe, known, ranked, known ? rankedAp(ranked, probe.algorithm) : NaN, predicted, authentic),
    missing: absent.length,
    ownMissing: known && absent.includes(probe.algorithm),
    foreignBest: order.length > 0 && !classes.has(order[0].algorithm.id),
  };
}
