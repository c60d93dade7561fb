// Column schemas: what a column of a dataset is (its dtype, categories) and how the
// columns of several datasets unify into one. Pure functions over the Column model.
import { columnDtype, isFloatDtype, isIntDtype, type Column, type ColumnDtype, type IntDtype, type NumericDtype } from './column-model';

/** Past this many distinct values a string column is stored plain (as tiledbsoma does). */
export const MAX_CATEGORIES = 32_767;

export interface FieldSchema {
  name: string;
  dtype: ColumnDtype;
  /** For dtype 'category': the category values and their type. */
  categories?: (string | number)[];
  categoryType?: 'string' | NumericDtype | 'bool';
  ordered?: boolean;
  /** For 'nullable-int': the integer width. */
  intDtype?: IntDtype;
  /** True when every value is missing (all-NaN floats, all −1 codes, all masked). */
  allMissing?: boolean;
}

export function columnLength(column: Column): number {
  return column.kind === 'category' ? column.codes.length : column.values.length;
}

/** Category values as JS values (strings, numbers or booleans). */
export function categoryValues(column: Column): (string | number)[] {
  switch (column.kind) {
    case 'string':
      return column.values.map((v) => v ?? '');
    case 'nullable-string':
      return column.values;
    case 'numeric':
      return Array.from(column.values as ArrayLike<number | bigint>, (v) => Number(v));
    case 'bool':
      return Array.from(column.values, (v) => (v ? 1 : 0));
    default:
      return [];
  }
}

export function isMissingEverywhere(column: Column): boolean {
  const n = columnLength(column);
  if (n === 0) return false;
  switch (column.kind) {
    case 'numeric':
      if (column.dtype !== 'float32' && column.dtype !== 'float64') return false;
      for (let i = 0; i < n; i++) if (!Number.isNaN(column.values[i] as number)) return false;
      return true;
    case 'category':
      for (let i = 0; i < n; i++) if (column.codes[i]! >= 0) return false;
      return true;
    case 'string':
      return column.values.every((v) => v === null);
    case 'nullable-int':
    case 'nullable-bool':
    case 'nullable-string':
      for (let i = 0; i < n; i++) if (!column.mask[i]) return false;
      return true;
    default:
      return false;
  }
}

export function fieldOf(name: string, column: Column): FieldSchema {
  const field: FieldSchema = { name, dtype: columnDtype(column) };
  if (column.kind === 'category') {
    field.categories = categoryValues(column.categories);
    field.categoryType = column.categories.kind === 'numeric' ? column.categories.dtype : column.categories.kind === 'bool' ? 'bool' : 'string';
    field.ordered = column.ordered;
  }
  if (column.kind === 'nullable-int') field.intDtype = column.dtype;
  if (isMissingEverywhere(column)) field.allMissing = true;
  return field;
}

export function describeField(f: FieldSchema): string {
  if (f.dtype === 'category') return `category${f.ordered ? ' (ordered)' : ''} of ${f.categoryType ?? 'string'}`;
  if (f.dtype === 'nullable-int') return `nullable-int (${f.intDtype ?? 'int64'})`;
  return f.dtype;
}

const INT_ORDER: IntDtype[] = ['int8', 'int16', 'int32', 'int64'];
const BITS: Record<IntDtype, number> = { int8: 8, int16: 16, int32: 32, int64: 64, uint8: 8, uint16: 16, uint32: 32, uint64: 64 };

/** The narrowest integer dtype holding both; mixing signed and uint64 overflows to float64. */
export function widenInts(a: IntDtype, b: IntDtype): IntDtype | 'float64' {
  const aSigned = a.startsWith('int');
  const bSigned = b.startsWith('int');
  if (aSigned === bSigned) return BITS[a] >= BITS[b] ? a : b;
  const [signed, unsigned] = aSigned ? [a, b] : [b, a];
  const need = Math.max(BITS[signed], BITS[unsigned] * 2);
  if (need > 64) return 'float64';
  return INT_ORDER.find((d) => BITS[d] >= need)!;
}

function isStringLike(f: FieldSchema): boolean {
  return f.dtype === 'string' || f.dtype === 'nullable-string' || (f.dtype === 'category' && (f.categoryType ?? 'string') === 'string');
}

function isNumericLike(f: FieldSchema): boolean {
  return isIntDtype(f.dtype) || isFloatDtype(f.dtype) || f.dtype === 'nullable-int' || f.dtype === 'bool' || f.dtype === 'nullable-bool';
}

export interface UnifyResult {
  field: FieldSchema;
  /** Human-readable notes on conversions, e.g. "int32 in a.h5ad, float32 in b.h5ad → float64". */
  conversions: string[];
  problems: string[];
}

/**
 * Unifies one column across datasets (SPEC §4 "Concatenation"): unordered categories
 * union in first-seen order, ordered ones must match, all-missing columns take the
 * others' type, strings and categoricals give a categorical (plain strings past
 * MAX_CATEGORIES distinct values), int/float mixes widen to float.
 * `distinctStrings` gives the distinct string values of plain-string columns when known.
 */
export function unifyFields(name: string, fields: { label: string; field: FieldSchema; distinctStrings?: () => Iterable<string> }[]): UnifyResult {
  const conversions: string[] = [];
  const problems: string[] = [];
  const informative = fields.filter((f) => !f.field.allMissing);
  const pool = informative.length ? informative : fields;
  const dtypes = new Set(pool.map((f) => describeField(f.field)));
  const summary = () => fields.map((f) => `${describeField(f.field)} in ${f.label}`).join(', ');

  let field: FieldSchema;
  if (pool.every((f) => isStringLike(f.field))) {
    field = unifyStringLike(name, pool, problems);
  } else if (pool.every((f) => f.field.dtype === 'category')) {
    field = unifyCategoricals(name, pool, problems);
  } else if (pool.every((f) => isNumericLike(f.field))) {
    field = unifyNumeric(name, pool.map((f) => f.field));
  } else {
    // Strings mixed with numbers: keep every value, as text.
    field = { name, dtype: 'string' };
    if (pool.some((f) => f.field.dtype === 'category')) {
      const stringPool = pool.map((f) => ({ ...f, field: toStringField(f.field) }));
      field = unifyStringLike(name, stringPool, problems);
    }
  }
  field = { ...field, name };
  delete field.allMissing;
  // An all-missing column must stay missing: ints widen to float (NaN) as pandas does, bools become nullable.
  if (informative.length < fields.length && informative.length > 0) {
    if (isIntDtype(field.dtype)) field = { name, dtype: 'float64' };
    else if (field.dtype === 'bool') field = { name, dtype: 'nullable-bool' };
  }
  const differs = fields.some((f) => describeField(f.field) !== describeField(field) || (f.field.dtype === 'category' && !sameCategories(f.field, field)));
  if (dtypes.size > 1 || fields.some((f) => f.field.allMissing && describeField(f.field) !== describeField(field))) {
    conversions.push(`${name}: ${summary()} → ${describeField(field)}`);
  } else if (differs && field.dtype !== 'category') {
    conversions.push(`${name}: ${summary()} → ${describeField(field)}`);
  }
  return { field, conversions, problems };
}

function sameCategories(a: FieldSchema, b: FieldSchema): boolean {
  const x = a.categories ?? [];
  const y = b.categories ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function toStringField(f: FieldSchema): FieldSchema {
  if (f.dtype === 'category') return { ...f, categoryType: 'string', categories: (f.categories ?? []).map((v) => String(v)) };
  return { ...f, dtype: 'string' };
}

function unifyStringLike(name: string, pool: { label: string; field: FieldSchema; distinctStrings?: () => Iterable<string> }[], problems: string[]): FieldSchema {
  const ordered = pool.filter((f) => f.field.dtype === 'category' && f.field.ordered);
  if (ordered.length) {
    const first = ordered[0]!.field;
    for (const f of pool) {
      if (f.field.dtype !== 'category' || !f.field.ordered || !sameCategories(f.field, first)) {
        problems.push(`obs column "${name}" is an ordered categorical whose categories differ between datasets (${pool.map((p) => p.label).join(', ')}); ordered categories must match.`);
        break;
      }
    }
    return { name, dtype: 'category', categoryType: 'string', ordered: true, categories: [...(first.categories ?? [])].map(String) };
  }
  const anyCategorical = pool.some((f) => f.field.dtype === 'category');
  if (!anyCategorical) {
    const nullable = pool.some((f) => f.field.dtype === 'nullable-string');
    return { name, dtype: nullable ? 'nullable-string' : 'string' };
  }
  const seen = new Set<string>();
  const categories: string[] = [];
  for (const f of pool) {
    const values: Iterable<string> = f.field.dtype === 'category' ? (f.field.categories ?? []).map(String) : (f.distinctStrings?.() ?? []);
    for (const v of values) {
      if (!seen.has(v)) {
        seen.add(v);
        categories.push(v);
      }
    }
  }
  if (categories.length > MAX_CATEGORIES) return { name, dtype: 'string' };
  return { name, dtype: 'category', categoryType: 'string', ordered: false, categories };
}

function unifyCategoricals(name: string, pool: { label: string; field: FieldSchema }[], problems: string[]): FieldSchema {
  // Numeric (or bool) categories everywhere.
  const types = new Set(pool.map((f) => f.field.categoryType));
  const ordered = pool.some((f) => f.field.ordered);
  const first = pool[0]!.field;
  if (ordered) {
    if (!pool.every((f) => f.field.ordered && sameCategories(f.field, first))) {
      problems.push(`obs column "${name}" is an ordered categorical whose categories differ between datasets (${pool.map((p) => p.label).join(', ')}); ordered categories must match.`);
    }
    return { ...first, name };
  }
  let categoryType = first.categoryType ?? 'float64';
  for (const t of types) if (t && t !== categoryType) categoryType = unifyNumeric('', [{ name: '', dtype: categoryType as ColumnDtype }, { name: '', dtype: t as ColumnDtype }]).dtype as NumericDtype;
  const seen = new Set<number | string>();
  const categories: (number | string)[] = [];
  for (const f of pool) {
    for (const v of f.field.categories ?? []) {
      if (seen.has(v)) continue;
      seen.add(v);
      categories.push(v);
    }
  }
  return { name, dtype: 'category', categoryType, ordered: false, categories };
}

function unifyNumeric(name: string, fields: FieldSchema[]): FieldSchema {
  const anyNullable = fields.some((f) => f.dtype === 'nullable-int' || f.dtype === 'nullable-bool');
  if (fields.every((f) => f.dtype === 'bool' || f.dtype === 'nullable-bool')) {
    return { name, dtype: anyNullable ? 'nullable-bool' : 'bool' };
  }
  let floatBits = 0;
  let int: IntDtype | null = null;
  let intToFloat = false;
  for (const f of fields) {
    const d = f.dtype === 'nullable-int' ? (f.intDtype ?? 'int64') : f.dtype === 'bool' || f.dtype === 'nullable-bool' ? 'uint8' : f.dtype;
    if (isFloatDtype(d)) floatBits = Math.max(floatBits, d === 'float32' ? 32 : 64);
    else if (isIntDtype(d)) {
      const w: IntDtype | 'float64' = int ? widenInts(int, d) : d;
      if (w === 'float64') intToFloat = true;
      else int = w;
    }
  }
  if (floatBits || intToFloat) {
    // float32 holds ints exactly only up to 16 bits; wider ints need float64.
    const needs64 = floatBits === 64 || intToFloat || (int !== null && BITS[int] > 16);
    return { name, dtype: needs64 ? 'float64' : 'float32' };
  }
  if (anyNullable) return { name, dtype: 'nullable-int', intDtype: int ?? 'int64' };
  return { name, dtype: int ?? 'int64' };
}
