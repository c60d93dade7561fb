// Writers for the in-memory h5ad elements: dataframes, their columns, dense
// arrays and uns. Each encoding is one entry of a table keyed by what is
// written, mirroring the reader's registry.
import { CellarError, isDiskFull } from '../../../../../shared/errors';
import { columnLength } from '../../../columns/field-schema';
import { h5ErrorReason } from '../h5';
import type { Column, DataFrame, IntDtype, NumericArray } from '../../../columns/column-model';
import type { UnsValue } from '../types';
import { dtypeOf, toDtype, type ArrayDtype, type H5Sink, type RecordField } from './h5-output';
import { NeedsHdf5Library } from './hdf5-file';

export interface ElementOptions {
  /**
   * How string columns with missing values are stored: 'categorical' (missing =
   * code −1; read by every anndata ≥ 0.7) or 'nullable-string-array' (exact,
   * but only anndata ≥ 0.11 reads it).
   */
  nullableStrings: 'categorical' | 'nullable-string-array';
}

export interface WriteContext {
  out: H5Sink;
  options: ElementOptions;
  /** Streams a sparse matrix (uns entries that are matrices). */
  writeMatrix(path: string, matrix: UnsMatrix): Promise<void>;
}

type UnsMatrix = Extract<UnsValue, { kind: 'matrix' }>['handle'];

/** "/obs/cell_type" → "obs/cell_type", as element paths appear in messages. */
export function displayPath(path: string): string {
  return path.replace(/^\/+/, '');
}

/** Runs one element's write, turning low-level failures into a message that names the element. */
export function writing<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw asWriteError(path, err);
  }
}

/** `writing` for a write that completes later. */
export async function writingAsync<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw asWriteError(path, err);
  }
}

function asWriteError(path: string, err: unknown): Error {
  if (err instanceof CellarError || err instanceof NeedsHdf5Library || isDiskFull(err)) return err as Error;
  return new CellarError('io_error', `Could not write ${displayPath(path)}: ${h5ErrorReason(err)}`);
}

export function tagEncoding(out: H5Sink, path: string, type: string, version: string): void {
  out.stringAttribute(path, 'encoding-type', type);
  out.stringAttribute(path, 'encoding-version', version);
}

/** Names become HDF5 link names: they must be non-empty and cannot contain '/'. */
export function checkName(parent: string, name: string): void {
  if (name === '' || name.includes('/') || name === '.') {
    throw new CellarError('bad_element', `Cannot write ${displayPath(parent)}/${name}: element names cannot be empty or "." or contain "/".`);
  }
}

// ---------------------------------------------------------------- columns

/** Integer width pandas gives categorical codes for this many categories. */
export function codesDtype(nCategories: number): IntDtype {
  if (nCategories < 127) return 'int8';
  if (nCategories < 32767) return 'int16';
  if (nCategories < 2147483647) return 'int32';
  return 'int64';
}

/** 0/1 bytes: HDF5 boolean enums only define those two values. */
function asBoolBytes(values: Uint8Array): Uint8Array {
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 1) return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
  return values;
}

function writeStringArray(ctx: WriteContext, path: string, values: readonly string[], shape?: number[]): void {
  ctx.out.strings(path, values, shape);
  tagEncoding(ctx.out, path, 'string-array', '0.2.0');
}

function writeArray(ctx: WriteContext, path: string, values: NumericArray, dtype: ArrayDtype, shape?: number[]): void {
  ctx.out.array(path, dtype === 'bool' ? asBoolBytes(values as Uint8Array) : values, dtype, shape);
  tagEncoding(ctx.out, path, 'array', '0.2.0');
}

function writeCategorical(ctx: WriteContext, path: string, codes: Int32Array, categories: Column, ordered: boolean): void {
  const nCategories = columnLength(categories);
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] < -1 || codes[i] >= nCategories) {
      throw new CellarError('bad_element', `Cannot write ${displayPath(path)}: category code ${codes[i]} at row ${i} is out of range (${nCategories} categories).`);
    }
  }
  if (categories.kind !== 'string' && categories.kind !== 'numeric' && categories.kind !== 'bool') {
    throw new CellarError('bad_element', `Cannot write ${displayPath(path)}: categories must be strings, numbers or booleans, not ${categories.kind}.`);
  }
  if (categories.kind === 'string' && categories.values.some((v) => v === null)) {
    throw new CellarError('bad_element', `Cannot write ${displayPath(path)}: a category cannot be missing.`);
  }
  ctx.out.group(path);
  tagEncoding(ctx.out, path, 'categorical', '0.2.0');
  ctx.out.boolAttribute(path, 'ordered', ordered);
  ctx.out.array(`${path}/codes`, toDtype(codes, codesDtype(nCategories)), codesDtype(nCategories));
  tagEncoding(ctx.out, `${path}/codes`, 'array', '0.2.0');
  writeColumn(ctx, `${path}/categories`, categories);
}

/** Strings with missing entries as a categorical: sorted distinct values, −1 where missing. */
function writeStringsAsCategorical(ctx: WriteContext, path: string, values: readonly (string | null)[], isMissing: (i: number) => boolean): void {
  const distinct = new Set<string>();
  values.forEach((v, i) => {
    if (!isMissing(i)) distinct.add(v as string);
  });
  const categories = [...distinct].sort();
  const codeOf = new Map(categories.map((c, i) => [c, i]));
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => {
    codes[i] = isMissing(i) ? -1 : codeOf.get(v as string)!;
  });
  writeCategorical(ctx, path, codes, { kind: 'string', values: categories }, false);
}

function writeNullableStrings(ctx: WriteContext, path: string, values: readonly (string | null)[], mask: Uint8Array): void {
  if (ctx.options.nullableStrings === 'categorical') {
    return writeStringsAsCategorical(ctx, path, values, (i) => mask[i] !== 0 || values[i] === null);
  }
  ctx.out.group(path);
  tagEncoding(ctx.out, path, 'nullable-string-array', '0.1.0');
  ctx.out.stringAttribute(path, 'na-value', 'NA');
  const maskBytes = Uint8Array.from(values, (v, i) => (mask[i] || v === null ? 1 : 0));
  ctx.out.strings(`${path}/values`, values.map((v, i) => (maskBytes[i] ? '' : (v as string))));
  ctx.out.array(`${path}/mask`, maskBytes, 'bool');
}

function writeNullableGroup(ctx: WriteContext, path: string, encoding: string, values: NumericArray, dtype: ArrayDtype, mask: Uint8Array): void {
  ctx.out.group(path);
  tagEncoding(ctx.out, path, encoding, '0.1.0');
  ctx.out.array(`${path}/values`, dtype === 'bool' ? asBoolBytes(values as Uint8Array) : values, dtype);
  ctx.out.array(`${path}/mask`, asBoolBytes(mask), 'bool');
}

type ColumnWriter<K extends Column['kind']> = (ctx: WriteContext, path: string, column: Extract<Column, { kind: K }>) => void;

const COLUMN_WRITERS: { [K in Column['kind']]: ColumnWriter<K> } = {
  numeric: (ctx, path, c) => writeArray(ctx, path, toDtype(c.values, c.dtype), c.dtype),
  bool: (ctx, path, c) => writeArray(ctx, path, c.values, 'bool'),
  string: (ctx, path, c) =>
    c.values.includes(null)
      ? writeNullableStrings(ctx, path, c.values, new Uint8Array(c.values.length))
      : writeStringArray(ctx, path, c.values as string[]),
  'nullable-int': (ctx, path, c) => writeNullableGroup(ctx, path, 'nullable-integer', toDtype(c.values, c.dtype), c.dtype, c.mask),
  'nullable-bool': (ctx, path, c) => writeNullableGroup(ctx, path, 'nullable-boolean', c.values, 'bool', c.mask),
  'nullable-string': (ctx, path, c) => writeNullableStrings(ctx, path, c.values, c.mask),
  category: (ctx, path, c) => writeCategorical(ctx, path, c.codes, c.categories, c.ordered),
};

export function writeColumn(ctx: WriteContext, path: string, column: Column): void {
  const writer = COLUMN_WRITERS[column.kind] as ColumnWriter<Column['kind']> | undefined;
  if (!writer) throw new CellarError('bad_element', `Cannot write ${displayPath(path)}: unknown column kind "${column.kind}".`);
  writing(path, () => writer(ctx, path, column as never));
}

function checkColumnShape(path: string, column: Column, rows: number): void {
  const length = columnLength(column);
  const masks = column.kind === 'nullable-int' || column.kind === 'nullable-bool' || column.kind === 'nullable-string' ? [column.mask.length] : [];
  if (length !== rows || masks.some((m) => m !== rows)) {
    throw new CellarError('shape_mismatch', `Cannot write ${displayPath(path)}: it has ${length} values but the table has ${rows} rows.`);
  }
}

// ---------------------------------------------------------------- dataframes

export function writeDataFrame(ctx: WriteContext, path: string, frame: DataFrame): void {
  const rows = frame.index.length;
  checkName(path, frame.indexName);
  const names = new Set<string>();
  for (const { name, column } of frame.columns) {
    checkName(path, name);
    if (name === frame.indexName || names.has(name)) {
      throw new CellarError('bad_element', `Cannot write ${displayPath(path)}: column name "${name}" is used twice (or is the index name).`);
    }
    names.add(name);
    checkColumnShape(`${path}/${name}`, column, rows);
  }
  writing(path, () => {
    ctx.out.group(path);
    tagEncoding(ctx.out, path, 'dataframe', '0.2.0');
    ctx.out.stringAttribute(path, '_index', frame.indexName);
    ctx.out.stringArrayAttribute(path, 'column-order', frame.columns.map((c) => c.name));
    writeStringArray(ctx, `${path}/${frame.indexName}`, frame.index);
  });
  for (const { name, column } of frame.columns) writeColumn(ctx, `${path}/${name}`, column);
}

export function writeDictGroup(ctx: WriteContext, path: string): void {
  writing(path, () => {
    ctx.out.group(path);
    tagEncoding(ctx.out, path, 'dict', '0.1.0');
  });
}

/** A dense n × k array (obsm / varm entries). */
export function writeDense(ctx: WriteContext, path: string, shape: number[], values: NumericArray): void {
  if (shape.reduce((a, b) => a * b, 1) !== values.length) {
    throw new CellarError('shape_mismatch', `Cannot write ${displayPath(path)}: ${values.length} values do not fill shape ${shape.join(' × ')}.`);
  }
  writing(path, () => writeArray(ctx, path, values, dtypeOf(values), shape));
}

// ---------------------------------------------------------------- uns

type UnsKind =
  | 'null'
  | 'string'
  | 'number'
  | 'bigint'
  | 'boolean'
  | 'typed'
  | 'strings'
  | 'dataframe'
  | 'matrix'
  | 'dense'
  | 'recarray'
  | 'column'
  | 'skipped'
  | 'dict';

function unsKind(value: UnsValue): UnsKind {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'boolean') return 'boolean';
  if (ArrayBuffer.isView(value)) return 'typed';
  if (Array.isArray(value)) return 'strings';
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'dataframe' && 'frame' in value) return 'dataframe';
  if (kind === 'matrix' && 'handle' in value) return 'matrix';
  if (kind === 'dense' && 'shape' in value && 'values' in value) return 'dense';
  if (kind === 'recarray' && 'fields' in value) return 'recarray';
  if (kind === 'column' && 'column' in value) return 'column';
  if (kind === 'skipped' && 'encoding' in value) return 'skipped';
  return 'dict';
}

function writeScalar(ctx: WriteContext, path: string, values: NumericArray, dtype: ArrayDtype): void {
  ctx.out.array(path, values, dtype, []);
  tagEncoding(ctx.out, path, 'numeric-scalar', '0.2.0');
}

type UnsWriter = (ctx: WriteContext, path: string, value: never) => void | Promise<void>;

const UNS_WRITERS: Record<UnsKind, UnsWriter> = {
  // anndata writes nothing for None (and h5wasm cannot make the empty dataspace of the `null` encoding).
  null: () => {},
  skipped: () => {},
  string: (ctx, path, value: string) => {
    ctx.out.strings(path, [value], []);
    tagEncoding(ctx.out, path, 'string', '0.2.0');
  },
  number: (ctx, path, value: number) =>
    Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER
      ? writeScalar(ctx, path, BigInt64Array.of(BigInt(value)), 'int64')
      : writeScalar(ctx, path, Float64Array.of(value), 'float64'),
  bigint: (ctx, path, value: bigint) =>
    value >= 2n ** 63n ? writeScalar(ctx, path, BigUint64Array.of(value), 'uint64') : writeScalar(ctx, path, BigInt64Array.of(value), 'int64'),
  boolean: (ctx, path, value: boolean) => writeScalar(ctx, path, Uint8Array.of(value ? 1 : 0), 'bool'),
  typed: (ctx, path, value: NumericArray) => writeArray(ctx, path, value, dtypeOf(value)),
  // uns string arrays have no missing-value encoding anndata 0.8 reads: a missing entry becomes ''.
  strings: (ctx, path, value: (string | null)[]) => writeStringArray(ctx, path, value.map((v) => v ?? '')),
  dataframe: (ctx, path, value: { frame: DataFrame }) => writeDataFrame(ctx, path, value.frame),
  matrix: (ctx, path, value: { handle: UnsMatrix }) => ctx.writeMatrix(path, value.handle),
  dense: (ctx, path, value: { shape: number[]; values: NumericArray | (string | null)[] }) => {
    if (Array.isArray(value.values)) writeStringArray(ctx, path, value.values.map((v) => v ?? ''), value.shape);
    else writeDense(ctx, path, value.shape, value.values);
  },
  recarray: (ctx, path, value: { fields: { name: string; column: Column }[] }) => writeRecArray(ctx, path, value.fields),
  column: (ctx, path, value: { column: Column }) => writeColumn(ctx, path, value.column),
  dict: (ctx, path, value: { [key: string]: UnsValue }) => writeUnsDict(ctx, path, value),
};

export async function writeUnsValue(ctx: WriteContext, path: string, value: UnsValue): Promise<void> {
  const writer = UNS_WRITERS[unsKind(value)];
  try {
    await writer(ctx, path, value as never);
  } catch (err) {
    throw asWriteError(path, err);
  }
}

export async function writeUnsDict(ctx: WriteContext, path: string, dict: { [key: string]: UnsValue }): Promise<void> {
  writeDictGroup(ctx, path);
  for (const [key, value] of Object.entries(dict)) {
    checkName(path, key);
    await writeUnsValue(ctx, `${path}/${key}`, value);
  }
}

// ---------------------------------------------------------------- rec-arrays

/**
 * A compound dataset (e.g. scanpy's rank_genes_groups). Numeric fields keep
 * their dtype, string fields are vlen UTF-8 (as anndata writes them), boolean
 * fields are stored as uint8 (h5wasm cannot put the boolean stand-in inside a compound).
 */
function writeRecArray(ctx: WriteContext, path: string, fields: { name: string; column: Column }[]): void {
  const rows = fields.length ? columnLength(fields[0].column) : 0;
  const records: RecordField[] = fields.map(({ name, column }) => {
    if (columnLength(column) !== rows) {
      throw new CellarError('shape_mismatch', `Cannot write ${displayPath(path)}: field ${name} has ${columnLength(column)} rows, not ${rows}.`);
    }
    switch (column.kind) {
      case 'numeric':
        return { name, kind: 'numeric', dtype: column.dtype, values: toDtype(column.values, column.dtype) };
      case 'bool':
        return { name, kind: 'numeric', dtype: 'uint8', values: asBoolBytes(column.values) };
      case 'string':
        return { name, kind: 'string', values: column.values.map((v) => v ?? '') };
      default:
        throw new CellarError('bad_element', `Cannot write ${displayPath(path)}: rec-array field ${name} of kind ${column.kind} is not supported.`);
    }
  });
  ctx.out.records(path, rows, records);
  tagEncoding(ctx.out, path, 'rec-array', '0.2.0');
}
