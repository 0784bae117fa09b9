/**
 * What crosses the thread boundary between the calibration runner and its worker: the vectors
 * packed into one buffer per algorithm (transferred, not copied), and the result or a catalogue
 * error as plain data. Kept apart from worker.ts, which only runs inside the worker thread.
 */
import type { Calibration } from '../attribution/calibrate.js';
import type { GalleryMetric } from '../attribution/gallery-metric.js';
import type { SerialisedError } from '../errors.js';
import type { CalibrationVectors, ComputeOptions, ComputedCalibration } from './compute.js';

/** Vectors of one dimension, row after row. */
export interface PackedVectors {
  rows: number;
  data: Float32Array;
}

export interface CalibrationTask {
  algorithms: Array<{ id: string } & PackedVectors>;
  negatives: PackedVectors;
  cohort?: PackedVectors;
  feedback?: { algorithmIds: string[]; genuine: boolean[]; vectors: PackedVectors };
  opts: ComputeOptions;
}

export type CalibrationReply = { ok: true; result: ComputedCalibration } | { ok: false; error: SerialisedError };

/** Copies vectors into one fresh buffer (gallery vectors may be views of shared or pooled memory, which must not be transferred). */
export function packVectors(vectors: readonly Float32Array[]): PackedVectors {
  const dim = vectors[0]?.length ?? 0;
  const data = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new RangeError(`Expected vectors of dimension ${dim} but received ${v.length}`);
    data.set(v, i * dim);
  });
  return { rows: vectors.length, data };
}

export function unpackVectors(p: PackedVectors): Float32Array[] {
  const dim = p.rows === 0 ? 0 : p.data.length / p.rows;
  return Array.from({ length: p.rows }, (_, i) => p.data.subarray(i * dim, (i + 1) * dim));
}

export function packTask(vectors: CalibrationVectors, opts: ComputeOptions): { task: CalibrationTask; transfer: ArrayBuffer[] } {
  const algorithms = [...vectors.byAlgorithm].map(([id, vs]) => ({ id, ...packVectors(vs) }));
  const negatives = packVectors(vectors.negatives);
  const cohort = vectors.cohort ? packVectors(vectors.cohort) : undefined;
  const fb = vectors.feedback && vectors.feedback.length > 0
    ? { algorithmIds: vectors.feedback.map((f) => f.algorithmId), genuine: vectors.feedback.map((f) => f.genuine), vectors: packVectors(vectors.feedback.map((f) => f.vector)) }
    : undefined;
  const transfer = [...algorithms.map((a) => a.data.buffer), negatives.data.buffer, ...(cohort ? [cohort.data.buffer] : []), ...(fb ? [fb.vectors.data.buffer] : [])] as ArrayBuffer[];
  return { task: { algorithms, negatives, ...(cohort ? { cohort } : {}), ...(fb ? { feedback: fb } : {}), opts }, transfer };
}

export function unpackTask(task: CalibrationTask): CalibrationVectors {
  return {
    byAlgorithm: new Map(task.algorithms.map((a) => [a.id, unpackVectors(a)])),
    negatives: unpackVectors(task.negatives),
    ...(task.cohort ? { cohort: unpackVectors(task.cohort) } : {}),
    ...(task.feedback ? { feedback: unpackVectors(task.feedback.vectors).map((vector, i) => ({ algorithmId: task.feedback!.algorithmIds[i]!, genuine: task.feedback!.genuine[i]!, vector })) } : {}),
  };
}

/** The buffers of a result worth moving rather than copying: the metric's. */
export function resultTransfer(result: ComputedCalibration): ArrayBuffer[] {
  const m: GalleryMetric | undefined = result.metric;
  return m ? [m.basis.buffer, m.coeffs.buffer].filter((b, i, all) => all.indexOf(b) === i) as ArrayBuffer[] : [];
}

/**
 * Restores what structured cloning loses: the null prototype of the records keyed by algorithm
 * id (ids are data; see calibrate.ts).
 */
export function reviveResult(result: ComputedCalibration): ComputedCalibration {
  const nullProto = <T>(o: Record<string, T>): Record<string, T> => Object.assign(Object.create(null) as Record<string, T>, o);
  const c: Calibration = result.calibration;
  return {
    ...result,
    calibration: { ...c, perAlgorithm: nullProto(c.perAlgorithm), stats: { ...c.stats, perAlgorithm: nullProto(c.stats.perAlgorithm) } },
    ...(result.scoreNorm ? { scoreNorm: { ...result.scoreNorm, perAlgorithm: nullProto(result.scoreNorm.perAlgorithm) } } : {}),
  };
}
