// Reads rows or columns of an X layer from its row-chunked fragments. The chunk index
// (a small companion file per fragment) says where each chunk's buffers are, so a row read
// touches only the chunks holding those rows and decompresses them straight into scratch
// buffers, bypassing Arrow's general reader.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, type Data, type Table } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { CsrBlock, NumericArray, NumericDtype } from '../../columns/column-model';
import { decompressBuffer, registerArrowCodecs } from '../io/codecs';
import { allocateTyped, allocateTypedUnfilled, bytesPerElement, viewTyped } from '../format/dtypes';
import type { LayerEntry, XFragment } from '../format/manifest';

/** A CSR matrix; also a CsrBlock starting at row 0, so it can be written out directly. */
export interface CsrMatrix extends CsrBlock {
  shape: [number, number];
}

/** A block of rows from `rowBlocks`: CSR plus the obs joinid of each row. */
export interface XRowBlock extends CsrBlock {
  indptr: Int32Array;
  joinids: Int32Array;
}

/** A CSC matrix: column j's entries are indices/data[indptr[j] .. indptr[j+1]). */
export interface CscMatrix {
  shape: [number, number];
  indptr: Int32Array | Float64Array;
  /** Row (obs joinid) of each entry, ascending within a column. */
  indices: Int32Array;
  data: NumericArray;
}

/** Plain data naming a layer, for another thread to open it. */
export interface XLayerDescription {
  dir: string;
  label: string;
  layer: LayerEntry;
  nObs: number;
  nVars: number;
}

export interface RowDecodeRequest {
  layer: XLayerDescription;
  sorted: Int32Array;
  starts: Float64Array;
  from: number;
  to: number;
  indices: Int32Array;
  data: NumericArray;
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

interface ChunkIndex {
  fragment: XFragment;
  chunkRowStart: Float64Array;
  chunkRows: Int32Array;
  indexOffset: Float64Array;
  indexLength: Float64Array;
  valueOffset: Float64Array;
  valueLength: Float64Array;
  /** Cumulative nnz of the fragment's rows (length nRows + 1). */
  rowPrefix: Float64Array;
}

const MAX_READ_BYTES = 32 << 20;
// Chunks this close on disk are read together (one read beats two small ones).
const MAX_READ_GAP = 16 << 10;

function numbers(data: readonly Data[], length: number): Float64Array {
  const out = new Float64Array(length);
  let at = 0;
  for (const chunk of data) {
    const values = (chunk.values as ArrayLike<number | bigint>) ?? [];
    for (let i = 0; i < chunk.length; i++) out[at++] = Number(values[chunk.offset + i]);
  }
  return out;
}

/** An index column as float64: the stored array itself when it is one contiguous float64 chunk. */
function float64Column(table: Table, name: string, n: number, file: string, label: string): Float64Array {
  const vector = table.getChild(name);
  if (!vector) throw new CellarError('bad_element', `${label}: index file ${file} lacks ${name}.`);
  const chunks = vector.data;
  if (chunks.length === 1 && chunks[0].values instanceof Float64Array) return chunks[0].values.subarray(chunks[0].offset, chunks[0].offset + n);
  return numbers(chunks, n);
}

/** Growable scratch memory, always starting at an aligned offset. */
class Scratch {
  private bytes = new Uint8Array(1 << 16);
  get(size: number): Uint8Array {
    if (this.bytes.byteLength < size) this.bytes = new Uint8Array(Math.max(size, this.bytes.byteLength * 2));
    return this.bytes;
  }
}

export class XLayerReader {
  private readonly indexes = new Map<string, ChunkIndex>();
  private readonly columnIndexes = new Map<string, ColumnIndex>();
  private readonly descriptors = new Map<string, number>();
  private readonly readBuffer = new Scratch();
  private readonly indexScratch = new Scratch();
  private readonly valueScratch = new Scratch();
  private readonly offsetScratch = new Scratch();
  private blockBuffers: { indptr: Int32Array; indices: Int32Array; data: NumericArray } | null = null;

  constructor(
    private readonly dir: string,
    /** e.g. "ms/RNA/X/data", for messages. */
    private readonly label: string,
    private readonly layer: LayerEntry,
    private readonly nObs: number,
    private readonly nVars: number,
  ) {
    registerArrowCodecs();
  }

  get dtype(): NumericDtype {
    return this.layer.dtype;
  }

  close(): void {
    for (const fd of this.descriptors.values()) fs.closeSync(fd);
    this.descriptors.clear();
  }

  private descriptor(file: string): number {
    let fd = this.descriptors.get(file);
    if (fd === undefined) {
      try {
        fd = fs.openSync(join(this.dir, file), 'r');
      } catch (err) {
        throw new CellarError('not_found', `${this.label}: store file ${file} is missing (${(err as Error).message}).`);
      }
      this.descriptors.set(file, fd);
    }
    return fd;
  }

  private readAt(file: string, position: number, length: number): Uint8Array {
    const buffer = this.readBuffer.get(length);
    const fd = this.descriptor(file);
    let done = 0;
    while (done < length) {
      const got = fs.readSync(fd, buffer, done, length - done, position + done);
      if (got === 0) throw new CellarError('bad_element', `${this.label}: store file ${file} is shorter than its index says.`);
      done += got;
    }
    return buffer;
  }

  /** Index entries are (offset, length) pairs that must lie inside the data file. */
  private checkSpans(file: string, indexFile: string, pairs: Float64Array[]): void {
    const size = fs.fstatSync(this.descriptor(file)).size;
    for (let p = 0; p < pairs.length; p += 2) {
      const offsets = pairs[p];
      const lengths = pairs[p + 1];
      for (let i = 0; i < offsets.length; i++) {
        const offset = offsets[i];
        const length = lengths[i];
        if (!(offset >= 0 && length >= 0 && offset + length <= size && Number.isInteger(offset) && Number.isInteger(length))) {
          throw new CellarError('bad_element', `${this.label}: index file ${indexFile} points outside ${file}.`);
        }
      }
    }
  }

  private readIndexTable(file: string): Table {
    try {
      return tableFromIPC(fs.readFileSync(join(this.dir, file)));
    } catch (err) {
      if (err instanceof CellarError) throw err;
      throw new CellarError('bad_element', `${this.label}: index file ${file} cannot be read (${(err as Error).message}).`);
    }
  }

  private chunkIndex(fragment: XFragment): ChunkIndex {
    const cached = this.indexes.get(fragment.indexFile);
    if (cached) return cached;
    const table = this.readIndexTable(fragment.indexFile);
    const n = table.numRows;
    if (n !== fragment.nChunks) throw new CellarError('bad_element', `${this.label}: chunk index ${fragment.indexFile} does not match its fragment.`);
    const column = (name: string) => {
      const vector = table.getChild(name);
      if (!vector) throw new CellarError('bad_element', `${this.label}: chunk index ${fragment.indexFile} lacks ${name}.`);
      return vector;
    };
    const f64 = (name: string) => float64Column(table, name, n, fragment.indexFile, this.label);
    const rowPrefix = new Float64Array(fragment.nRows + 1);
    let row = 0;
    for (const chunk of column('row_nnz').data) {
      const child = chunk.children[0];
      const offsets = chunk.valueOffsets as Int32Array;
      const counts = (child.values as Uint32Array).subarray(child.offset + offsets[chunk.offset], child.offset + offsets[chunk.offset + chunk.length]);
      if (row + counts.length > fragment.nRows) break;
      row = prefixSumInto(counts, rowPrefix, row);
    }
    if (row !== fragment.nRows || rowPrefix[row] !== fragment.nnz) {
      throw new CellarError('bad_element', `${this.label}: chunk index ${fragment.indexFile} does not match its fragment.`);
    }
    const index: ChunkIndex = {
      fragment,
      chunkRowStart: f64('row_start'),
      chunkRows: Int32Array.from(numbers(column('n_rows').data, n)),
      indexOffset: f64('indices_offset'),
      indexLength: f64('indices_length'),
      valueOffset: f64('values_offset'),
      valueLength: f64('values_length'),
      rowPrefix,
    };
    this.checkSpans(fragment.file, fragment.indexFile, [index.indexOffset, index.indexLength, index.valueOffset, index.valueLength]);
    for (let c = 0; c < n; c++) {
      const expectedRows = Math.min(fragment.chunkRows, fragment.nRows - c * fragment.chunkRows);
      if (index.chunkRowStart[c] !== fragment.rowStart + c * fragment.chunkRows || index.chunkRows[c] !== expectedRows) {
        throw new CellarError('bad_element', `${this.label}: chunk index ${fragment.indexFile} has irregular chunks.`);
      }
    }
    this.indexes.set(fragment.indexFile, index);
    return index;
  }

  /** Decodes one stored buffer (at `at` in `bytes`) of `size` uncompressed bytes into aligned memory. */
  private decodeBuffer(fragment: XFragment, bytes: Uint8Array, at: number, length: number, size: number, scratch: Scratch): Uint8Array {
    if (size === 0) return scratch.get(0);
    if (fragment.codec === 'none') return bytes.subarray(at, at + size);
    const prefix = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigInt64(0, true);
    const body = bytes.subarray(at + 8, at + length);
    if (prefix === -1n) return body;
    if (Number(prefix) !== size) throw new CellarError('bad_element', `${this.label}: a chunk of ${fragment.file} has the wrong size.`);
    return decompressBuffer(fragment.codec, body, size, scratch.get(size));
  }

  /** Fragments in row order with the rows each covers. */
  private fragmentsByRow(): XFragment[] {
    return [...this.layer.fragments].sort((a, b) => a.rowStart - b.rowStart);
  }

  /** Checks joinids and returns the permutation that sorts them (null if already ascending). */
  private sortOrder(joinids: ArrayLike<number>): Int32Array | null {
    let sorted = true;
    for (let i = 0; i < joinids.length; i++) {
      const row = joinids[i];
      if (!(row >= 0 && row < this.nObs) || !Number.isInteger(row)) {
        throw new CellarError('bad_element', `${this.label}: obs joinid ${row} is outside 0..${this.nObs - 1}.`);
      }
      if (i > 0 && row < joinids[i - 1]) sorted = false;
    }
    if (sorted) return null;
    const order = Int32Array.from({ length: joinids.length }, (_, i) => i);
    return order.sort((a, b) => joinids[a] - joinids[b]);
  }

  /** For rows in ascending order: each row's nnz and fragment (-1 where no fragment covers it), from the chunk indexes alone. */
  private planRows(rowAt: (i: number) => number, n: number, fragments: XFragment[]): { rowNnz: Float64Array; rowFragment: Int32Array } {
    const rowNnz = new Float64Array(n);
    const rowFragment = new Int32Array(n).fill(-1);
    let f = 0;
    for (let i = 0; i < n; i++) {
      const row = rowAt(i);
      while (f < fragments.length && fragments[f].rowStart + fragments[f].nRows <= row) f++;
      if (f === fragments.length) break;
      const fragment = fragments[f];
      if (row < fragment.rowStart) continue;
      const index = this.chunkIndex(fragment);
      const local = row - fragment.rowStart;
      rowNnz[i] = index.rowPrefix[local + 1] - index.rowPrefix[local];
      rowFragment[i] = f;
    }
    return { rowNnz, rowFragment };
  }

  /** Decodes sorted rows [from, to) into indices/data at indptr[outPosition(i)]. */
  private decodeRows(
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
      this.readFragmentRows(fragments[rowFragment[i]], rowAt, outPosition, i, end, indptr, indices, data);
      i = end;
    }
  }

  /**
   * Rows `joinids` (any order; ascending is fastest) as CSR with column indices = var joinids.
   * Rows no fragment covers (cells added without this layer) are empty.
   */
  readRows(joinids: ArrayLike<number>, into?: RowReadBuffers): CsrMatrix {
    return this.decodePlanned(this.planRead(joinids, into), into);
  }

  /** Sorting, per-row sizes and the output row offsets of a row read, from the chunk indexes alone. */
  private planRead(joinids: ArrayLike<number>, into?: RowReadBuffers): PlannedRead {
    const n = joinids.length;
    const order = this.sortOrder(joinids);
    const rowAt = order ? (i: number) => joinids[order[i]] : (i: number) => joinids[i];
    const outPosition = order ? (i: number) => order[i] : (i: number) => i;
    const fragments = this.fragmentsByRow();
    const { rowNnz, rowFragment } = this.planRows(rowAt, n, fragments);
    let total = 0;
    for (let i = 0; i < n; i++) total += rowNnz[i];
    const indptrDtype = total < 2 ** 31 ? 'int32' : 'float64';
    const indptr = (into ? into.take('indptr', indptrDtype, n + 1) : allocateTyped(indptrDtype, n + 1)) as Int32Array | Float64Array;
    indptr[0] = 0;
    if (order) for (let i = 0; i < n; i++) indptr[order[i] + 1] = rowNnz[i];
    else indptr.set(rowNnz, 1);
    for (let i = 0; i < n; i++) indptr[i + 1] += indptr[i];
    return { n, rowAt, outPosition, fragments, rowNnz, rowFragment, total, indptr };
  }

  /** Decodes a planned read on this thread. */
  private decodePlanned(plan: PlannedRead, into?: RowReadBuffers): CsrMatrix {
    const { n, total, indptr } = plan;
    // Every entry is written below: no need to zero the output first.
    const indices = (into ? into.take('indices', 'int32', total) : allocateTypedUnfilled('int32', total)) as Int32Array;
    const data = into ? into.take('data', this.layer.dtype, total) : allocateTypedUnfilled(this.layer.dtype, total);
    this.decodeRows(plan.fragments, plan.rowFragment, plan.rowAt, plan.outPosition, 0, n, indptr, indices, data);
    return { rowStart: 0, nRows: n, nCols: this.nVars, shape: [n, this.nVars], indptr, indices, data };
  }

  /** What a worker thread needs to open this layer itself. */
  describe(): XLayerDescription {
    return { dir: this.dir, label: this.label, layer: this.layer, nObs: this.nObs, nVars: this.nVars };
  }

  /** Decodes rows sorted[from..to) (ascending joinids) into indices/data, row i at starts[i]. */
  decodeSortedRows(sorted: Int32Array, starts: Float64Array, from: number, to: number, indices: Int32Array, data: NumericArray): void {
    const rows = sorted.subarray(from, to);
    const at = starts.subarray(from, to);
    const fragments = this.fragmentsByRow();
    const rowAt = (i: number) => rows[i];
    const { rowFragment } = this.planRows(rowAt, rows.length, fragments);
    this.decodeRows(fragments, rowFragment, rowAt, (i) => i, 0, rows.length, at, indices, data);
  }

  /**
   * `readRows` with the second half of a large request decoded by a helper thread into
   * shared memory while this thread decodes the first: the result's arrays are backed by
   * SharedArrayBuffers. Small requests are read on this thread alone.
   */
  async readRowsShared(joinids: ArrayLike<number>, helperFor: (nnz: number) => RowDecodeHelper | null, into?: RowReadBuffers): Promise<CsrMatrix> {
    const plan = this.planRead(joinids, into);
    const { n, total, rowNnz, rowAt, outPosition, indptr } = plan;
    // `helperFor` decides whether a read this big is worth a second thread (and starting it).
    const helper = total > 0 && total < 2 ** 31 ? helperFor(total) : null;
    if (!helper) return this.decodePlanned(plan, into);
    const sorted = (into ? into.take('sorted', 'int32', n) : allocateShared('int32', n)) as Int32Array;
    const starts = (into ? into.take('starts', 'float64', n) : allocateShared('float64', n)) as Float64Array;
    for (let i = 0; i < n; i++) {
      sorted[i] = rowAt(i);
      starts[i] = indptr[outPosition(i)];
    }
    const indices = (into ? into.take('indices', 'int32', total) : allocateShared('int32', total)) as Int32Array;
    const data = into ? into.take('data', this.layer.dtype, total) : allocateShared(this.layer.dtype, total);
    // Halves of equal non-zeros, so both threads finish together.
    let mid = 0;
    for (let done = 0; mid < n && done + rowNnz[mid] <= total / 2; mid++) done += rowNnz[mid];
    const remote = helper.decode({ layer: this.describe(), sorted, starts, from: mid, to: n, indices, data });
    try {
      this.decodeRows(plan.fragments, plan.rowFragment, rowAt, outPosition, 0, mid, indptr, indices, data);
    } finally {
      await remote;
    }
    return { rowStart: 0, nRows: n, nCols: this.nVars, shape: [n, this.nVars], indptr, indices, data };
  }

  /**
   * The rows `joinids` in ascending joinid order, as CSR blocks of at most `maxRows` rows and
   * (unless a single row is larger) `maxEntries` entries. Blocks reuse the same memory: each one is
   * valid until the next is requested. `rowStart` is the block's position in the sorted joinids.
   */
  *rowBlocks(joinids: ArrayLike<number>, options: { maxRows?: number; maxEntries?: number } = {}): Generator<XRowBlock> {
    const maxRows = Math.max(1, options.maxRows ?? 4096);
    const maxEntries = Math.max(1, options.maxEntries ?? 8_000_000);
    const order = this.sortOrder(joinids);
    const sorted = Int32Array.from({ length: joinids.length }, (_, i) => joinids[order ? order[i] : i]);
    const n = sorted.length;
    const fragments = this.fragmentsByRow();
    const rowAt = (i: number) => sorted[i];
    const { rowNnz, rowFragment } = this.planRows(rowAt, n, fragments);
    // The reader's block buffers, unless another generator has them: fresh memory is slow to
    // touch, and a caller reading block after block (PCA, export) should reuse the same pages.
    const buffers = this.blockBuffers ?? { indptr: new Int32Array(1), indices: new Int32Array(1024), data: allocateTyped(this.layer.dtype, 1024) };
    this.blockBuffers = null;
    let { indptr, indices, data } = buffers;
    let start = 0;
    try {
      while (start < n) {
        let end = start;
        let entries = 0;
        while (end < n && end - start < maxRows && (end === start || entries + rowNnz[end] <= maxEntries)) entries += rowNnz[end++];
        if (indices.length < entries) {
          indices = new Int32Array(Math.max(entries, indices.length * 2));
          data = allocateTyped(this.layer.dtype, indices.length);
        }
        const rows = end - start;
        if (indptr.length < rows + 1) indptr = new Int32Array(rows + 1);
        indptr[0] = 0;
        for (let i = 0; i < rows; i++) indptr[i + 1] = indptr[i] + rowNnz[start + i];
        const first = start;
        this.decodeRows(fragments, rowFragment, rowAt, (i) => i - first, start, end, indptr, indices, data);
        yield {
          rowStart: start,
          nRows: rows,
          nCols: this.nVars,
          indptr: indptr.subarray(0, rows + 1),
          indices: indices.subarray(0, entries),
          data: data.subarray(0, entries),
          joinids: sorted.subarray(start, end),
        };
        start = end;
      }
    } finally {
      this.blockBuffers = { indptr, indices, data };
    }
  }

  /**
   * Rows [rowStart, rowEnd) restricted to the columns with position[column] ≥ 0, renumbered to
   * that position, decoded in one pass per entry (no full rows are built first). `indices` and
   * `data` must have room for every stored entry of those rows; returns the entries kept.
   * `data` must not be a BigInt array.
   */
  decodeRangeKeeping(rowStart: number, rowEnd: number, position: Int32Array, indptr: Int32Array, indices: Int32Array, data: NumericArray): number {
    const out = data as Float64Array;
    let at = 0;
    let row = rowStart;
    indptr[0] = 0;
    const emptyUntil = (end: number) => {
      for (; row < end; row++) indptr[row - rowStart + 1] = at;
    };
    for (const fragment of this.fragmentsByRow()) {
      const fragmentEnd = fragment.rowStart + fragment.nRows;
      if (fragmentEnd <= row) continue;
      if (fragment.rowStart >= rowEnd) break;
      emptyUntil(fragment.rowStart);
      const index = this.chunkIndex(fragment);
      const R = fragment.chunkRows;
      const indexWidth = bytesPerElement(fragment.indexDtype);
      const valueWidth = bytesPerElement(fragment.storedDtype);
      const end = Math.min(rowEnd, fragmentEnd);
      let chunk = Math.floor((row - fragment.rowStart) / R);
      const lastChunk = Math.floor((end - 1 - fragment.rowStart) / R);
      while (chunk <= lastChunk) {
        // Consecutive chunks are read together, up to MAX_READ_BYTES at a time.
        const readStart = index.indexOffset[chunk];
        let through = chunk;
        while (through < lastChunk && index.valueOffset[through + 1] + index.valueLength[through + 1] - readStart <= MAX_READ_BYTES) through++;
        const bytes = this.readAt(fragment.file, readStart, index.valueOffset[through] + index.valueLength[through] - readStart);
        for (; chunk <= through; chunk++) {
          const chunkFirst = chunk * R;
          const base = index.rowPrefix[chunkFirst];
          const chunkNnz = index.rowPrefix[chunkFirst + index.chunkRows[chunk]] - base;
          const idxBytes = this.decodeBuffer(fragment, bytes, index.indexOffset[chunk] - readStart, index.indexLength[chunk], chunkNnz * indexWidth, this.indexScratch);
          const valBytes = this.decodeBuffer(fragment, bytes, index.valueOffset[chunk] - readStart, index.valueLength[chunk], chunkNnz * valueWidth, this.valueScratch);
          const deltas = viewTyped(fragment.indexDtype, idxBytes, chunkNnz) as Uint16Array | Uint32Array;
          const values = viewTyped(fragment.storedDtype, valBytes, chunkNnz) as Float64Array;
          const chunkEnd = Math.min(end, fragment.rowStart + chunkFirst + index.chunkRows[chunk]);
          for (; row < chunkEnd; row++) {
            const local = row - fragment.rowStart;
            const to = index.rowPrefix[local + 1] - base;
            let column = 0;
            // Branch-free: every entry is written, the cursor moves only for kept ones.
            for (let k = index.rowPrefix[local] - base; k < to; k++) {
              column += deltas[k];
              const p = position[column];
              indices[at] = p;
              out[at] = values[k];
              at += (p >>> 31) ^ 1;
            }
            indptr[row - rowStart + 1] = at;
          }
        }
      }
    }
    emptyUntil(rowEnd);
    return at;
  }

  /** Stored entries of rows [rowStart, rowEnd): an upper bound for decodeRangeKeeping's output. */
  storedEntries(rowStart: number, rowEnd: number): number {
    let total = 0;
    for (const fragment of this.layer.fragments) {
      const from = Math.max(rowStart, fragment.rowStart);
      const to = Math.min(rowEnd, fragment.rowStart + fragment.nRows);
      if (from >= to) continue;
      const index = this.chunkIndex(fragment);
      total += index.rowPrefix[to - fragment.rowStart] - index.rowPrefix[from - fragment.rowStart];
    }
    return total;
  }

  private readFragmentRows(
    fragment: XFragment,
    rowAt: (i: number) => number,
    outPosition: (i: number) => number,
    from: number,
    to: number,
    indptr: Int32Array | Float64Array,
    outIndices: Int32Array,
    outData: NumericArray,
  ): void {
    const index = this.chunkIndex(fragment);
    const R = fragment.chunkRows;
    const indexWidth = bytesPerElement(fragment.indexDtype);
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
      const bytes = this.readAt(fragment.file, readStart, readEnd - readStart);
      while (i < j) {
        const chunk = Math.floor((rowAt(i) - fragment.rowStart) / R);
        const chunkFirstRow = chunk * R;
        const chunkNnz = index.rowPrefix[chunkFirstRow + index.chunkRows[chunk]] - index.rowPrefix[chunkFirstRow];
        const idxBytes = this.decodeBuffer(fragment, bytes, index.indexOffset[chunk] - readStart, index.indexLength[chunk], chunkNnz * indexWidth, this.indexScratch);
        const valBytes = this.decodeBuffer(fragment, bytes, index.valueOffset[chunk] - readStart, index.valueLength[chunk], chunkNnz * valueWidth, this.valueScratch);
        const storedIndices = viewTyped(fragment.indexDtype, idxBytes, chunkNnz) as Uint16Array | Uint32Array;
        const storedValues = viewTyped(fragment.storedDtype, valBytes, chunkNnz);
        for (; i < j; i++) {
          const local = rowAt(i) - fragment.rowStart;
          if (Math.floor(local / R) !== chunk) break;
          const start = index.rowPrefix[local] - index.rowPrefix[chunkFirstRow];
          const count = index.rowPrefix[local + 1] - index.rowPrefix[local];
          const outAt = indptr[outPosition(i)];
          if (storedIndices instanceof Uint16Array) undeltaUint16(storedIndices, start, count, outIndices, outAt);
          else undeltaUint32(storedIndices, start, count, outIndices, outAt);
          copyConverted(storedValues, start, outData, outAt, count);
        }
      }
    }
  }

  /**
   * Columns `varJoinids` over every obs row, as CSC (column j = varJoinids[j]). Fragments with a
   * column companion decompress only the batches of the requested genes; others are scanned.
   */
  readColumns(varJoinids: ArrayLike<number>): CscMatrix {
    const g = varJoinids.length;
    let width = this.nVars;
    for (const fragment of this.layer.fragments) width = Math.max(width, fragment.nCols);
    const slot = new Int32Array(width).fill(-1);
    const duplicateOf = new Int32Array(g).fill(-1);
    for (let j = 0; j < g; j++) {
      const v = varJoinids[j];
      if (!(v >= 0 && v < this.nVars) || !Number.isInteger(v)) {
        throw new CellarError('bad_element', `${this.label}: var joinid ${v} is outside 0..${this.nVars - 1}.`);
      }
      if (slot[v] >= 0) duplicateOf[j] = slot[v];
      else slot[v] = j;
    }
    const columns: ColumnAccumulator = {
      rows: Array.from({ length: g }, () => new GrowableInt32()),
      values: Array.from({ length: g }, () => new GrowableTyped(this.layer.dtype)),
    };
    for (const fragment of this.fragmentsByRow()) {
      if (fragment.columns) this.readCompanionColumns(fragment, slot, columns);
      else this.scanColumns(fragment, slot, columns);
    }
    const rows = columns.rows;
    const values = columns.values;
    for (let j = 0; j < g; j++) {
      if (duplicateOf[j] >= 0) {
        rows[j] = rows[duplicateOf[j]];
        values[j] = values[duplicateOf[j]];
      }
    }
    let total = 0;
    for (let j = 0; j < g; j++) total += rows[j].length;
    const indptr = total < 2 ** 31 ? new Int32Array(g + 1) : new Float64Array(g + 1);
    const indices = new Int32Array(total);
    const data = allocateTyped(this.layer.dtype, total);
    for (let j = 0; j < g; j++) {
      indptr[j + 1] = indptr[j] + rows[j].length;
      indices.set(rows[j].values.subarray(0, rows[j].length), indptr[j]);
      (data as Float64Array).set(values[j].view() as Float64Array, indptr[j]);
    }
    return { shape: [this.nObs, g], indptr, indices, data };
  }

  private columnIndex(fragment: XFragment): ColumnIndex {
    const companion = fragment.columns!;
    const cached = this.columnIndexes.get(companion.indexFile);
    if (cached) return cached;
    const table = this.readIndexTable(companion.indexFile);
    const n = table.numRows;
    if (n !== companion.nBatches) throw new CellarError('bad_element', `${this.label}: column index ${companion.indexFile} does not match its fragment.`);
    const f64 = (name: string) => float64Column(table, name, n, companion.indexFile, this.label);
    const groupRowStart = f64('group_row_start');
    const groupFirstBatch: number[] = [];
    for (let b = 0; b < n; b++) if (b === 0 || groupRowStart[b] !== groupRowStart[b - 1]) groupFirstBatch.push(b);
    const index: ColumnIndex = {
      groupRowStart,
      geneStart: Int32Array.from(f64('gene_start')),
      geneCount: Int32Array.from(f64('gene_count')),
      nnz: f64('nnz'),
      offsetsOffset: f64('offsets_offset'),
      offsetsLength: f64('offsets_length'),
      rowsOffset: f64('rows_offset'),
      rowsLength: f64('rows_length'),
      valuesOffset: f64('values_offset'),
      valuesLength: f64('values_length'),
      groupFirstBatch: Int32Array.from(groupFirstBatch),
    };
    this.checkSpans(companion.file, companion.indexFile, [index.offsetsOffset, index.offsetsLength, index.rowsOffset, index.rowsLength, index.valuesOffset, index.valuesLength]);
    this.columnIndexes.set(companion.indexFile, index);
    return index;
  }

  private readCompanionColumns(fragment: XFragment, slot: Int32Array, out: ColumnAccumulator): void {
    const companion = fragment.columns!;
    const index = this.columnIndex(fragment);
    const genes: number[] = [];
    // Genes added after this fragment was written read 0 here: the fragment has no column for them.
    const nGenes = Math.min(slot.length, fragment.nCols);
    for (let v = 0; v < nGenes; v++) if (slot[v] >= 0) genes.push(v);
    const valueWidth = bytesPerElement(fragment.storedDtype);
    const nBatches = index.geneStart.length;
    for (let q = 0; q < index.groupFirstBatch.length; q++) {
      const firstBatch = index.groupFirstBatch[q];
      const groupEnd = q + 1 < index.groupFirstBatch.length ? index.groupFirstBatch[q + 1] : nBatches;
      let i = 0;
      while (i < genes.length) {
        const b = firstBatch + Math.floor(genes[i] / companion.genesPerBatch);
        if (b >= groupEnd) break;
        const geneStart = index.geneStart[b];
        let j = i;
        while (j < genes.length && genes[j] < geneStart + index.geneCount[b]) j++;
        if (j === i) {
          // A gene outside every batch of this group cannot be in it: move on rather than loop.
          i++;
          continue;
        }
        const batchNnz = index.nnz[b];
        if (batchNnz > 0) {
          const readStart = index.offsetsOffset[b];
          const bytes = this.readAt(companion.file, readStart, index.valuesOffset[b] + index.valuesLength[b] - readStart);
          const offsetBytes = this.decodeBuffer(fragment, bytes, 0, index.offsetsLength[b], (index.geneCount[b] + 1) * 4, this.offsetScratch);
          const offsets = viewTyped('int32', offsetBytes, index.geneCount[b] + 1) as Int32Array;
          const rowBytes = this.decodeBuffer(fragment, bytes, index.rowsOffset[b] - readStart, index.rowsLength[b], batchNnz * 2, this.indexScratch);
          const valueBytes = this.decodeBuffer(fragment, bytes, index.valuesOffset[b] - readStart, index.valuesLength[b], batchNnz * valueWidth, this.valueScratch);
          const rows = viewTyped('uint16', rowBytes, batchNnz) as Uint16Array;
          const values = viewTyped(fragment.storedDtype, valueBytes, batchNnz);
          for (let k = i; k < j; k++) {
            const local = genes[k] - geneStart;
            const start = offsets[local];
            const count = offsets[local + 1] - start;
            const target = slot[genes[k]];
            const rowsOut = out.rows[target];
            rowsOut.reserve(count);
            undeltaUint16(rows, start, count, rowsOut.values, rowsOut.length);
            addToRange(rowsOut.values, rowsOut.length, count, index.groupRowStart[b]);
            rowsOut.length += count;
            out.values[target].appendRange(values, start, count);
          }
        }
        i = j;
      }
    }
  }

  /** Column read without a companion: every chunk's indices are decompressed and scanned. */
  private scanColumns(fragment: XFragment, slot: Int32Array, out: ColumnAccumulator): void {
    const index = this.chunkIndex(fragment);
    const R = fragment.chunkRows;
    const indexWidth = bytesPerElement(fragment.indexDtype);
    const valueWidth = bytesPerElement(fragment.storedDtype);
    const hitColumn = new GrowableInt32();
    const hitPosition = new GrowableInt32();
    const hitRow = new GrowableInt32();
    let chunk = 0;
    while (chunk < fragment.nChunks) {
      const readStart = index.indexOffset[chunk];
      let last = chunk;
      while (last + 1 < fragment.nChunks && index.valueOffset[last + 1] + index.valueLength[last + 1] - readStart <= MAX_READ_BYTES) last++;
      const bytes = this.readAt(fragment.file, readStart, index.valueOffset[last] + index.valueLength[last] - readStart);
      for (; chunk <= last; chunk++) {
        const firstRow = chunk * R;
        const nRows = index.chunkRows[chunk];
        const base = index.rowPrefix[firstRow];
        const chunkNnz = index.rowPrefix[firstRow + nRows] - base;
        if (chunkNnz === 0) continue;
        const idxBytes = this.decodeBuffer(fragment, bytes, index.indexOffset[chunk] - readStart, index.indexLength[chunk], chunkNnz * indexWidth, this.indexScratch);
        const storedIndices = viewTyped(fragment.indexDtype, idxBytes, chunkNnz) as Uint16Array | Uint32Array;
        hitColumn.length = 0;
        hitPosition.length = 0;
        hitRow.length = 0;
        let k = 0;
        for (let r = 0; r < nRows; r++) {
          const end = index.rowPrefix[firstRow + r + 1] - base;
          let column = 0;
          for (; k < end; k++) {
            column += storedIndices[k];
            const j = slot[column];
            if (j >= 0) {
              hitColumn.push(j);
              hitPosition.push(k);
              hitRow.push(fragment.rowStart + firstRow + r);
            }
          }
        }
        if (hitColumn.length === 0) continue;
        const valBytes = this.decodeBuffer(fragment, bytes, index.valueOffset[chunk] - readStart, index.valueLength[chunk], chunkNnz * valueWidth, this.valueScratch);
        const storedValues = viewTyped(fragment.storedDtype, valBytes, chunkNnz);
        for (let h = 0; h < hitColumn.length; h++) {
          const j = hitColumn.values[h];
          out.rows[j].push(hitRow.values[h]);
          out.values[j].pushFrom(storedValues, hitPosition.values[h]);
        }
      }
    }
  }
}

interface ColumnAccumulator {
  rows: GrowableInt32[];
  values: GrowableTyped[];
}

interface ColumnIndex {
  groupRowStart: Float64Array;
  geneStart: Int32Array;
  geneCount: Int32Array;
  nnz: Float64Array;
  offsetsOffset: Float64Array;
  offsetsLength: Float64Array;
  rowsOffset: Float64Array;
  rowsLength: Float64Array;
  valuesOffset: Float64Array;
  valuesLength: Float64Array;
  /** First batch of each row group. */
  groupFirstBatch: Int32Array;
}

function addToRange(values: Int32Array, from: number, count: number, amount: number): void {
  for (let i = from; i < from + count; i++) values[i] += amount;
}

class GrowableInt32 {
  values = new Int32Array(256);
  length = 0;
  reserve(extra: number): void {
    if (this.length + extra <= this.values.length) return;
    const bigger = new Int32Array(Math.max(this.length + extra, this.values.length * 2));
    bigger.set(this.values);
    this.values = bigger;
  }
  push(value: number): void {
    this.reserve(1);
    this.values[this.length++] = value;
  }
}

class GrowableTyped {
  private values: NumericArray;
  private length = 0;
  constructor(private readonly dtype: NumericDtype) {
    this.values = allocateTyped(dtype, 256);
  }
  private reserve(extra: number): void {
    if (this.length + extra <= this.values.length) return;
    const bigger = allocateTyped(this.dtype, Math.max(this.length + extra, this.values.length * 2));
    (bigger as Float64Array).set(this.values as Float64Array);
    this.values = bigger;
  }
  pushFrom(source: NumericArray, at: number): void {
    this.appendRange(source, at, 1);
  }
  appendRange(source: NumericArray, from: number, count: number): void {
    this.reserve(count);
    copyConverted(source, from, this.values, this.length, count);
    this.length += count;
  }
  view(): NumericArray {
    return this.values.subarray(0, this.length);
  }
}

function prefixSumInto(counts: Uint32Array, prefix: Float64Array, at: number): number {
  let sum = prefix[at];
  for (let i = 0; i < counts.length; i++) {
    sum += counts[i];
    prefix[at + i + 1] = sum;
  }
  return at + counts.length;
}

// One function per index width keeps each loop monomorphic (fast typed-array access).
function undeltaUint16(source: Uint16Array, from: number, count: number, target: Int32Array, to: number): void {
  let column = 0;
  for (let k = 0; k < count; k++) {
    column += source[from + k];
    target[to + k] = column;
  }
}

function undeltaUint32(source: Uint32Array, from: number, count: number, target: Int32Array, to: number): void {
  let column = 0;
  for (let k = 0; k < count; k++) {
    column += source[from + k];
    target[to + k] = column;
  }
}

/** Copies `count` stored values into the output dtype (exact: the stored type is narrower). */
function copyConverted(source: NumericArray, from: number, target: NumericArray, to: number, count: number): void {
  const sourceBig = source instanceof BigInt64Array || source instanceof BigUint64Array;
  const targetBig = target instanceof BigInt64Array || target instanceof BigUint64Array;
  if (sourceBig === targetBig) {
    // TypedArray.set converts element types natively.
    (target as Float64Array).set((source as Float64Array).subarray(from, from + count), to);
  } else if (targetBig) {
    for (let k = 0; k < count; k++) (target as BigInt64Array)[to + k] = BigInt((source as Float64Array)[from + k]);
  } else {
    for (let k = 0; k < count; k++) (target as Float64Array)[to + k] = Number((source as BigInt64Array)[from + k]);
  }
}
