// Writes one X layer as row-chunked CSR fragments. Each fragment is an Arrow IPC file whose
// record batches hold `chunkRows` consecutive cells:
//   soma_dim_0: int64            the cell's obs joinid
//   soma_dim_1: list<uint8>      column (var joinid) indices, delta-coded within the row, each
//                                delta as an unsigned LEB128 varint (one byte below 128)
//   soma_data:  list<T>          values; integer-valued data in the narrowest exact integer type
// A companion index file records each chunk's buffer positions and per-row nnz, so reads
// decompress only the chunks that hold the requested rows. With `columnCompanion`, each
// fragment also gets a transposed copy for gene reads (xColumnWriter.ts).
import { Field, Float64, Int32, Int64, List, Schema, Uint32, Uint8, makeData } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { CsrBlock, NumericArray, NumericDtype } from '../../columns/column-model';
import type { StoreCodec } from '../io/codecs';
import { recordBatchOf, type DataFileSink, type DataFiles } from '../io/data-files';
import { allocateTyped, arrowTypeOf, dtypeOfArray, holdsAll, isBigIntDtype, narrowestExactDtype, promoteDtypes } from '../format/dtypes';
import { StoreIpcFileWriter } from '../io/ipc-file-writer';
import type { XFragment } from '../format/manifest';
import { XColumnWriter } from './x-column-writer';
import { encodeVarints } from './varints';

export interface XWriteOptions {
  codec: StoreCodec;
  level?: number;
  /** Cells per chunk (record batch). */
  chunkRows: number;
  /** A fragment file is closed after this many rows. */
  maxFragmentRows: number;
  /** Also write the transposed companion used by gene (column) reads. */
  columnCompanion: boolean;
}

/** Buffer positions in a chunk's record batch (validity, offsets and values of each column). */
const INDEX_VALUES_BUFFER = 5;
const DATA_VALUES_BUFFER = 9;

interface OpenFragment {
  name: string;
  sink: DataFileSink;
  writer: StoreIpcFileWriter;
  schema: Schema;
  dtype: NumericDtype;
  storedDtype: NumericDtype;
  indexDtype: 'uint16' | 'uint32';
  rowStart: number;
  nRows: number;
  nnz: number;
  nCols: number;
  chunkRows: number[];
  spans: number[];
  rowNnz: GrowableUint32;
  columns: XColumnWriter | null;
  // Per-chunk buffers, reused: a batch's buffers are written out before write() returns.
  offsets: Int32Array;
  joinids: BigInt64Array;
  indices: Uint16Array | Uint32Array;
  values: NumericArray;
  /** The chunk's deltas as varint bytes, and where each row's bytes start. */
  varints: Uint8Array;
  varintOffsets: Int32Array;
}

class GrowableUint32 {
  values = new Uint32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Uint32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }
}

/** Rows gathered until a chunk is full (blocks need not align with chunks). */
class PendingChunk {
  rowNnz: number[] = [];
  indices: number[] = [];
  data: (number | bigint)[] = [];
  rowStart = 0;
  get nRows(): number {
    return this.rowNnz.length;
  }
  clear(): void {
    this.rowNnz = [];
    this.indices = [];
    this.data = [];
  }
}

/** Rows [r0, r1) of CSR arrays (indptr indexes into `indices`/`data`). */
interface RowSource {
  indptr: ArrayLike<number>;
  indices: ArrayLike<number>;
  data: NumericArray;
  r0: number;
  r1: number;
  rowStart: number;
}

function indexDtypeFor(nCols: number): 'uint16' | 'uint32' {
  return nCols <= 65_536 ? 'uint16' : 'uint32';
}

export class XLayerWriter {
  readonly fragments: XFragment[] = [];
  private current: OpenFragment | null = null;
  private readonly pending = new PendingChunk();
  private pendingDtype: NumericDtype | null = null;
  private pendingCols = 0;
  /** True while the current block may hold values wider than the open file's type. */
  private checkEachChunk = true;
  /** The narrowest type that holds every value of the current block. */
  private blockDtype: NumericDtype = 'uint8';
  private absoluteColumns = new Uint32Array(1 << 14);

  constructor(
    /** e.g. "ms/RNA/X/data": names the layer in messages. */
    private readonly label: string,
    private readonly files: DataFiles,
    private readonly options: XWriteOptions,
  ) {}

  private get nextRow(): number | null {
    if (this.pending.nRows > 0) return this.pending.rowStart + this.pending.nRows;
    return this.current ? this.current.rowStart + this.current.nRows : null;
  }

  /** `valuesDtype`: narrowestExactDtype of the block's values, when the caller already knows it. */
  append(block: CsrBlock, valuesDtype?: NumericDtype): void {
    if (block.nRows === 0) return;
    const dtype = dtypeOfArray(block.data);
    const first = Number(block.indptr[0]);
    const last = Number(block.indptr[block.nRows]);
    if (block.indices.length < last || block.data.length < last || last < first) {
      throw new CellarError('shape_mismatch', `${this.label}: a row block's indptr points past its indices or values.`);
    }
    const continues = this.nextRow === block.rowStart && this.pendingDtype === dtype;
    const needsWiderIndices = this.current?.indexDtype === 'uint16' && indexDtypeFor(block.nCols) === 'uint32';
    if (!continues || needsWiderIndices) this.closeFragment();
    this.pendingDtype = dtype;
    this.pendingCols = Math.max(this.pendingCols, block.nCols);
    // One scan per block decides whether chunks need their own check.
    const blockDtype = valuesDtype ?? narrowestExactDtype(block.data, first, last);
    this.blockDtype = blockDtype;
    this.checkEachChunk = !this.current || !holdsAll(this.current.storedDtype, blockDtype);
    const R = this.options.chunkRows;
    const indptr = block.indptr;
    let r = 0;
    while (r < block.nRows) {
      if (this.current && this.pending.nRows === 0 && this.current.nRows >= this.options.maxFragmentRows) this.closeFragment();
      if (!this.current) {
        this.startFragment(block.rowStart + r, dtype, blockDtype, indexDtypeFor(block.nCols), block.nCols);
        this.checkEachChunk = false;
      }
      this.current!.nCols = Math.max(this.current!.nCols, block.nCols);
      const take = Math.min(R - this.pending.nRows, block.nRows - r);
      if (this.pending.nRows === 0 && take === R) {
        this.writeChunk({ indptr, indices: block.indices, data: block.data, r0: r, r1: r + R, rowStart: block.rowStart + r }, this.checkEachChunk);
      } else {
        if (this.pending.nRows === 0) this.pending.rowStart = block.rowStart + r;
        for (let row = r; row < r + take; row++) {
          const start = Number(indptr[row]);
          const end = Number(indptr[row + 1]);
          this.pending.rowNnz.push(end - start);
          for (let k = start; k < end; k++) {
            this.pending.indices.push(block.indices[k]);
            this.pending.data.push(block.data[k]);
          }
        }
        if (this.pending.nRows === R) this.flushPending();
      }
      r += take;
    }
  }

  private flushPending(): void {
    const pending = this.pending;
    if (pending.nRows === 0) return;
    const dtype = this.pendingDtype!;
    const indptr = new Float64Array(pending.nRows + 1);
    for (let i = 0; i < pending.nRows; i++) indptr[i + 1] = indptr[i] + pending.rowNnz[i];
    const data = allocateTyped(dtype, pending.data.length);
    if (isBigIntDtype(dtype)) (data as BigInt64Array).set(pending.data as bigint[]);
    else (data as Float64Array).set(pending.data as number[]);
    const rowStart = pending.rowStart;
    const indices = Int32Array.from(pending.indices);
    pending.clear();
    // Pending rows may mix blocks, so their values are always checked.
    this.writeChunk({ indptr, indices, data, r0: 0, r1: indptr.length - 1, rowStart }, true);
  }

  private startFragment(rowStart: number, dtype: NumericDtype, storedDtype: NumericDtype, indexDtype: 'uint16' | 'uint32', nCols: number): void {
    const { name, sink } = this.files.open('x');
    const metadata = new Map([
      ['cellar.encoding', 'csr-row-chunks'],
      ['cellar.index_encoding', 'varint-delta'],
      ['cellar.dtype', dtype],
    ]);
    const schema = new Schema(
      [
        new Field('soma_dim_0', new Int64(), false),
        new Field('soma_dim_1', new List(new Field('item', new Uint8(), false)), false),
        new Field('soma_data', new List(new Field('item', arrowTypeOf(storedDtype), false)), false),
      ],
      metadata,
    );
    this.current = {
      name,
      sink,
      writer: new StoreIpcFileWriter((bytes) => sink.write(bytes), this.options.codec, this.options.level),
      schema,
      dtype,
      storedDtype,
      indexDtype,
      rowStart,
      nRows: 0,
      nnz: 0,
      nCols,
      chunkRows: [],
      spans: [],
      rowNnz: new GrowableUint32(),
      columns: this.options.columnCompanion ? new XColumnWriter(this.files, this.options.codec, this.options.level, storedDtype, rowStart) : null,
      offsets: new Int32Array(this.options.chunkRows + 1),
      joinids: new BigInt64Array(this.options.chunkRows),
      indices: allocateTyped(indexDtype, 1 << 14) as Uint16Array | Uint32Array,
      values: allocateTyped(storedDtype, 1 << 14),
      varints: new Uint8Array(3 << 14),
      varintOffsets: new Int32Array(this.options.chunkRows + 1),
    };
  }

  private writeChunk(source: RowSource, checkValues: boolean): void {
    const { indptr, indices, data, r0, r1 } = source;
    const nRows = r1 - r0;
    const base = Number(indptr[r0]);
    const nnz = Number(indptr[r1]) - base;
    let fragment = this.current!;
    if (checkValues) {
      const needed = narrowestExactDtype(data, base, base + nnz);
      if (!holdsAll(fragment.storedDtype, needed)) {
        // Wider values than this file's type: continue in a new file with the promoted type.
        const { dtype, indexDtype, nCols } = fragment;
        const stored = promoteDtypes(fragment.storedDtype, needed);
        this.closeFragment();
        this.startFragment(source.rowStart, dtype, holdsAll(dtype, stored) ? stored : dtype, indexDtype, nCols);
        fragment = this.current!;
        // The rest of the block needs no scan once the new file's type holds all of it.
        if (holdsAll(fragment.storedDtype, this.blockDtype)) this.checkEachChunk = false;
      }
    }
    if (fragment.indices.length < nnz) {
      const size = Math.max(nnz, fragment.indices.length * 2);
      fragment.indices = allocateTyped(fragment.indexDtype, size) as Uint16Array | Uint32Array;
      fragment.values = allocateTyped(fragment.storedDtype, size);
    }
    const offsets = fragment.offsets.subarray(0, nRows + 1);
    const storedIndices = fragment.indices.subarray(0, nnz);
    const storedValues = fragment.values.subarray(0, nnz);
    if (this.absoluteColumns.length < nnz) this.absoluteColumns = new Uint32Array(Math.max(nnz, this.absoluteColumns.length * 2));
    const absolute = this.absoluteColumns;
    const limit = Math.max(fragment.nCols, this.pendingCols);
    for (let row = 0; row < nRows; row++) {
      const start = Number(indptr[r0 + row]) - base;
      const end = Number(indptr[r0 + row + 1]) - base;
      offsets[row + 1] = end;
      fragment.rowNnz.push(end - start);
      const sorted = deltaEncodeRow(indices, base + start, end - start, storedIndices, absolute, start);
      if (sorted === -1) {
        this.encodeUnsortedRow(indices, data, base + start, start, end - start, storedIndices, storedValues, absolute, limit, source.rowStart + row);
      } else if (end > start && sorted >= limit) {
        // (An empty row reports column 0, which a store without genes does not have.)
        this.failColumn(sorted, limit);
      }
    }
    copyValues(data, base, storedValues, 0, nnz, this.unsortedRows);
    this.unsortedRows = null;
    const joinids = fragment.joinids.subarray(0, nRows);
    for (let i = 0; i < nRows; i++) joinids[i] = BigInt(source.rowStart + i);
    // At most 3 bytes a uint16 delta, 5 a uint32 one.
    const most = nnz * (fragment.indexDtype === 'uint16' ? 3 : 5);
    if (fragment.varints.length < most) fragment.varints = new Uint8Array(Math.max(most, fragment.varints.length * 2));
    const varintOffsets = fragment.varintOffsets.subarray(0, nRows + 1);
    const varintBytes = encodeVarints(storedIndices, offsets, nRows, fragment.varints, varintOffsets);
    fragment.writer.writeIdListsBatch(fragment.schema, joinids, offsets, nnz, fragment.varints.subarray(0, varintBytes), storedValues, undefined, { offsets: varintOffsets, entries: varintBytes });
    const spans = fragment.writer.lastBuffers;
    fragment.spans.push(spans[2 * INDEX_VALUES_BUFFER]!, spans[2 * INDEX_VALUES_BUFFER + 1]!, spans[2 * DATA_VALUES_BUFFER]!, spans[2 * DATA_VALUES_BUFFER + 1]!);
    fragment.chunkRows.push(nRows);
    fragment.nRows += nRows;
    fragment.nnz += nnz;
    fragment.columns?.addRows(nRows, offsets, absolute, storedValues, limit);
  }

  /** Rows whose entries had to be sorted: their values are placed by `encodeUnsortedRow`. */
  private unsortedRows: { start: number; count: number }[] | null = null;

  private encodeUnsortedRow(
    indices: ArrayLike<number>,
    data: NumericArray,
    from: number,
    at: number,
    count: number,
    out: Uint16Array | Uint32Array,
    values: NumericArray,
    absolute: Uint32Array,
    limit: number,
    joinid: number,
  ): void {
    const order = Array.from({ length: count }, (_, i) => from + i);
    order.sort((a, b) => indices[a] - indices[b]);
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const column = indices[order[i]];
      if (column < 0) throw new CellarError('bad_element', `${this.label}: row ${joinid} has a negative column index.`);
      if (column >= limit) this.failColumn(column, limit);
      out[at + i] = column - previous;
      absolute[at + i] = column;
      previous = column;
      copyValues(data, order[i], values, at + i, 1, null);
    }
    (this.unsortedRows ??= []).push({ start: at, count });
  }

  private failColumn(column: number, limit: number): never {
    throw new CellarError('shape_mismatch', `${this.label}: column index ${column} is past the ${limit} vars of the block.`);
  }

  private closeFragment(): void {
    this.flushPending();
    this.pendingCols = 0;
    const fragment = this.current;
    this.current = null;
    if (!fragment) return;
    try {
      fragment.writer.finish();
    } catch (err) {
      fragment.sink.abandon();
      fragment.columns?.abandon();
      throw err;
    }
    this.files.finish(fragment.name, fragment.sink);
    const columns = fragment.columns?.finish(fragment.nCols);
    const indexFile = this.writeIndexFile(fragment);
    this.fragments.push({
      file: fragment.name,
      indexFile,
      rowStart: fragment.rowStart,
      nRows: fragment.nRows,
      nnz: fragment.nnz,
      nCols: fragment.nCols,
      chunkRows: this.options.chunkRows,
      nChunks: fragment.chunkRows.length,
      codec: this.options.codec,
      dtype: fragment.dtype,
      storedDtype: fragment.storedDtype,
      indexDtype: fragment.indexDtype,
      indexEncoding: 'varint-delta',
      ...(columns ? { columns } : {}),
    });
  }

  /** The chunk index: uncompressed, positions as float64 (exact below 2^53) so readers use it in place. */
  private writeIndexFile(fragment: OpenFragment): string {
    const n = fragment.chunkRows.length;
    const rowStart = new Float64Array(n);
    const rows = Int32Array.from(fragment.chunkRows);
    const spans = Float64Array.from(fragment.spans);
    const column = (k: number) => spans.filter((_, i) => i % 4 === k);
    const listOffsets = new Int32Array(n + 1);
    let row = fragment.rowStart;
    for (let c = 0; c < n; c++) {
      rowStart[c] = row;
      row += rows[c];
      listOffsets[c + 1] = listOffsets[c] + rows[c];
    }
    const rowNnzType = new List(new Field('item', new Uint32(), false));
    const schema = new Schema(
      [
        new Field('row_start', new Float64(), false),
        new Field('n_rows', new Int32(), false),
        new Field('indices_offset', new Float64(), false),
        new Field('indices_length', new Float64(), false),
        new Field('values_offset', new Float64(), false),
        new Field('values_length', new Float64(), false),
        new Field('row_nnz', rowNnzType, false),
      ],
      new Map([['cellar.x_fragment', fragment.name]]),
    );
    const float64 = (values: Float64Array) => makeData({ type: new Float64(), length: n, data: values });
    const children = [
      float64(rowStart),
      makeData({ type: new Int32(), length: n, data: rows }),
      float64(column(0)),
      float64(column(1)),
      float64(column(2)),
      float64(column(3)),
      makeData({
        type: rowNnzType,
        length: n,
        valueOffsets: listOffsets,
        child: makeData({ type: new Uint32(), length: fragment.rowNnz.length, data: fragment.rowNnz.values.subarray(0, fragment.rowNnz.length) }),
      }),
    ];
    return this.files.writeArrowFile('xidx', 'none', undefined, [recordBatchOf(schema, children, n)]).name;
  }

  finish(): XFragment[] {
    this.closeFragment();
    return this.fragments;
  }

  /** Closes open files after a failure elsewhere (the caller removes them). */
  abandon(): void {
    this.current?.sink.abandon();
    this.current?.columns?.abandon();
    this.current = null;
  }
}

/**
 * Delta-codes one row's column indices into `out[at..]` (and the absolute ones into `absolute`).
 * Returns -1 if the row is not sorted ascending, otherwise its largest column.
 */
function deltaEncodeRow(
  indices: ArrayLike<number>,
  from: number,
  count: number,
  out: Uint16Array | Uint32Array,
  absolute: Uint32Array,
  at: number,
): number {
  let previous = 0;
  for (let k = 0; k < count; k++) {
    const column = indices[from + k];
    if (column < previous) return -1;
    out[at + k] = column - previous;
    absolute[at + k] = column;
    previous = column;
  }
  return previous;
}

/**
 * Copies `count` values from `source[from..]` to `target[to..]`, converting type. Rows listed in
 * `skip` were already placed in sorted order and are left alone.
 */
function copyValues(
  source: NumericArray,
  from: number,
  target: NumericArray,
  to: number,
  count: number,
  skip: { start: number; count: number }[] | null,
): void {
  if (skip) {
    let position = 0;
    for (const row of skip) {
      copyValues(source, from + position, target, to + position, row.start - position, null);
      position = row.start + row.count;
    }
    copyValues(source, from + position, target, to + position, count - position, null);
    return;
  }
  if (count <= 0) return;
  const sourceBig = source instanceof BigInt64Array || source instanceof BigUint64Array;
  const targetBig = target instanceof BigInt64Array || target instanceof BigUint64Array;
  if (sourceBig === targetBig) {
    // TypedArray.set converts element types natively.
    (target as Float64Array).set((source as Float64Array).subarray(from, from + count), to);
  } else if (targetBig) {
    for (let i = 0; i < count; i++) (target as BigInt64Array)[to + i] = BigInt((source as Float64Array)[from + i]);
  } else {
    for (let i = 0; i < count; i++) (target as Float64Array)[to + i] = Number((source as BigInt64Array)[from + i]);
  }
}
