// The in-memory model of an AnnData file, shared by the reader, the writer and
// everything downstream (plans, store writer, inspect). Plain typed arrays only.

export type IntDtype = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';
export type FloatDtype = 'float32' | 'float64';
export type NumericDtype = IntDtype | FloatDtype;

/** The dtype names `cellar inspect --json` reports (SPEC §5). */
export type ColumnDtype =
  | 'category'
  | 'string'
  | 'bool'
  | NumericDtype
  | 'nullable-int'
  | 'nullable-bool'
  | 'nullable-string';

export type NumericArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** One obs/var column (or a 1-d array). Masks use 1 = missing (NA). */
export type Column =
  | { kind: 'numeric'; dtype: NumericDtype; values: NumericArray }
  | { kind: 'bool'; values: Uint8Array }
  /** Plain strings; `null` entries only appear where the source held no value (e.g. legacy NaN). */
  | { kind: 'string'; values: (string | null)[] }
  | { kind: 'nullable-int'; dtype: IntDtype; values: NumericArray; mask: Uint8Array }
  | { kind: 'nullable-bool'; values: Uint8Array; mask: Uint8Array }
  | { kind: 'nullable-string'; values: string[]; mask: Uint8Array }
  | {
      kind: 'category';
      /** −1 = missing. */
      codes: Int32Array;
      /** Categories are strings or numbers; never NA themselves. */
      categories: Column;
      ordered: boolean;
    };

export interface DataFrame {
  /** Name of the index column as stored (`_index` attribute), e.g. "_index" or "cell_id". */
  indexName: string;
  index: string[];
  /** Columns in `column-order`. */
  columns: { name: string; column: Column }[];
}

/**
 * A block of consecutive rows in CSR form. indptr is relative to this block
 * (indptr[0] = 0); column indices ascend within each row; explicit zeros
 * stored in the file are kept.
 */
export interface CsrBlock {
  rowStart: number;
  nRows: number;
  nCols: number;
  indptr: Float64Array | Int32Array;
  indices: Int32Array;
  data: NumericArray;
}

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

/** An open h5ad: metadata read, matrices lazy. Always close() in `finally`. */
export interface H5adFile {
  path: string;
  nObs: number;
  nVars: number;
  /** Encoding version of the root (e.g. "0.1.0"), or "legacy" for untagged files. */
  layoutVersion: string;
  obs: DataFrame;
  var: DataFrame;
  X: MatrixHandle | null;
  layers: Map<string, MatrixHandle>;
  obsm: Map<string, DenseHandle | MatrixHandle | DataFrame>;
  varm: Map<string, DenseHandle | MatrixHandle | DataFrame>;
  obsp: Map<string, MatrixHandle | DenseHandle>;
  varp: Map<string, MatrixHandle | DenseHandle>;
  unsKeys: string[];
  /** Reads uns on demand (can be large). */
  readUns(): { [key: string]: UnsValue };
  raw: RawHandle | null;
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
  rowBlocks(): AsyncIterable<CsrBlock> | Iterable<CsrBlock>;
}

export { CellarError } from '../../../shared/errors';
