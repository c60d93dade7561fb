// An X layer read block by block: `rowBlocks` for any set of cells (export, PCA), and
// LayerBlockReader for fixed blocks of consecutive rows, optionally restricted to some columns.
// Its description (LayerBlockSpec) is plain data, so a worker thread can open the same layer
// and read the blocks it owns while another thread reads others: the blocks are the same
// wherever they are read.
import { CellarError } from '../../../../shared/errors';
import type { CsrBlock, NumericArray } from '../../columns/column-model';
import { allocateTyped, bytesPerElement, isBigIntDtype, viewTyped } from '../format/dtypes';
import type { LayerEntry } from '../format/manifest';
import { MAX_READ_BYTES, XLayerFiles } from './layer-files';
import { skipVarints } from './varints';
import { CLAIMED_BY_HELPER, CLAIMED_HERE, decodeRows, decodeSortedRows, planRows, sortOrder, type RowDecodeHelper } from './row-reads';

/** A block of rows from `rowBlocks`: CSR plus the obs joinid of each row. */
export interface XRowBlock extends CsrBlock {
  indptr: Int32Array;
  joinids: Int32Array;
}

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

/**
 * The rows `joinids` in ascending joinid order, as CSR blocks of at most `maxRows` rows and
 * (unless a single row is larger) `maxEntries` entries. Blocks reuse the same memory: each one is
 * valid until the next is requested. `rowStart` is the block's position in the sorted joinids.
 */
export function* rowBlocks(files: XLayerFiles, joinids: ArrayLike<number>, options: { maxRows?: number; maxEntries?: number } = {}): Generator<XRowBlock> {
  const maxRows = Math.max(1, options.maxRows ?? 4096);
  const maxEntries = Math.max(1, options.maxEntries ?? 8_000_000);
  const order = sortOrder(files, joinids);
  const sorted = Int32Array.from({ length: joinids.length }, (_, i) => joinids[order ? order[i] : i]);
  const n = sorted.length;
  const fragments = files.fragmentsByRow();
  const rowAt = (i: number) => sorted[i];
  const { rowNnz, rowFragment } = planRows(files, rowAt, n, fragments);
  // The reader's block buffers, unless another generator has them: fresh memory is slow to
  // touch, and a caller reading block after block (PCA, export) should reuse the same pages.
  const buffers = files.blockBuffers ?? { indptr: new Int32Array(1), indices: new Int32Array(1024), data: allocateTyped(files.layer.dtype, 1024) };
  files.blockBuffers = null;
  let { indptr, indices, data } = buffers;
  let start = 0;
  try {
    while (start < n) {
      let end = start;
      let entries = 0;
      while (end < n && end - start < maxRows && (end === start || entries + rowNnz[end] <= maxEntries)) entries += rowNnz[end++];
      if (indices.length < entries) {
        indices = new Int32Array(Math.max(entries, indices.length * 2));
        data = allocateTyped(files.layer.dtype, indices.length);
      }
      const rows = end - start;
      if (indptr.length < rows + 1) indptr = new Int32Array(rows + 1);
      indptr[0] = 0;
      for (let i = 0; i < rows; i++) indptr[i + 1] = indptr[i] + rowNnz[start + i];
      const first = start;
      decodeRows(files, fragments, rowFragment, rowAt, (i) => i - first, start, end, indptr, indices, data);
      yield {
        rowStart: start,
        nRows: rows,
        nCols: files.nVars,
        indptr: indptr.subarray(0, rows + 1),
        indices: indices.subarray(0, entries),
        data: data.subarray(0, entries),
        joinids: sorted.subarray(start, end),
      };
      start = end;
    }
  } finally {
    files.blockBuffers = { indptr, indices, data };
  }
}

const SHARED_BLOCKS = 6;
const SHARED_MIN_BLOCK_ENTRIES = 128_000;

/**
 * `rowBlocks` with the blocks decoded by a helper thread ahead of the caller (an export writing
 * them out): `slots` sets of shared buffers used in turn, so up to slots − 1 blocks are decoded
 * while the caller works on one. The helper is asked for once the read's size is known
 * (`helperFor`); without one the blocks are decoded here. With `decodeHere` (for a caller whose
 * own work per block is light) both threads decode: each block goes to whichever thread claims
 * it first (a shared flag a block). This thread claims the block it wants next unless the helper
 * has it; while the helper is still decoding that one, this thread decodes the later blocks
 * already asked for that nobody has claimed yet. So it never waits for the helper to start (it
 * decodes everything meanwhile) and waits for it only when nothing else is left to decode.
 * Each block is valid until the next is requested.
 */
export async function* rowBlocksAhead(
  files: XLayerFiles,
  joinids: ArrayLike<number>,
  helperFor: (nnz: number) => RowDecodeHelper | null,
  options: { maxRows?: number; maxEntries?: number; slots?: number; decodeHere?: boolean } = {},
): AsyncGenerator<XRowBlock> {
  const maxRows = Math.max(1, options.maxRows ?? 4096);
  const order = sortOrder(files, joinids);
  const n = joinids.length;
  const sorted = new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
  for (let i = 0; i < n; i++) sorted[i] = joinids[order ? order[i] : i];
  const { rowNnz } = planRows(files, (i) => sorted[i], n, files.fragmentsByRow());
  let entriesInAll = 0;
  for (let i = 0; i < n; i++) entriesInAll += rowNnz[i];
  const offered = entriesInAll > 0 ? helperFor(entriesInAll) : null;
  // Shared between two threads, a read is cut into at least SHARED_BLOCKS blocks (none under
  // SHARED_MIN_BLOCK_ENTRIES), so both have blocks to claim.
  const maxEntries = Math.max(
    1,
    offered && options.decodeHere ? Math.min(options.maxEntries ?? 8_000_000, Math.max(SHARED_MIN_BLOCK_ENTRIES, Math.ceil(entriesInAll / SHARED_BLOCKS))) : (options.maxEntries ?? 8_000_000),
  );
  // Block boundaries as rowBlocks draws them; each row's offset within its block.
  const bounds = [0];
  const starts = new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8), 0, n);
  let largest = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let entries = 0;
    while (end < n && end - start < maxRows && (end === start || entries + rowNnz[end] <= maxEntries)) {
      starts[end] = entries;
      entries += rowNnz[end++];
    }
    bounds.push(end);
    largest = Math.max(largest, entries);
    start = end;
  }
  const helper = largest < 2 ** 31 ? offered : null;
  if (!helper) {
    yield* rowBlocks(files, sorted, { ...options, maxEntries });
    return;
  }
  const layer = files.describe();
  const blocks = bounds.length - 1;
  const decodeHere = options.decodeHere ?? false;
  // Which thread took each block (0 none yet, CLAIMED_HERE, CLAIMED_BY_HELPER); when sharing a
  // third slot keeps the helper a block ahead.
  const claims = decodeHere ? new Int32Array(new SharedArrayBuffer(blocks * 4)) : undefined;
  const slots = Array.from({ length: Math.max(2, Math.min(options.slots ?? (decodeHere ? 3 : 2), blocks)) }, () => ({
    indices: new Int32Array(new SharedArrayBuffer(largest * 4), 0, largest),
    data: viewTyped(files.layer.dtype, new Uint8Array(new SharedArrayBuffer(largest * bytesPerElement(files.layer.dtype))), largest),
  }));
  const pending: (Promise<void> | undefined)[] = [];
  const request = (b: number): void => {
    if (b >= blocks) return;
    const slot = slots[b % slots.length];
    const decoding = helper.decode({ layer, sorted, starts, from: bounds[b], to: bounds[b + 1], indices: slot.indices, data: slot.data, claims, claim: claims && b });
    // Awaited when the block is wanted; marked handled now, so a failure is not reported twice.
    decoding.catch(() => undefined);
    pending[b] = decoding;
  };
  // The helper works through its requests in order: the first slots − 1 blocks are asked for now.
  for (let b = 0; b < slots.length - 1; b++) request(b);
  const indptr = new Int32Array(maxRows + 1);
  try {
    for (let b = 0; b < blocks; b++) {
      // The caller is done with block b − 1: its slot takes block b + slots − 1.
      request(b + slots.length - 1);
      const slot = slots[b % slots.length];
      if (claims) {
        // Block b's slot, and those of the blocks up to b + slots − 1, are free to fill: the
        // caller is done with block b − 1.
        const claimHere = (block: number): boolean => Atomics.compareExchange(claims, block, 0, CLAIMED_HERE) === 0;
        const decode = (block: number): void => {
          const into = slots[block % slots.length];
          decodeSortedRows(files, sorted, starts, bounds[block], bounds[block + 1], into.indices, into.data as NumericArray);
        };
        if (claimHere(b)) decode(b);
        for (let next = b + 1; Atomics.load(claims, b) === CLAIMED_BY_HELPER && next < Math.min(blocks, b + slots.length); next++) {
          if (claimHere(next)) decode(next);
        }
      }
      // Blocks this thread decoded need no waiting; the helper's are awaited (also when skipped).
      if (!claims || Atomics.load(claims, b) !== CLAIMED_HERE) await pending[b];
      pending[b] = undefined;
      const start = bounds[b];
      const rows = bounds[b + 1] - start;
      for (let i = 0; i < rows; i++) indptr[i + 1] = indptr[i] + rowNnz[start + i];
      const entries = indptr[rows];
      yield {
        rowStart: start,
        nRows: rows,
        nCols: files.nVars,
        indptr: indptr.subarray(0, rows + 1),
        indices: slot.indices.subarray(0, entries),
        data: slot.data.subarray(0, entries) as NumericArray,
        joinids: sorted.subarray(start, start + rows),
      };
    }
  } finally {
    // The helper may still be writing later blocks into buffers the caller no longer holds.
    for (const decoding of pending) await decoding?.catch(() => undefined);
  }
}

/**
 * Rows [rowStart, rowEnd) restricted to the columns with position[column] ≥ 0, renumbered to
 * that position, decoded in one pass per entry (no full rows are built first). `indices` and
 * `data` must have room for every stored entry of those rows; returns the entries kept.
 * `data` must not be a BigInt array.
 */
export function decodeRangeKeeping(files: XLayerFiles, rowStart: number, rowEnd: number, position: Int32Array, indptr: Int32Array, indices: Int32Array, data: NumericArray): number {
  const out = data as Float64Array;
  let at = 0;
  let row = rowStart;
  indptr[0] = 0;
  const emptyUntil = (end: number) => {
    for (; row < end; row++) indptr[row - rowStart + 1] = at;
  };
  for (const fragment of files.fragmentsByRow()) {
    const fragmentEnd = fragment.rowStart + fragment.nRows;
    if (fragmentEnd <= row) continue;
    if (fragment.rowStart >= rowEnd) break;
    emptyUntil(fragment.rowStart);
    const index = files.chunkIndex(fragment);
    const R = fragment.chunkRows;
    const valueWidth = bytesPerElement(fragment.storedDtype);
    const end = Math.min(rowEnd, fragmentEnd);
    let chunk = Math.floor((row - fragment.rowStart) / R);
    const lastChunk = Math.floor((end - 1 - fragment.rowStart) / R);
    while (chunk <= lastChunk) {
      // Consecutive chunks are read together, up to MAX_READ_BYTES at a time.
      const readStart = index.indexOffset[chunk];
      let through = chunk;
      while (through < lastChunk && index.valueOffset[through + 1] + index.valueLength[through + 1] - readStart <= MAX_READ_BYTES) through++;
      const bytes = files.readAt(fragment.file, readStart, index.valueOffset[through] + index.valueLength[through] - readStart);
      for (; chunk <= through; chunk++) {
        const chunkFirst = chunk * R;
        const base = index.rowPrefix[chunkFirst];
        const chunkNnz = index.rowPrefix[chunkFirst + index.chunkRows[chunk]] - base;
        const stored = files.chunkIndices(fragment, bytes, index.indexOffset[chunk] - readStart, index.indexLength[chunk], chunkNnz);
        const valBytes = files.decodeBuffer(fragment, bytes, index.valueOffset[chunk] - readStart, index.valueLength[chunk], chunkNnz * valueWidth, files.valueScratch);
        const values = viewTyped(fragment.storedDtype, valBytes, chunkNnz) as Float64Array;
        const chunkEnd = Math.min(end, fragment.rowStart + chunkFirst + index.chunkRows[chunk]);
        if ('deltas' in stored) {
          const deltas = stored.deltas;
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
          continue;
        }
        // Varints, decoded in the same pass (the range may start inside the chunk).
        const { varints, size } = stored;
        let q = skipVarints(varints, size, 0, 0, index.rowPrefix[row - fragment.rowStart] - base);
        if (q < 0) throw files.damagedIndices(fragment);
        for (; row < chunkEnd; row++) {
          const local = row - fragment.rowStart;
          const to = index.rowPrefix[local + 1] - base;
          let column = 0;
          for (let k = index.rowPrefix[local] - base; k < to; k++) {
            let delta = varints[q++] | 0;
            if (delta >= 0x80) {
              let value = delta & 0x7f;
              let shift = 7;
              do {
                if (shift > 28 || q >= size) throw files.damagedIndices(fragment);
                delta = varints[q++] | 0;
                value |= (delta & 0x7f) << shift;
                shift += 7;
              } while (delta >= 0x80);
              if (value < 0) throw files.damagedIndices(fragment);
              delta = value;
            }
            column = (column + delta) | 0;
            const p = position[column];
            indices[at] = p;
            out[at] = values[k];
            at += (p >>> 31) ^ 1;
          }
          indptr[row - rowStart + 1] = at;
        }
        // Bytes read past the varints' end were not theirs.
        if (q > size) throw files.damagedIndices(fragment);
      }
    }
  }
  emptyUntil(rowEnd);
  return at;
}

/** Stored entries of rows [rowStart, rowEnd): an upper bound for decodeRangeKeeping's output. */
export function storedEntries(files: XLayerFiles, rowStart: number, rowEnd: number): number {
  let total = 0;
  for (const fragment of files.layer.fragments) {
    const from = Math.max(rowStart, fragment.rowStart);
    const to = Math.min(rowEnd, fragment.rowStart + fragment.nRows);
    if (from >= to) continue;
    const index = files.chunkIndex(fragment);
    total += index.rowPrefix[to - fragment.rowStart] - index.rowPrefix[from - fragment.rowStart];
  }
  return total;
}

export class LayerBlockReader {
  private readonly x: XLayerFiles;
  private readonly position: Int32Array | null;
  private rowIds: Int32Array;
  private keptIndptr: Int32Array;
  private keptIndices = new Int32Array(0);
  private keptData: NumericArray;

  constructor(readonly spec: LayerBlockSpec) {
    if (!(Number.isInteger(spec.rowsPerBlock) && spec.rowsPerBlock > 0)) throw new CellarError('usage', `${spec.label}: rows per block must be a positive integer.`);
    this.x = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
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
      for (const rows of rowBlocks(this.x, ids, { maxRows: nRows, maxEntries: Number.MAX_SAFE_INTEGER })) {
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
    const room = storedEntries(this.x, rowStart, rowStart + nRows);
    if (this.keptIndices.length < room) {
      // Some slack: blocks differ a little in size, and each new buffer is fresh memory to touch.
      const size = Math.ceil(room * 1.25);
      this.keptIndices = new Int32Array(size);
      this.keptData = allocateTyped(this.spec.layer.dtype, size);
    }
    const indptr = this.keptIndptr.subarray(0, nRows + 1);
    const kept = decodeRangeKeeping(this.x, rowStart, rowStart + nRows, this.position!, indptr, this.keptIndices, this.keptData);
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
