// The in-memory model of an open AnnData file (handles read lazily) and of one to write,
// built on the shared column model.
import type { Column, CsrBlock, DataFrame, NumericArray, NumericDtype } from '../../columns/column-model';

export type MatrixEncoding = 'csr_matrix' | 'csc_matrix' | 'array';

export interface RowBlockOptions {
  /** Upper bound on rows per block. */
  maxRows?: number;
  /** Upper bound on stored entries (non-zeros, or cells for dense) per block. */
  maxEntries?: number;
  signal?: AbortSignal;
  /** Folder for temporary files (CSC transpose). Defaults to the OS temp dir. */
  tmpDir?: string;
}

/** A 2-d matrix in the file, not yet read. */
export interface MatrixHandle {
  /** HDF5 path of the element, e.g. "/X", "/layers/counts", "/raw/X". */
  path: string;
  encoding: MatrixEncoding;
  dtype: NumericDtype | 'bool';
  shape: [number, number];
  /** Stored entries (nnz for sparse; rows×cols for dense). */
  nnz: number;
  /** Iterate the whole matrix as CSR row blocks of bounded size, whatever the layout. */
  rowBlocks(options?: RowBlockOptions): AsyncIterable<CsrBlock>;
  /** Up to `limit` stored values from the start of the file (for guessing what X holds). */
  sampleValues?(limit: number): NumericArray;
}

/** A dense array element (obsm/varm entries, dense uns arrays) not yet read. */
export interface DenseHandle {
  path: string;
  dtype: NumericDtype | 'bool' | 'string';
  shape: number[];
  /** Reads the whole array as row-major values. */
  read(): NumericArray | (string | null)[];
}

/** uns: plain JS values; arrays come back as typed arrays or string arrays. */
export type UnsValue =
  | null
  | string
  | number
  | bigint
  | boolean
  | NumericArray
  | (string | null)[]
  | { [key: string]: UnsValue }
  | { kind: 'dataframe'; frame: DataFrame }
  | { kind: 'matrix'; handle: MatrixHandle }
  | { kind: 'dense'; shape: number[]; values: NumericArray | (string | null)[] }
  | { kind: 'recarray'; fields: { name: string; column: Column }[] }
  /** 1-d arrays that need more than a typed array: categoricals, nullable arrays, bools. */
  | { kind: 'column'; column: Column }
  | { kind: 'skipped'; encoding: string; reason: string };

export interface RawHandle {
  X: MatrixHandle | null;
  var: DataFrame;
  varm: Map<string, DenseHandle | MatrixHandle>;
}

/** What an AnnData group holds: metadata read, matrices lazy (the root, or a nested AnnData). */
export interface AnnDataContent {
  nObs: number;
  nVars: number;
  obs: DataFrame;
  var: DataFrame;
  X: MatrixHandle | null;
  layers: Map<string, MatrixHandle>;
  obsm: Map<string, DenseHandle | MatrixHandle | DataFrame>;
  varm: Map<string, DenseHandle | MatrixHandle | DataFrame>;
  obsp: Map<string, MatrixHandle | DenseHandle>;
  varp: Map<string, MatrixHandle | DenseHandle>;
  unsKeys: string[];
  raw: RawHandle | null;
}

/** An open h5ad: metadata read, matrices lazy. Always close() in `finally`. */
export interface H5adFile extends AnnDataContent {
  path: string;
  /** Encoding version of the root (e.g. "0.1.0"), or "legacy" for untagged files. */
  layoutVersion: string;
  /** Reads uns on demand (can be large). */
  readUns(): { [key: string]: UnsValue };
  /** Notices for elements that were skipped (e.g. awkward arrays). */
  notices: string[];
  close(): void;
}

/** What the writer takes: everything in memory except X/layers, which may stream. */
export interface AnnDataToWrite {
  obs: DataFrame;
  var: DataFrame;
  X?: MatrixSource | null;
  layers?: Map<string, MatrixSource>;
  obsm?: Map<string, { shape: [number, number]; values: NumericArray }>;
  varm?: Map<string, { shape: [number, number]; values: NumericArray }>;
  uns?: { [key: string]: UnsValue };
  raw?: { X: MatrixSource | null; var: DataFrame; varm?: Map<string, { shape: [number, number]; values: NumericArray }> } | null;
}

/** A matrix to write: shape, dtype, and CSR row blocks in order. */
export interface MatrixSource {
  shape: [number, number];
  dtype: NumericDtype;
  /** Total non-zeros if known (lets the writer size datasets up front). */
  nnz?: number;
  /** `nnz` is exact, not a bound: the writer creates the datasets at their final size. */
  nnzExact?: boolean;
  rowBlocks(): AsyncIterable<CsrBlock> | Iterable<CsrBlock>;
}

