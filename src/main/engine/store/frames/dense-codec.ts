// obsm/varm: dense n × k arrays stored row-major as `soma_joinid: int64` plus
// `values: fixed_size_list<T>[k]`, in record batches of bounded rows. Values are stored as
// given (exact zeros stay zeros).
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Field, FixedSizeList, Int64, Schema, makeData, tableFromIPC } from 'apache-arrow';
import { CellarError } from '../../../../shared/errors';
import type { NumericArray, NumericDtype } from '../../columns/column-model';
import type { StoreCodec } from '../io/codecs';
import { registerArrowCodecs } from '../io/codecs';
import { recordBatchOf, type DataFileSet } from '../io/data-files';
import { allocateTyped, arrowTypeOf, dtypeOfArray, isBigIntDtype } from '../format/dtypes';
import type { DenseEntry, RowPiece } from '../format/manifest';

/** A dense row-major matrix. */
export interface DenseArray {
  shape: [number, number];
  values: NumericArray;
}

const ROWS_PER_BATCH = 65_536;

export function writeDenseRows(
  files: DataFileSet,
  kind: string,
  codec: StoreCodec,
  level: number | undefined,
  firstRow: number,
  array: DenseArray,
): RowPiece {
  const [n, k] = array.shape;
  if (array.values.length !== n * k) {
    throw new CellarError('shape_mismatch', `A ${n} × ${k} ${kind} array needs ${n * k} values, got ${array.values.length}.`);
  }
  const dtype = dtypeOfArray(array.values);
  const listType = new FixedSizeList(k, new Field('item', arrowTypeOf(dtype), false));
  const schema = new Schema([new Field('soma_joinid', new Int64(), false), new Field('values', listType, false)]);
  const batches = [];
  for (let start = 0; start < n || (n === 0 && start === 0); start += ROWS_PER_BATCH) {
    const rows = Math.min(ROWS_PER_BATCH, n - start);
    const joinids = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) joinids[i] = BigInt(firstRow + start + i);
    const child = makeData({ type: arrowTypeOf(dtype), length: rows * k, data: array.values.subarray(start * k, (start + rows) * k) } as never);
    batches.push(recordBatchOf(schema, [makeData({ type: new Int64(), length: rows, data: joinids }), makeData({ type: listType, length: rows, child })], rows));
    if (n === 0) break;
  }
  const { name } = files.writeArrowFile(kind, codec, level, batches);
  return { file: name, rowStart: firstRow, nRows: n };
}

/**
 * Reads a dense entry over rows 0..nRows-1. Rows no piece covers read as NaN (floats) or 0;
 * later pieces win where pieces overlap.
 */
export function readDense(dir: string, label: string, entry: DenseEntry, nRows: number, rows?: ArrayLike<number>): DenseArray {
  registerArrowCodecs();
  const k = entry.nCols;
  const dtype: NumericDtype = entry.dtype;
  const full = allocateTyped(dtype, nRows * k);
  if (dtype === 'float32' || dtype === 'float64') (full as Float64Array).fill(NaN);
  for (const piece of entry.pieces) {
    let table;
    try {
      table = tableFromIPC(fs.readFileSync(join(dir, piece.file)));
    } catch (err) {
      throw new CellarError('bad_element', `${label}: store file ${piece.file} cannot be read (${(err as Error).message}).`);
    }
    const vector = table.getChild('values');
    if (!vector || table.numRows !== piece.nRows) throw new CellarError('bad_element', `${label}: store file ${piece.file} does not match the manifest.`);
    let at = piece.rowStart;
    for (const chunk of vector.data) {
      const child = chunk.children[0];
      const source = (child.values as NumericArray).subarray((child.offset + chunk.offset * k), (child.offset + (chunk.offset + chunk.length) * k));
      if (dtypeOfArray(source) === dtype) (full as Float64Array).set(source as Float64Array, at * k);
      else if (isBigIntDtype(dtype)) for (let i = 0; i < source.length; i++) (full as BigInt64Array)[at * k + i] = BigInt(source[i] as number);
      else for (let i = 0; i < source.length; i++) (full as Float64Array)[at * k + i] = Number(source[i]);
      at += chunk.length;
    }
  }
  if (!rows) return { shape: [nRows, k], values: full };
  const picked = allocateTyped(dtype, rows.length * k);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!(row >= 0 && row < nRows)) throw new CellarError('bad_element', `${label}: row ${row} is outside 0..${nRows - 1}.`);
    (picked as Float64Array).set((full as Float64Array).subarray(row * k, (row + 1) * k), i * k);
  }
  return { shape: [rows.length, k], values: picked };
}
