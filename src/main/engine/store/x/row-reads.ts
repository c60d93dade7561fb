// Row reads of an X layer: the cells asked for (any order) as CSR. Only the chunks holding those
// rows are read, decompressed straight into scratch memory; a large read can hand half of its
// rows to a helper thread decoding into shared memory.
import type { CsrBlock, NumericArray, NumericDtype } from '../../columns/column-model';
import { CellarError } from '../../../../shared/errors';
import { allocateTyped, allocateTypedUnfilled, bytesPerElement, viewTyped } from '../format/dtypes';
import type { XFragment } from '../format/manifest';
import { copyConverted, MAX_READ_BYTES, MAX_READ_GAP, undeltaUint16, undeltaUint32, type XLayerDescription, type XLayerFiles } from './layer-files';
import { decodeVarintColumns, skipVarints } from './varints';

/** A CSR matrix; also a CsrBlock starting at row 0, so it can be written out directly. */
export interface CsrMatrix extends CsrBlock {
  shape: [number, number];
}

export interface RowDecodeRequest {
  layer: XLayerDescription;
  sorted: Int32Array;
  starts: Float64Array;
  from: number;
  to: number;
  indices: Int32Array;
  data: NumericArray;
  /**
   * When set, the part is decoded only if its flag (claims[claim]) is still 0, set to
   * CLAIMED_BY_HELPER first (the caller may have claimed it, CLAIMED_HERE, and decoded it
   * itself) and to DECODED_BY_HELPER once its values are in place.
   */
  claims?: Int32Array;
  claim?: number;
}

export const CLAIMED_HERE = 1;
export const CLAIMED_BY_HELPER = 2;
export const DECODED_BY_HELPER = 3;

/** Decodes a request's part with `decode` unless the caller claimed it first. */
export function decodeUnlessClaimed(request: RowDecodeRequest, decode: () => void): void {
  const { claims, claim } = request;
  if (!claims || claim === undefined) return decode();
  if (Atomics.compareExchange(claims, claim, 0, CLAIMED_BY_HELPER) !== 0) return;
  decode();
  Atomics.store(claims, claim, DECODED_BY_HELPER);
}

/** Another thread that decodes part of a row read into shared memory. */
export interface RowDecodeHelper {
  decode(request: RowDecodeRequest): Promise<void>;
}

function allocateShared(dtype: NumericDtype, length: number): NumericArray {
  return viewShared(dtype, new SharedArrayBuffer(length * bytesPerElement(dtype)), length);
}

function viewShared(dtype: NumericDtype, buffer: SharedArrayBuffer, length: number): NumericArray {
  const ctor = allocateTyped(dtype, 0).constructor as new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => NumericArray;
  return new ctor(buffer, 0, length);
}

type RowReadBufferName = 'indptr' | 'indices' | 'data' | 'sorted' | 'starts';

/**
 * Output memory for a caller that reads rows again and again (a viewer paging through cells, a
 * benchmark's repeats): each read writes into pages an earlier read already touched instead of
 * into fresh memory, whose first touch costs more than the decoding on many machines. A result
 * read into these buffers is valid until the next read into them. Shared memory, so a helper
 * thread can decode into it too.
 */
export class RowReadBuffers {
  private readonly buffers = new Map<RowReadBufferName, SharedArrayBuffer>();

  /** A view of `length` elements of the named buffer, grown (with some slack) when too small. */
  take(name: RowReadBufferName, dtype: NumericDtype, length: number): NumericArray {
    const bytes = length * bytesPerElement(dtype);
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.byteLength < bytes) this.buffers.set(name, (buffer = new SharedArrayBuffer(Math.ceil(bytes * 1.25))));
    return viewShared(dtype, buffer, length);
  }
}

/** A row read worked out before decoding (see planRead): i counts rows in ascending joinid order. */
interface PlannedRead {
  n: number;
  rowAt: (i: number) => number;
  outPosition: (i: number) => number;
  fragments: XFragment[];
  rowNnz: Float64Array;
  rowFragment: Int32Array;
  total: number;
  indptr: Int32Array | Float64Array;
}

/** Checks joinids and returns the permutation that sorts them (null if already ascending). */
export function sortOrder(files: XLayerFiles, joinids: ArrayLike<number>): Int32Array | null {
  let sorted = true;
  for (let i = 0; i < joinids.length; i++) {
    const row = joinids[i];
    if (!(row >= 0 && row < files.nObs) || !Number.isInteger(row)) {
      throw new CellarError('bad_element', `${files.label}: obs joinid ${row} is outside 0..${files.nObs - 1}.`);
    }
    if (i > 0 && row < joinids[i - 1]) sorted = false;
  }
  if (sorted) return null;
  const order = Int32Array.from({ length: joinids.length }, (_, i) => i);
  return order.sort((a, b) => joinids[a] - joinids[b]);
}

/** For rows in ascending order: each row's nnz and fragment (-1 where no fragment covers it), from the chunk indexes alone. */
export function planRows(files: XLayerFiles, rowAt: (i: number) => number, n: number, fragments: XFragment[]): { rowNnz: Float64Array; rowFragment: Int32Array } {
  const rowNnz = new Float64Array(n);
  const rowFragment = new Int32Array(n).fill(-1);
  let f = 0;
  for (let i = 0; i < n; i++) {
    const row = rowAt(i);
    while (f < fragments.length && fragments[f].rowStart + fragments[f].nRows <= row) f++;
    if (f === fragments.length) break;
    const fragment = fragments[f];
    if (row < fragment.rowStart) continue;
    const index = files.chunkIndex(fragment);
    const local = row - fragment.rowStart;
    rowNnz[i] = index.rowPrefix[local + 1] - index.rowPrefix[local];
    rowFragment[i] = f;
  }
  return { rowNnz, rowFragment };
}

/** Decodes sorted rows [from, to) into indices/data at indptr[outPosition(i)]. */
export function decodeRows(
  files: XLayerFiles,
  fragments: XFragment[],
  rowFragment: Int32Array,
  rowAt: (i: number) => number,
  outPosition: (i: number) => number,
  from: number,
  to: number,
  indptr: Int32Array | Float64Array,
  indices: Int32Array,
  data: NumericArray,
): void {
  let i = from;
  while (i < to) {
    if (rowFragment[i] < 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < to && rowFragment[end] === rowFragment[i]) end++;
    readFragmentRows(files, fragments[rowFragment[i]], rowAt, outPosition, i, end, indptr, indices, data);
    i = end;
  }
}

/**
 * Rows `joinids` (any order; ascending is fastest) as CSR with column indices = var joinids.
 * Rows no fragment covers (cells added without this layer) are empty.
 */
export function readRows(files: XLayerFiles, joinids: ArrayLike<number>, into?: RowReadBuffers): CsrMatrix {
  return decodePlanned(files, planRead(files, joinids, into), into);
}

/** Sorting and per-row sizes of a row read, from the chunk indexes alone. */
function planSizes(files: XLayerFiles, joinids: ArrayLike<number>): Omit<PlannedRead, 'indptr'> & { order: Int32Array | null } {
  const n = joinids.length;
  const order = sortOrder(files, joinids);
  const rowAt = order ? (i: number) => joinids[order[i]] : (i: number) => joinids[i];
  const outPosition = order ? (i: number) => order[i] : (i: number) => i;
  const fragments = files.fragmentsByRow();
  const { rowNnz, rowFragment } = planRows(files, rowAt, n, fragments);
  let total = 0;
  for (let i = 0; i < n; i++) total += rowNnz[i];
  return { n, order, rowAt, outPosition, fragments, rowNnz, rowFragment, total };
}

/** Stored entries of the rows `joinids` (any order), from the chunk indexes alone (nothing is decoded). */
export function rowsEntries(files: XLayerFiles, joinids: ArrayLike<number>): number {
  return planSizes(files, joinids).total;
}

/** Sorting, per-row sizes and the output row offsets of a row read, from the chunk indexes alone. */
function planRead(files: XLayerFiles, joinids: ArrayLike<number>, into?: RowReadBuffers): PlannedRead {
  const { order, ...sizes } = planSizes(files, joinids);
  const { n, rowNnz, total } = sizes;
  const indptrDtype = total < 2 ** 31 ? 'int32' : 'float64';
  const indptr = (into ? into.take('indptr', indptrDtype, n + 1) : allocateTyped(indptrDtype, n + 1)) as Int32Array | Float64Array;
  indptr[0] = 0;
  if (order) for (let i = 0; i < n; i++) indptr[order[i] + 1] = rowNnz[i];
  else indptr.set(rowNnz, 1);
  for (let i = 0; i < n; i++) indptr[i + 1] += indptr[i];
  return { ...sizes, indptr };
}

/** Decodes a planned read on this thread. */
function decodePlanned(files: XLayerFiles, plan: PlannedRead, into?: RowReadBuffers): CsrMatrix {
  const { n, total, indptr } = plan;
  // Every entry is written below: no need to zero the output first.
  const indices = (into ? into.take('indices', 'int32', total) : allocateTypedUnfilled('int32', total)) as Int32Array;
  const data = into ? into.take('data', files.layer.dtype, total) : allocateTypedUnfilled(files.layer.dtype, total);
  decodeRows(files, plan.fragments, plan.rowFragment, plan.rowAt, plan.outPosition, 0, n, indptr, indices, data);
  return { rowStart: 0, nRows: n, nCols: files.nVars, shape: [n, files.nVars], indptr, indices, data };
}

/** Decodes rows sorted[from..to) (ascending joinids) into indices/data, row i at starts[i]. */
export function decodeSortedRows(files: XLayerFiles, sorted: Int32Array, starts: Float64Array, from: number, to: number, indices: Int32Array, data: NumericArray): void {
  const rows = sorted.subarray(from, to);
  const at = starts.subarray(from, to);
  const fragments = files.fragmentsByRow();
  const rowAt = (i: number) => rows[i];
  const { rowFragment } = planRows(files, rowAt, rows.length, fragments);
  decodeRows(files, fragments, rowFragment, rowAt, (i) => i, 0, rows.length, at, indices, data);
}

/**
 * `readRows` with the second half of a large request decoded by a helper thread into
 * shared memory while this thread decodes the first: the result's arrays are backed by
 * SharedArrayBuffers. Small requests are read on this thread alone.
 */
export async function readRowsShared(files: XLayerFiles, joinids: ArrayLike<number>, helperFor: (nnz: number) => RowDecodeHelper | null, into?: RowReadBuffers): Promise<CsrMatrix> {
  const plan = planRead(files, joinids, into);
  const { n, total, rowNnz, rowAt, outPosition, indptr } = plan;
  // `helperFor` decides whether a read this big is worth a second thread (and starting it).
  const helper = total > 0 && total < 2 ** 31 ? helperFor(total) : null;
  if (!helper) return decodePlanned(files, plan, into);
  const sorted = (into ? into.take('sorted', 'int32', n) : allocateShared('int32', n)) as Int32Array;
  const starts = (into ? into.take('starts', 'float64', n) : allocateShared('float64', n)) as Float64Array;
  for (let i = 0; i < n; i++) {
    sorted[i] = rowAt(i);
    starts[i] = indptr[outPosition(i)];
  }
  const indices = (into ? into.take('indices', 'int32', total) : allocateShared('int32', total)) as Int32Array;
  const data = into ? into.take('data', files.layer.dtype, total) : allocateShared(files.layer.dtype, total);
  // Halves of equal non-zeros, so both threads finish together.
  let mid = 0;
  for (let done = 0; mid < n && done + rowNnz[mid] <= total / 2; mid++) done += rowNnz[mid];
  const remote = helper.decode({ layer: files.describe(), sorted, starts, from: mid, to: n, indices, data });
  try {
    decodeRows(files, plan.fragments, plan.rowFragment, rowAt, outPosition, 0, mid, indptr, indices, data);
  } finally {
    await remote;
  }
  return { rowStart: 0, nRows: n, nCols: files.nVars, shape: [n, files.nVars], indptr, indices, data };
}

function readFragmentRows(
  files: XLayerFiles,
  fragment: XFragment,
  rowAt: (i: number) => number,
  outPosition: (i: number) => number,
  from: number,
  to: number,
  indptr: Int32Array | Float64Array,
  outIndices: Int32Array,
  outData: NumericArray,
): void {
  const index = files.chunkIndex(fragment);
  const R = fragment.chunkRows;
  const valueWidth = bytesPerElement(fragment.storedDtype);
  let i = from;
  while (i < to) {
    // A run of touched chunks that are close on disk is read at once.
    const firstChunk = Math.floor((rowAt(i) - fragment.rowStart) / R);
    const readStart = index.indexOffset[firstChunk];
    let lastChunk = firstChunk;
    let j = i;
    while (j < to) {
      const chunk = Math.floor((rowAt(j) - fragment.rowStart) / R);
      if (chunk !== lastChunk) {
        const gap = index.indexOffset[chunk] - (index.valueOffset[lastChunk] + index.valueLength[lastChunk]);
        const size = index.valueOffset[chunk] + index.valueLength[chunk] - readStart;
        if (gap > MAX_READ_GAP || size > MAX_READ_BYTES) break;
        lastChunk = chunk;
      }
      j++;
    }
    const readEnd = index.valueOffset[lastChunk] + index.valueLength[lastChunk];
    const bytes = files.readAt(fragment.file, readStart, readEnd - readStart);
    while (i < j) {
      const chunk = Math.floor((rowAt(i) - fragment.rowStart) / R);
      const chunkFirstRow = chunk * R;
      const chunkNnz = index.rowPrefix[chunkFirstRow + index.chunkRows[chunk]] - index.rowPrefix[chunkFirstRow];
      const stored = files.chunkIndices(fragment, bytes, index.indexOffset[chunk] - readStart, index.indexLength[chunk], chunkNnz);
      const valBytes = files.decodeBuffer(fragment, bytes, index.valueOffset[chunk] - readStart, index.valueLength[chunk], chunkNnz * valueWidth, files.valueScratch);
      const storedValues = viewTyped(fragment.storedDtype, valBytes, chunkNnz);
      // Varints are read forward from a cursor (entry k at byte p): rows between are skipped.
      let k = 0;
      let p = 0;
      for (; i < j; i++) {
        const local = rowAt(i) - fragment.rowStart;
        if (Math.floor(local / R) !== chunk) break;
        const start = index.rowPrefix[local] - index.rowPrefix[chunkFirstRow];
        const count = index.rowPrefix[local + 1] - index.rowPrefix[local];
        const outAt = indptr[outPosition(i)];
        if ('deltas' in stored) {
          if (stored.deltas instanceof Uint16Array) undeltaUint16(stored.deltas, start, count, outIndices, outAt);
          else undeltaUint32(stored.deltas, start, count, outIndices, outAt);
        } else {
          // A row asked for again (joinids may repeat) starts over from the chunk's start.
          if (start < k) k = p = 0;
          p = skipVarints(stored.varints, stored.size, p, k, start);
          if (p >= 0) p = decodeVarintColumns(stored.varints, stored.size, p, count, outIndices, outAt);
          if (p < 0) throw files.damagedIndices(fragment);
          k = start + count;
        }
        copyConverted(storedValues, start, outData, outAt, count);
      }
    }
  }
}
