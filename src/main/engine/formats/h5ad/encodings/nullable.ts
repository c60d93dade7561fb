// `nullable-integer`, `nullable-boolean`, `nullable-string-array` 0.1.0:
// a `values` array plus a `mask` (true = NA).
import { isGroup } from '../h5';
import { isIntDtype, type Column } from '../../../columns/column-model';
import { columnLength } from '../../../columns/field-schema';
import { asBoolBytes, elementToColumn } from './arrays';
import { badElement, childPath, type EncodingReader, type H5Node, type ReadContext } from './context';

function readValuesAndMask(ctx: ReadContext, path: string, node: H5Node): { values: Column; mask: Uint8Array } {
  if (!isGroup(node)) throw badElement(ctx, path, 'a nullable array must be a group with values and mask');
  const children = node.keys();
  for (const name of ['values', 'mask']) {
    if (!children.includes(name)) throw badElement(ctx, path, `nullable array has no ${name}`);
  }
  const valuesPath = childPath(path, 'values');
  const values = elementToColumn(ctx, valuesPath, ctx.readElement(valuesPath));
  const maskPath = childPath(path, 'mask');
  const maskColumn = elementToColumn(ctx, maskPath, ctx.readElement(maskPath));
  let mask: Uint8Array;
  if (maskColumn.kind === 'bool') mask = maskColumn.values;
  else if (maskColumn.kind === 'numeric') mask = asBoolBytes(maskColumn.values);
  else throw badElement(ctx, maskPath, 'mask must be boolean');
  if (mask.length !== columnLength(values)) {
    throw badElement(ctx, path, `mask has ${mask.length} entries but values has ${columnLength(values)}`);
  }
  return { values, mask: normaliseMask(mask) };
}

/** Masks are stored as 0/1 bytes; anything non-zero means NA. */
function normaliseMask(mask: Uint8Array): Uint8Array {
  for (let i = 0; i < mask.length; i++) if (mask[i] > 1) mask[i] = 1;
  return mask;
}

export const nullableIntegerEncoding: EncodingReader = {
  type: 'nullable-integer',
  version: '0.1.0',
  read(ctx, path, node) {
    const { values, mask } = readValuesAndMask(ctx, path, node);
    if (values.kind !== 'numeric' || !isIntDtype(values.dtype)) {
      throw badElement(ctx, path, 'nullable-integer values must be integers');
    }
    return { kind: 'column', column: { kind: 'nullable-int', dtype: values.dtype, values: values.values, mask } };
  },
};

export const nullableBooleanEncoding: EncodingReader = {
  type: 'nullable-boolean',
  version: '0.1.0',
  read(ctx, path, node) {
    const { values, mask } = readValuesAndMask(ctx, path, node);
    let bools: Uint8Array;
    if (values.kind === 'bool') bools = values.values;
    else if (values.kind === 'numeric') bools = asBoolBytes(values.values);
    else throw badElement(ctx, path, 'nullable-boolean values must be booleans');
    return { kind: 'column', column: { kind: 'nullable-bool', values: bools, mask } };
  },
};

export const nullableStringEncoding: EncodingReader = {
  type: 'nullable-string-array',
  version: '0.1.0',
  read(ctx, path, node) {
    const { values, mask } = readValuesAndMask(ctx, path, node);
    if (values.kind !== 'string') throw badElement(ctx, path, 'nullable-string-array values must be strings');
    // NA slots keep whatever placeholder was stored (often "" or the `na-value` attribute); the mask is authoritative.
    const strings = values.values.map((s) => s ?? '');
    return { kind: 'column', column: { kind: 'nullable-string', values: strings, mask } };
  },
};
