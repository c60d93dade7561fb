// Writes one X layer as row-chunked CSR fragments. Each fragment is an Arrow IPC file whose
// record batches hold `chunkRows` consecutive cells:
//   soma_dim_0: int64            the cell's obs joinid
//   soma_dim_1: list<uint16|32>  column (var joinid) indices, delta-coded within the row
//   soma_data:  list<T>          values; integer-valued data in the narrowest exact integer type
// A companion index file records each chunk's buffer positions and per-row nnz, so reads
// decompress only the chunks that hold the requested rows.
import { Field, Int32, Int64, List, Schema, Uint32, makeData, type DataType } from 'apache-arrow';
import { CellarError } from '../../../shared/errors';
import type { CsrBlock, NumericArray, NumericDtype } from '../h5ad/types';
import type { StoreCodec } from './codecs';
import { recordBatchOf, type DataFileSet } from './dataFiles';
import { allocateTyped, arrowTypeOf, dtypeOfArray, holdsAll, isBigIntDtype, narrowestExactDtype, promoteDtypes } from './dtypes';
import { StoreIpcFileWriter } from './ipcFileWriter';
import type { XFragment } from './manifest';
import type { HashingFileSink } from './storeFs';

export interface XWriteOptions {
  codec: StoreCodec;
  level?: number;
  /** Cells per chunk (record batch). */
  chunkRows: number;
  /** A fragment file is closed after this many rows. */
  maxFragmentRows: number;
}

/** Buffer positions in a chunk's record batch (validity, offsets and values of each column). */
const INDEX_VALUES_BUFFER = 5;
const DATA_VALUES_BUFFER = 9;

export const X_INDEX_FILE_FIELDS = ['row_start', 'n_rows', 'indices_offset', 'indices_length', 'values_offset', 'values_length', 'row_nnz'];

interface OpenFragment {
  name: string;
  sink: HashingFileSink;
  writer: StoreIpcFileWriter;
  schema: Schema;
  dtype: NumericDtype;
  storedDtype: NumericDtype;
  indexDtype: 'uint16' | 'uint32';
  rowStart: number;
  nRows: number;
  nnz: number;
  nCols: number;
  chunkRowStart: number[];
  chunkRows: number[];
  spans: number[];
  rowNnz: GrowableUint32;
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

/** Rows [r0, r1) of CSR arrays (indptr relative to `indices`/`data`). */
interface RowSource {
  indptr: ArrayLike<number>;
  indices: ArrayLike<number>;
  data: NumericArray;
  dtype: NumericDtype;
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

  constructor(
    /** e.g. "ms/RNA/X/data": names the layer in messages. */
    private readonly label: string,
    private readonly files: DataFileSet,
    private readonly options: XWriteOptions,
  ) {}

  get nextRow(): number | null {
    if (this.pending.nRows > 0) return this.pending.rowStart + this.pending.nRows;
    return this.current ? this.current.rowStart + this.current.nRows : null;
  }

  append(block: CsrBlock): void {
    if (block.nRows === 0) return;
    const dtype = dtypeOfArray(block.data);
    const nnz = Number(block.indptr[block.nRows]) - Number(block.indptr[0]);
    if (block.indices.length < nnz || block.data.length < nnz) {
      throw new CellarError('shape_mismatch', `${this.label}: a row block has ${nnz} entries in indptr but fewer indices or values.`);
    }
    const continues = this.nextRow === block.rowStart && this.pendingDtype === dtype;
    const needsWiderIndices = this.current?.indexDtype === 'uint16' && indexDtypeFor(block.nCols) === 'uint32';
    if (!continues || needsWiderIndices) this.closeFragment();
    this.pendingDtype = dtype;
    const R = this.options.chunkRows;
    const indptr = block.indptr;
    let r = 0;
    while (r < block.nRows) {
      if (this.current && this.pending.nRows === 0 && this.current.nRows >= this.options.maxFragmentRows) this.closeFragment();
      if (!this.current) this.openFragment(block, r, dtype);
      const take = Math.min(R - this.pending.nRows, block.nRows - r);
      if (this.pending.nRows === 0 && take === R) {
        this.writeChunk({ indptr, indices: block.indices, data: block.data, dtype, r0: r, r1: r + R, rowStart: block.rowStart + r });
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
    if (this.current) this.current.nCols = Math.max(this.current.nCols, block.nCols);
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
    this.writeChunk({ indptr, indices, data, dtype, r0: 0, r1: indptr.length - 1, rowStart });
  }

  private openFragment(block: CsrBlock, fromRow: number, dtype: NumericDtype): void {
    // Look at the whole block, not one chunk, so one early chunk does not pick too narrow a type.
    const start = Number(block.indptr[fromRow]);
    const end = Number(block.indptr[block.nRows]);
    this.startFragment(block.rowStart + fromRow, dtype, narrowestExactDtype(block.data, start, end), indexDtypeFor(block.nCols), block.nCols);
  }

  private startFragment(rowStart: number, dtype: NumericDtype, storedDtype: NumericDtype, indexDtype: 'uint16' | 'uint32', nCols: number): void {
    const { name, sink } = this.files.open('x');
    const metadata = new Map([
      ['cellar.encoding', 'csr-row-chunks'],
      ['cellar.index_encoding', 'delta'],
      ['cellar.dtype', dtype],
    ]);
    const schema = new Schema(
      [
        new Field('soma_dim_0', new Int64(), false),
        new Field('soma_dim_1', new List(new Field('item', arrowTypeOf(indexDtype), false)), false),
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
      chunkRowStart: [],
      chunkRows: [],
      spans: [],
      rowNnz: new GrowableUint32(),
    };
  }

  private writeChunk(source: RowSource): void {
    const { indptr, indices, data, r0, r1 } = source;
    const nRows = r1 - r0;
    const base = Number(indptr[r0]);
    const nnz = Number(indptr[r1]) - base;
    const needed = narrowestExactDtype(data, base, base + nnz);
    let fragment = this.current!;
    if (!holdsAll(fragment.storedDtype, needed)) {
      // Wider values than this file's type: continue in a new file with the promoted type.
      const { dtype, indexDtype, nCols } = fragment;
      const stored = promoteDtypes(fragment.storedDtype, needed);
      this.closeFragment();
      this.startFragment(source.rowStart, dtype, holdsAll(dtype, stored) ? stored : dtype, indexDtype, nCols);
      fragment = this.current!;
    }
    const offsets = new Int32Array(nRows + 1);
    const storedIndices = allocateTyped(fragment.indexDtype, nnz) as Uint16Array | Uint32Array;
    const storedValues = allocateTyped(fragment.storedDtype, nnz);
    const limit = fragment.indexDtype === 'uint16' ? 65_536 : 4_294_967_296;
    for (let row = 0; row < nRows; row++) {
      const start = Number(indptr[r0 + row]) - base;
      const end = Number(indptr[r0 + row + 1]) - base;
      offsets[row + 1] = end;
      fragment.rowNnz.push(end - start);
      if (!this.encodeRow(indices, data, base, start, end, storedIndices, storedValues, limit)) {
        this.encodeUnsortedRow(indices, data, base, start, end, storedIndices, storedValues, limit, source.rowStart + row);
      }
    }
    const joinids = new BigInt64Array(nRows);
    for (let i = 0; i < nRows; i++) joinids[i] = BigInt(source.rowStart + i);
    const [, indexField, dataField] = fragment.schema.fields;
    const children = [
      makeData({ type: new Int64(), length: nRows, data: joinids }),
      makeData({
        type: indexField.type as List,
        length: nRows,
        valueOffsets: offsets,
        child: makeData({ type: arrowTypeOf(fragment.indexDtype), length: nnz, data: storedIndices } as never),
      }),
      makeData({
        type: dataField.type as List,
        length: nRows,
        valueOffsets: offsets,
        child: makeData({ type: arrowTypeOf(fragment.storedDtype) as DataType, length: nnz, data: storedValues } as never),
      }),
    ];
    fragment.writer.write(recordBatchOf(fragment.schema, children, nRows));
    const layout = fragment.writer.batchLayouts[fragment.writer.batchLayouts.length - 1];
    const indexSpan = layout.buffers[INDEX_VALUES_BUFFER];
    const valueSpan = layout.buffers[DATA_VALUES_BUFFER];
    fragment.chunkRowStart.push(source.rowStart);
    fragment.chunkRows.push(nRows);
    fragment.spans.push(indexSpan.offset, indexSpan.length, valueSpan.offset, valueSpan.length);
    fragment.nRows += nRows;
    fragment.nnz += nnz;
  }

  /** Delta-codes one row; returns false if its indices are not sorted (then nothing is trusted). */
  private encodeRow(
    indices: ArrayLike<number>,
    data: NumericArray,
    base: number,
    start: number,
    end: number,
    out: Uint16Array | Uint32Array,
    values: NumericArray,
    limit: number,
  ): boolean {
    let previous = 0;
    for (let k = start; k < end; k++) {
      const column = indices[base + k];
      if (column < previous) return false;
      if (column >= limit) this.failColumn(column);
      out[k] = column - previous;
      previous = column;
    }
    copyValues(data, base + start, values, start, end - start);
    return true;
  }

  private encodeUnsortedRow(
    indices: ArrayLike<number>,
    data: NumericArray,
    base: number,
    start: number,
    end: number,
    out: Uint16Array | Uint32Array,
    values: NumericArray,
    limit: number,
    joinid: number,
  ): void {
    const order = Array.from({ length: end - start }, (_, i) => base + start + i);
    order.sort((a, b) => indices[a] - indices[b]);
    let previous = 0;
    for (let i = 0; i < order.length; i++) {
      const column = indices[order[i]];
      if (column < 0) throw new CellarError('bad_element', `${this.label}: row ${joinid} has a negative column index.`);
      if (column >= limit) this.failColumn(column);
      out[start + i] = column - previous;
      previous = column;
      copyValues(data, order[i], values, start + i, 1);
    }
  }

  private failColumn(column: number): never {
    throw new CellarError('shape_mismatch', `${this.label}: column index ${column} is past the number of vars.`);
  }

  private closeFragment(): void {
    this.flushPending();
    const fragment = this.current;
    this.current = null;
    if (!fragment) return;
    try {
      fragment.writer.finish();
    } catch (err) {
      fragment.sink.abandon();
      throw err;
    }
    this.files.finish(fragment.name, fragment.sink);
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
      indexEncoding: 'delta',
    });
  }

  private writeIndexFile(fragment: OpenFragment): string {
    const n = fragment.chunkRows.length;
    const rowStart = new BigInt64Array(n);
    const rows = new Int32Array(n);
    const indexOffset = new BigInt64Array(n);
    const indexLength = new Int32Array(n);
    const valueOffset = new BigInt64Array(n);
    const valueLength = new Int32Array(n);
    const listOffsets = new Int32Array(n + 1);
    for (let c = 0; c < n; c++) {
      rowStart[c] = BigInt(fragment.chunkRowStart[c]);
      rows[c] = fragment.chunkRows[c];
      indexOffset[c] = BigInt(fragment.spans[4 * c]);
      indexLength[c] = fragment.spans[4 * c + 1];
      valueOffset[c] = BigInt(fragment.spans[4 * c + 2]);
      valueLength[c] = fragment.spans[4 * c + 3];
      listOffsets[c + 1] = listOffsets[c] + rows[c];
    }
    const rowNnzType = new List(new Field('item', new Uint32(), false));
    const schema = new Schema(
      [
        new Field('row_start', new Int64(), false),
        new Field('n_rows', new Int32(), false),
        new Field('indices_offset', new Int64(), false),
        new Field('indices_length', new Int32(), false),
        new Field('values_offset', new Int64(), false),
        new Field('values_length', new Int32(), false),
        new Field('row_nnz', rowNnzType, false),
      ],
      new Map([['cellar.x_fragment', fragment.name]]),
    );
    const children = [
      makeData({ type: new Int64(), length: n, data: rowStart }),
      makeData({ type: new Int32(), length: n, data: rows }),
      makeData({ type: new Int64(), length: n, data: indexOffset }),
      makeData({ type: new Int32(), length: n, data: indexLength }),
      makeData({ type: new Int64(), length: n, data: valueOffset }),
      makeData({ type: new Int32(), length: n, data: valueLength }),
      makeData({
        type: rowNnzType,
        length: n,
        valueOffsets: listOffsets,
        child: makeData({ type: new Uint32(), length: fragment.rowNnz.length, data: fragment.rowNnz.values.subarray(0, fragment.rowNnz.length) }),
      }),
    ];
    return this.files.writeArrowFile('xidx', this.options.codec === 'none' ? 'none' : 'zstd', undefined, [recordBatchOf(schema, children, n)]).name;
  }

  finish(): XFragment[] {
    this.closeFragment();
    return this.fragments;
  }

  /** Closes the open file after a failure elsewhere (the caller removes it). */
  abandon(): void {
    this.current?.sink.abandon();
    this.current = null;
  }
}

function copyValues(source: NumericArray, from: number, target: NumericArray, to: number, count: number): void {
  const sourceBig = source instanceof BigInt64Array || source instanceof BigUint64Array;
  const targetBig = target instanceof BigInt64Array || target instanceof BigUint64Array;
  if (sourceBig === targetBig) {
    if (dtypeOfArray(source) === dtypeOfArray(target) && count > 16) {
      (target as Float64Array).set((source as Float64Array).subarray(from, from + count), to);
      return;
    }
    for (let i = 0; i < count; i++) (target as Float64Array)[to + i] = (source as Float64Array)[from + i];
  } else if (targetBig) {
    for (let i = 0; i < count; i++) (target as BigInt64Array)[to + i] = BigInt((source as Float64Array)[from + i]);
  } else {
    for (let i = 0; i < count; i++) (target as Float64Array)[to + i] = Number((source as BigInt64Array)[from + i]);
  }
}
