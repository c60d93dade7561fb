// Matrix handles: iterate X, layers, raw.X and obsp as CSR row blocks of bounded
// size whatever the stored layout. CSR is sliced through its indptr; dense is
// read in row slices; CSC is transposed through temporary row-block files so
// that memory stays bounded by the block size, never by the matrix.
import { closeSync, openSync, readSync, unlinkSync, writevSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import { asBoolBytes } from './encodings/arrays';
import { badElement, displayPath, type ReadContext } from './encodings/context';
import {
  datasetShape,
  elementDtype,
  h5ErrorReason,
  isDataset,
  readNumericRows,
  typedArrayConstructor,
  type H5Dataset,
  type H5Group,
} from './h5';
import type { CsrBlock, NumericArray, NumericDtype } from '../../columns/column-model';
import type { MatrixHandle, RowBlockOptions } from './types';

export const DEFAULT_MAX_ENTRIES = 4_000_000;
export const DEFAULT_MAX_ROWS = 1 << 20;
/** indptr is read in windows of this many rows (×2), so huge row counts never load at once. */
const INDPTR_WINDOW_ROWS = 1 << 18;

type MatrixDtype = NumericDtype | 'bool';

interface SparseParts {
  path: string;
  format: 'csr' | 'csc';
  shape: [number, number];
  dtype: MatrixDtype;
  nnz: number;
  data: H5Dataset;
  indices: H5Dataset;
  indptr: H5Dataset;
}

interface ResolvedOptions {
  maxRows: number;
  maxEntries: number;
  signal?: AbortSignal;
  tmpDir: string;
}

function resolveOptions(options: RowBlockOptions | undefined): ResolvedOptions {
  const maxRows = Math.max(1, Math.floor(options?.maxRows ?? DEFAULT_MAX_ROWS));
  const maxEntries = Math.max(1, Math.floor(options?.maxEntries ?? DEFAULT_MAX_ENTRIES));
  return { maxRows, maxEntries, signal: options?.signal, tmpDir: options?.tmpDir ?? tmpdir() };
}

function checkAborted(ctx: ReadContext, path: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CellarError('cancelled', `${ctx.fileLabel}: reading ${displayPath(path)} was cancelled.`);
  ctx.assertOpen();
}

/** Turns h5wasm failures inside a block iterator into a message naming the element. */
async function* guarded(ctx: ReadContext, path: string, blocks: AsyncGenerator<CsrBlock>): AsyncGenerator<CsrBlock> {
  try {
    ctx.assertOpen();
    yield* blocks;
  } catch (err) {
    if (err instanceof CellarError) throw err;
    throw badElement(ctx, path, `could not be read: ${h5ErrorReason(err)}`);
  }
}

// ---------------------------------------------------------------- sparse

export function openSparseMatrix(
  ctx: ReadContext,
  path: string,
  group: H5Group,
  format: 'csr' | 'csc',
  shape: [number, number],
): MatrixHandle {
  const part = (name: string): H5Dataset => {
    const node = group.keys().includes(name) ? group.get(name) : null;
    if (!isDataset(node)) throw badElement(ctx, path, `sparse matrix has no ${name} dataset`);
    const dims = datasetShape(node);
    if (!dims || dims.length !== 1) throw badElement(ctx, `${path}/${name}`, 'must be 1-dimensional');
    return node;
  };
  const data = part('data');
  const indices = part('indices');
  const indptr = part('indptr');
  const dtype = elementDtype(data.metadata);
  if (dtype === 'string' || dtype === 'other') throw badElement(ctx, `${path}/data`, 'sparse data must be numeric or boolean');
  for (const [name, ds] of [['indices', indices], ['indptr', indptr]] as const) {
    const d = elementDtype(ds.metadata);
    if (d === 'string' || d === 'other' || d === 'bool' || d.startsWith('float')) {
      throw badElement(ctx, `${path}/${name}`, 'must hold integers');
    }
  }
  const nnz = datasetShape(data)![0];
  const nIndices = datasetShape(indices)![0];
  if (nIndices !== nnz) throw badElement(ctx, path, `indices has ${nIndices} entries but data has ${nnz}`);
  const major = format === 'csr' ? shape[0] : shape[1];
  const nIndptr = datasetShape(indptr)![0];
  if (nIndptr !== major + 1) {
    const what = format === 'csr' ? 'rows' : 'columns';
    throw badElement(ctx, path, `indptr has ${nIndptr} entries, expected ${major + 1} (${what} + 1)`);
  }
  const parts: SparseParts = { path, format, shape, dtype, nnz, data, indices, indptr };
  return {
    path,
    encoding: format === 'csr' ? 'csr_matrix' : 'csc_matrix',
    dtype,
    shape,
    nnz,
    rowBlocks(options) {
      const resolved = resolveOptions(options);
      const blocks = format === 'csr' ? csrRowBlocks(ctx, parts, resolved) : cscRowBlocks(ctx, parts, resolved);
      return guarded(ctx, path, blocks);
    },
    sampleValues: (limit) => readValues(parts, 0, Math.min(nnz, Math.max(0, limit))),
  };
}

function toFloat64(raw: NumericArray): Float64Array {
  if (raw instanceof Float64Array) return raw;
  const out = new Float64Array(raw.length);
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    for (let i = 0; i < raw.length; i++) out[i] = Number(raw[i]);
  } else {
    out.set(raw as Int32Array);
  }
  return out;
}

/** A sliding window over indptr with its checks: starts at 0, never decreases, ends at nnz. */
class IndptrWindow {
  private values: Float64Array = new Float64Array(0);
  private start = 0;

  constructor(
    private readonly ctx: ReadContext,
    private readonly parts: SparseParts,
    private readonly major: number,
    private readonly span: number,
  ) {}

  /** Makes sure indptr[from .. from + span] (clamped) is loaded. */
  cover(from: number): void {
    const need = Math.min(this.major, from + this.span);
    if (from >= this.start && need <= this.start + this.values.length - 1) return;
    const stop = Math.min(this.major, from + 2 * this.span);
    this.values = toFloat64(readNumericRows(this.parts.indptr, from, stop + 1));
    this.start = from;
    this.check(stop);
  }

  at(i: number): number {
    return this.values[i - this.start];
  }

  /** Highest indptr position currently loaded. */
  last(): number {
    return this.start + this.values.length - 1;
  }

  private check(stop: number): void {
    const { ctx, parts } = this;
    const v = this.values;
    if (this.start === 0 && v[0] !== 0) throw badElement(ctx, parts.path, `indptr must start at 0, found ${v[0]}`);
    for (let i = 1; i < v.length; i++) {
      if (v[i] < v[i - 1]) throw badElement(ctx, parts.path, `indptr is not monotonic at position ${this.start + i}`);
    }
    const lastValue = v[v.length - 1];
    if (lastValue > parts.nnz || (stop === this.major && lastValue !== parts.nnz)) {
      throw badElement(ctx, parts.path, `indptr ends at ${lastValue} but there are ${parts.nnz} stored entries`);
    }
  }
}

/** Reads indices[start, stop) as Int32Array, rejecting values outside [0, limit). */
function readIndices(ctx: ReadContext, parts: SparseParts, start: number, stop: number, limit: number): Int32Array {
  return checkedIndices(ctx, parts, readNumericRows(parts.indices, start, stop), start, limit);
}

/** True if every row's columns ascend and lie in [0, limit): a row's first and last then bound it. */
function rowsAscendingInRange(indptr: Int32Array, indices: Int32Array, limit: number): boolean {
  let descending = 0;
  for (let r = 0; r + 1 < indptr.length; r++) {
    const start = indptr[r];
    const end = indptr[r + 1];
    if (end === start) continue;
    if (indices[start] < 0 || indices[end - 1] >= limit) return false;
    // One load an entry and no branch: a row is judged whole (most are ascending).
    let previous = indices[start];
    for (let p = start + 1; p < end; p++) {
      const next = indices[p];
      descending |= +(previous > next);
      previous = next;
    }
    if (descending) return false;
  }
  return true;
}

/** `raw` (indices[start...]) as Int32Array, rejecting values outside [0, limit). */
function checkedIndices(ctx: ReadContext, parts: SparseParts, raw: NumericArray, start: number, limit: number): Int32Array {
  const what = parts.format === 'csr' ? 'column' : 'row';
  const outOfRange = (value: number | bigint, at: number): CellarError =>
    badElement(ctx, parts.path, `${what} index ${value} at entry ${start + at} is out of range (the matrix has ${limit} ${what}s)`);
  if (raw instanceof Int32Array) {
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (v < 0 || v >= limit) throw outOfRange(v, i);
    }
    return raw;
  }
  const out = new Int32Array(raw.length);
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    const big = BigInt(limit);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (v < 0n || v >= big) throw outOfRange(v, i);
      out[i] = Number(v);
    }
    return out;
  }
  const narrow = raw as Uint8Array | Uint16Array | Int8Array | Int16Array | Uint32Array;
  for (let i = 0; i < narrow.length; i++) {
    const v = narrow[i];
    if (v < 0 || v >= limit) throw outOfRange(v, i);
    out[i] = v;
  }
  return out;
}

function readValues(parts: SparseParts, start: number, stop: number): NumericArray {
  const raw = readNumericRows(parts.data, start, stop);
  return parts.dtype === 'bool' ? asBoolBytes(raw) : raw;
}

async function* csrRowBlocks(ctx: ReadContext, parts: SparseParts, options: ResolvedOptions): AsyncGenerator<CsrBlock> {
  const [nRows, nCols] = parts.shape;
  const window = new IndptrWindow(ctx, parts, nRows, Math.min(options.maxRows, INDPTR_WINDOW_ROWS));
  let row = 0;
  while (row < nRows) {
    checkAborted(ctx, parts.path, options.signal);
    window.cover(row);
    const first = window.at(row);
    const rowLimit = Math.min(nRows, row + options.maxRows, window.last());
    let end = row + 1;
    while (end < rowLimit && window.at(end + 1) - first <= options.maxEntries) end++;
    const stop = window.at(end);
    const indptr = new Int32Array(end - row + 1);
    for (let r = row; r <= end; r++) indptr[r - row] = window.at(r) - first;
    const raw = readNumericRows(parts.indices, first, stop);
    const data = readValues(parts, first, stop);
    // The common case (int32 columns, every row ascending) is checked in one pass; anything else
    // takes the full checks, which also name the first bad entry.
    const checked = raw instanceof Int32Array && rowsAscendingInRange(indptr, raw, nCols);
    const indices = checked ? raw : checkedIndices(ctx, parts, raw, first, nCols);
    if (!checked) sortColumnsWithinRows(indptr, indices, data);
    yield { rowStart: row, nRows: end - row, nCols, indptr, indices, data };
    row = end;
  }
}

/** CSR may legally store a row's columns in any order; blocks always come out ascending. */
function sortColumnsWithinRows(indptr: Int32Array, indices: Int32Array, data: NumericArray): void {
  const values = data as Float64Array; // see sameTypeCopy
  for (let r = 0; r + 1 < indptr.length; r++) {
    const start = indptr[r];
    const end = indptr[r + 1];
    let sorted = true;
    for (let p = start + 1; p < end && sorted; p++) sorted = indices[p - 1] <= indices[p];
    if (sorted) continue;
    const order = Array.from({ length: end - start }, (_, i) => start + i).sort((a, b) => indices[a] - indices[b]);
    const rowIndices = order.map((p) => indices[p]);
    const rowValues = order.map((p) => values[p]);
    for (let i = 0; i < order.length; i++) {
      indices[start + i] = rowIndices[i];
      values[start + i] = rowValues[i];
    }
  }
}

// ---------------------------------------------------------------- CSC transpose

/**
 * CSC → CSR row blocks in three bounded passes:
 * 1. count entries per row (streaming the row indices);
 * 2. cut rows into "buckets" of at most maxEntries entries, stream the
 *    columns in entry chunks and append each chunk's entries, grouped by
 *    bucket, to that bucket's temporary file;
 * 3. per bucket, read its file, scatter entries into CSR (columns stay
 *    ascending because chunks arrive in column order), and yield it in
 *    blocks of at most maxRows rows.
 * A matrix that fits in one bucket is transposed in memory.
 */
async function* cscRowBlocks(ctx: ReadContext, parts: SparseParts, options: ResolvedOptions): AsyncGenerator<CsrBlock> {
  const [nRows, nCols] = parts.shape;
  const { maxEntries, signal } = options;
  const colPtr = readWholeIndptr(ctx, parts, nCols);
  const chunk = Math.max(1, Math.min(maxEntries, parts.nnz));

  const rowCounts = new Int32Array(nRows);
  let onlyChunkRows: Int32Array | null = null;
  for (let e = 0; e < parts.nnz; e += chunk) {
    checkAborted(ctx, parts.path, signal);
    const rows = readIndices(ctx, parts, e, Math.min(parts.nnz, e + chunk), nRows);
    for (let i = 0; i < rows.length; i++) rowCounts[rows[i]]++;
    if (rows.length === parts.nnz) onlyChunkRows = rows;
  }

  const bucketStarts = planBuckets(rowCounts, maxEntries);
  const nBuckets = bucketStarts.length - 1;
  if (nBuckets === 0) return;
  const Values = valueArrayType(parts.dtype);

  if (nBuckets === 1) {
    const rows = onlyChunkRows ?? readIndices(ctx, parts, 0, parts.nnz, nRows);
    const values = readValues(parts, 0, parts.nnz);
    const cols = columnsOfEntries(colPtr, 0, parts.nnz, 0).cols;
    yield* splitRows(assembleBucket(0, nRows, rowCounts, rows, cols, values, Values), nCols, options.maxRows);
    return;
  }

  const bucketOfRow = new Int32Array(nRows);
  for (let b = 0; b < nBuckets; b++) bucketOfRow.fill(b, bucketStarts[b], bucketStarts[b + 1]);

  const dir = await mkdtemp(join(options.tmpDir, 'cellar-csc-'));
  try {
    const bucketFile = (b: number): string => join(dir, `rows-${b}.bin`);
    const segments: number[][] = Array.from({ length: nBuckets }, () => []);
    const bucketCounts = new Int32Array(nBuckets);
    const sortedRows = new Int32Array(chunk);
    const sortedCols = new Int32Array(chunk);
    const sortedValues = new Values(chunk);
    let col = 0;
    for (let e = 0; e < parts.nnz; e += chunk) {
      checkAborted(ctx, parts.path, signal);
      const stop = Math.min(parts.nnz, e + chunk);
      const rows = readIndices(ctx, parts, e, stop, nRows);
      const values = readValues(parts, e, stop);
      const located = columnsOfEntries(colPtr, e, stop, col);
      col = located.nextCol;
      const cols = located.cols;

      bucketCounts.fill(0);
      for (let i = 0; i < rows.length; i++) bucketCounts[bucketOfRow[rows[i]]]++;
      const offsets = new Int32Array(nBuckets + 1);
      for (let b = 0; b < nBuckets; b++) offsets[b + 1] = offsets[b] + bucketCounts[b];
      const cursor = offsets.slice(0, nBuckets);
      const src = values as Float64Array; // see sameTypeCopy
      const dst = sortedValues as Float64Array;
      for (let i = 0; i < rows.length; i++) {
        const p = cursor[bucketOfRow[rows[i]]]++;
        sortedRows[p] = rows[i];
        sortedCols[p] = cols[i];
        dst[p] = src[i];
      }

      for (let b = 0; b < nBuckets; b++) {
        const count = bucketCounts[b];
        if (count === 0) continue;
        const from = offsets[b];
        const segment = [
          bytesOf(sortedRows.subarray(from, from + count)),
          bytesOf(sortedCols.subarray(from, from + count)),
          bytesOf(sortedValues.subarray(from, from + count)),
        ];
        const fd = openSync(bucketFile(b), 'a');
        try {
          const expected = segment.reduce((sum, part) => sum + part.length, 0);
          if (writevSync(fd, segment) !== expected) throw new Error('short write to a temporary transpose file');
        } finally {
          closeSync(fd);
        }
        segments[b].push(count);
      }
    }

    for (let b = 0; b < nBuckets; b++) {
      checkAborted(ctx, parts.path, signal);
      const rowStart = bucketStarts[b];
      const rowEnd = bucketStarts[b + 1];
      let total = 0;
      for (const count of segments[b]) total += count;
      const rows = new Int32Array(total);
      const cols = new Int32Array(total);
      const values = new Values(total);
      if (total > 0) {
        const fd = openSync(bucketFile(b), 'r');
        try {
          let position = 0;
          let filled = 0;
          for (const count of segments[b]) {
            for (const target of [rows, cols, values]) position += readInto(fd, target, filled, count, position);
            filled += count;
          }
        } finally {
          closeSync(fd);
        }
        unlinkSync(bucketFile(b));
      }
      yield* splitRows(assembleBucket(rowStart, rowEnd, rowCounts, rows, cols, values, Values), nCols, options.maxRows);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function readWholeIndptr(ctx: ReadContext, parts: SparseParts, major: number): Float64Array {
  const window = new IndptrWindow(ctx, parts, major, major);
  window.cover(0);
  const out = new Float64Array(major + 1);
  for (let i = 0; i <= major; i++) out[i] = window.at(i);
  return out;
}

/** Row boundaries so that each bucket holds at most maxEntries entries (a bigger single row gets its own bucket). */
function planBuckets(rowCounts: Int32Array, maxEntries: number): number[] {
  const starts = [0];
  let entries = 0;
  for (let r = 0; r < rowCounts.length; r++) {
    if (r > starts[starts.length - 1] && entries + rowCounts[r] > maxEntries) {
      starts.push(r);
      entries = 0;
    }
    entries += rowCounts[r];
  }
  if (rowCounts.length > 0) starts.push(rowCounts.length);
  return starts;
}

/** Column of each entry in [start, stop), walking the column pointers from `col`. */
function columnsOfEntries(colPtr: Float64Array, start: number, stop: number, col: number): { cols: Int32Array; nextCol: number } {
  const cols = new Int32Array(stop - start);
  const lastCol = colPtr.length - 2;
  for (let e = start; e < stop; e++) {
    while (col < lastCol && colPtr[col + 1] <= e) col++;
    cols[e - start] = col;
  }
  return { cols, nextCol: col };
}

type ValueArrayType = { new (length: number): NumericArray };

// sameTypeCopy: source and target value arrays always share one element type,
// so loops cast both to Float64Array only to satisfy the compiler; bigint
// arrays copy bigints unchanged.

function valueArrayType(dtype: MatrixDtype): ValueArrayType {
  return dtype === 'bool' ? Uint8Array : typedArrayConstructor(dtype);
}

function bytesOf(array: NumericArray): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** Reads `count` elements from the file at `position` straight into target[filled…]; returns the bytes read. */
function readInto(fd: number, target: NumericArray, filled: number, count: number, position: number): number {
  const width = (target as Int32Array).BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(target.buffer, target.byteOffset + filled * width, count * width);
  let done = 0;
  while (done < bytes.length) {
    const n = readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new Error('temporary transpose file ended early');
    done += n;
  }
  return bytes.length;
}

interface AssembledRows {
  rowStart: number;
  indptr: Int32Array;
  indices: Int32Array;
  data: NumericArray;
}

/** Scatters (row, col, value) triples, already in column order, into CSR for rows [rowStart, rowEnd). */
function assembleBucket(
  rowStart: number,
  rowEnd: number,
  rowCounts: Int32Array,
  rows: Int32Array,
  cols: Int32Array,
  values: NumericArray,
  Values: ValueArrayType,
): AssembledRows {
  const n = rowEnd - rowStart;
  const indptr = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) indptr[r + 1] = indptr[r] + rowCounts[rowStart + r];
  const next = indptr.slice(0, n);
  const indices = new Int32Array(rows.length);
  const data = new Values(rows.length);
  const dst = data as Float64Array; // see sameTypeCopy
  const src = values as Float64Array;
  for (let i = 0; i < rows.length; i++) {
    const p = next[rows[i] - rowStart]++;
    indices[p] = cols[i];
    dst[p] = src[i];
  }
  return { rowStart, indptr, indices, data };
}

function* splitRows(rows: AssembledRows, nCols: number, maxRows: number): Generator<CsrBlock> {
  const total = rows.indptr.length - 1;
  for (let r = 0; r < total; r += maxRows) {
    const end = Math.min(total, r + maxRows);
    const base = rows.indptr[r];
    const indptr = new Int32Array(end - r + 1);
    for (let i = r; i <= end; i++) indptr[i - r] = rows.indptr[i] - base;
    const stop = rows.indptr[end];
    yield {
      rowStart: rows.rowStart + r,
      nRows: end - r,
      nCols,
      indptr,
      indices: rows.indices.subarray(base, stop),
      data: rows.data.subarray(base, stop) as NumericArray,
    };
  }
}

// ---------------------------------------------------------------- dense

export function openDenseMatrix(ctx: ReadContext, path: string, ds: H5Dataset): MatrixHandle {
  const dims = datasetShape(ds);
  if (!dims || dims.length !== 2) throw badElement(ctx, path, `a matrix must be 2-dimensional, found shape ${(dims ?? []).join(' × ')}`);
  const dtype = elementDtype(ds.metadata);
  if (dtype === 'string' || dtype === 'other') throw badElement(ctx, path, 'matrix values must be numeric or boolean');
  const shape: [number, number] = [dims[0], dims[1]];
  return {
    path,
    encoding: 'array',
    dtype,
    shape,
    nnz: shape[0] * shape[1],
    rowBlocks(options) {
      return guarded(ctx, path, denseRowBlocks(ctx, path, ds, shape, dtype, resolveOptions(options)));
    },
    // Whole rows from the top: a dense slice of a row-major dataset is one contiguous read.
    sampleValues: (limit) => readNumericRows(ds, 0, Math.min(shape[0], Math.max(1, Math.floor(limit / Math.max(1, shape[1]))))),
  };
}

async function* denseRowBlocks(
  ctx: ReadContext,
  path: string,
  ds: H5Dataset,
  shape: [number, number],
  dtype: MatrixDtype,
  options: ResolvedOptions,
): AsyncGenerator<CsrBlock> {
  const [nRows, nCols] = shape;
  const rowsPerBlock = Math.max(1, Math.min(options.maxRows, Math.floor(options.maxEntries / Math.max(1, nCols))));
  const Values = valueArrayType(dtype);
  for (let row = 0; row < nRows; row += rowsPerBlock) {
    checkAborted(ctx, path, options.signal);
    const end = Math.min(nRows, row + rowsPerBlock);
    let values = readNumericRows(ds, row, end);
    if (dtype === 'bool') values = asBoolBytes(values);
    yield { rowStart: row, ...denseToCsr(values, end - row, nCols, Values) };
  }
}

/** Drops zeros from a row-major dense slice. */
export function denseToCsr(
  values: NumericArray,
  nRows: number,
  nCols: number,
  Values: ValueArrayType,
): Omit<CsrBlock, 'rowStart'> {
  const isBig = values instanceof BigInt64Array || values instanceof BigUint64Array;
  let nnz = 0;
  if (isBig) {
    for (let i = 0; i < values.length; i++) if (values[i] !== 0n) nnz++;
  } else {
    const v = values as Float64Array;
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) nnz++;
  }
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(nnz);
  const data = new Values(nnz);
  const src = values as Float64Array;
  const dst = data as Float64Array; // see sameTypeCopy
  const zero = (isBig ? 0n : 0) as unknown as number;
  let p = 0;
  for (let r = 0; r < nRows; r++) {
    const base = r * nCols;
    for (let c = 0; c < nCols; c++) {
      const v = src[base + c];
      if (v !== zero) {
        indices[p] = c;
        dst[p] = v;
        p++;
      }
    }
    indptr[r + 1] = p;
  }
  return { nRows, nCols, indptr, indices, data };
}
