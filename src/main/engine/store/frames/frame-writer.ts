// Writes an obs or var dataframe: appended rows are buffered and flushed as one Arrow file
// per column (row i of a file is joinid row_start + i); whole columns can be added or replaced. The logical schema
// (dtypes, categories in code order) lives in the manifest's FrameEntry.
import { Schema } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import { columnLength } from '../../columns/field-schema';
import type { Column } from '../../columns/column-model';
import type { StoreCodec } from '../io/codecs';
import { recordBatchOf, type DataFileSet } from '../io/data-files';
import { arrowFieldFor, categoryDictionary, categoryValuesOf, columnToData } from './frame-codec';
import type { ColumnEntry, FrameEntry } from '../format/manifest';

/** Past this many categories a categorical is stored as plain strings (as tiledbsoma does). */
export const MAX_STORED_CATEGORIES = 32_767;

/** Rows of a dataframe to write: named columns of equal length (a DataFrame fits). */
export interface TableSlice {
  columns: { name: string; column: Column }[];
  /** Row count; defaults to `index.length` or the first column's length. */
  nRows?: number;
  index?: string[];
}

const FLUSH_ROWS = 262_144;
const RESERVED_NAMES = new Set(['soma_joinid']);

function sliceRows(table: TableSlice, label: string): number {
  const n = table.nRows ?? table.index?.length ?? (table.columns.length ? columnLength(table.columns[0].column) : 0);
  const seen = new Set<string>();
  for (const { name, column } of table.columns) {
    if (RESERVED_NAMES.has(name)) throw new CellarError('bad_element', `${label} column ${name} uses a name the store reserves.`);
    if (seen.has(name)) throw new CellarError('bad_element', `${label} has two columns named ${name}.`);
    seen.add(name);
    if (columnLength(column) < n) {
      throw new CellarError('shape_mismatch', `${label} column ${name} has ${columnLength(column)} values for ${n} rows.`);
    }
  }
  return n;
}

function describe(column: Column): string {
  return column.kind === 'numeric' ? column.dtype : column.kind === 'nullable-int' ? `nullable-int (${column.dtype})` : column.kind;
}

function entryFor(name: string, column: Column): ColumnEntry {
  switch (column.kind) {
    case 'numeric':
      return { name, dtype: column.dtype, pieces: [] };
    case 'nullable-int':
      return { name, dtype: 'nullable-int', intDtype: column.dtype, pieces: [] };
    case 'category': {
      const categories = categoryValuesOf(column.categories, name);
      if (categories.values.length > MAX_STORED_CATEGORIES) return { name, dtype: 'string', convertedFrom: 'category', pieces: [] };
      return { name, dtype: 'category', categories, ordered: column.ordered, pieces: [] };
    }
    default:
      return { name, dtype: column.kind, pieces: [] };
  }
}

function cloneEntry(entry: ColumnEntry): ColumnEntry {
  return {
    ...entry,
    categories: entry.categories ? { ...entry.categories, values: [...entry.categories.values] } : undefined,
    pieces: entry.pieces.map((piece) => ({ ...piece })),
  };
}

function categoryStrings(column: Extract<Column, { kind: 'category' }>, name: string): (string | null)[] {
  const values = categoryValuesOf(column.categories, name).values;
  return Array.from(column.codes, (code) => (code < 0 ? null : String(values[code])));
}

interface PendingRows {
  firstRow: number;
  nRows: number;
  columns: Map<string, Column>;
}

export class FrameWriter {
  private readonly entries: ColumnEntry[];
  private readonly categoryIndex = new Map<string, Map<string | number, number>>();
  private rows: number;
  private pending: PendingRows[] = [];
  private pendingRows = 0;

  constructor(
    /** "obs" or "ms/RNA/var": names the frame in messages and file names. */
    private readonly label: string,
    private readonly fileKind: string,
    base: FrameEntry,
    private readonly files: DataFileSet,
    private readonly codec: StoreCodec,
    private readonly level?: number,
  ) {
    this.entries = base.columns.map(cloneEntry);
    this.rows = base.nRows;
    for (const entry of this.entries) this.indexCategories(entry);
  }

  get nRows(): number {
    return this.rows;
  }

  get columnNames(): string[] {
    return this.entries.map((entry) => entry.name);
  }

  private indexCategories(entry: ColumnEntry): void {
    if (entry.dtype === 'category') this.categoryIndex.set(entry.name, new Map(entry.categories!.values.map((v, i) => [v, i])));
    else this.categoryIndex.delete(entry.name);
  }

  /** Appends rows firstRow.. (must continue the frame: firstRow = nRows). */
  appendRows(firstRow: number, table: TableSlice): void {
    const n = sliceRows(table, this.label);
    if (firstRow !== this.rows) {
      throw new CellarError('shape_mismatch', `${this.label} rows must be appended in order: expected joinid ${this.rows}, got ${firstRow}.`);
    }
    if (this.rows === 0 && this.pendingRows === 0 && this.entries.every((e) => e.pieces.length === 0)) {
      // The first rows define the schema.
      this.entries.length = 0;
      for (const { name, column } of table.columns) {
        const entry = entryFor(name, column);
        this.entries.push(entry);
        this.indexCategories(entry);
      }
    }
    const given = new Map(table.columns.map(({ name, column }) => [name, column]));
    const missing = this.entries.filter((entry) => !given.has(entry.name)).map((entry) => entry.name);
    const extra = [...given.keys()].filter((name) => !this.entries.some((entry) => entry.name === name));
    if (missing.length || extra.length) {
      const problems = [...missing.map((name) => `missing column ${name}`), ...extra.map((name) => `unknown column ${name}`)];
      throw new CellarError('shape_mismatch', `New ${this.label} rows do not match the store's columns.`, problems);
    }
    const columns = new Map<string, Column>();
    for (const entry of this.entries) columns.set(entry.name, this.conform(entry, given.get(entry.name)!, n));
    this.pending.push({ firstRow, nRows: n, columns });
    this.pendingRows += n;
    this.rows += n;
    if (this.pendingRows >= FLUSH_ROWS) this.flush();
  }

  /** Brings a new column to the entry's logical form: category codes remapped to the store's categories. */
  private conform(entry: ColumnEntry, column: Column, n: number): Column {
    if (entry.dtype === 'string' && entry.convertedFrom === 'category' && column.kind === 'category') {
      return { kind: 'string', values: categoryStrings(column, entry.name).slice(0, n) };
    }
    if (entry.dtype !== 'category') {
      const same =
        (column.kind === 'numeric' && column.dtype === entry.dtype) ||
        (column.kind === 'nullable-int' && entry.dtype === 'nullable-int' && column.dtype === entry.intDtype) ||
        (column.kind !== 'numeric' && column.kind !== 'nullable-int' && column.kind === entry.dtype);
      if (!same) {
        const storeType = entry.dtype === 'nullable-int' ? `nullable-int (${entry.intDtype})` : entry.dtype;
        throw new CellarError('dtype_clash', `${this.label} column ${entry.name} is ${storeType} in the store but ${describe(column)} in the new rows.`);
      }
      return column;
    }
    if (column.kind !== 'category') {
      throw new CellarError('dtype_clash', `${this.label} column ${entry.name} is category in the store but ${describe(column)} in the new rows.`);
    }
    const categories = entry.categories!;
    const incoming = categoryValuesOf(column.categories, entry.name);
    if (incoming.kind !== categories.kind || (incoming.kind === 'numeric' && incoming.dtype !== categories.dtype)) {
      throw new CellarError('dtype_clash', `${this.label} column ${entry.name} has ${categories.dtype ?? categories.kind} categories in the store but ${incoming.dtype ?? incoming.kind} in the new rows.`);
    }
    if (column.ordered !== (entry.ordered ?? false)) {
      throw new CellarError('dtype_clash', `${this.label} column ${entry.name} is ${entry.ordered ? '' : 'un'}ordered in the store but not in the new rows.`);
    }
    const index = this.categoryIndex.get(entry.name)!;
    const remap = new Int32Array(incoming.values.length);
    let identity = true;
    for (let i = 0; i < incoming.values.length; i++) {
      let code = index.get(incoming.values[i]);
      if (code === undefined) {
        if (entry.ordered) {
          throw new CellarError('dtype_clash', `${this.label} column ${entry.name} is an ordered categorical whose categories differ from the store's.`);
        }
        code = categories.values.length;
        categories.values.push(incoming.values[i]);
        index.set(incoming.values[i], code);
      }
      remap[i] = code;
      if (code !== i) identity = false;
    }
    const codes = identity ? column.codes.slice(0, n) : new Int32Array(n);
    if (!identity) {
      for (let i = 0; i < n; i++) {
        const code = column.codes[i];
        codes[i] = code < 0 ? -1 : remap[code];
      }
    }
    const conformed: Column = { kind: 'category', codes, categories: column.categories, ordered: column.ordered };
    if (categories.values.length > MAX_STORED_CATEGORIES) return this.convertToStrings(entry, conformed);
    return conformed;
  }

  /** A categorical that outgrew the limit becomes plain strings, buffered rows included. */
  private convertToStrings(entry: ColumnEntry, current: Extract<Column, { kind: 'category' }>): Column {
    const values = entry.categories!.values;
    const toStrings = (codes: Int32Array): Column => ({
      kind: 'string',
      values: Array.from(codes, (code) => (code < 0 ? null : String(values[code]))),
    });
    for (const batch of this.pending) {
      const column = batch.columns.get(entry.name);
      if (column?.kind === 'category') batch.columns.set(entry.name, toStrings(column.codes));
    }
    entry.dtype = 'string';
    entry.convertedFrom = 'category';
    delete entry.categories;
    delete entry.ordered;
    this.indexCategories(entry);
    return toStrings(current.codes);
  }

  /** Adds or replaces whole columns (every row, including rows appended in this write). */
  setColumns(table: TableSlice): void {
    const n = sliceRows(table, this.label);
    if (n !== this.rows) {
      throw new CellarError('shape_mismatch', `New ${this.label} columns have ${n} rows; the store has ${this.rows}.`);
    }
    if (table.columns.length === 0) return;
    this.flush();
    const fresh = table.columns.map(({ name, column }) => ({ entry: entryFor(name, column), column }));
    for (const { entry, column } of fresh) {
      const file = this.writeColumnFile(entry, [{ firstRow: 0, nRows: n, columns: new Map([[entry.name, column]]) }]);
      entry.pieces = [{ file, rowStart: 0, nRows: n }];
      const at = this.entries.findIndex((existing) => existing.name === entry.name);
      if (at >= 0) this.entries[at] = entry;
      else this.entries.push(entry);
      this.indexCategories(entry);
    }
  }

  dropColumns(names: string[]): void {
    for (const name of names) {
      const at = this.entries.findIndex((entry) => entry.name === name);
      if (at < 0) throw new CellarError('unknown_column', `${this.label} has no column ${name}.`);
      for (const batch of this.pending) batch.columns.delete(name);
      this.entries.splice(at, 1);
      this.categoryIndex.delete(name);
    }
  }

  /** Writes buffered rows: one file per column, so reading one column never decodes another. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    const first = batches[0].firstRow;
    const total = batches.reduce((sum, batch) => sum + batch.nRows, 0);
    for (const entry of this.entries) {
      const file = this.writeColumnFile(entry, batches);
      entry.pieces.push({ file, rowStart: first, nRows: total });
    }
  }

  /** A file holding one column for the rows of `batches` (consecutive, one record batch each). */
  private writeColumnFile(entry: ColumnEntry, batches: PendingRows[]): string {
    const first = batches[0].firstRow;
    // Row i of the file is obs/var joinid row_start + i (the manifest says the same).
    const schema = new Schema([arrowFieldFor(entry, 0)], new Map([['cellar.row_start', String(first)]]));
    const dictionary = entry.dtype === 'category' ? categoryDictionary(entry.categories!) : undefined;
    const records = batches.map((batch) =>
      recordBatchOf(schema, [columnToData(entry, batch.columns.get(entry.name)!, batch.nRows, dictionary)], batch.nRows),
    );
    return this.files.writeArrowFile(this.fileKind, this.codec, this.level, records).name;
  }

  finish(): FrameEntry {
    this.flush();
    return { nRows: this.rows, columns: this.entries.map(cloneEntry) };
  }
}

