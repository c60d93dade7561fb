// An X layer read as fixed blocks of consecutive rows, optionally restricted to some columns.
// The description (LayerBlockSpec) is plain data, so a worker thread can open the same layer
// and read the blocks it owns while another thread reads others: the blocks are the same
// wherever they are read.
import { CellarError } from '../../../../shared/errors';
import type { CsrBlock, NumericArray } from '../../columns/column-model';
import { allocateTyped, isBigIntDtype } from '../format/dtypes';
import type { LayerEntry } from '../format/manifest';
import { XLayerReader } from './x-reader';

export interface LayerBlockSpec {
  dir: string;
  /** e.g. "ms/RNA/X/data", for messages. */
  label: string;
  layer: LayerEntry;
  nObs: number;
  nVars: number;
  rowsPerBlock: number;
  /** Keep only these var joinids (ascending), renumbered 0..k-1; all columns when absent. */
  columns?: Uint32Array;
}

/** Column position of each var joinid in the kept set, −1 for a dropped one. */
function columnPositions(spec: LayerBlockSpec): Int32Array | null {
  const { columns } = spec;
  if (!columns) return null;
  const position = new Int32Array(spec.nVars).fill(-1);
  for (let i = 0; i < columns.length; i++) {
    const v = columns[i];
    if (!(v < spec.nVars) || (i > 0 && v <= columns[i - 1])) {
      throw new CellarError('usage', `${spec.label}: the columns to keep must be ascending var joinids below ${spec.nVars}.`);
    }
    position[v] = i;
  }
  return position;
}

export function layerBlockCount(spec: LayerBlockSpec): number {
  return Math.ceil(spec.nObs / spec.rowsPerBlock);
}

/** Columns of the blocks (the kept ones, or every var). */
export function layerBlockColumns(spec: LayerBlockSpec): number {
  return spec.columns ? spec.columns.length : spec.nVars;
}

export class LayerBlockReader {
  private readonly x: XLayerReader;
  private readonly position: Int32Array | null;
  private rowIds: Int32Array;
  private keptIndptr: Int32Array;
  private keptIndices = new Int32Array(0);
  private keptData: NumericArray;

  constructor(readonly spec: LayerBlockSpec) {
    if (!(Number.isInteger(spec.rowsPerBlock) && spec.rowsPerBlock > 0)) throw new CellarError('usage', `${spec.label}: rows per block must be a positive integer.`);
    this.x = new XLayerReader(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    this.position = columnPositions(spec);
    this.rowIds = new Int32Array(spec.rowsPerBlock);
    this.keptIndptr = new Int32Array(spec.rowsPerBlock + 1);
    this.keptData = allocateTyped(spec.layer.dtype, 0);
  }

  get blockCount(): number {
    return layerBlockCount(this.spec);
  }

  /**
   * Blocks in order (those `wanted` accepts), each valid until the next one is requested: the
   * memory is reused, because first touches of fresh memory are slow.
   */
  *blocks(wanted: (block: number) => boolean = () => true): Generator<CsrBlock & { indptr: Int32Array; indices: Int32Array }> {
    const { rowsPerBlock, nObs } = this.spec;
    const nCols = layerBlockColumns(this.spec);
    for (let b = 0; b < this.blockCount; b++) {
      if (!wanted(b)) continue;
      const rowStart = b * rowsPerBlock;
      const nRows = Math.min(rowsPerBlock, nObs - rowStart);
      if (this.position && !isBigIntDtype(this.spec.layer.dtype)) {
        yield { rowStart, nRows, nCols, ...this.readKeeping(rowStart, nRows) };
        continue;
      }
      const ids = this.rowIds.subarray(0, nRows);
      for (let i = 0; i < nRows; i++) ids[i] = rowStart + i;
      // One block per call: no entry limit, the rows come back together.
      for (const rows of this.x.rowBlocks(ids, { maxRows: nRows, maxEntries: Number.MAX_SAFE_INTEGER })) {
        if (!this.position) {
          yield { rowStart, nRows, nCols, indptr: rows.indptr, indices: rows.indices, data: rows.data };
        } else {
          yield { rowStart, nRows, nCols, ...this.keep(nRows, rows.indptr, rows.indices, rows.data) };
        }
      }
    }
  }

  close(): void {
    this.x.close();
  }

  /** The kept columns of rows [rowStart, rowStart + nRows), decoded in one pass (see decodeRangeKeeping). */
  private readKeeping(rowStart: number, nRows: number): { indptr: Int32Array; indices: Int32Array; data: NumericArray } {
    const room = this.x.storedEntries(rowStart, rowStart + nRows);
    if (this.keptIndices.length < room) {
      // Some slack: blocks differ a little in size, and each new buffer is fresh memory to touch.
      const size = Math.ceil(room * 1.25);
      this.keptIndices = new Int32Array(size);
      this.keptData = allocateTyped(this.spec.layer.dtype, size);
    }
    const indptr = this.keptIndptr.subarray(0, nRows + 1);
    const kept = this.x.decodeRangeKeeping(rowStart, rowStart + nRows, this.position!, indptr, this.keptIndices, this.keptData);
    return { indptr, indices: this.keptIndices.subarray(0, kept), data: this.keptData.subarray(0, kept) };
  }

  /**
   * Keeps the entries whose column is kept, renumbered. Branch-free (every entry is written, the
   * cursor moves only for kept ones): kept columns are scattered, so a branch would mispredict.
   */
  private keep(nRows: number, indptr: Int32Array, indices: Int32Array, data: NumericArray): { indptr: Int32Array; indices: Int32Array; data: NumericArray } {
    const size = indptr[nRows] - indptr[0];
    if (this.keptIndices.length < size) {
      this.keptIndices = new Int32Array(size);
      this.keptData = allocateTyped(this.spec.layer.dtype, size);
    }
    const position = this.position!;
    const outIndices = this.keptIndices;
    const outData = this.keptData as Float64Array;
    const source = data as Float64Array;
    const outIndptr = this.keptIndptr;
    outIndptr[0] = 0;
    let at = 0;
    for (let r = 0; r < nRows; r++) {
      const end = indptr[r + 1];
      for (let t = indptr[r]; t < end; t++) {
        const p = position[indices[t]];
        outIndices[at] = p;
        outData[at] = source[t];
        at += (p >>> 31) ^ 1;
      }
      outIndptr[r + 1] = at;
    }
    return { indptr: outIndptr.subarray(0, nRows + 1), indices: outIndices.subarray(0, at), data: this.keptData.subarray(0, at) };
  }
}
