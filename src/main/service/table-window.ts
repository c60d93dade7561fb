// The Store screen's tables: a window of a filtered obs or var frame, optionally sorted by one
// column over all the rows the filter keeps, and one column summarised over those rows.
import { tableToIPC } from 'apache-arrow';
import { CellarError } from '../../shared/errors';
import type { CategoryCount, ColumnStats, TableSort, TableWindow } from '../../shared/contract';
import { compareNatural, isMissing, sortOrder, type CellValue } from '../../shared/natural-sort';
import { frameToArrow } from '../engine/columns/arrow-frame';
import { stringAt, takeRows } from '../engine/columns/conversions';
import type { Column, DataFrame } from '../engine/columns/column-model';

/** The store's own row id, shown (when asked for) beside the id column. */
export const JOINID_COLUMN = 'soma_joinid';
const MAX_WINDOW_ROWS = 5_000;
const MAX_LISTED = 500;
const TOP_STRINGS = 10;

function numberAt(values: ArrayLike<number | bigint>, i: number): number {
  return Number(values[i]);
}

/** Every value of a column as plain JS values (NA as null), for ordering and counting. */
function columnValues(column: Column): CellValue[] {
  const n = column.kind === 'category' ? column.codes.length : column.values.length;
  const out = new Array<CellValue>(n);
  for (let i = 0; i < n; i++) {
    switch (column.kind) {
      case 'numeric':
        out[i] = numberAt(column.values, i);
        break;
      case 'bool':
        out[i] = column.values[i] === 1;
        break;
      case 'nullable-int':
        out[i] = column.mask[i] ? null : numberAt(column.values, i);
        break;
      case 'nullable-bool':
        out[i] = column.mask[i] ? null : column.values[i] === 1;
        break;
      case 'category':
        if (column.categories.kind === 'numeric') {
          const code = column.codes[i]!;
          out[i] = code < 0 ? null : numberAt(column.categories.values, code);
        } else out[i] = stringAt(column, i);
        break;
      default:
        out[i] = stringAt(column, i);
    }
  }
  return out;
}

/** The values of a named column of the window's frame: the id column, the joinids or a data column. */
function valuesNamed(frame: DataFrame, joinids: Uint32Array, idColumn: string, name: string): CellValue[] {
  if (name === idColumn) return frame.index;
  if (name === JOINID_COLUMN) return Array.from(joinids);
  const found = frame.columns.find((c) => c.name === name);
  if (!found) throw new CellarError('usage', `There is no column "${name}" to sort by; the columns are ${[idColumn, JOINID_COLUMN, ...frame.columns.map((c) => c.name)].join(', ')}.`);
  return columnValues(found.column);
}

/** Rows [offset, offset + limit) of the frame, in the asked order, as Arrow IPC: id, soma_joinid, then the columns. */
export function tableWindow(frame: DataFrame, joinids: Uint32Array, idColumn: string, request: { offset: number; limit: number } & TableSort): TableWindow {
  const total = frame.index.length;
  const start = Math.max(0, Math.min(Math.floor(request.offset), total));
  const end = Math.min(total, start + Math.max(0, Math.min(Math.floor(request.limit), MAX_WINDOW_ROWS)));
  let rows: Uint32Array;
  if (request.sortColumn) rows = sortOrder(valuesNamed(frame, joinids, idColumn, request.sortColumn), !!request.sortDescending).slice(start, end);
  else rows = new Uint32Array(end - start).map((_, i) => start + i);
  const slice: DataFrame = {
    indexName: frame.indexName,
    index: Array.from(rows, (r) => frame.index[r]!),
    columns: [{ name: JOINID_COLUMN, column: { kind: 'numeric', dtype: 'uint32', values: Uint32Array.from(rows, (r) => joinids[r]!) } }, ...frame.columns.map((c) => ({ name: c.name, column: takeRows(c.column, rows) }))],
  };
  return { total, offset: start, arrow: tableToIPC(frameToArrow(slice, idColumn), 'stream') };
}

function tally(values: CellValue[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) if (!isMissing(v)) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return counts;
}

function median(sorted: Float64Array): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const mid = n >> 1;
  return n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One column over the frame's rows: categories with counts, min/median/max, true/false, or distinct text. */
export function columnStats(frame: DataFrame, joinids: Uint32Array, idColumn: string, name: string): ColumnStats {
  const n = frame.index.length;
  const found = frame.columns.find((c) => c.name === name);
  const values = valuesNamed(frame, joinids, idColumn, name);
  const missing = values.reduce<number>((sum, v) => sum + (isMissing(v) ? 1 : 0), 0);
  const base = { name, n, n_missing: missing };
  const column = found?.column;
  if (column?.kind === 'category') {
    const counts = tally(values);
    // Categories no kept row holds still count (as 0): they are part of the column's levels.
    const labels = column.categories.kind === 'category' ? [] : columnValues(column.categories).map(String);
    const entries: CategoryCount[] = labels.map((value) => ({ value, count: counts.get(value) ?? 0 }));
    if (!column.ordered) entries.sort((a, b) => compareNatural(a.value, b.value));
    return { ...base, kind: 'category', n_categories: labels.length, categories: entries.slice(0, MAX_LISTED) };
  }
  if (column?.kind === 'bool' || column?.kind === 'nullable-bool') {
    const nTrue = values.filter((v) => v === true).length;
    return { ...base, kind: 'bool', n_true: nTrue, n_false: n - missing - nTrue };
  }
  if (name === JOINID_COLUMN || column?.kind === 'numeric' || column?.kind === 'nullable-int') {
    const present = Float64Array.from(values.filter((v) => !isMissing(v)) as number[]).sort();
    return { ...base, kind: 'numeric', min: present.length ? present[0]! : null, median: median(present), max: present.length ? present[present.length - 1]! : null };
  }
  const counts = tally(values);
  const top = [...counts]
    .sort((a, b) => b[1] - a[1] || compareNatural(a[0], b[0]))
    .slice(0, TOP_STRINGS)
    .map(([value, count]) => ({ value, count }));
  return { ...base, kind: 'string', n_distinct: counts.size, top };
}
