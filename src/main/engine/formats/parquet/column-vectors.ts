// Store columns as Arrow vectors that keep their type for Parquet: integers keep their width
// (nullable ones get a validity bitmap instead of widening to float), categoricals become
// dictionary vectors with their `ordered` flag, NA becomes null. A float NaN is pandas' NA for
// floats and fails every filter in `cellar query`; as a SQL null it does the same in DuckDB or
// Spark (where NaN would compare greater than every number).
import {
  Bool,
  Dictionary,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { Column, NumericArray, NumericDtype } from '../../columns/column-model';

export function arrowNumericType(dtype: NumericDtype): DataType {
  switch (dtype) {
    case 'int8': return new Int8();
    case 'int16': return new Int16();
    case 'int32': return new Int32();
    case 'int64': return new Int64();
    case 'uint8': return new Uint8();
    case 'uint16': return new Uint16();
    case 'uint32': return new Uint32();
    case 'uint64': return new Uint64();
    case 'float32': return new Float32();
    case 'float64': return new Float64();
  }
}

/** Arrow's validity bitmap (bit set = value present) from a mask where 1 = missing. */
export function validityFromMask(isMissing: (i: number) => boolean, length: number): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (isMissing(i)) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

function boolBits(values: Uint8Array): Uint8Array {
  const bits = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

function columnLength(column: Column): number {
  return column.kind === 'category' ? column.codes.length : column.values.length;
}

/** Typed values with the nulls of `mask` (1 = NA); no nulls when `mask` is absent. */
function numericVector(dtype: NumericDtype, values: NumericArray, mask?: Uint8Array): Vector {
  const length = values.length;
  const { bitmap, nullCount } = mask ? validityFromMask((i) => mask[i] === 1, length) : { bitmap: undefined, nullCount: 0 };
  return makeVector(makeData({ type: arrowNumericType(dtype) as Int32, length, nullCount, nullBitmap: nullCount ? bitmap : undefined, data: values as Int32Array }));
}

function boolVector(values: Uint8Array, mask?: Uint8Array): Vector {
  const length = values.length;
  const { bitmap, nullCount } = mask ? validityFromMask((i) => mask[i] === 1, length) : { bitmap: undefined, nullCount: 0 };
  return makeVector(makeData({ type: new Bool(), length, nullCount, nullBitmap: nullCount ? bitmap : undefined, data: boolBits(values) }));
}

/** The category values themselves (never NA), as the dictionary of a dictionary vector. */
function categoryValues(categories: Column): Vector {
  if (categories.kind === 'string') return vectorFromArray(categories.values.map((v) => v ?? ''), new Utf8());
  if (categories.kind === 'nullable-string') return vectorFromArray(categories.values, new Utf8());
  if (categories.kind === 'numeric') return numericVector(categories.dtype, categories.values);
  if (categories.kind === 'bool') return boolVector(categories.values);
  throw new CellarError('internal', `Categories of kind ${categories.kind} cannot be written to Parquet.`);
}

export function columnToVector(column: Column): Vector {
  const length = columnLength(column);
  switch (column.kind) {
    case 'numeric':
      if (column.dtype === 'float32' || column.dtype === 'float64') {
        const values = column.values as Float64Array;
        return numericVector(column.dtype, values, Uint8Array.from(values, (v) => (Number.isNaN(v) ? 1 : 0)));
      }
      return numericVector(column.dtype, column.values);
    case 'nullable-int':
      return numericVector(column.dtype, column.values, column.mask);
    case 'bool':
      return boolVector(column.values);
    case 'nullable-bool':
      return boolVector(column.values, column.mask);
    case 'string':
      return vectorFromArray(column.values, new Utf8());
    case 'nullable-string':
      return vectorFromArray(Array.from({ length }, (_, i) => (column.mask[i] ? null : column.values[i]!)), new Utf8());
    case 'category': {
      const dictionary = categoryValues(column.categories);
      const { bitmap, nullCount } = validityFromMask((i) => column.codes[i]! < 0, length);
      // Missing codes (−1) are nulls; the slot itself must still point inside the dictionary.
      const codes = nullCount ? column.codes.map((c) => (c < 0 ? 0 : c)) : column.codes;
      // Not flagged ordered: the Parquet writer re-builds each dictionary in order of first
      // appearance, so the flag would order categories wrongly; categoryMetadata keeps the truth.
      const type = new Dictionary(dictionary.type, new Int32(), undefined, false);
      return makeVector(makeData({ type, length, nullCount, nullBitmap: nullCount ? bitmap : undefined, data: codes, dictionary }));
    }
  }
}

/** A categorical's full category list, in order, and whether that order is meaningful. */
export interface CategoryInfo {
  categories: (string | number)[];
  ordered: boolean;
}

/**
 * What a Parquet file cannot hold of a categorical (categories no row uses, their order, the
 * ordered flag), for the file's key-value metadata; null for other columns.
 */
export function categoryInfo(column: Column): CategoryInfo | null {
  if (column.kind !== 'category') return null;
  const c = column.categories;
  let categories: (string | number)[];
  if (c.kind === 'string' || c.kind === 'nullable-string') categories = c.values.map((v) => v ?? '');
  else if (c.kind === 'numeric') categories = Array.from(c.values as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
  else if (c.kind === 'bool') categories = Array.from(c.values, (v) => v);
  else return null;
  return { categories, ordered: column.ordered };
}

/** Row ids as Arrow int64, the type SOMA gives soma_joinid and the coordinate columns. */
export function joinidVector(ids: ArrayLike<number>): Vector {
  return makeVector(joinidsAsInt64(ids, ids.length));
}

/** Non-negative ids below 2^32 as int64 without one BigInt per value: low word set, high word 0. */
export function joinidsAsInt64(ids: ArrayLike<number>, length: number): BigInt64Array {
  const out = new BigInt64Array(length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < length; i++) words[2 * i] = ids[i]!;
  return out;
}
