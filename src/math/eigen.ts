/**
 * Symmetric eigen-decomposition by cyclic Jacobi rotations, in double precision. Cubic per
 * sweep and a handful of sweeps: fine for the few-hundred-dimensional scatter matrices of
 * the projection fit, exact to rounding, and with no dependency.
 */

export interface Eigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as columns of an n x n row-major matrix, in the order of `values`. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of the symmetric n x n row-major matrix `a` (not modified). Stops when
 * the off-diagonal mass falls below `tol` times the total, or after `maxSweeps`.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, tol = 1e-14, maxSweeps = 60): Eigen {
  if (a.length !== n * n) throw new RangeError(`Expected ${n * n} values for a ${n}x${n} matrix but received ${a.length}`);
  const m = Float64Array.from(a);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = Math.abs(m[i * n + j] - m[j * n + i]);
      if (d > 1e-9 * (Math.abs(m[i * n + j]) + Math.abs(m[j * n + i]) + 1e-300)) throw new RangeError(`Matrix is not symmetric at (${i}, ${j})`);
      m[j * n + i] = m[i * n + j];
    }
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += m[i] * m[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * m[i * n + j] * m[i * n + j];
    if (off <= tol * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        // Rotation angle that zeroes m[p][q] (Golub & Van Loan, 8.4).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y] - m[x * n + x] || x - y);
  const values = Float64Array.from(order, (i) => m[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    // Sign convention: the largest-magnitude component of each vector is positive, so the
    // result does not depend on rotation order details.
    let big = 0;
    for (let k = 0; k < n; k++) if (Math.abs(v[k * n + src]) > Math.abs(v[big * n + src])) big = k;
    const sign = v[big * n + src] < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = sign * v[k * n + src];
  });
  return { values, vectors };
}
