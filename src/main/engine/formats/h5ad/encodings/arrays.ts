// Dense arrays: `array` 0.2.0 (numeric or bool, any rank) and `string-array`
// 0.2.0. Both stay lazy behind a DenseHandle until someone reads them.
import { datasetShape, elementDtype, h5ErrorReason, isDataset, readNumeric, readStrings, type H5Dataset } from '../h5';
import type { Column, NumericArray } from '../../../columns/column-model';
import type { DenseHandle } from '../types';
import { badElement, type Element, type EncodingReader, type H5Node, type ReadContext } from './context';

export function openDenseArray(ctx: ReadContext, path: string, node: H5Node): DenseHandle {
  if (!isDataset(node)) throw badElement(ctx, path, 'expected a dataset for a dense array, found a group');
  const dtype = elementDtype(node.metadata);
  if (dtype === 'other') throw badElement(ctx, path, 'unsupported element type for a dense array');
  const shape = datasetShape(node) ?? [0];
  return {
    path,
    dtype,
    shape,
    read() {
      ctx.assertOpen();
      try {
        return readDenseValues(node, dtype);
      } catch (err) {
        throw badElement(ctx, path, `could not be read: ${h5ErrorReason(err)}`);
      }
    },
  };
}

function readDenseValues(ds: H5Dataset, dtype: DenseHandle['dtype']): NumericArray | (string | null)[] {
  if (dtype === 'string') return readStrings(ds);
  const values = readNumeric(ds);
  return dtype === 'bool' ? asBoolBytes(values) : values;
}

/** h5py bools arrive as int8 enum values; the model stores them as 0/1 bytes. */
export function asBoolBytes(values: NumericArray): Uint8Array {
  if (values instanceof Uint8Array) return values;
  if (values instanceof Int8Array) return new Uint8Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  return out;
}

/** A 1-d dense array as a dataframe column. */
export function denseToColumn(ctx: ReadContext, handle: DenseHandle): Column {
  if (handle.shape.length !== 1) {
    throw badElement(ctx, handle.path, `a column must be 1-dimensional, found shape ${handle.shape.join(' × ')}`);
  }
  const values = handle.read();
  if (handle.dtype === 'string') return { kind: 'string', values: values as (string | null)[] };
  if (handle.dtype === 'bool') return { kind: 'bool', values: values as Uint8Array };
  return { kind: 'numeric', dtype: handle.dtype, values: values as NumericArray };
}

/** Any column-like element (dense 1-d, categorical, nullable) as a Column. */
export function elementToColumn(ctx: ReadContext, path: string, element: Element): Column {
  if (element.kind === 'column') return element.column;
  if (element.kind === 'dense') return denseToColumn(ctx, element.handle);
  if (element.kind === 'skipped') throw badElement(ctx, path, element.reason);
  throw badElement(ctx, path, `expected a 1-dimensional array, found ${element.kind}`);
}

export const arrayEncoding: EncodingReader = {
  type: 'array',
  version: '0.2.0',
  read: (ctx, path, node) => ({ kind: 'dense', handle: openDenseArray(ctx, path, node) }),
};

export const stringArrayEncoding: EncodingReader = {
  type: 'string-array',
  version: '0.2.0',
  read(ctx, path, node) {
    const handle = openDenseArray(ctx, path, node);
    if (handle.dtype !== 'string') throw badElement(ctx, path, `string-array holds ${handle.dtype} values, not strings`);
    return { kind: 'dense', handle };
  },
};
