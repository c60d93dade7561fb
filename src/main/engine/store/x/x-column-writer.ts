// The column companion of an X fragment: the same entries transposed per row group, so a
// read of a few genes over all cells decompresses only those genes' batches. Each record
// batch holds `genesPerBatch` consecutive genes of one group of at most `groupRows` cells (fewer
// when the group reaches MAX_GROUP_ENTRIES entries):
//   soma_dim_1: int64            the gene's var joinid
//   soma_dim_0: list<uint8>      cell offsets within the group, delta-coded within the gene,
//                                each delta an unsigned LEB128 varint (varints.ts)
//   soma_data:  list<T>          values, in the fragment's stored dtype
// The group's first obs joinid is in the index file and in the batch's custom metadata.
import { Field, Float64, Int32, Int64, List, Schema, Uint8, makeData } from 'apache-arrow';
import type { NumericArray, NumericDtype } from '../../columns/column-model';
import type { StoreCodec } from '../io/codecs';
import { recordBatchOf, type DataFileSink, type DataFiles } from '../io/data-files';
import { allocateTyped, arrowTypeOf } from '../format/dtypes';
import { StoreIpcFileWriter } from '../io/ipc-file-writer';
import type { XColumnCompanion } from '../format/manifest';
import { encodeVarints } from './varints';

/** Cells per group (≤ 65,536 so cell offsets fit uint16). */
export const COLUMN_GROUP_ROWS = 4096;
/**
 * Genes per batch (a power of two, ≤ 256). A read of a few genes decompresses whole batches, so
 * its cost grows with this number; with the groups' 4,096 cells, a batch of 64 genes holds as
 * many entries (and compresses as well) as 256 genes of 1,024 cells did, at a quarter of the
 * decompression per gene read.
 */
export const GENES_PER_BATCH = 64;
/** A group also ends at this many entries (at least one row), so dense rows keep its memory bounded. */
export const MAX_GROUP_ENTRIES = 1 << 23;

const OFFSETS_BUFFER = 3;
const ROWS_BUFFER = 5;
/** soma_data's list offsets: in entries, where soma_dim_0's (OFFSETS_BUFFER) are in varint bytes. */
const VALUE_OFFSETS_BUFFER = 7;
const VALUES_BUFFER = 9;
const INDEXED_BUFFERS = [OFFSETS_BUFFER, ROWS_BUFFER, VALUES_BUFFER, VALUE_OFFSETS_BUFFER];

class Growable<T extends NumericArray> {
  length = 0;
  constructor(
    public values: T,
    private readonly make: (n: number) => T,
  ) {}
  reserve(extra: number): void {
    if (this.length + extra <= this.values.length) return;
    const bigger = this.make(Math.max(this.length + extra, this.values.length * 2));
    (bigger as unknown as Float64Array).set(this.values.subarray(0, this.length) as unknown as Float64Array);
    this.values = bigger;
  }
}

/**
 * The large buffers of a column writer, which grow to a group's size (tens of MB). A fragment
 * that ends hands them to the next one in the same thread: a layer cut into many fragments
 * (the calling thread helping an encoding thread) would otherwise touch fresh memory for each.
 */
interface ColumnScratch {
  columns: Uint32Array;
  values: NumericArray;
  counts: Int32Array;
  stageGene: Uint8Array;
  stageRow: Uint16Array;
  stageValues: NumericArray;
  rowsScratch: Uint16Array;
  valuesScratch: NumericArray;
}

/** Spare buffers of this thread's finished column writers, at most one set per stored type. */
const spareScratch = new Map<NumericDtype, ColumnScratch>();

/** Drops this thread's spare buffers (a store write that ends: its layers are done). */
export function releaseColumnScratch(): void {
  spareScratch.clear();
}

function takeScratch(storedDtype: NumericDtype): ColumnScratch {
  const spare = spareScratch.get(storedDtype);
  if (spare) {
    spareScratch.delete(storedDtype);
    return spare;
  }
  return {
    columns: new Uint32Array(1 << 16),
    values: allocateTyped(storedDtype, 1 << 16),
    counts: new Int32Array(1024),
    stageGene: new Uint8Array(1 << 16),
    stageRow: new Uint16Array(1 << 16),
    stageValues: allocateTyped(storedDtype, 1 << 16),
    rowsScratch: new Uint16Array(1 << 16),
    valuesScratch: allocateTyped(storedDtype, 1 << 16),
  };
}

export class XColumnWriter {
  private readonly name: string;
  private readonly sink: DataFileSink;
  private readonly writer: StoreIpcFileWriter;
  private readonly schema: Schema;
  private readonly groupRows: number;
  // The group being gathered: CSR with absolute column indices.
  private groupStart: number;
  private groupIndptr: Int32Array;
  private groupLength = 0;
  private readonly columns: Growable<Uint32Array>;
  private readonly values: Growable<NumericArray>;
  private counts: Int32Array;
  // Per batch: each gene's next slot and the last row it had (for the delta).
  private readonly cursor = new Int32Array(GENES_PER_BATCH);
  private readonly lastRow = new Int32Array(GENES_PER_BATCH);
  // The group's entries staged batch by batch (row order within a batch): gene within the batch, row, value.
  private stageGene: Uint8Array;
  private stageRow: Uint16Array;
  private stageValues: NumericArray;
  private batchCursor = new Int32Array(64);
  private rowsScratch: Uint16Array;
  private valuesScratch: NumericArray;
  // Index rows, one per batch.
  private readonly batchGroupStart: number[] = [];
  private readonly batchGroupRows: number[] = [];
  private readonly batchGeneStart: number[] = [];
  private readonly batchGeneCount: number[] = [];
  private readonly batchNnz: number[] = [];
  /** Per batch: offset and length of its list offsets, rows, values and value list offsets buffers. */
  private readonly spans: number[] = [];
  private nGroups = 0;
  // A batch's list offsets (entries, and bytes of the varints) and gene ids, reused.
  private readonly listOffsets = new Int32Array(GENES_PER_BATCH + 1);
  private readonly byteOffsets = new Int32Array(GENES_PER_BATCH + 1);
  private varints = new Uint8Array(1 << 16);
  private readonly genes = new BigInt64Array(GENES_PER_BATCH);

  constructor(
    private readonly files: DataFiles,
    private readonly codec: StoreCodec,
    private readonly level: number | undefined,
    private readonly storedDtype: NumericDtype,
    rowStart: number,
    groupRows = COLUMN_GROUP_ROWS,
  ) {
    this.groupRows = groupRows;
    this.groupStart = rowStart;
    this.groupIndptr = new Int32Array(groupRows + 1);
    const scratch = takeScratch(storedDtype);
    this.columns = new Growable(scratch.columns, (n) => new Uint32Array(n));
    this.values = new Growable(scratch.values, (n) => allocateTyped(storedDtype, n));
    this.counts = scratch.counts;
    this.stageGene = scratch.stageGene;
    this.stageRow = scratch.stageRow;
    this.stageValues = scratch.stageValues;
    this.rowsScratch = scratch.rowsScratch;
    this.valuesScratch = scratch.valuesScratch;
    const opened = files.open('xcol');
    this.name = opened.name;
    this.sink = opened.sink;
    this.writer = new StoreIpcFileWriter((bytes) => this.sink.write(bytes), codec, level);
    this.schema = new Schema(
      [
        new Field('soma_dim_1', new Int64(), false),
        new Field('soma_dim_0', new List(new Field('item', new Uint8(), false)), false),
        new Field('soma_data', new List(new Field('item', arrowTypeOf(storedDtype), false)), false),
      ],
      new Map([
        ['cellar.encoding', 'csc-row-groups'],
        ['cellar.index_encoding', 'varint-delta'],
      ]),
    );
  }

  /**
   * Adds consecutive rows: row i has entries [offsets[i], offsets[i+1]) of `columns`
   * (absolute var joinids, ascending) and `values` (already in the stored dtype).
   */
  addRows(nRows: number, offsets: Int32Array, columns: Uint32Array, values: NumericArray, nCols: number): void {
    let row = 0;
    while (row < nRows) {
      let take = Math.min(nRows - row, this.groupRows - this.groupLength);
      let full = this.groupLength + take === this.groupRows;
      const from = offsets[row];
      const room = MAX_GROUP_ENTRIES - this.columns.length;
      if (offsets[row + take] - from > room) {
        let fit = 0;
        while (fit < take && offsets[row + fit + 1] - from <= room) fit++;
        take = this.groupLength === 0 ? Math.max(fit, 1) : fit;
        full = true;
      }
      const to = offsets[row + take];
      this.columns.reserve(to - from);
      this.values.reserve(to - from);
      this.columns.values.set(columns.subarray(from, to), this.columns.length);
      (this.values.values as Float64Array).set((values as Float64Array).subarray(from, to), this.values.length);
      for (let i = 0; i < take; i++) {
        this.groupIndptr[this.groupLength + i + 1] = this.columns.length + offsets[row + i + 1] - from;
      }
      this.columns.length += to - from;
      this.values.length += to - from;
      this.groupLength += take;
      row += take;
      if (full) this.flushGroup(nCols);
    }
  }

  private flushGroup(nCols: number): void {
    const n = this.groupLength;
    if (n === 0) return;
    const nnz = this.columns.length;
    const columns = this.columns.values;
    const values = this.values.values;
    if (this.counts.length < nCols + 1) this.counts = new Int32Array(Math.max(nCols + 1, this.counts.length * 2));
    const starts = this.counts;
    starts.fill(0, 0, nCols + 1);
    countColumns(columns, nnz, starts);
    for (let c = 0; c < nCols; c++) starts[c + 1] += starts[c];
    // The entries are first gathered batch by batch in one sequential pass, so that sorting each
    // batch by gene works on a few hundred kilobytes instead of striding through the whole group.
    const nBatches = Math.ceil(nCols / GENES_PER_BATCH);
    if (this.batchCursor.length < nBatches) this.batchCursor = new Int32Array(nBatches);
    for (let b = 0; b < nBatches; b++) this.batchCursor[b] = starts[b * GENES_PER_BATCH];
    if (this.stageRow.length < nnz) {
      const size = Math.max(nnz, this.stageRow.length * 2);
      this.stageGene = new Uint8Array(size);
      this.stageRow = new Uint16Array(size);
      this.stageValues = allocateTyped(this.storedDtype, size);
    }
    stageByBatch(n, this.groupIndptr, columns, values, this.batchCursor, this.stageGene, this.stageRow, this.stageValues);
    const metadata = new Map([['cellar.group_row_start', String(this.groupStart)]]);
    const listOffsets = this.listOffsets;
    const genes = this.genes;
    for (let geneStart = 0; geneStart < nCols; geneStart += GENES_PER_BATCH) {
      const geneCount = Math.min(GENES_PER_BATCH, nCols - geneStart);
      const first = starts[geneStart];
      const last = starts[geneStart + geneCount];
      if (this.rowsScratch.length < last - first) {
        this.rowsScratch = new Uint16Array(Math.max(last - first, this.rowsScratch.length * 2));
        this.valuesScratch = allocateTyped(this.storedDtype, this.rowsScratch.length);
      }
      const rows = this.rowsScratch;
      const transposed = this.valuesScratch;
      const cursor = this.cursor;
      for (let g = 0; g < geneCount; g++) {
        listOffsets[g + 1] = starts[geneStart + g + 1] - first;
        cursor[g] = listOffsets[g];
        genes[g] = BigInt(geneStart + g);
      }
      transposeBatch(first, last, this.stageGene, this.stageRow, this.stageValues, cursor, this.lastRow, rows, transposed);
      const entries = last - first;
      // Cell offsets are below 2^16: at most 3 bytes a delta.
      if (this.varints.length < entries * 3) this.varints = new Uint8Array(Math.max(entries * 3, this.varints.length * 2));
      const byteOffsets = this.byteOffsets.subarray(0, geneCount + 1);
      const varintBytes = encodeVarints(rows, listOffsets, geneCount, this.varints, byteOffsets);
      this.writer.writeIdListsBatch(this.schema, genes.subarray(0, geneCount), listOffsets.subarray(0, geneCount + 1), entries, this.varints.subarray(0, varintBytes), transposed.subarray(0, entries), metadata, {
        offsets: byteOffsets,
        entries: varintBytes,
      });
      const spans = this.writer.lastBuffers;
      this.batchGroupStart.push(this.groupStart);
      this.batchGroupRows.push(n);
      this.batchGeneStart.push(geneStart);
      this.batchGeneCount.push(geneCount);
      this.batchNnz.push(last - first);
      for (const buffer of INDEXED_BUFFERS) this.spans.push(spans[2 * buffer]!, spans[2 * buffer + 1]!);
    }
    this.nGroups++;
    this.groupStart += n;
    this.groupLength = 0;
    this.columns.length = 0;
    this.values.length = 0;
  }

  finish(nCols: number): XColumnCompanion {
    this.flushGroup(nCols);
    try {
      this.writer.finish();
    } catch (err) {
      this.sink.abandon();
      throw err;
    }
    this.files.finish(this.name, this.sink);
    this.giveBackScratch();
    return {
      file: this.name,
      indexFile: this.writeIndexFile(),
      groupRows: this.groupRows,
      genesPerBatch: GENES_PER_BATCH,
      nBatches: this.batchGeneStart.length,
      indexEncoding: 'varint-delta',
    };
  }

  abandon(): void {
    this.sink.abandon();
  }

  /** Leaves this writer's grown buffers for the next column writer of this thread (this one is done with them). */
  private giveBackScratch(): void {
    spareScratch.set(this.storedDtype, {
      columns: this.columns.values,
      values: this.values.values,
      counts: this.counts,
      stageGene: this.stageGene,
      stageRow: this.stageRow,
      stageValues: this.stageValues,
      rowsScratch: this.rowsScratch,
      valuesScratch: this.valuesScratch,
    });
  }

  /** The batch index: uncompressed, positions as float64 so readers use it in place. */
  private writeIndexFile(): string {
    const n = this.batchGeneStart.length;
    const float64 = (values: number[]) => makeData({ type: new Float64(), length: n, data: Float64Array.from(values) });
    const int32 = (values: number[]) => makeData({ type: new Int32(), length: n, data: Int32Array.from(values) });
    const names = ['offsets_offset', 'offsets_length', 'rows_offset', 'rows_length', 'values_offset', 'values_length', 'value_offsets_offset', 'value_offsets_length'];
    const span = (k: number) => this.spans.filter((_, i) => i % names.length === k);
    const schema = new Schema(
      [
        new Field('group_row_start', new Float64(), false),
        new Field('group_rows', new Int32(), false),
        new Field('gene_start', new Int32(), false),
        new Field('gene_count', new Int32(), false),
        new Field('nnz', new Float64(), false),
        ...names.map((name) => new Field(name, new Float64(), false)),
      ],
      new Map([['cellar.x_columns', this.name]]),
    );
    const children = [
      float64(this.batchGroupStart),
      int32(this.batchGroupRows),
      int32(this.batchGeneStart),
      int32(this.batchGeneCount),
      float64(this.batchNnz),
      ...names.map((_, k) => float64(span(k))),
    ];
    return this.files.writeArrowFile('xcolidx', 'none', undefined, [recordBatchOf(schema, children, n)]).name;
  }
}

function countColumns(columns: Uint32Array, nnz: number, starts: Int32Array): void {
  for (let k = 0; k < nnz; k++) starts[columns[k] + 1]++;
}

const BATCH_SHIFT = Math.log2(GENES_PER_BATCH);

/**
 * Copies a row group's entries (CSR, absolute gene ids) into batch order: batch b's entries go
 * to batchCursor[b] onwards, in row order, as (gene within the batch, row within the group, value).
 */
function stageByBatch(
  nRows: number,
  indptr: Int32Array,
  columns: Uint32Array,
  values: NumericArray,
  batchCursor: Int32Array,
  stageGene: Uint8Array,
  stageRow: Uint16Array,
  stageValues: NumericArray,
): void {
  const source = values as Float64Array;
  const target = stageValues as Float64Array;
  const mask = GENES_PER_BATCH - 1;
  for (let r = 0; r < nRows; r++) {
    const end = indptr[r + 1]!;
    for (let k = indptr[r]!; k < end; k++) {
      const c = columns[k]!;
      const at = batchCursor[c >>> BATCH_SHIFT]!++;
      stageGene[at] = c & mask;
      stageRow[at] = r;
      target[at] = source[k]!;
    }
  }
}

/**
 * One batch's staged entries [first, last) sorted by gene: each gene's cell offsets (delta-coded
 * within the gene) and values, at `cursor[gene]` onwards.
 */
function transposeBatch(
  first: number,
  last: number,
  stageGene: Uint8Array,
  stageRow: Uint16Array,
  stageValues: NumericArray,
  cursor: Int32Array,
  lastRow: Int32Array,
  rows: Uint16Array,
  transposed: NumericArray,
): void {
  const source = stageValues as Float64Array;
  const target = transposed as Float64Array;
  lastRow.fill(0);
  for (let p = first; p < last; p++) {
    const g = stageGene[p]!;
    const r = stageRow[p]!;
    const at = cursor[g]!++;
    rows[at] = r - lastRow[g]!;
    lastRow[g] = r;
    target[at] = source[p]!;
  }
}
