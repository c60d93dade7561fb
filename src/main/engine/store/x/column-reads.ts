// Column reads of an X layer: the genes asked for over every cell, as CSC. A fragment written
// with a column companion (genes in batches per group of cells) decompresses only the batches
// holding those genes; one without is scanned chunk by chunk.
import type { Table } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { NumericArray, NumericDtype } from '../../columns/column-model';
import { allocateTyped, bytesPerElement, viewTyped } from '../format/dtypes';
import type { XColumnCompanion, XFragment } from '../format/manifest';
import { copyConverted, float64Column, MAX_READ_BYTES, undeltaUint16, type XLayerFiles } from './layer-files';
import { decodeVarintColumns } from './varints';

/** A CSC matrix: column j's entries are indices/data[indptr[j] .. indptr[j+1]). */
export interface CscMatrix {
  shape: [number, number];
  indptr: Int32Array | Float64Array;
  /** Row (obs joinid) of each entry, ascending within a column. */
  indices: Int32Array;
  data: NumericArray;
}

/**
 * Columns `varJoinids` over every obs row, as CSC (column j = varJoinids[j]). Fragments with a
 * column companion decompress only the batches of the requested genes; others are scanned.
 */
export function readColumns(files: XLayerFiles, varJoinids: ArrayLike<number>): CscMatrix {
  const g = varJoinids.length;
  let width = files.nVars;
  for (const fragment of files.layer.fragments) width = Math.max(width, fragment.nCols);
  const slot = new Int32Array(width).fill(-1);
  const duplicateOf = new Int32Array(g).fill(-1);
  for (let j = 0; j < g; j++) {
    const v = varJoinids[j];
    if (!(v >= 0 && v < files.nVars) || !Number.isInteger(v)) {
      throw new CellarError('bad_element', `${files.label}: var joinid ${v} is outside 0..${files.nVars - 1}.`);
    }
    if (slot[v] >= 0) duplicateOf[j] = slot[v];
    else slot[v] = j;
  }
  const columns: ColumnAccumulator = {
    rows: Array.from({ length: g }, () => new GrowableInt32()),
    values: Array.from({ length: g }, () => new GrowableTyped(files.layer.dtype)),
  };
  for (const fragment of files.fragmentsByRow()) {
    if (fragment.columns) readCompanionColumns(files, fragment, slot, columns);
    else scanColumns(files, fragment, slot, columns);
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
  const data = allocateTyped(files.layer.dtype, total);
  for (let j = 0; j < g; j++) {
    indptr[j + 1] = indptr[j] + rows[j].length;
    indices.set(rows[j].values.subarray(0, rows[j].length), indptr[j]);
    (data as Float64Array).set(values[j].view() as Float64Array, indptr[j]);
  }
  return { shape: [files.nObs, g], indptr, indices, data };
}

function columnIndex(files: XLayerFiles, fragment: XFragment): ColumnIndex {
  const companion = fragment.columns!;
  return files.index('columns', companion.indexFile, (table) => buildColumnIndex(files, companion, table));
}

function buildColumnIndex(files: XLayerFiles, companion: XColumnCompanion, table: Table): ColumnIndex {
  const n = table.numRows;
  if (n !== companion.nBatches) throw new CellarError('bad_element', `${files.label}: column index ${companion.indexFile} does not match its fragment.`);
  const f64 = (name: string) => float64Column(table, name, n, companion.indexFile, files.label);
  const varints = companion.indexEncoding === 'varint-delta';
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
    valueOffsetsOffset: varints ? f64('value_offsets_offset') : null,
    valueOffsetsLength: varints ? f64('value_offsets_length') : null,
    groupFirstBatch: Int32Array.from(groupFirstBatch),
  };
  files.checkSpans(companion.file, companion.indexFile, [index.offsetsOffset, index.offsetsLength, index.rowsOffset, index.rowsLength, index.valuesOffset, index.valuesLength, ...(varints ? [index.valueOffsetsOffset!, index.valueOffsetsLength!] : [])]);
  return index;
}

function readCompanionColumns(files: XLayerFiles, fragment: XFragment, slot: Int32Array, out: ColumnAccumulator): void {
  const companion = fragment.columns!;
  const index = columnIndex(files, fragment);
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
        const bytes = files.readAt(companion.file, readStart, index.valuesOffset[b] + index.valuesLength[b] - readStart);
        const offsetBytes = files.decodeBuffer(fragment, bytes, 0, index.offsetsLength[b], (index.geneCount[b] + 1) * 4, files.offsetScratch);
        const offsets = viewTyped('int32', offsetBytes, index.geneCount[b] + 1) as Int32Array;
        const valueBytes = files.decodeBuffer(fragment, bytes, index.valuesOffset[b] - readStart, index.valuesLength[b], batchNnz * valueWidth, files.valueScratch);
        const values = viewTyped(fragment.storedDtype, valueBytes, batchNnz);
        if (index.valueOffsetsOffset && index.valueOffsetsLength) {
          const entryBytes = files.decodeBuffer(fragment, bytes, index.valueOffsetsOffset[b] - readStart, index.valueOffsetsLength[b], (index.geneCount[b] + 1) * 4, files.listScratch);
          const entryOffsets = viewTyped('int32', entryBytes, index.geneCount[b] + 1) as Int32Array;
          readVarintGenes(files, fragment, bytes, index.rowsOffset[b] - readStart, index.rowsLength[b], batchNnz, offsets, entryOffsets, genes, i, j, geneStart, index.groupRowStart[b], values, slot, out);
          i = j;
          continue;
        }
        const rowBytes = files.decodeBuffer(fragment, bytes, index.rowsOffset[b] - readStart, index.rowsLength[b], batchNnz * 2, files.indexScratch);
        const rows = viewTyped('uint16', rowBytes, batchNnz) as Uint16Array;
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

/**
 * Genes genes[i..j) of one companion batch whose cell offsets are varints: `byteOffsets` (the
 * cell lists' offsets) says where each gene's varint bytes are, `entryOffsets` (the value
 * lists') where its values are and how many it has.
 */
function readVarintGenes(
  files: XLayerFiles,
  fragment: XFragment,
  bytes: Uint8Array,
  at: number,
  length: number,
  batchNnz: number,
  byteOffsets: Int32Array,
  entryOffsets: Int32Array,
  genes: number[],
  i: number,
  j: number,
  geneStart: number,
  groupRowStart: number,
  values: NumericArray,
  slot: Int32Array,
  out: ColumnAccumulator,
): void {
  const damaged = () => files.damagedIndices(fragment, fragment.columns!.file);
  const geneCount = byteOffsets.length - 1;
  const size = byteOffsets[geneCount];
  if (byteOffsets[0] !== 0 || size < 0 || size > batchNnz * 3 || entryOffsets[0] !== 0 || entryOffsets[geneCount] !== batchNnz) throw damaged();
  const varints = files.decodeBuffer(fragment, bytes, at, length, size, files.indexScratch);
  for (let k = i; k < j; k++) {
    const local = genes[k] - geneStart;
    const from = byteOffsets[local];
    const to = byteOffsets[local + 1];
    const entry = entryOffsets[local];
    const count = entryOffsets[local + 1] - entry;
    if (!(from >= 0 && to >= from && to <= size && count >= 0 && entry + count <= batchNnz)) throw damaged();
    const target = slot[genes[k]];
    const rowsOut = out.rows[target];
    rowsOut.reserve(count);
    if (decodeVarintColumns(varints, to, from, count, rowsOut.values, rowsOut.length) !== to) throw damaged();
    addToRange(rowsOut.values, rowsOut.length, count, groupRowStart);
    rowsOut.length += count;
    out.values[target].appendRange(values, entry, count);
  }
}

/** Column read without a companion: every chunk's indices are decompressed and scanned. */
function scanColumns(files: XLayerFiles, fragment: XFragment, slot: Int32Array, out: ColumnAccumulator): void {
  const index = files.chunkIndex(fragment);
  const R = fragment.chunkRows;
  const valueWidth = bytesPerElement(fragment.storedDtype);
  const hitColumn = new GrowableInt32();
  const hitPosition = new GrowableInt32();
  const hitRow = new GrowableInt32();
  let chunk = 0;
  while (chunk < fragment.nChunks) {
    const readStart = index.indexOffset[chunk];
    let last = chunk;
    while (last + 1 < fragment.nChunks && index.valueOffset[last + 1] + index.valueLength[last + 1] - readStart <= MAX_READ_BYTES) last++;
    const bytes = files.readAt(fragment.file, readStart, index.valueOffset[last] + index.valueLength[last] - readStart);
    for (; chunk <= last; chunk++) {
      const firstRow = chunk * R;
      const nRows = index.chunkRows[chunk];
      const base = index.rowPrefix[firstRow];
      const chunkNnz = index.rowPrefix[firstRow + nRows] - base;
      if (chunkNnz === 0) continue;
      const storedIndices = files.decodeIndexDeltas(fragment, bytes, index.indexOffset[chunk] - readStart, index.indexLength[chunk], chunkNnz);
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
      const valBytes = files.decodeBuffer(fragment, bytes, index.valueOffset[chunk] - readStart, index.valueLength[chunk], chunkNnz * valueWidth, files.valueScratch);
      const storedValues = viewTyped(fragment.storedDtype, valBytes, chunkNnz);
      for (let h = 0; h < hitColumn.length; h++) {
        const j = hitColumn.values[h];
        out.rows[j].push(hitRow.values[h]);
        out.values[j].pushFrom(storedValues, hitPosition.values[h]);
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
  /** Companions with varint cell offsets: where each batch's value list offsets (in entries) are. */
  valueOffsetsOffset: Float64Array | null;
  valueOffsetsLength: Float64Array | null;
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
