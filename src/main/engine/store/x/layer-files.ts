// An X layer opened for reading: its fragment files, their chunk indexes (a small companion
// file per fragment saying where each chunk's buffers are) and the decoding of a stored
// buffer into scratch memory. Row, column and block reads (row-reads.ts, column-reads.ts,
// layer-blocks.ts) all go through it.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, type Data, type Table } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { NumericArray, NumericDtype } from '../../columns/column-model';
import { decompressBuffer, registerArrowCodecs } from '../io/codecs';
import { viewTyped } from '../format/dtypes';
import type { LayerEntry, XFragment } from '../format/manifest';
import { decodeVarints } from './varints';

/** Plain data naming a layer, for another thread to open it. */
export interface XLayerDescription {
  dir: string;
  label: string;
  layer: LayerEntry;
  nObs: number;
  nVars: number;
}

export interface ChunkIndex {
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

export const MAX_READ_BYTES = 32 << 20;
// Chunks this close on disk are read together (one read beats two small ones).
export const MAX_READ_GAP = 16 << 10;

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
export function float64Column(table: Table, name: string, n: number, file: string, label: string): Float64Array {
  const vector = table.getChild(name);
  if (!vector) throw new CellarError('bad_element', `${label}: index file ${file} lacks ${name}.`);
  const chunks = vector.data;
  if (chunks.length === 1 && chunks[0].values instanceof Float64Array) return chunks[0].values.subarray(chunks[0].offset, chunks[0].offset + n);
  return numbers(chunks, n);
}

/** Growable scratch memory, always starting at an aligned offset. */
export class Scratch {
  private bytes = new Uint8Array(1 << 16);
  get(size: number): Uint8Array {
    if (this.bytes.byteLength < size) this.bytes = new Uint8Array(Math.max(size, this.bytes.byteLength * 2));
    return this.bytes;
  }
}

export class XLayerFiles {
  // One map per kind of index: a damaged manifest naming one file for both must not mix their types.
  private readonly indexes = { chunks: new Map<string, unknown>(), columns: new Map<string, unknown>() };
  private readonly descriptors = new Map<string, number>();
  private readonly readBuffer = new Scratch();
  readonly indexScratch = new Scratch();
  readonly valueScratch = new Scratch();
  readonly offsetScratch = new Scratch();
  readonly listScratch = new Scratch();
  private readonly deltaScratch = new Scratch();
  /** Memory row blocks reuse from one iteration to the next (null while an iteration holds it). */
  blockBuffers: { indptr: Int32Array; indices: Int32Array; data: NumericArray } | null = null;

  constructor(
    readonly dir: string,
    /** e.g. "ms/RNA/X/data", for messages. */
    readonly label: string,
    readonly layer: LayerEntry,
    readonly nObs: number,
    readonly nVars: number,
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

  /** What a worker thread needs to open this layer itself. */
  describe(): XLayerDescription {
    return { dir: this.dir, label: this.label, layer: this.layer, nObs: this.nObs, nVars: this.nVars };
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

  readAt(file: string, position: number, length: number): Uint8Array {
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
  checkSpans(file: string, indexFile: string, pairs: Float64Array[]): void {
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

  /** The index file read and turned into `T` by `build`, once per reader and kind of index. */
  index<T>(kind: 'chunks' | 'columns', indexFile: string, build: (table: Table) => T): T {
    const cache = this.indexes[kind];
    const cached = cache.get(indexFile);
    if (cached) return cached as T;
    const index = build(this.readIndexTable(indexFile));
    cache.set(indexFile, index);
    return index;
  }

  private readIndexTable(file: string): Table {
    try {
      return tableFromIPC(fs.readFileSync(join(this.dir, file)));
    } catch (err) {
      if (err instanceof CellarError) throw err;
      throw new CellarError('bad_element', `${this.label}: index file ${file} cannot be read (${(err as Error).message}).`);
    }
  }

  chunkIndex(fragment: XFragment): ChunkIndex {
    // Looked up once per row read: no closure for the usual case of a loaded index.
    const loaded = this.indexes.chunks.get(fragment.indexFile);
    if (loaded) return loaded as ChunkIndex;
    return this.index('chunks', fragment.indexFile, (table) => this.buildChunkIndex(fragment, table));
  }

  private buildChunkIndex(fragment: XFragment, table: Table): ChunkIndex {
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
    return index;
  }

  /** Decodes one stored buffer (at `at` in `bytes`) of `size` uncompressed bytes into aligned memory. */
  decodeBuffer(fragment: XFragment, bytes: Uint8Array, at: number, length: number, size: number, scratch: Scratch): Uint8Array {
    if (size === 0) return scratch.get(0);
    if (fragment.codec === 'none') return bytes.subarray(at, at + size);
    const prefix = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigInt64(0, true);
    const body = bytes.subarray(at + 8, at + length);
    if (prefix === -1n) return body;
    if (Number(prefix) !== size) throw new CellarError('bad_element', `${this.label}: a chunk of ${fragment.file} has the wrong size.`);
    return decompressBuffer(fragment.codec, body, size, scratch.get(size));
  }

  /**
   * A row chunk's column indices from its stored buffer at `at` in `bytes`: for 'delta'
   * fragments the deltas themselves (`chunkNnz` of them, row after row); for 'varint-delta'
   * ones the decompressed varint bytes (`size` of them), read with skipVarints and
   * decodeVarintColumns. Valid until the next call.
   */
  chunkIndices(fragment: XFragment, bytes: Uint8Array, at: number, length: number, chunkNnz: number): { deltas: Uint16Array | Uint32Array } | { varints: Uint8Array; size: number; raw: boolean } {
    if (fragment.indexEncoding !== 'varint-delta') {
      const decoded = this.decodeBuffer(fragment, bytes, at, length, chunkNnz * (fragment.indexDtype === 'uint16' ? 2 : 4), this.indexScratch);
      return { deltas: viewTyped(fragment.indexDtype, decoded, chunkNnz) as Uint16Array | Uint32Array };
    }
    // The varints' byte count: what a compressed buffer's prefix says; a buffer stored raw may
    // end in up to 7 bytes of zero padding.
    let size = length;
    let raw = true;
    if (fragment.codec !== 'none' && length >= 8) {
      const prefix = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigInt64(0, true);
      raw = prefix === -1n;
      size = raw ? length - 8 : Number(prefix);
    }
    const widest = fragment.indexDtype === 'uint16' ? 3 : 5;
    if (!(size >= chunkNnz && size <= chunkNnz * widest + (raw ? 7 : 0))) throw new CellarError('bad_element', `${this.label}: a chunk of ${fragment.file} has the wrong size.`);
    return { varints: this.decodeBuffer(fragment, bytes, at, length, size, this.indexScratch), size, raw };
  }

  /** A store error for varints that do not decode: of X's row chunks, or (`file`) of its companion. */
  damagedIndices(fragment: XFragment, file = fragment.file): CellarError {
    const what = file === fragment.file ? 'column indices' : 'cell offsets';
    return new CellarError('bad_element', `${this.label}: a chunk of ${file} holds damaged ${what}.`);
  }

  /**
   * A row chunk's column deltas (`chunkNnz` of them, row after row), whatever the encoding: for
   * 'varint-delta' fragments decoded into scratch memory (every byte checked). Valid until the
   * next call.
   */
  decodeIndexDeltas(fragment: XFragment, bytes: Uint8Array, at: number, length: number, chunkNnz: number): Uint16Array | Uint32Array {
    const stored = this.chunkIndices(fragment, bytes, at, length, chunkNnz);
    if ('deltas' in stored) return stored.deltas;
    const { varints, size, raw } = stored;
    const deltas = new Uint32Array(this.deltaScratch.get(chunkNnz * 4).buffer, 0, chunkNnz);
    const used = decodeVarints(varints, size, chunkNnz, deltas);
    if (used < 0 || (used !== size && !(raw && size - used < 8 && varints.subarray(used, size).every((b) => b === 0)))) throw this.damagedIndices(fragment);
    return deltas;
  }

  /** Fragments in row order with the rows each covers. */
  fragmentsByRow(): XFragment[] {
    return [...this.layer.fragments].sort((a, b) => a.rowStart - b.rowStart);
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
export function undeltaUint16(source: Uint16Array, from: number, count: number, target: Int32Array, to: number): void {
  let column = 0;
  for (let k = 0; k < count; k++) {
    column += source[from + k];
    target[to + k] = column;
  }
}

export function undeltaUint32(source: Uint32Array, from: number, count: number, target: Int32Array, to: number): void {
  let column = 0;
  for (let k = 0; k < count; k++) {
    column += source[from + k];
    target[to + k] = column;
  }
}

/** Copies `count` stored values into the output dtype (exact: the stored type is narrower). */
export function copyConverted(source: NumericArray, from: number, target: NumericArray, to: number, count: number): void {
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
