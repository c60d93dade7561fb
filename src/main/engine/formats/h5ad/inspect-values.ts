// What `inspect` reads of a file's values, beyond its layout: the counts of each category,
// the first rows of obs, and what X appears to hold (counts, normalised or scaled).
import type { CategoryCount, ObsPreview, XValueHint } from '../../../../shared/result-types';
import { compareNatural } from '../../../../shared/natural-sort';
import type { Column, DataFrame, NumericArray } from '../../columns/column-model';
import type { MatrixHandle } from './types';

/** Stored values of X read to judge what it holds: enough to see a pattern, cheap on any file. */
export const X_SAMPLE_SIZE = 10_000;
/** Categories listed per column; a categorical of barcodes would otherwise flood the result. */
export const MAX_LISTED_CATEGORIES = 500;
export const PREVIEW_ROWS = 20;

type Cell = string | number | boolean | null;

/**
 * Counts, normalised or scaled, from sampled values: any negative value means scaled (centred);
 * otherwise all whole numbers means counts, and anything else normalised (e.g. log1p of CP10k).
 */
export function classifyXValues(values: ArrayLike<number | bigint>): XValueHint {
  if (values.length === 0) return { kind: 'empty', sampled: 0, min: null, max: null };
  let min = Infinity;
  let max = -Infinity;
  let whole = true;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    // NaN says nothing about the scale; it is neither counted nor compared.
    if (Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (whole && !Number.isInteger(v)) whole = false;
  }
  if (min === Infinity) return { kind: 'empty', sampled: values.length, min: null, max: null };
  const kind = min < 0 ? 'scaled' : whole ? 'counts' : 'normalized';
  return { kind, sampled: values.length, min, max };
}

/** Reads the first stored values of a matrix and classifies them; null when the matrix cannot be sampled. */
export function sampleXValues(matrix: MatrixHandle | null, limit = X_SAMPLE_SIZE): XValueHint | null {
  if (!matrix?.sampleValues || matrix.dtype === 'bool') return null;
  return classifyXValues(matrix.sampleValues(limit) as NumericArray);
}

function plainValue(values: NumericArray | Uint8Array, i: number): number | string {
  const v = values[i]!;
  if (typeof v !== 'bigint') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** A category's label as it reads on screen: numbers without a trailing ".0". */
function categoryLabel(categories: Column, code: number): string {
  if (categories.kind === 'numeric') return String(plainValue(categories.values, code));
  if (categories.kind === 'string' || categories.kind === 'nullable-string') return String(categories.values[code] ?? '');
  if (categories.kind === 'bool') return categories.values[code] ? 'true' : 'false';
  return String(code);
}

/** Each category with its row count, in natural order (ordered categoricals keep their order). */
export function countCategories(column: Extract<Column, { kind: 'category' }>): { counts: CategoryCount[]; missing: number } {
  const nCategories = column.categories.kind === 'category' ? 0 : column.categories.values.length;
  const tally = new Float64Array(nCategories);
  let missing = 0;
  for (let i = 0; i < column.codes.length; i++) {
    const code = column.codes[i]!;
    if (code >= 0 && code < nCategories) tally[code]!++;
    else missing++;
  }
  const counts: CategoryCount[] = [];
  for (let code = 0; code < nCategories; code++) counts.push({ value: categoryLabel(column.categories, code), count: tally[code]! });
  if (!column.ordered) counts.sort((a, b) => compareNatural(a.value, b.value));
  return { counts: counts.slice(0, MAX_LISTED_CATEGORIES), missing };
}

function cellAt(column: Column, row: number): Cell {
  switch (column.kind) {
    case 'numeric': {
      const v = plainValue(column.values, row);
      return typeof v === 'number' && Number.isNaN(v) ? null : v;
    }
    case 'bool':
      return column.values[row] !== 0;
    case 'string':
      return column.values[row] ?? null;
    case 'nullable-int':
      return column.mask[row] ? null : plainValue(column.values, row);
    case 'nullable-bool':
      return column.mask[row] ? null : column.values[row] !== 0;
    case 'nullable-string':
      return column.mask[row] ? null : (column.values[row] ?? null);
    case 'category': {
      const code = column.codes[row]!;
      return code < 0 ? null : categoryLabel(column.categories, code);
    }
  }
}

/** The first rows of a data frame: index, then every column. */
export function previewRows(frame: DataFrame, nRows = PREVIEW_ROWS): ObsPreview {
  const n = Math.min(nRows, frame.index.length);
  const rows: Cell[][] = [];
  for (let r = 0; r < n; r++) rows.push([frame.index[r]!, ...frame.columns.map(({ column }) => cellAt(column, r))]);
  return { index_name: frame.indexName, columns: frame.columns.map((c) => c.name), rows };
}
