// Streams a matrix given as CSR row blocks into a csr_matrix group. data and
// indices grow chunk by chunk; only indptr (one number per row) is kept until
// the end, when its integer width is known. All three are chunked and
// resizable, as anndata writes them.
import { CellarError } from '../../../../../shared/errors';
import type { CsrBlock, NumericArray, NumericDtype } from '../../../columns/column-model';
import { toDtype, type AppendableSink, type ArrayDtype, type H5Sink } from './h5-output';
import { displayPath, tagEncoding, writing, writingAsync } from './elements';

export interface CsrMatrixToWrite {
  shape: [number, number];
  dtype: NumericDtype | 'bool';
  nnz?: number;
  /** `nnz` is the exact number of stored entries (the datasets are created at their final size). */
  nnzExact?: boolean;
  rowBlocks(): AsyncIterable<CsrBlock> | Iterable<CsrBlock>;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Called with the rows written so far in this matrix. */
  onRows?: (rows: number) => void;
}

const INT32_MAX = 2147483647;

function checkAborted(path: string, signal?: AbortSignal): void {
  if (signal?.aborted) throw new CellarError('cancelled', `Writing ${displayPath(path)} was cancelled.`);
}

function blockError(path: string, block: CsrBlock, reason: string): CellarError {
  return new CellarError('bad_element', `Cannot write ${displayPath(path)}: row block at row ${block.rowStart} ${reason}.`);
}

/** Checks one block's structure and returns its number of stored entries. */
function checkBlock(path: string, block: CsrBlock, expectedRow: number, shape: [number, number]): number {
  if (block.rowStart !== expectedRow) throw blockError(path, block, `does not follow row ${expectedRow}`);
  if (block.nRows < 0 || block.rowStart + block.nRows > shape[0]) throw blockError(path, block, `runs past the ${shape[0]} rows of the matrix`);
  if (block.nCols !== shape[1]) throw blockError(path, block, `has ${block.nCols} columns, not ${shape[1]}`);
  if (block.indptr.length < block.nRows + 1 || block.indptr[0] !== 0) throw blockError(path, block, 'has a malformed indptr');
  const nnz = Number(block.indptr[block.nRows]);
  if (nnz > block.indices.length || nnz > block.data.length) throw blockError(path, block, 'has fewer entries than its indptr says');
  for (let r = 0; r < block.nRows; r++) {
    if (block.indptr[r + 1] < block.indptr[r]) throw blockError(path, block, 'has a decreasing indptr');
  }
  const bad = firstBadInt32(block.indices, nnz, shape[1]);
  if (bad >= 0) throw blockError(path, block, `has column index ${block.indices[bad]} outside 0..${shape[1] - 1}`);
  return nnz;
}

/** The first of the first `n` indices outside 0..nCols−1, or −1 (one compare per entry: the unsigned view of a negative is too large). */
function firstBadInt32(indices: Int32Array, n: number, nCols: number): number {
  for (let i = 0; i < n; i++) if (indices[i] >>> 0 >= nCols) return i;
  return -1;
}

function entriesError(path: string, held: string, exact: number): CellarError {
  return new CellarError('shape_mismatch', `Cannot write ${displayPath(path)}: its row blocks hold ${held} entries, but the matrix has ${exact}.`);
}

function blockData(data: NumericArray, nnz: number, dtype: ArrayDtype): NumericArray {
  const slice = data.subarray(0, nnz) as NumericArray;
  if (dtype !== 'bool') return toDtype(slice, dtype);
  const bytes = toDtype(slice, 'uint8') as Uint8Array;
  return bytes.some((v) => v > 1) ? Uint8Array.from(bytes, (v) => (v ? 1 : 0)) : bytes;
}

export async function writeCsrMatrix(out: H5Sink, path: string, matrix: CsrMatrixToWrite, options: StreamOptions = {}): Promise<void> {
  const [nRows, nCols] = matrix.shape;
  const indicesDtype: NumericDtype = nCols - 1 > INT32_MAX ? 'int64' : 'int32';
  let data: AppendableSink | null = null;
  let indices: AppendableSink | null = null;
  let offsets: AppendableSink | null = null;
  const exact = matrix.nnzExact && matrix.nnz !== undefined ? matrix.nnz : undefined;
  try {
    writing(path, () => {
      out.group(path);
      tagEncoding(out, path, 'csr_matrix', '0.1.0');
      out.numericAttribute(path, 'shape', BigInt64Array.of(BigInt(nRows), BigInt(nCols)), [2]);
      // Without a known nnz, rows × columns bounds it (and sizes the chunks of a small slice).
      const maxNnz = matrix.nnz ?? nRows * nCols;
      data = out.appendable(`${path}/data`, matrix.dtype, maxNnz, exact);
      indices = out.appendable(`${path}/indices`, indicesDtype, maxNnz, exact);
    });
    // Row offsets as doubles: exact up to 2^53 entries, and the width is chosen once nnz is known.
    const indptr = new Float64Array(nRows + 1);
    let row = 0;
    let nnzSoFar = 0;
    for await (const block of matrix.rowBlocks()) {
      checkAborted(path, options.signal);
      const nnz = checkBlock(path, block, row, matrix.shape);
      // Datasets of exact size cannot take more: refused before anything is appended.
      if (exact !== undefined && nnzSoFar + nnz > exact) throw entriesError(path, `more than ${exact}`, exact);
      await writingAsync(path, async () => {
        await data!.append(blockData(block.data, nnz, matrix.dtype));
        await indices!.append(toDtype(block.indices.subarray(0, nnz), indicesDtype));
      });
      for (let r = 0; r < block.nRows; r++) indptr[row + r + 1] = nnzSoFar + Number(block.indptr[r + 1]);
      row += block.nRows;
      nnzSoFar += nnz;
      options.onRows?.(row);
    }
    if (row !== nRows) {
      throw new CellarError('shape_mismatch', `Cannot write ${displayPath(path)}: its row blocks cover ${row} rows, but the matrix has ${nRows}.`);
    }
    if (exact !== undefined && nnzSoFar !== exact) throw entriesError(path, String(nnzSoFar), exact);
    await writingAsync(path, async () => {
      await data!.finish();
      await indices!.finish();
      // Resizable like data and indices (anndata writes all three so), written in one piece.
      const indptrValues = nnzSoFar > INT32_MAX ? BigInt64Array.from(indptr, (v) => BigInt(v)) : Int32Array.from(indptr);
      offsets = out.appendable(`${path}/indptr`, nnzSoFar > INT32_MAX ? 'int64' : 'int32', nRows + 1, nRows + 1);
      await offsets.append(indptrValues);
      await offsets.finish();
    });
  } finally {
    (data as AppendableSink | null)?.release();
    (indices as AppendableSink | null)?.release();
    (offsets as AppendableSink | null)?.release();
  }
}
