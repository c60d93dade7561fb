// What every reader of a file format hands to the rest of the engine: the same lazy
// model an h5ad opens into (obs and var frames read, matrices behind handles that
// stream CSR row blocks), plus what the format had that Cellar does not keep.
import type { Column, CsrBlock, DataFrame, NumericArray } from '../columns/column-model';
import type { H5adFile, MatrixHandle } from './h5ad/types';

export type DatasetFormat = 'h5ad' | '10x-h5' | '10x-mtx' | 'loom';

/** A feature type of a 10x file and whether its features became X. */
export interface FeatureTypeCount {
  type: string;
  count: number;
  kept: boolean;
}

/** Something of the file that no operation carries, named for inspect and the plans. */
export interface DroppedPart {
  element: 'features' | 'graphs';
  name: string;
  /** Says what and why, without the file's name (the plan adds the dataset's label). */
  detail: string;
}

export interface DatasetFile extends H5adFile {
  format: DatasetFormat;
  /** "10x Genomics HDF5 (Cell Ranger v3)", … for people. */
  formatLabel: string;
  featureTypes: FeatureTypeCount[];
  dropped: DroppedPart[];
  /**
   * Reads whatever opening did not, so damage that would only show halfway through a write
   * (a Matrix Market file cut short) is found when the file is checked at import.
   */
  validate(check?: ReadCheck): Promise<void>;
}

/** How a whole read is cancelled, and a call after each block (the caller's time limit restarts at each). */
export interface ReadCheck {
  signal?: AbortSignal;
  onStep?: () => void;
}

/** Reads a whole matrix, which checks it on the way, and returns its stored entries. */
export async function readThrough(handle: MatrixHandle, check: ReadCheck = {}): Promise<number> {
  let n = 0;
  for await (const block of handle.rowBlocks({ signal: check.signal })) {
    n += block.indices.length;
    check.onStep?.();
  }
  return n;
}

export function stringColumn(values: string[]): Column {
  return { kind: 'string', values };
}

/** A categorical of strings, categories sorted as pandas sorts them. */
export function categoryColumn(values: string[]): Column {
  const categories = [...new Set(values)].sort();
  const position = new Map(categories.map((c, i) => [c, i]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = position.get(values[i]!)!;
  return { kind: 'category', codes, categories: { kind: 'string', values: categories }, ordered: false };
}

export function frame(indexName: string, index: string[], columns: { name: string; column: Column }[] = []): DataFrame {
  return { indexName, index, columns };
}

/** The parts of the model these formats never have. */
export function noExtras(): Pick<H5adFile, 'layers' | 'obsm' | 'varm' | 'obsp' | 'varp' | 'unsKeys' | 'readUns' | 'raw'> {
  return { layers: new Map(), obsm: new Map(), varm: new Map(), obsp: new Map(), varp: new Map(), unsKeys: [], readUns: () => ({}), raw: null };
}

/** The first ids that occur more than once, for messages. */
export function repeatedIds(ids: string[], limit = 5): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) repeated.add(id);
    else seen.add(id);
    if (repeated.size >= limit) break;
  }
  return [...repeated];
}

/**
 * Keeps some columns of a matrix: `newColumn[old]` is the column's new number, or −1 to drop
 * it. Kept columns keep their order, so rows stay sorted. The stored entries are counted by
 * countStoredEntries (a whole read: validation does it, so inspect reports the exact count).
 */
export function keepColumns(inner: MatrixHandle, newColumn: Int32Array, nKept: number): MatrixHandle {
  let counted: number | null = null;
  async function* blocks(options: Parameters<MatrixHandle['rowBlocks']>[0]): AsyncGenerator<CsrBlock> {
    for await (const block of inner.rowBlocks(options)) yield selectBlockColumns(block, newColumn, nKept);
  }
  const handle: MatrixHandle & { countStoredEntries(check: ReadCheck): Promise<number> } = {
    path: inner.path,
    encoding: inner.encoding,
    dtype: inner.dtype,
    shape: [inner.shape[0], nKept],
    // Until counted, the whole matrix's count: an upper bound, which is all a writer sizing space needs.
    get nnz(): number {
      return counted ?? inner.nnz;
    },
    rowBlocks: blocks,
    async countStoredEntries(check: ReadCheck): Promise<number> {
      counted ??= await readThrough(handle, check);
      return counted;
    },
  };
  return handle;
}

/** Reads a matrix through, so a filtered one (keepColumns) knows its exact stored entries. */
export async function countStoredEntries(handle: MatrixHandle, check: ReadCheck = {}): Promise<void> {
  const counter = (handle as { countStoredEntries?: (check: ReadCheck) => Promise<number> }).countStoredEntries;
  if (counter) await counter.call(handle, check);
  else await readThrough(handle, check);
}

function selectBlockColumns(block: CsrBlock, newColumn: Int32Array, nKept: number): CsrBlock {
  const n = block.indices.length;
  let kept = 0;
  for (let i = 0; i < n; i++) if (newColumn[block.indices[i]!]! >= 0) kept++;
  const indices = new Int32Array(kept);
  const data = new (block.data.constructor as new (n: number) => NumericArray)(kept);
  const src = block.data as Float64Array; // same element type on both sides
  const dst = data as Float64Array;
  const indptr = new Int32Array(block.nRows + 1);
  let p = 0;
  for (let r = 0; r < block.nRows; r++) {
    const end = Number(block.indptr[r + 1]);
    for (let i = Number(block.indptr[r]); i < end; i++) {
      const c = newColumn[block.indices[i]!]!;
      if (c < 0) continue;
      indices[p] = c;
      dst[p] = src[i]!;
      p++;
    }
    indptr[r + 1] = p;
  }
  return { rowStart: block.rowStart, nRows: block.nRows, nCols: nKept, indptr, indices, data };
}
