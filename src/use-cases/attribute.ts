/**
 * Attribution of one image: embed (worker pool) → k-NN search → pure decision. Shared by the
 * HTTP routes, the CLI and audit jobs.
 */
import type { Embedder } from '../embedding/index.js';
import type { Gallery } from '../gallery/gallery.js';
import type { Config } from '../config/index.js';
import { decide, resolveMargin, resolveThreshold } from '../attribution/decide.js';
import { sha256Hex } from './enrol.js';
import { prepareNorm, queryNormaliser, readScoreNormFit, type NormContext } from '../attribution/score-norm.js';
import type { ServedCohort } from '../embedding/cohort.js';
import type { CalibrationRecord } from '../gallery/gallery.js';

export interface AttributeOptions {
  /** Candidates to return. */
  k?: number;
  /** Threshold override for this call (replaces global and per-algorithm thresholds). */
  threshold?: number;
  /** The bytes' sha256 when the caller already has it. */
  sha256?: string;
}

export type DecisionConfig = Pick<Config, 'DFG_THRESHOLD' | 'DFG_MARGIN' | 'DFG_TOP_M' | 'DFG_K'>;


/** Attributes one image: the answer /v1/attribute gives. */
export async function attributeImage(parts: { embedder: Embedder; gallery: Gallery; config: DecisionConfig }, bytes: Uint8Array, opts: AttributeOptions = {}) {
  return (await attributeWithQuery(parts, bytes, opts)).answer;
}

export type Attribution = Awaited<ReturnType<typeof attributeImage>>;

/** attributeImage, with the query's vector per model beside the answer (kept for feedback, never answered). */
export async function attributeWithQuery(
  parts: { embedder: Embedder; gallery: Gallery; config: DecisionConfig },
  bytes: Uint8Array,
  opts: AttributeOptions = {},
) {
  const t0 = performance.now();
  const sha256 = opts.sha256 ?? sha256Hex(bytes);
  const emb = await parts.embedder.embed(bytes);
  const s0 = performance.now();
  const { gallery, config } = parts;
  const neighbours = gallery.search(emb.vector, config.DFG_K);
  const thresholds = gallery.effectiveThresholds();
  const norm = normContext(gallery.currentCalibration(), parts.embedder.cohort);
  const normalise = norm ? queryNormaliser(norm, emb.vector) : undefined;
  const searchMs = performance.now() - s0;
  const result = decide(neighbours, (id) => gallery.algorithmSummary(id), {
    threshold: opts.threshold ?? thresholds.global ?? resolveThreshold(config.DFG_THRESHOLD, parts.embedder.manifests.map((m) => m.decision?.threshold)),
    perAlgorithm: opts.threshold === undefined ? thresholds.perAlgorithm : {},
    margin: resolveMargin(config.DFG_MARGIN, parts.embedder.manifests.map((m) => m.decision?.margin)),
    topM: config.DFG_TOP_M,
    candidates: opts.k ?? 5,
    ...(normalise ? { normalise } : {}),
  });
  // Evidence imported from another organisation's bundle says so (one store read, only in galleries that imported something).
  // While a shared store is unreachable the answer comes from memory and says provenance is missing.
  const provenance = await gallery.evidenceProvenance([...new Set(result.candidates.flatMap((c) => c.evidence))]);
  const candidates = !provenance || provenance.size === 0 ? result.candidates : result.candidates.map((c) => {
    const found = c.evidence.filter((id) => provenance.has(id));
    return found.length ? { ...c, provenance: Object.fromEntries(found.map((id) => [id, provenance.get(id)!])) } : c;
  });
  const answer = {
    ...result,
    candidates,
    ...(provenance ? {} : { provenanceUnavailable: true as const }),
    model: modelBody(parts.embedder),
    galleryVersion: gallery.info().version,
    timings: {
      decodeMs: round(emb.decodeMs),
      embedMs: round(emb.embedMs),
      searchMs: round(searchMs),
      totalMs: round(performance.now() - t0),
    },
    image: { width: emb.width, height: emb.height, sha256 },
  };
  return { answer, vectors: emb.vectors };
}

const prepared = new WeakMap<CalibrationRecord, { cohort: ServedCohort; ctx: NormContext | null }>();

/**
 * The current calibration's score normalisation (score-norm.ts), prepared once per calibration
 * and cohort; null when the calibration has none or was fitted with another cohort.
 */
export function normContext(calibration: CalibrationRecord | null, cohort: ServedCohort | null): NormContext | null {
  if (!calibration || !cohort) return null;
  const hit = prepared.get(calibration);
  if (hit && hit.cohort === cohort) return hit.ctx;
  const fit = readScoreNormFit(calibration.params.scoreNorm);
  const ctx = fit ? prepareNorm(fit, cohort, calibration.metric) : null;
  prepared.set(calibration, { cohort, ctx });
  return ctx;
}

/** The model an answer came from: the index id and version, and each fused model with its weight. */
export function modelBody(embedder: Pick<Embedder, 'model' | 'models'>) {
  return {
    id: embedder.model.id,
    version: embedder.model.version,
    members: embedder.models.map((m) => ({ id: m.id, version: m.version, weight: m.weight })),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
