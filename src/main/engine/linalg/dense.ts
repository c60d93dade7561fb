// Small dense linear algebra in Float64: block orthonormalisation (classical Gram–Schmidt
// applied twice, then modified Gram–Schmidt inside the block) and a symmetric eigensolver
// (Householder tridiagonalisation + implicit QR with Wilkinson shifts). Matrices are row-major.
import type { Random } from './random';

/** A row-major nRows×width matrix whose columns are one block of a basis. */
export interface DenseBlock {
  values: Float64Array;
  width: number;
}

/**
 * Makes the columns of `block` (nRows×width) orthonormal and orthogonal to every column of the
 * `basis` blocks. A column that is (numerically) in the span of what came before is replaced by
 * a random direction, so the result always has full rank. Requires nRows ≥ total basis width + width.
 */
export function orthonormalizeBlock(block: Float64Array, nRows: number, width: number, basis: readonly DenseBlock[], random: Random): void {
  const originalNorms = new Float64Array(width);
  for (let r = 0; r < nRows; r++) for (let c = 0; c < width; c++) originalNorms[c] += block[r * width + c] ** 2;
  // Twice is enough (Kahan's "twice is enough" for Gram–Schmidt).
  for (let round = 0; round < 2; round++) for (const q of basis) projectOutBlock(block, width, q, nRows);

  // Modified Gram–Schmidt inside the block, on a column-major copy so each column is contiguous.
  const columns = new Float64Array(nRows * width);
  for (let r = 0; r < nRows; r++) for (let c = 0; c < width; c++) columns[c * nRows + r] = block[r * width + c];
  for (let c = 0; c < width; c++) {
    const column = columns.subarray(c * nRows, (c + 1) * nRows);
    let before = Math.sqrt(originalNorms[c]);
    for (let attempt = 0; ; attempt++) {
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < c; i++) subtractProjection(column, columns.subarray(i * nRows, (i + 1) * nRows));
      }
      const after = Math.sqrt(dot(column, column));
      if (after > 1e-10 * before && after > 1e-300) {
        for (let r = 0; r < nRows; r++) column[r] /= after;
        break;
      }
      if (attempt >= 5) throw new Error('Could not extend the orthonormal basis: too many dependent directions.');
      // The column lies in the span of what came before: continue with a random direction instead.
      random.fillGaussian(column);
      before = Math.sqrt(dot(column, column));
      for (let round = 0; round < 2; round++) {
        for (const q of basis) for (let i = 0; i < q.width; i++) subtractProjectionStrided(column, q.values, q.width, i);
      }
    }
  }
  for (let r = 0; r < nRows; r++) for (let c = 0; c < width; c++) block[r * width + c] = columns[c * nRows + r];
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** column −= (qᵀ·column)·q for a unit vector q. */
function subtractProjection(column: Float64Array, q: Float64Array): void {
  const d = dot(column, q);
  for (let r = 0; r < column.length; r++) column[r] -= d * q[r];
}

/** The same for column i of a row-major nRows×width block. */
function subtractProjectionStrided(column: Float64Array, q: Float64Array, width: number, i: number): void {
  let d = 0;
  for (let r = 0; r < column.length; r++) d += column[r] * q[r * width + i];
  for (let r = 0; r < column.length; r++) column[r] -= d * q[r * width + i];
}

/**
 * aᵀ·b (a.width × b.width, row-major) for two row-major blocks of n rows. Four outputs at a time
 * are summed in registers down the rows, in row order, as a plain triple loop would.
 */
export function crossProduct(a: DenseBlock, b: DenseBlock, n: number): Float64Array {
  const aw = a.width;
  const bw = b.width;
  const av = a.values;
  const bv = b.values;
  const out = new Float64Array(aw * bw);
  for (let i = 0; i < aw; i++) {
    let j = 0;
    for (; j + 4 <= bw; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let r = 0, pa = i, pb = j; r < n; r++, pa += aw, pb += bw) {
        const x = av[pa];
        s0 += x * bv[pb];
        s1 += x * bv[pb + 1];
        s2 += x * bv[pb + 2];
        s3 += x * bv[pb + 3];
      }
      out[i * bw + j] = s0;
      out[i * bw + j + 1] = s1;
      out[i * bw + j + 2] = s2;
      out[i * bw + j + 3] = s3;
    }
    for (; j < bw; j++) {
      let sum = 0;
      for (let r = 0; r < n; r++) sum += av[r * aw + i] * bv[r * bw + j];
      out[i * bw + j] = sum;
    }
  }
  return out;
}

/** block −= Q·(Qᵀ·block) for one orthonormal block Q (each entry's subtractions in Q's column order). */
function projectOutBlock(block: Float64Array, width: number, q: DenseBlock, nRows: number): void {
  const qWidth = q.width;
  const qValues = q.values;
  // (Qᵀ·block)ᵀ, so each output's coefficients are contiguous: ct[c·qWidth + i] = Σ_r block[r, c]·Q[r, i].
  const ct = crossProduct({ values: block, width }, q, nRows);
  for (let r = 0; r < nRows; r++) {
    const o = r * width;
    const oq = r * qWidth;
    let c = 0;
    for (; c + 4 <= width; c += 4) {
      let s0 = block[o + c];
      let s1 = block[o + c + 1];
      let s2 = block[o + c + 2];
      let s3 = block[o + c + 3];
      for (let i = 0, k = c * qWidth; i < qWidth; i++, k++) {
        const qi = qValues[oq + i];
        s0 -= qi * ct[k];
        s1 -= qi * ct[k + qWidth];
        s2 -= qi * ct[k + 2 * qWidth];
        s3 -= qi * ct[k + 3 * qWidth];
      }
      block[o + c] = s0;
      block[o + c + 1] = s1;
      block[o + c + 2] = s2;
      block[o + c + 3] = s3;
    }
    for (; c < width; c++) {
      let sum = block[o + c];
      for (let i = 0, k = c * qWidth; i < qWidth; i++, k++) sum -= qValues[oq + i] * ct[k];
      block[o + c] = sum;
    }
  }
}

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** n×n row-major; column i is the unit eigenvector of values[i]. */
  vectors: Float64Array;
}

/** Eigen-decomposition of a symmetric n×n matrix (only read, never written). */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  const a = Float64Array.from(matrix.subarray(0, n * n));
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(Math.max(0, n - 1));
  const q = tridiagonalize(a, n, diagonal, offDiagonal);
  // Rotations combine pairs of columns of Q: keep Qᵀ so that each pair is two contiguous rows.
  const qt = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) qt[c * n + r] = q[r * n + c];
  diagonalizeTridiagonal(diagonal, offDiagonal, qt, n);

  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => diagonal[j] - diagonal[i] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const from = order[c];
    values[c] = diagonal[from];
    for (let r = 0; r < n; r++) vectors[r * n + c] = qt[from * n + r];
  }
  return { values, vectors };
}

/**
 * Householder reduction A = Q·T·Qᵀ of the symmetric matrix in `a` (overwritten). Fills the
 * diagonal and off-diagonal of T and returns Q (n×n row-major).
 */
function tridiagonalize(a: Float64Array, n: number, diagonal: Float64Array, offDiagonal: Float64Array): Float64Array {
  const reflectors: { v: Float64Array; beta: number }[] = [];
  const p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const m = n - k - 1;
    const v = new Float64Array(m);
    let norm2 = 0;
    for (let i = 0; i < m; i++) {
      v[i] = a[(k + 1 + i) * n + k];
      norm2 += v[i] * v[i];
    }
    const norm = Math.sqrt(norm2);
    const tail2 = norm2 - v[0] * v[0];
    if (tail2 === 0) {
      reflectors.push({ v, beta: 0 });
      continue;
    }
    // Reflect x onto −sign(x₀)‖x‖·e₁ so that v₀ = x₀ − alpha never cancels.
    const alpha = v[0] > 0 ? -norm : norm;
    v[0] -= alpha;
    const beta = 2 / (v[0] * v[0] + tail2);
    reflectors.push({ v, beta });

    // A₂₂ ← H·A₂₂·H = A₂₂ − v·wᵀ − w·vᵀ with p = beta·A₂₂·v and w = p − (beta·pᵀv/2)·v.
    let pv = 0;
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      let sum = 0;
      for (let j = 0; j < m; j++) sum += a[row + j] * v[j];
      p[i] = beta * sum;
      pv += p[i] * v[i];
    }
    const half = (beta * pv) / 2;
    for (let i = 0; i < m; i++) p[i] -= half * v[i];
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const vi = v[i];
      const wi = p[i];
      for (let j = 0; j < m; j++) a[row + j] -= vi * p[j] + wi * v[j];
    }
    a[(k + 1) * n + k] = alpha;
    a[k * n + k + 1] = alpha;
  }
  for (let i = 0; i < n; i++) diagonal[i] = a[i * n + i];
  for (let i = 0; i + 1 < n; i++) offDiagonal[i] = a[(i + 1) * n + i];

  // Q = H₀·H₁⋯, built from the last reflector back so each one touches only its trailing block.
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const column = new Float64Array(n);
  for (let k = reflectors.length - 1; k >= 0; k--) {
    const { v, beta } = reflectors[k];
    if (beta === 0) continue;
    const m = n - k - 1;
    column.fill(0);
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const vi = v[i];
      for (let j = 0; j < m; j++) column[j] += vi * q[row + j];
    }
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const scale = beta * v[i];
      for (let j = 0; j < m; j++) q[row + j] -= scale * column[j];
    }
  }
  return q;
}

/**
 * Implicit symmetric QR with Wilkinson shifts on the tridiagonal (diagonal, offDiagonal);
 * leaves the eigenvalues in `diagonal` and multiplies the rotations into the rows of `qt` (= Qᵀ).
 */
function diagonalizeTridiagonal(diagonal: Float64Array, offDiagonal: Float64Array, qt: Float64Array, n: number): void {
  const d = diagonal;
  const e = offDiagonal;
  let hi = n - 1;
  let steps = 0;
  while (hi > 0) {
    for (let i = 0; i < hi; i++) if (Math.abs(e[i]) <= Number.EPSILON * (Math.abs(d[i]) + Math.abs(d[i + 1]))) e[i] = 0;
    if (e[hi - 1] === 0) {
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && e[lo - 1] !== 0) lo--;
    if (++steps > 60 * n) throw new Error('The symmetric eigensolver did not converge.');

    // Wilkinson shift: the eigenvalue of the trailing 2×2 closer to its last diagonal entry.
    const half = (d[hi - 1] - d[hi]) / 2;
    const coupling2 = e[hi - 1] * e[hi - 1];
    const shift = d[hi] - coupling2 / (half + (half >= 0 ? 1 : -1) * Math.hypot(half, e[hi - 1]));
    let x = d[lo] - shift;
    let z = e[lo];
    for (let k = lo; k < hi; k++) {
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : -z / r;
      if (k > lo) e[k - 1] = r;
      // Rotate rows/columns k, k+1: [a f; f b] ← Gᵀ·[a f; f b]·G with G = [c s; −s c].
      const a = d[k];
      const f = e[k];
      const b = d[k + 1];
      d[k] = a * c * c - 2 * f * c * s + b * s * s;
      d[k + 1] = a * s * s + 2 * f * c * s + b * c * c;
      e[k] = (a - b) * c * s + f * (c * c - s * s);
      if (k + 1 < hi) {
        const next = e[k + 1];
        z = -next * s; // the bulge one row further down
        e[k + 1] = next * c;
      }
      x = e[k];
      const rowK = k * n;
      const rowNext = rowK + n;
      for (let j = 0; j < n; j++) {
        const qk = qt[rowK + j];
        const qk1 = qt[rowNext + j];
        qt[rowK + j] = c * qk - s * qk1;
        qt[rowNext + j] = s * qk + c * qk1;
      }
    }
  }
}
