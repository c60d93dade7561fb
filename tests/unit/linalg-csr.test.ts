import { describe, expect, it } from 'vitest';
import {
  accumulateCenteredGram,
  csrColumnMeanVariance,
  csrRowBlockSource,
  csrTimesDense,
  csrTransposeTimesDense,
  selectColumns,
  toWorkingBlock,
  validateColumnIndices,
  validateRowBlock,
  writeCenteredProjection,
  type CsrMatrix,
  type CsrRowBlock,
} from '../../src/main/engine/linalg/csr';
import { createRandom } from '../../src/main/engine/linalg/random';
import { CellarError } from '../../src/shared/errors';

/** A random sparse matrix (about `density` non-zeros) with its dense row-major twin. */
function randomSparse(nRows: number, nCols: number, density: number, seed: number): { csr: CsrMatrix; dense: Float64Array } {
  const random = createRandom(seed);
  const dense = new Float64Array(nRows * nCols);
  const indptr = new Int32Array(nRows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      if (random.uniform() < density) {
        const value = 1 + Math.floor(random.uniform() * 9);
        dense[r * nCols + c] = value;
        indices.push(c);
        data.push(value);
      }
    }
    indptr[r + 1] = indices.length;
  }
  return { csr: { nRows, nCols, indptr, indices: Int32Array.from(indices), data: Float64Array.from(data) }, dense };
}

function randomDense(nRows: number, nCols: number, seed: number): Float64Array {
  const out = new Float64Array(nRows * nCols);
  createRandom(seed).fillGaussian(out);
  return out;
}

function denseProduct(a: Float64Array, b: Float64Array, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let c = 0; c < k; c++) out[i * k + c] += a[i * m + j] * b[j * k + c];
  return out;
}

function transposeDense(a: Float64Array, n: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = a[i * m + j];
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThan(tolerance);
}

describe('sparse × dense kernels', () => {
  const { csr, dense } = randomSparse(37, 23, 0.3, 1);

  // Widths below, at and past the 8-column register chunk, and with a remainder.
  for (const k of [1, 5, 8, 13, 16, 24]) {
    it(`A·B matches the dense product for k = ${k}`, () => {
      const b = randomDense(23, k, 2);
      expectClose(csrTimesDense(csr, b, k), denseProduct(dense, b, 37, 23, k), 1e-12);
    });

    it(`Aᵀ·B matches the dense product for k = ${k}`, () => {
      const b = randomDense(37, k, 3);
      expectClose(csrTransposeTimesDense(csr, b, k), denseProduct(transposeDense(dense, 37, 23), b, 23, 37, k), 1e-12);
    });

    it(`the fused Gram step gives (A − 1μᵀ)ᵀ(A − 1μᵀ)·V for k = ${k}`, () => {
      const v = randomDense(23, k, 4);
      const { means } = csrColumnMeanVariance(csr);
      const centered = dense.map((x, i) => x - means[i % 23]);
      const expected = denseProduct(transposeDense(centered, 37, 23), denseProduct(centered, v, 37, 23, k), 23, 37, k);

      const shift = new Float64Array(k);
      for (let j = 0; j < 23; j++) for (let c = 0; c < k; c++) shift[c] += means[j] * v[j * k + c];
      const w = new Float64Array(23 * k);
      const ySum = new Float64Array(k);
      // Two halves accumulate into the same buffers, as partitions of blocks do.
      const halves = [...csrRowBlockSource(csr, 200).rowBlocks()];
      expect(halves.length).toBeGreaterThan(1);
      for (const block of halves) accumulateCenteredGram(toWorkingBlock(block, false, false), v, shift, k, w, ySum);
      for (let j = 0; j < 23; j++) for (let c = 0; c < k; c++) w[j * k + c] -= means[j] * ySum[c];
      expectClose(w, expected, 1e-10);
    });

    it(`the centered projection writes rows at their offset for k = ${k}`, () => {
      const p = randomDense(23, k, 5);
      const shift = randomDense(1, k, 6);
      const scores = new Float64Array(40 * k).fill(7);
      writeCenteredProjection(csr, p, shift, k, scores, 3);
      const expected = denseProduct(dense, p, 37, 23, k);
      for (let r = 0; r < 37; r++) for (let c = 0; c < k; c++) expected[r * k + c] -= shift[c];
      expectClose(scores.subarray(3 * k, 40 * k), expected, 1e-12);
      expect(Array.from(scores.subarray(0, 3 * k))).toEqual(new Array(3 * k).fill(7));
    });
  }
});

describe('column statistics', () => {
  it('means and variances (ddof = 1) match the dense definition, zeros included', () => {
    const { csr, dense } = randomSparse(50, 9, 0.2, 7);
    const { means, variances } = csrColumnMeanVariance(csr);
    for (let j = 0; j < 9; j++) {
      let mean = 0;
      for (let r = 0; r < 50; r++) mean += dense[r * 9 + j];
      mean /= 50;
      let ss = 0;
      for (let r = 0; r < 50; r++) ss += (dense[r * 9 + j] - mean) ** 2;
      expect(means[j]).toBeCloseTo(mean, 12);
      expect(variances[j]).toBeCloseTo(ss / 49, 10);
    }
  });
});

describe('working blocks', () => {
  const block: CsrRowBlock = {
    rowStart: 4,
    nRows: 3,
    nCols: 5,
    // A view into a larger matrix: indptr does not start at 0.
    indptr: Float64Array.from([2, 4, 4, 7]),
    indices: Int32Array.from([9, 9, 0, 3, 1, 2, 4, 9]),
    data: Int32Array.from([99, 99, 3, 1, 10, 20, 70, 99]),
  };

  it('normalize scales each row to 10,000 then applies log1p, leaves empty rows empty, and never writes the source', () => {
    const before = Array.from(block.data as Int32Array);
    const out = toWorkingBlock(block, true, false);
    expect(Array.from(out.indptr)).toEqual([0, 2, 2, 5]);
    expect(Array.from(out.indices)).toEqual([0, 3, 1, 2, 4]);
    expect(out.data).toBeInstanceOf(Float32Array);
    const expected = [Math.log1p((3 * 1e4) / 4), Math.log1p(1e4 / 4), Math.log1p((10 * 1e4) / 100), Math.log1p((20 * 1e4) / 100), Math.log1p((70 * 1e4) / 100)];
    for (let i = 0; i < 5; i++) expect(out.data[i]).toBeCloseTo(expected[i], 5);
    expect(Array.from(block.data as Int32Array)).toEqual(before);
  });

  it('float64 values stay float64 and int64 values are converted', () => {
    const wide = toWorkingBlock({ ...block, data: BigInt64Array.from([0n, 0n, 3n, 1n, 10n, 20n, 70n, 0n]) }, false, true);
    expect(wide.data).toBeInstanceOf(Float32Array);
    expect(Array.from(wide.data)).toEqual([3, 1, 10, 20, 70]);
    const doubles = toWorkingBlock({ ...block, data: Float64Array.from([0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0]) }, true, false);
    expect(doubles.data).toBeInstanceOf(Float64Array);
    expect(doubles.data[0]).toBe(Math.log1p((0.1 * 1e4) / (0.1 + 0.2)));
  });

  it('without a transform the block is used in place unless a copy is asked for', () => {
    const floats: CsrRowBlock = { ...block, data: Float32Array.from(block.data as Int32Array) };
    expect(toWorkingBlock(floats, false, false).data).toBe(floats.data);
    const copy = toWorkingBlock(floats, false, true);
    expect(copy.data).not.toBe(floats.data);
    expect(copy.indices.buffer).not.toBe(floats.indices.buffer);
    expect(Array.from(copy.data)).toEqual([3, 1, 10, 20, 70]);
  });

  it('selectColumns keeps and renumbers the chosen columns', () => {
    const working = toWorkingBlock(block, false, true);
    const colMap = Int32Array.from([0, -1, 1, -1, 2]);
    const out = selectColumns(working, colMap, 3);
    expect(out.nCols).toBe(3);
    expect(Array.from(out.indptr)).toEqual([0, 1, 1, 3]);
    expect(Array.from(out.indices)).toEqual([0, 1, 2]);
    expect(Array.from(out.data)).toEqual([3, 20, 70]);
  });
});

describe('row block sources', () => {
  it('split an in-memory matrix into consecutive blocks that cover every row', () => {
    const { csr } = randomSparse(100, 10, 0.3, 8);
    const blocks = [...csrRowBlockSource(csr, 40).rowBlocks()];
    expect(blocks.length).toBeGreaterThan(3);
    let next = 0;
    for (const b of blocks) {
      expect(b.rowStart).toBe(next);
      validateRowBlock(b, next, 100, 10, 'test');
      next += b.nRows;
    }
    expect(next).toBe(100);
  });

  it('validation names the problem', () => {
    const bad: CsrRowBlock = { rowStart: 0, nRows: 1, nCols: 3, indptr: Int32Array.from([0, 2]), indices: Int32Array.from([0, 3]), data: Float32Array.from([1, 1]) };
    expect(() => validateRowBlock(bad, 0, 1, 3, 'X')).not.toThrow();
    expect(() => validateColumnIndices(bad, 3, 'X')).toThrowError(CellarError);
    expect(() => validateColumnIndices(bad, 3, 'X')).toThrow(/column index 3 outside 0\.\.2/);
    expect(() => validateRowBlock({ ...bad, nCols: 4 }, 0, 1, 3, 'X')).toThrow(/has 4 columns, expected 3/);
    expect(() => validateRowBlock({ ...bad, indptr: Int32Array.from([0, 3]) }, 0, 1, 3, 'X')).toThrow(/past the end/);
    expect(() => validateRowBlock({ ...bad, rowStart: 5 }, 0, 10, 3, 'X')).toThrow(/starts at the wrong row/);
    expect(() => validateRowBlock({ ...bad, indptr: Int32Array.from([2, 1]) }, 0, 1, 3, 'X')).toThrow(/decreasing indptr/);
  });
});
