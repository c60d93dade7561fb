// Reads an X layer from its row-chunked fragments by rows (row-reads.ts), by columns
// (column-reads.ts) or in blocks of rows (layer-blocks.ts). One reader keeps the layer's files
// open and its indexes loaded across reads.
import type { NumericArray, NumericDtype } from '../../columns/column-model';
import type { LayerEntry } from '../format/manifest';
import { readColumns, type CscMatrix } from './column-reads';
import { XLayerFiles, type XLayerDescription } from './layer-files';
import { rowBlocks, rowBlocksAhead, type XRowBlock } from './layer-blocks';
import { decodeSortedRows, readRows, readRowsShared, rowsEntries, type CsrMatrix, type RowDecodeHelper, type RowReadBuffers } from './row-reads';

export class XLayerReader {
  private readonly files: XLayerFiles;

  /** `label` names the layer in messages, e.g. "ms/RNA/X/data". */
  constructor(dir: string, label: string, layer: LayerEntry, nObs: number, nVars: number) {
    this.files = new XLayerFiles(dir, label, layer, nObs, nVars);
  }

  get dtype(): NumericDtype {
    return this.files.dtype;
  }

  close(): void {
    this.files.close();
  }

  /** What a worker thread needs to open this layer itself. */
  describe(): XLayerDescription {
    return this.files.describe();
  }

  /** Opens every fragment's chunk index now (a helper thread getting ready for row reads). */
  loadIndexes(): void {
    for (const fragment of this.files.layer.fragments) this.files.chunkIndex(fragment);
  }

  /**
   * Rows `joinids` (any order; ascending is fastest) as CSR with column indices = var joinids.
   * Rows no fragment covers (cells added without this layer) are empty.
   */
  readRows(joinids: ArrayLike<number>, into?: RowReadBuffers): CsrMatrix {
    return readRows(this.files, joinids, into);
  }

  /**
   * `readRows` with the second half of a large request decoded by a helper thread into
   * shared memory while this thread decodes the first: the result's arrays are backed by
   * SharedArrayBuffers. Small requests are read on this thread alone.
   */
  readRowsShared(joinids: ArrayLike<number>, helperFor: (nnz: number) => RowDecodeHelper | null, into?: RowReadBuffers): Promise<CsrMatrix> {
    return readRowsShared(this.files, joinids, helperFor, into);
  }

  /** Decodes rows sorted[from..to) (ascending joinids) into indices/data, row i at starts[i]. */
  decodeSortedRows(sorted: Int32Array, starts: Float64Array, from: number, to: number, indices: Int32Array, data: NumericArray): void {
    decodeSortedRows(this.files, sorted, starts, from, to, indices, data);
  }

  /** The rows `joinids` in ascending joinid order, in blocks reusing the same memory (see rowBlocks). */
  rowBlocks(joinids: ArrayLike<number>, options: { maxRows?: number; maxEntries?: number } = {}): Generator<XRowBlock> {
    return rowBlocks(this.files, joinids, options);
  }

  /** `rowBlocks` decoded `slots` − 1 blocks ahead by a helper thread (when `helperFor` gives one for the read's size). */
  rowBlocksAhead(joinids: ArrayLike<number>, helperFor: (nnz: number) => RowDecodeHelper | null, options: { maxRows?: number; maxEntries?: number; slots?: number; decodeHere?: boolean } = {}): AsyncGenerator<XRowBlock> {
    return rowBlocksAhead(this.files, joinids, helperFor, options);
  }

  /** Stored entries of the rows `joinids`, from the chunk indexes alone (nothing is decoded). */
  rowsEntries(joinids: ArrayLike<number>): number {
    return rowsEntries(this.files, joinids);
  }

  /** Columns `varJoinids` over every obs row, as CSC (column j = varJoinids[j]). */
  readColumns(varJoinids: ArrayLike<number>): CscMatrix {
    return readColumns(this.files, varJoinids);
  }
}
