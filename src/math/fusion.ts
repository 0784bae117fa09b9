/**
 * Late fusion of several embedding models, as the gallery indexes it: each model's vector is
 * L2-normalised, scaled by sqrt(weight / total weight) and concatenated. The result has unit
 * norm, and the cosine of two fused vectors is the weighted mean of the per-model cosines, so
 * one HNSW index over fused vectors serves the fused similarity. Pure.
 */

/** A model of a fused index with its weight. */
export interface FusionMember {
  id: string;
  dim: number;
  weight: number;
}

/** Concatenates per-model vectors into one unit vector (see the module comment). */
export function fuseVectors(parts: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  let outSq = 0;
  parts.forEach((p, i) => {
    let sq = 0;
    for (let j = 0; j < p.length; j += 1) sq += p[j] * p[j];
    // A zero part contributes nothing (it has no direction), the others keep their share.
    const scale = sq === 0 ? 0 : Math.sqrt(weights[i] / total) / Math.sqrt(sq);
    for (let j = 0; j < p.length; j += 1) {
      out[offset + j] = p[j] * scale;
      outSq += out[offset + j] * out[offset + j];
    }
    offset += p.length;
  });
  // Renormalise: float32 rounding, or a zero part, leaves the norm slightly off 1.
  if (outSq > 0) {
    const inv = 1 / Math.sqrt(outSq);
    for (let j = 0; j < out.length; j += 1) out[j] *= inv;
  }
  return out;
}

/**
 * Id of the index over `members`: the model id for one model (so a one-model gallery keeps its
 * snapshot and calibrations), else `id:weight` joined by `+` in the listed order (the order fixes
 * the layout of the concatenation). Calibrations and snapshots are keyed by it, so changing the
 * models or weights starts a new index and a new calibration.
 */
export function fusionIndexId(members: readonly Pick<FusionMember, 'id' | 'weight'>[]): string {
  if (members.length === 1) return members[0]!.id;
  return members.map((m) => `${m.id}:${m.weight}`).join('+');
}

/** The index vector of a sample or query: the model's vector as is for one model, else the fusion. */
export function indexVector(members: readonly FusionMember[], vectors: ReadonlyMap<string, Float32Array>): Float32Array {
  if (members.length === 1) return vectors.get(members[0]!.id)!;
  return fuseVectors(members.map((m) => vectors.get(m.id)!), members.map((m) => m.weight));
}

/** File-name-safe key of an index id (the manifest inside still names the full id). */
export function indexFileKey(indexId: string): string {
  return indexId.replace(/[^A-Za-z0-9._+-]/g, '_');
}
