// Converts a dataset's column to the unified schema: codes are remapped (never
// reinterpreted), ints widen, strings become categories. Typed arrays throughout.
import type { Column, IntDtype, NumericArray, NumericDtype } from './column-model';
import { CellarError } from '../../../shared/errors';
import { categoryValues, columnLength, type FieldSchema } from './field-schema';

export function allocNumeric(dtype: NumericDtype, n: number): NumericArray {
  switch (dtype) {
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint8':
      return new Uint8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
}

const isBig = (d: NumericDtype) => d === 'int64' || d === 'uint64';

/** Per-row value as string, or null when missing. */
export function stringAt(column: Column, i: number): string | null {
  switch (column.kind) {
    case 'string':
      return column.values[i] ?? null;
    case 'nullable-string':
      return column.mask[i] ? null : column.values[i]!;
    case 'category': {
      const c = column.codes[i]!;
      return c < 0 ? null : stringAt(column.categories, c);
    }
    case 'numeric': {
      const v = column.values[i]!;
      if (typeof v === 'number' && Number.isNaN(v)) return null;
      return column.dtype === 'float32' ? float32ToString(v as number) : String(v);
    }
    case 'bool':
      return column.values[i] ? 'True' : 'False';
    case 'nullable-int':
      return column.mask[i] ? null : String(column.values[i]);
    case 'nullable-bool':
      return column.mask[i] ? null : column.values[i] ? 'True' : 'False';
  }
}

/** Per-row numeric value; NaN when missing. */
function numberAt(column: Column, i: number): number {
  switch (column.kind) {
    case 'numeric':
      return Number(column.values[i]);
    case 'bool':
      return column.values[i]!;
    case 'nullable-int':
    case 'nullable-bool':
      return column.mask[i] ? NaN : Number(column.values[i]);
    case 'category': {
      const c = column.codes[i]!;
      return c < 0 ? NaN : numberAt(column.categories, c);
    }
    case 'string':
    case 'nullable-string': {
      const s = stringAt(column, i);
      return s === null ? NaN : Number(s);
    }
  }
}

function isMissing(column: Column, i: number): boolean {
  switch (column.kind) {
    case 'numeric':
      return typeof column.values[i] === 'number' && Number.isNaN(column.values[i]);
    case 'bool':
      return false;
    case 'category':
      return column.codes[i]! < 0;
    case 'string':
      return column.values[i] === null;
    default:
      return column.mask[i] === 1;
  }
}

/** A category column whose categories are the target's, built by value lookup. */
function toCategory(column: Column, target: FieldSchema, where: string): Column {
  const n = columnLength(column);
  const cats = target.categories ?? [];
  const numericCats = target.categoryType !== undefined && target.categoryType !== 'string';
  const lookup = new Map<string | number, number>();
  cats.forEach((v, i) => lookup.set(numericCats ? Number(v) : String(v), i));
  const codes = new Int32Array(n);
  if (column.kind === 'category') {
    // Remap through the source dictionary once, then per row by code.
    const srcCats = categoryValues(column.categories);
    const map = new Int32Array(srcCats.length);
    for (let c = 0; c < srcCats.length; c++) {
      const key = numericCats ? Number(srcCats[c]) : String(srcCats[c]);
      const to = lookup.get(key);
      if (to === undefined) throw new CellarError('internal', `${where}: category ${JSON.stringify(srcCats[c])} is missing from the unified dictionary.`);
      map[c] = to;
    }
    for (let i = 0; i < n; i++) {
      const c = column.codes[i]!;
      codes[i] = c < 0 ? -1 : map[c]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (isMissing(column, i)) {
        codes[i] = -1;
        continue;
      }
      const key = numericCats ? numberAt(column, i) : stringAt(column, i)!;
      const to = lookup.get(key);
      if (to === undefined) throw new CellarError('internal', `${where}: value ${JSON.stringify(key)} is missing from the unified dictionary.`);
      codes[i] = to;
    }
  }
  const catType = target.categoryType ?? 'string';
  const categories: Column =
    catType === 'string'
      ? { kind: 'string', values: cats.map(String) }
      : catType === 'bool'
        ? { kind: 'bool', values: Uint8Array.from(cats, (v) => (Number(v) ? 1 : 0)) }
        : { kind: 'numeric', dtype: catType, values: numericFrom(catType, cats.map(Number)) };
  return { kind: 'category', codes, categories, ordered: target.ordered ?? false };
}

function numericFrom(dtype: NumericDtype, values: number[]): NumericArray {
  const out = allocNumeric(dtype, values.length);
  if (isBig(dtype)) for (let i = 0; i < values.length; i++) (out as BigInt64Array)[i] = BigInt(values[i]!);
  else (out as Float64Array).set(values);
  return out;
}

/** Converts `column` (a dataset's) to `target` (the unified schema). */
export function convertColumn(column: Column, target: FieldSchema, where: string): Column {
  const n = columnLength(column);
  switch (target.dtype) {
    case 'category':
      return toCategory(column, target, where);
    case 'string': {
      if (column.kind === 'string') return column;
      const values: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) values[i] = stringAt(column, i);
      return { kind: 'string', values };
    }
    case 'nullable-string': {
      if (column.kind === 'nullable-string') return column;
      const values: string[] = new Array(n);
      const mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const s = stringAt(column, i);
        if (s === null) mask[i] = 1;
        values[i] = s ?? '';
      }
      return { kind: 'nullable-string', values, mask };
    }
    case 'bool': {
      if (column.kind === 'bool') return column;
      const values = new Uint8Array(n);
      for (let i = 0; i < n; i++) values[i] = numberAt(column, i) ? 1 : 0;
      return { kind: 'bool', values };
    }
    case 'nullable-bool': {
      if (column.kind === 'nullable-bool') return column;
      const values = new Uint8Array(n);
      const mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (isMissing(column, i)) mask[i] = 1;
        else values[i] = numberAt(column, i) ? 1 : 0;
      }
      return { kind: 'nullable-bool', values, mask };
    }
    case 'nullable-int': {
      const dtype: IntDtype = target.intDtype ?? 'int64';
      if (column.kind === 'nullable-int' && column.dtype === dtype) return column;
      const values = allocNumeric(dtype, n);
      const mask = new Uint8Array(n);
      copyInts(column, values, dtype, mask);
      return { kind: 'nullable-int', dtype, values, mask };
    }
    default: {
      const dtype = target.dtype as NumericDtype;
      if (column.kind === 'numeric' && column.dtype === dtype) return column;
      const values = allocNumeric(dtype, n);
      if (isBig(dtype)) copyInts(column, values, dtype, null);
      else if (column.kind === 'numeric' && !isBig(column.dtype)) (values as Float64Array).set(column.values as Float64Array);
      else for (let i = 0; i < n; i++) (values as Float64Array)[i] = numberAt(column, i);
      return { kind: 'numeric', dtype, values };
    }
  }
}

function copyInts(column: Column, out: NumericArray, dtype: IntDtype, mask: Uint8Array | null): void {
  const n = out.length;
  const big = isBig(dtype);
  const src = column.kind === 'numeric' || column.kind === 'nullable-int' ? column.values : null;
  for (let i = 0; i < n; i++) {
    if (isMissing(column, i)) {
      if (mask) mask[i] = 1;
      continue;
    }
    if (big) {
      const v = src ? src[i]! : numberAt(column, i);
      (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(v);
    } else {
      (out as Int32Array)[i] = src ? Number(src[i]) : numberAt(column, i);
    }
  }
}

/** Distinct non-missing strings of a plain-string column, in first-seen order. */
export function distinctStrings(column: Column): string[] {
  const seen = new Set<string>();
  const n = columnLength(column);
  for (let i = 0; i < n; i++) {
    const s = stringAt(column, i);
    if (s !== null) seen.add(s);
  }
  return [...seen];
}

/** Whether `ids` are strictly ascending (sorted, no repeats). */
export function isAscending(ids: Uint32Array): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i] <= ids[i - 1]) return false;
  return true;
}

/** The rows `idx` of a column, in that order. */
export function takeRows(column: Column, idx: ArrayLike<number>): Column {
  const n = idx.length;
  const takeTyped = <T extends NumericArray | Uint8Array | Int32Array>(src: T): T => {
    const out = new (src.constructor as new (n: number) => T)(n);
    for (let i = 0; i < n; i++) (out as unknown as number[])[i] = (src as unknown as number[])[idx[i]!]!;
    return out;
  };
  switch (column.kind) {
    case 'numeric':
      return { kind: 'numeric', dtype: column.dtype, values: takeTyped(column.values) };
    case 'bool':
      return { kind: 'bool', values: takeTyped(column.values) };
    case 'string':
      return { kind: 'string', values: Array.from({ length: n }, (_, i) => column.values[idx[i]!] ?? null) };
    case 'nullable-int':
      return { kind: 'nullable-int', dtype: column.dtype, values: takeTyped(column.values), mask: takeTyped(column.mask) };
    case 'nullable-bool':
      return { kind: 'nullable-bool', values: takeTyped(column.values), mask: takeTyped(column.mask) };
    case 'nullable-string':
      return { kind: 'nullable-string', values: Array.from({ length: n }, (_, i) => column.values[idx[i]!]!), mask: takeTyped(column.mask) };
    case 'category':
      return { kind: 'category', codes: takeTyped(column.codes), categories: column.categories, ordered: column.ordered };
  }
}

/** The shortest decimal that reads back as the same float32 (as numpy prints it). */
export function float32ToString(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/** A column of `n` missing values of the target type (for --fill-missing). */
export function naColumn(target: FieldSchema, n: number): Column {
  switch (target.dtype) {
    case 'float32':
      return { kind: 'numeric', dtype: 'float32', values: new Float32Array(n).fill(NaN) };
    case 'float64':
      return { kind: 'numeric', dtype: 'float64', values: new Float64Array(n).fill(NaN) };
    case 'string':
      return { kind: 'string', values: new Array<string | null>(n).fill(null) };
    case 'nullable-string':
      return { kind: 'nullable-string', values: new Array<string>(n).fill(''), mask: new Uint8Array(n).fill(1) };
    case 'nullable-bool':
      return { kind: 'nullable-bool', values: new Uint8Array(n), mask: new Uint8Array(n).fill(1) };
    case 'nullable-int':
      return { kind: 'nullable-int', dtype: target.intDtype ?? 'int64', values: allocNumeric(target.intDtype ?? 'int64', n), mask: new Uint8Array(n).fill(1) };
    case 'category':
      return convertColumn({ kind: 'string', values: new Array<string | null>(n).fill(null) }, target, 'NA');
    default:
      throw new CellarError('dtype_clash', `A ${target.dtype} column cannot hold missing values.`);
  }
}
