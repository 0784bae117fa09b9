/**
 * Feedback on a kept attribution: an analyst confirms it, rejects it or relabels it to another
 * algorithm, and may enrol the query (its kept vectors: the image bytes were never kept) as a
 * sample of the algorithm the verdict names. The enrolment commits first, then the verdict with
 * its audit row; a verdict is given once.
 */
import { dfgError } from '../errors.js';
import type { Gallery } from '../gallery/gallery.js';
import type { AuditNote, Verdict } from '../gallery/types.js';

export interface FeedbackRequest {
  verdict: Verdict;
  /** relabel: the right algorithm. */
  algorithmId?: string;
  /** confirm, relabel: enrol the query as a sample of the algorithm the verdict names. */
  enrol?: boolean;
}

export interface FeedbackResult {
  attributionId: string;
  decision: 'attributed' | 'unknown' | 'authentic';
  /** The algorithm the answer named (null: unknown). */
  attributed: string | null;
  verdict: Verdict;
  /** The algorithm the verdict is about: the attributed one (confirm, reject) or the right one (relabel). */
  algorithmId: string | null;
  /** The sample enrolled from the query, when `enrol` was asked. */
  enrolled: { sampleId: string; duplicate: boolean } | null;
}

type FeedbackGallery = Pick<Gallery, 'getAttribution' | 'recordFeedback' | 'getAlgorithm' | 'addSamples' | 'modelId' | 'models'>;

/**
 * Throws DFG_ERR_ATTRIBUTION_NOT_FOUND (unknown or expired), DFG_ERR_FEEDBACK_INVALID,
 * DFG_ERR_FEEDBACK_EXISTS, DFG_ERR_ALGORITHM_NOT_FOUND (relabel to, or enrol into, an algorithm that
 * does not exist) and DFG_ERR_FEEDBACK_NOT_ENROLLABLE.
 */
export async function giveFeedback(gallery: FeedbackGallery, id: string, req: FeedbackRequest, audit: AuditNote): Promise<FeedbackResult> {
  const a = await gallery.getAttribution(id);
  if (!a) throw dfgError('DFG_ERR_ATTRIBUTION_NOT_FOUND', id);
  if (a.verdict !== null) throw dfgError('DFG_ERR_FEEDBACK_EXISTS', id);
  let target: string | null;
  if (req.verdict === 'relabel') {
    if (!req.algorithmId) throw dfgError('DFG_ERR_FEEDBACK_INVALID', 'relabel needs algorithmId, the right algorithm');
    if (req.algorithmId === a.algorithmId) throw dfgError('DFG_ERR_FEEDBACK_INVALID', `${req.algorithmId} is the algorithm the answer named: confirm it instead`);
    target = (await gallery.getAlgorithm(req.algorithmId)).id;
  } else {
    if (req.algorithmId !== undefined) throw dfgError('DFG_ERR_FEEDBACK_INVALID', `algorithmId goes with relabel only, not with ${req.verdict}`);
    if (req.verdict === 'reject' && a.algorithmId === null) throw dfgError('DFG_ERR_FEEDBACK_INVALID', 'the answer attributed nothing (unknown): relabel it to the right algorithm');
    target = a.algorithmId;
  }
  let enrolled: FeedbackResult['enrolled'] = null;
  if (req.enrol) {
    if (req.verdict === 'reject') throw dfgError('DFG_ERR_FEEDBACK_INVALID', 'enrol goes with confirm or relabel: a rejected answer names no algorithm to enrol into');
    if (target === null) throw dfgError('DFG_ERR_FEEDBACK_INVALID', 'the answer attributed nothing (unknown): relabel it to enrol it');
    const missing = gallery.models.filter((m) => !a.vectors.has(m.id)).map((m) => m.id);
    if (a.modelId !== gallery.modelId || missing.length > 0) {
      throw dfgError('DFG_ERR_FEEDBACK_NOT_ENROLLABLE', id, `answered by ${a.modelId}, the gallery serves ${gallery.modelId}${missing.length ? ` (no vector of ${missing.join(', ')})` : ''}`);
    }
    const [added] = await gallery.addSamples(target, [{
      sha256: a.sha256, width: a.width, height: a.height, filename: `attribution ${id}`,
      vectors: Object.fromEntries(gallery.models.map((m) => [m.id, a.vectors.get(m.id)!])),
    }], { requireKeptBytes: false, audit: { ...audit, context: { ...audit.context, attribution: id } } });
    enrolled = { sampleId: added!.sample.id, duplicate: added!.duplicate };
  }
  const outcome = await gallery.recordFeedback(id, { verdict: req.verdict, algorithmId: target, enrolledSampleId: enrolled?.sampleId ?? null }, audit);
  if (outcome === 'missing') throw dfgError('DFG_ERR_ATTRIBUTION_NOT_FOUND', id);
  if (outcome === 'given') throw dfgError('DFG_ERR_FEEDBACK_EXISTS', id);
  return { attributionId: id, decision: a.decision, attributed: a.algorithmId, verdict: req.verdict, algorithmId: target, enrolled };
}
