import { describe, expect, it } from 'vitest';
import { crossProduct, orthonormalizeBlock, symmetricEigen, type DenseBlock } from '../../src/main/engine/linalg/dense';
import { blockKrylovEigen } from '../../src/main/engine/linalg/krylov';
import { createRandom } from '../../src/main/engine/linalg/random';

function randomSymmetric(n: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = random.gaussian();
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
  return m;
}

/** Largest |M·v − λ·v| over all pairs and largest |VᵀV − I|. */
function eigenErrors(m: Float64Array, n: number, values: Float64Array, vectors: Float64Array): { residual: number; orthogonality: number } {
  let residual = 0;
  let orthogonality = 0;
  for (let c = 0; c < n; c++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += m[r * n + j] * vectors[j * n + c];
      residual = Math.max(residual, Math.abs(s - values[c] * vectors[r * n + c]));
    }
    for (let c2 = 0; c2 < n; c2++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += vectors[r * n + c] * vectors[r * n + c2];
      orthogonality = Math.max(orthogonality, Math.abs(s - (c === c2 ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

describe('seedable random numbers', () => {
  it('the same seed gives the same stream and another seed a different one', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const sa = Array.from({ length: 20 }, () => a.uniform());
    expect(Array.from({ length: 20 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.uniform())).not.toEqual(sa);
    expect(sa.every((u) => u >= 0 && u < 1)).toBe(true);
  });

  it('gaussian deviates have mean 0 and variance 1', () => {
    const values = new Float64Array(200_000);
    createRandom(7).fillGaussian(values);
    let mean = 0;
    for (const v of values) mean += v;
    mean /= values.length;
    let variance = 0;
    for (const v of values) variance += (v - mean) ** 2;
    variance /= values.length - 1;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
  });
});

describe('symmetric eigensolver', () => {
  for (const n of [1, 2, 3, 7, 40, 120]) {
    it(`decomposes a random ${n}×${n} symmetric matrix`, () => {
      const m = randomSymmetric(n, n);
      const copy = m.slice();
      const { values, vectors } = symmetricEigen(m, n);
      expect(m).toEqual(copy);
      const { residual, orthogonality } = eigenErrors(m, n, values, vectors);
      expect(residual).toBeLessThan(1e-12 * n);
      expect(orthogonality).toBeLessThan(1e-12 * n);
      for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    });
  }

  it('handles repeated eigenvalues, zero and diagonal matrices', () => {
    const n = 20;
    const q = new Float64Array(n * n);
    const random = createRandom(3);
    random.fillGaussian(q);
    orthonormalizeBlock(q, n, n, [], random);
    const m = new Float64Array(n * n);
    const spectrum = Array.from({ length: n }, (_, i) => (i < 8 ? 5 : i < 15 ? 2 : 0));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) m[i * n + j] += q[i * n + t] * spectrum[t] * q[j * n + t];
    const { values, vectors } = symmetricEigen(m, n);
    const sorted = [...spectrum].sort((a, b) => b - a);
    for (let i = 0; i < n; i++) expect(values[i]).toBeCloseTo(sorted[i], 12);
    expect(eigenErrors(m, n, values, vectors).residual).toBeLessThan(1e-12);

    const zero = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    const diagonal = symmetricEigen(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
    expect(Array.from(diagonal.values)).toEqual([3, 2, 1]);
  });
});

describe('block cross products', () => {
  it('equal the plain triple loop bit for bit, for widths that are and are not multiples of four', () => {
    const random = createRandom(7);
    const n = 301;
    for (const [aw, bw] of [[16, 16], [16, 13], [7, 16], [1, 3], [5, 4]] as const) {
      const a: DenseBlock = { width: aw, values: new Float64Array(n * aw) };
      const b: DenseBlock = { width: bw, values: new Float64Array(n * bw) };
      random.fillGaussian(a.values);
      random.fillGaussian(b.values);
      const expected = new Float64Array(aw * bw);
      for (let r = 0; r < n; r++) for (let i = 0; i < aw; i++) for (let j = 0; j < bw; j++) expected[i * bw + j] += a.values[r * aw + i]! * b.values[r * bw + j]!;
      expect(Array.from(crossProduct(a, b, n))).toEqual(Array.from(expected));
    }
  });
});

describe('block orthonormalisation', () => {
  it('makes each new block orthonormal and orthogonal to the basis, replacing dependent columns', () => {
    const n = 60;
    const width = 6;
    const random = createRandom(11);
    const basis: DenseBlock[] = [];
    for (let b = 0; b < 5; b++) {
      const block = new Float64Array(n * width);
      random.fillGaussian(block);
      if (b === 2) {
        // Column 1 copies a basis column and column 4 repeats column 3: both are dependent.
        for (let r = 0; r < n; r++) {
          block[r * width + 1] = basis[0].values[r * width + 2];
          block[r * width + 4] = block[r * width + 3];
        }
      }
      orthonormalizeBlock(block, n, width, basis, random);
      basis.push({ values: block, width });
    }
    let worst = 0;
    const columns = basis.length * width;
    for (let a = 0; a < columns; a++) {
      for (let b = 0; b < columns; b++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += basis[Math.floor(a / width)].values[r * width + (a % width)] * basis[Math.floor(b / width)].values[r * width + (b % width)];
        worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-13);
  });
});

describe('block Krylov eigensolver', () => {
  it('finds the top eigenpairs of a dense operator to the requested residual', async () => {
    const n = 150;
    const random = createRandom(5);
    // A spectrum with a cluster at the top and a slowly decaying tail, like PCA of cell types.
    const q = new Float64Array(n * n);
    random.fillGaussian(q);
    orthonormalizeBlock(q, n, n, [], random);
    const spectrum = Array.from({ length: n }, (_, i) => (i < 6 ? 100 - i : 20 / (1 + i)));
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) m[i * n + j] += q[i * n + t] * spectrum[t] * q[j * n + t];
    let products = 0;
    const apply = async (v: Float64Array, width: number): Promise<Float64Array> => {
      products++;
      const out = new Float64Array(n * width);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let c = 0; c < width; c++) out[i * width + c] += m[i * n + j] * v[j * width + c];
      return out;
    };
    const result = await blockKrylovEigen(apply, { dimension: n, count: 10, blockSize: 4, minBasisSize: 20, maxPasses: 30, tolerance: 1e-8, random: createRandom(1) });
    expect(result.converged).toBe(true);
    expect(result.passes).toBe(products);
    expect(result.passes).toBeLessThan(30);
    for (let i = 0; i < 10; i++) expect(result.values[i]).toBeCloseTo(spectrum[i], 8);
    for (let i = 0; i < 10; i++) {
      let cosine = 0;
      for (let r = 0; r < n; r++) cosine += result.vectors[r * 10 + i] * q[r * n + i];
      expect(Math.abs(cosine)).toBeGreaterThan(1 - 1e-10);
    }
  });

  it('is exact once the basis spans the whole space', async () => {
    const n = 12;
    const m = randomSymmetric(n, 9);
    for (let i = 0; i < n; i++) m[i * n + i] += 10; // positive definite
    const apply = async (v: Float64Array, width: number): Promise<Float64Array> => {
      const out = new Float64Array(n * width);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let c = 0; c < width; c++) out[i * width + c] += m[i * n + j] * v[j * width + c];
      return out;
    };
    const result = await blockKrylovEigen(apply, { dimension: n, count: 12, blockSize: 5, minBasisSize: 100, maxPasses: 50, tolerance: 0, random: createRandom(2) });
    expect(result.passes).toBe(3); // widths 5, 5, 2
    expect(result.converged).toBe(true);
    const reference = symmetricEigen(m, n);
    for (let i = 0; i < n; i++) expect(result.values[i]).toBeCloseTo(reference.values[i], 11);
  });
});
