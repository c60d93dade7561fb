// `categorical` 0.2.0: integer codes (−1 = missing) into a categories array.
// The code checks are shared with the 0.7 and pre-0.7 layouts.
import { isGroup, readAttribute } from '../h5';
import type { Column, NumericArray } from '../../../columns/column-model';
import { columnLength } from '../../../columns/field-schema';
import { elementToColumn } from './arrays';
import { badElement, childPath, type EncodingReader, type ReadContext } from './context';

/** Copies codes of any integer width into an Int32Array, rejecting codes outside [−1, nCategories). */
export function codesToInt32(ctx: ReadContext, path: string, raw: NumericArray, nCategories: number): Int32Array {
  if (raw instanceof Float32Array || raw instanceof Float64Array) {
    throw badElement(ctx, path, 'categorical codes must be integers');
  }
  const n = raw.length;
  const codes = new Int32Array(n);
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    const limit = BigInt(nCategories);
    for (let i = 0; i < n; i++) {
      const code = raw[i];
      if (code < -1n || code >= limit) throw badElement(ctx, path, 'categorical codes out of range');
      codes[i] = Number(code);
    }
    return codes;
  }
  const narrow = raw as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
  for (let i = 0; i < n; i++) {
    const code = narrow[i];
    if (code < -1 || code >= nCategories) throw badElement(ctx, path, 'categorical codes out of range');
    codes[i] = code;
  }
  return codes;
}

/** The `ordered` flag may be an h5py bool (enum), a uint8, or missing. */
export function readOrderedFlag(value: unknown): boolean {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) value = (value as ArrayLike<unknown>)[0];
  return Boolean(value);
}

export function buildCategorical(
  ctx: ReadContext,
  path: string,
  rawCodes: NumericArray,
  categories: Column,
  ordered: boolean,
): Column {
  if (categories.kind === 'category') throw badElement(ctx, path, 'categories cannot themselves be categorical');
  const codes = codesToInt32(ctx, path, rawCodes, columnLength(categories));
  return { kind: 'category', codes, categories, ordered };
}

export const categoricalEncoding: EncodingReader = {
  type: 'categorical',
  version: '0.2.0',
  read(ctx, path, node) {
    if (!isGroup(node)) throw badElement(ctx, path, 'a categorical must be a group with codes and categories');
    const children = node.keys();
    for (const name of ['codes', 'categories']) {
      if (!children.includes(name)) throw badElement(ctx, path, `categorical has no ${name}`);
    }
    const codesPath = childPath(path, 'codes');
    const codesColumn = elementToColumn(ctx, codesPath, ctx.readElement(codesPath));
    if (codesColumn.kind !== 'numeric') throw badElement(ctx, codesPath, 'categorical codes must be integers');
    const categoriesPath = childPath(path, 'categories');
    const categories = elementToColumn(ctx, categoriesPath, ctx.readElement(categoriesPath));
    const ordered = readOrderedFlag(readAttribute(node, 'ordered'));
    return { kind: 'column', column: buildCategorical(ctx, path, codesColumn.values, categories, ordered) };
  },
};
