// The column model: obs/var columns, dataframes and CSR row blocks as plain typed arrays.
// Every format reads into it and writes from it; the store and the operations work on it.

export type IntDtype = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';
export type FloatDtype = 'float32' | 'float64';
export type NumericDtype = IntDtype | FloatDtype;

const INT_DTYPES: ReadonlySet<string> = new Set<IntDtype>(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

export function isIntDtype(dtype: string): dtype is IntDtype {
  return INT_DTYPES.has(dtype);
}

export function isFloatDtype(dtype: string): dtype is FloatDtype {
  return dtype === 'float32' || dtype === 'float64';
}

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

/** The dtype name a column reports (`cellar inspect --json`, plans, the store's schema). */
export function columnDtype(column: Column): ColumnDtype {
  switch (column.kind) {
    case 'numeric':
      return column.dtype;
    case 'bool':
      return 'bool';
    case 'string':
      return 'string';
    case 'nullable-int':
      return 'nullable-int';
    case 'nullable-bool':
      return 'nullable-bool';
    case 'nullable-string':
      return 'nullable-string';
    case 'category':
      return 'category';
  }
}
