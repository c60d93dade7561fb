// A DataFrame as an Arrow table (obs rows for --format arrow and for the renderer's
// bulk windows). Categoricals become dictionary vectors, NA becomes null.
import { Bool, Dictionary, Float64, Int32, Table, Utf8, makeVector, vectorFromArray, type Vector } from 'apache-arrow';
import type { Column, DataFrame } from './column-model';
import { stringAt } from './conversions';

function columnVector(column: Column): Vector {
  const n = column.kind === 'category' ? column.codes.length : column.values.length;
  switch (column.kind) {
    case 'numeric':
      return makeVector(column.values as Float64Array);
    case 'bool':
      return vectorFromArray(Array.from(column.values, (v) => v === 1), new Bool());
    case 'string':
      return vectorFromArray(column.values, new Utf8());
    case 'nullable-string':
      return vectorFromArray(Array.from({ length: n }, (_, i) => (column.mask[i] ? null : column.values[i]!)), new Utf8());
    case 'nullable-bool':
      return vectorFromArray(Array.from({ length: n }, (_, i) => (column.mask[i] ? null : column.values[i] === 1)), new Bool());
    case 'nullable-int':
      return vectorFromArray(Array.from({ length: n }, (_, i) => (column.mask[i] ? null : Number(column.values[i]))), new Float64());
    case 'category':
      if (column.categories.kind === 'numeric') {
        return vectorFromArray(Array.from({ length: n }, (_, i) => { const s = stringAt(column, i); return s === null ? null : Number(s); }), new Float64());
      }
      return vectorFromArray(Array.from({ length: n }, (_, i) => stringAt(column, i)), new Dictionary(new Utf8(), new Int32()));
  }
}

export function frameToArrow(frame: DataFrame, indexColumn: string): Table {
  const vectors: Record<string, Vector> = { [indexColumn]: vectorFromArray(frame.index, new Utf8()) };
  for (const { name, column } of frame.columns) vectors[name] = columnVector(column);
  return new Table(vectors);
}
