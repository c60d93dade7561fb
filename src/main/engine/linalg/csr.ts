// Compressed sparse row matrices and the kernels PCA needs. Dense factors are row-major
// Float64Array; kernels write into caller-provided buffers and never allocate per element.
import type { LayerBlockSpec } from '../store/x/layer-blocks';
import { CellarError } from '../../../shared/errors';
import type { NumericArray } from '../columns/column-model';

export type CsrIndptr = Int32Array | Float64Array;
export type CsrValues = Float32Array | Float64Array;

export interface CsrMatrix {
  nRows: number;
  nCols: number;
  /** nRows + 1 offsets into indices/data; indptr[0] need not be 0. */
  indptr: CsrIndptr;
  indices: Int32Array;
  data: CsrValues;
}

/** Consecutive rows of a larger matrix, starting at row `rowStart`. Values may be any numeric dtype. */
export interface CsrRowBlock {
  rowStart: number;
  nRows: number;
  nCols: number;
  indptr: CsrIndptr;
  indices: Int32Array;
  data: NumericArray;
}

/** A matrix read one row block at a time; each call of rowBlocks() starts a fresh pass in row order. */
export interface RowBlockSource {
  nRows: number;
  nCols: number;
  /** Total non-zeros when known: lets PCA decide up front whether the matrix fits in memory. */
  nnz?: number;
  rowBlocks(): AsyncIterable<CsrRowBlock> | Iterable<CsrRowBlock>;
  /**
   * The same blocks as plain data that PCA worker threads can open themselves: each then reads
   * its own partitions, so decoding runs on every thread instead of on the caller's alone.
   */
  workerBlocks?: LayerBlockSpec;
}

export const NORMALIZE_TARGET_SUM = 10_000;

// The kernels below hold 8 output columns in locals while they sweep a row's non-zeros: that
// keeps the accumulators in registers (V8 does not vectorise typed-array loops), and the
// columns past the last multiple of 8 take a one-column loop.

/** out (nRows×k) = A · B, with B nCols×k. */
export function csrTimesDense(a: CsrMatrix, b: Float64Array, k: number, out = new Float64Array(a.nRows * k)): Float64Array {
  gatherRows(a, b, k, null, out, 0);
  return out;
}

/** scores[(rowStart + r)·k + c] = (x_r·P)[c] − shift[c] for every row r of the block; P is nCols×k. */
export function writeCenteredProjection(
  a: CsrMatrix,
  p: Float64Array,
  shift: Float64Array,
  k: number,
  scores: Float32Array | Float64Array,
  rowStart: number,
): void {
  gatherRows(a, p, k, shift, scores, rowStart);
}

function gatherRows(a: CsrMatrix, b: Float64Array, k: number, shift: Float64Array | null, out: Float32Array | Float64Array, outRowStart: number): void {
  const { indptr, indices, data } = a;
  const full = k - (k % 8);
  for (let row = 0; row < a.nRows; row++) {
    const start = indptr[row];
    const end = indptr[row + 1];
    const o = (outRowStart + row) * k;
    for (let c = 0; c < full; c += 8) {
      let y0 = 0, y1 = 0, y2 = 0, y3 = 0, y4 = 0, y5 = 0, y6 = 0, y7 = 0;
      for (let t = start; t < end; t++) {
        const x = data[t];
        const j = indices[t] * k + c;
        y0 += x * b[j]; y1 += x * b[j + 1]; y2 += x * b[j + 2]; y3 += x * b[j + 3];
        y4 += x * b[j + 4]; y5 += x * b[j + 5]; y6 += x * b[j + 6]; y7 += x * b[j + 7];
      }
      if (shift !== null) {
        y0 -= shift[c]; y1 -= shift[c + 1]; y2 -= shift[c + 2]; y3 -= shift[c + 3];
        y4 -= shift[c + 4]; y5 -= shift[c + 5]; y6 -= shift[c + 6]; y7 -= shift[c + 7];
      }
      out[o + c] = y0; out[o + c + 1] = y1; out[o + c + 2] = y2; out[o + c + 3] = y3;
      out[o + c + 4] = y4; out[o + c + 5] = y5; out[o + c + 6] = y6; out[o + c + 7] = y7;
    }
    for (let c = full; c < k; c++) {
      let y = 0;
      for (let t = start; t < end; t++) y += data[t] * b[indices[t] * k + c];
      out[o + c] = shift !== null ? y - shift[c] : y;
    }
  }
}

/** out (nCols×k) = Aᵀ · B, with B nRows×k. */
export function csrTransposeTimesDense(a: CsrMatrix, b: Float64Array, k: number, out = new Float64Array(a.nCols * k)): Float64Array {
  const { indptr, indices, data } = a;
  out.fill(0, 0, a.nCols * k);
  const full = k - (k % 8);
  for (let row = 0; row < a.nRows; row++) {
    const start = indptr[row];
    const end = indptr[row + 1];
    const o = row * k;
    for (let c = 0; c < full; c += 8) {
      const y0 = b[o + c], y1 = b[o + c + 1], y2 = b[o + c + 2], y3 = b[o + c + 3];
      const y4 = b[o + c + 4], y5 = b[o + c + 5], y6 = b[o + c + 6], y7 = b[o + c + 7];
      for (let t = start; t < end; t++) {
        const x = data[t];
        const j = indices[t] * k + c;
        out[j] += x * y0; out[j + 1] += x * y1; out[j + 2] += x * y2; out[j + 3] += x * y3;
        out[j + 4] += x * y4; out[j + 5] += x * y5; out[j + 6] += x * y6; out[j + 7] += x * y7;
      }
    }
    for (let c = full; c < k; c++) {
      const y = b[o + c];
      for (let t = start; t < end; t++) out[indices[t] * k + c] += data[t] * y;
    }
  }
  return out;
}

/**
 * One block's share of the centered Gram product: for each row x, y = x·V − shift, then
 * W += xᵀ·y and ySum += y. With shift = μᵀV, W − μ·ySumᵀ summed over all rows equals
 * (A − 1μᵀ)ᵀ(A − 1μᵀ)·V, without forming the centered matrix. V and W are nCols×k.
 */
export function accumulateCenteredGram(a: CsrMatrix, v: Float64Array, shift: Float64Array, k: number, w: Float64Array, ySum: Float64Array): void {
  const { indptr, indices, data } = a;
  const full = k - (k % 8);
  for (let row = 0; row < a.nRows; row++) {
    const start = indptr[row];
    const end = indptr[row + 1];
    for (let c = 0; c < full; c += 8) {
      let y0 = -shift[c], y1 = -shift[c + 1], y2 = -shift[c + 2], y3 = -shift[c + 3];
      let y4 = -shift[c + 4], y5 = -shift[c + 5], y6 = -shift[c + 6], y7 = -shift[c + 7];
      for (let t = start; t < end; t++) {
        const x = data[t];
        const j = indices[t] * k + c;
        y0 += x * v[j]; y1 += x * v[j + 1]; y2 += x * v[j + 2]; y3 += x * v[j + 3];
        y4 += x * v[j + 4]; y5 += x * v[j + 5]; y6 += x * v[j + 6]; y7 += x * v[j + 7];
      }
      ySum[c] += y0; ySum[c + 1] += y1; ySum[c + 2] += y2; ySum[c + 3] += y3;
      ySum[c + 4] += y4; ySum[c + 5] += y5; ySum[c + 6] += y6; ySum[c + 7] += y7;
      for (let t = start; t < end; t++) {
        const x = data[t];
        const j = indices[t] * k + c;
        w[j] += x * y0; w[j + 1] += x * y1; w[j + 2] += x * y2; w[j + 3] += x * y3;
        w[j + 4] += x * y4; w[j + 5] += x * y5; w[j + 6] += x * y6; w[j + 7] += x * y7;
      }
    }
    for (let c = full; c < k; c++) {
      let y = -shift[c];
      for (let t = start; t < end; t++) y += data[t] * v[indices[t] * k + c];
      ySum[c] += y;
      for (let t = start; t < end; t++) w[indices[t] * k + c] += data[t] * y;
    }
  }
}

/** Adds each column's sum, sum of squares and (optionally) number of stored entries of one block into the accumulators (length nCols). */
export function accumulateColumnSums(a: CsrMatrix, sums: Float64Array, sumsOfSquares: Float64Array, entries?: Float64Array): void {
  const { indptr, indices, data } = a;
  const end = indptr[a.nRows];
  for (let t = indptr[0]; t < end; t++) {
    const x = data[t];
    const j = indices[t];
    sums[j] += x;
    sumsOfSquares[j] += x * x;
  }
  if (entries) for (let t = indptr[0]; t < end; t++) entries[indices[t]] += 1;
}

/** Column means and variances (ddof = 1, as sklearn's explained_variance_) from accumulated sums. */
export function columnMeanVariance(sums: Float64Array, sumsOfSquares: Float64Array, nRows: number): { means: Float64Array; variances: Float64Array } {
  const means = new Float64Array(sums.length);
  const variances = new Float64Array(sums.length);
  for (let j = 0; j < sums.length; j++) {
    const mean = sums[j] / nRows;
    means[j] = mean;
    // Sum of squared deviations from the shifted sums; clamp the rounding below zero away.
    variances[j] = nRows > 1 ? Math.max(0, sumsOfSquares[j] - mean * sums[j]) / (nRows - 1) : 0;
  }
  return { means, variances };
}

/** Column means and variances of a whole in-memory matrix. */
export function csrColumnMeanVariance(a: CsrMatrix): { means: Float64Array; variances: Float64Array } {
  const sums = new Float64Array(a.nCols);
  const sumsOfSquares = new Float64Array(a.nCols);
  accumulateColumnSums(a, sums, sumsOfSquares);
  return columnMeanVariance(sums, sumsOfSquares, a.nRows);
}

/**
 * The block with working-precision values: float64 stays float64, every other dtype becomes
 * float32 (exact for counts up to 2^24). With `normalize`, each row is scaled to sum
 * NORMALIZE_TARGET_SUM and then log1p-transformed (rows summing to zero stay zero). The source is
 * never written: values are copied when they change, and the result shares the source's arrays
 * otherwise, unless `copy` asks for a block that owns all its arrays.
 */
export function toWorkingBlock(block: CsrMatrix | CsrRowBlock, normalize: boolean, copy: boolean): CsrMatrix {
  const { nRows, nCols } = block;
  const source = block.data;
  const floating = source instanceof Float32Array || source instanceof Float64Array;
  if (floating && !normalize && !copy) return { nRows, nCols, indptr: block.indptr, indices: block.indices, data: source };

  const first = block.indptr[0];
  const nnz = block.indptr[nRows] - first;
  const indptr = new Float64Array(nRows + 1);
  for (let r = 0; r <= nRows; r++) indptr[r] = block.indptr[r] - first;
  const indices = copy ? block.indices.slice(first, first + nnz) : block.indices.subarray(first, first + nnz);
  const data = source instanceof Float64Array ? new Float64Array(nnz) : new Float32Array(nnz);
  if (source instanceof BigInt64Array || source instanceof BigUint64Array) {
    for (let t = 0; t < nnz; t++) data[t] = Number(source[first + t]);
  } else {
    data.set(source.subarray(first, first + nnz)); // converts natively, whatever the source dtype
  }
  const out: CsrMatrix = { nRows, nCols, indptr, indices, data };
  if (normalize) normalizeRowsInPlace(out);
  return out;
}

/** Scales each row to NORMALIZE_TARGET_SUM then applies log1p, in place (only ever on a working copy). */
export function normalizeRowsInPlace(block: CsrMatrix): void {
  const { indptr, data } = block;
  for (let row = 0; row < block.nRows; row++) {
    const start = indptr[row];
    const end = indptr[row + 1];
    let sum = 0;
    for (let t = start; t < end; t++) sum += data[t];
    if (sum === 0) continue;
    const scale = NORMALIZE_TARGET_SUM / sum;
    for (let t = start; t < end; t++) data[t] = Math.log1p(data[t] * scale);
  }
}

/**
 * Keeps only the columns with colMap[j] ≥ 0, renumbered to colMap[j]; returns a new block
 * (or the same one when every column is kept in order).
 */
export function selectColumns(block: CsrMatrix, colMap: Int32Array, nColsKept: number): CsrMatrix {
  if (nColsKept === block.nCols && isIdentity(colMap)) return block;
  const { indptr, indices, data, nRows } = block;
  let kept = 0;
  const end = indptr[nRows];
  for (let t = indptr[0]; t < end; t++) if (colMap[indices[t]] >= 0) kept++;
  const outIndptr = new Float64Array(nRows + 1);
  const outIndices = new Int32Array(kept);
  const outData = data instanceof Float64Array ? new Float64Array(kept) : new Float32Array(kept);
  let n = 0;
  for (let row = 0; row < nRows; row++) {
    for (let t = indptr[row]; t < indptr[row + 1]; t++) {
      const j = colMap[indices[t]];
      if (j < 0) continue;
      outIndices[n] = j;
      outData[n] = data[t];
      n++;
    }
    outIndptr[row + 1] = n;
  }
  return { nRows, nCols: nColsKept, indptr: outIndptr, indices: outIndices, data: outData };
}

function isIdentity(colMap: Int32Array): boolean {
  for (let j = 0; j < colMap.length; j++) if (colMap[j] !== j) return false;
  return true;
}

export interface InMemoryRowBlockSource extends RowBlockSource {
  rowBlocks(): Iterable<CsrRowBlock>;
}

/** Row blocks of an in-memory matrix, about `targetNnz` non-zeros each (views, no copies). */
export function csrRowBlockSource(matrix: CsrMatrix, targetNnz = 1 << 20): InMemoryRowBlockSource {
  const { nRows, nCols, indptr } = matrix;
  return {
    nRows,
    nCols,
    nnz: indptr[nRows] - indptr[0],
    *rowBlocks(): Iterable<CsrRowBlock> {
      let rowStart = 0;
      while (rowStart < nRows) {
        let rowEnd = rowStart + 1;
        const limit = indptr[rowStart] + targetNnz;
        while (rowEnd < nRows && indptr[rowEnd + 1] <= limit) rowEnd++;
        yield {
          rowStart,
          nRows: rowEnd - rowStart,
          nCols,
          indptr: indptr.subarray(rowStart, rowEnd + 1),
          indices: matrix.indices,
          data: matrix.data,
        };
        rowStart = rowEnd;
      }
    },
  };
}

/**
 * Throws a CellarError naming the first structural inconsistency between a row block and its
 * matrix (O(rows)); validateColumnIndices checks the entries (O(non-zeros)).
 */
export function validateRowBlock(block: CsrRowBlock, expectedRowStart: number, nRows: number, nCols: number, what: string): void {
  const fail = (reason: string): never => {
    throw new CellarError('bad_element', `${what}: the row block at row ${block.rowStart} ${reason}.`);
  };
  if (block.nCols !== nCols) fail(`has ${block.nCols} columns, expected ${nCols}`);
  if (block.rowStart !== expectedRowStart) fail(`starts at the wrong row (expected ${expectedRowStart})`);
  if (!Number.isInteger(block.nRows) || block.nRows < 0 || block.rowStart + block.nRows > nRows) fail(`has an invalid row count ${block.nRows}`);
  if (block.indptr.length < block.nRows + 1) fail('has a short indptr');
  for (let r = 0; r < block.nRows; r++) if (!(block.indptr[r + 1] >= block.indptr[r])) fail(`has a decreasing indptr at row ${block.rowStart + r}`);
  const first = block.indptr[0];
  const last = block.indptr[block.nRows];
  if (first < 0 || last > block.indices.length || last > block.data.length) fail('has an indptr past the end of its indices or data');
}

export function validateColumnIndices(block: CsrRowBlock, nCols: number, what: string): void {
  const { indices } = block;
  const last = block.indptr[block.nRows];
  for (let t = block.indptr[0]; t < last; t++) {
    const j = indices[t];
    if (j < 0 || j >= nCols) throw new CellarError('bad_element', `${what}: the row block at row ${block.rowStart} has column index ${j} outside 0..${nCols - 1}.`);
  }
}
