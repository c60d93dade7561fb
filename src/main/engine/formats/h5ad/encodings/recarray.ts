// `rec-array` 0.2.0: a compound dataset (e.g. scanpy's rank_genes_groups),
// read field by field into columns. The pre-0.7 obs/var tables use the same
// layout, so legacy.ts reuses readCompoundFields.
import { datasetShape, elementDtype, H5T, isDataset, typedArrayConstructor, type H5Dataset, type H5Metadata } from '../h5';
import type { Column, NumericArray } from '../../../columns/column-model';
import { badElement, displayPath, notice, type EncodingReader, type ReadContext } from './context';

export interface CompoundField {
  name: string;
  /** Fixed-size array members (e.g. a legacy obsm field of shape (n, k)) keep their per-row width here. */
  width: number;
  column: Column;
}

/** Reads a 1-d compound dataset into one column per field; unsupported fields are skipped with a notice. */
export function readCompoundFields(ctx: ReadContext, path: string, ds: H5Dataset): CompoundField[] {
  const meta = ds.metadata;
  const members = meta.compound_type?.members ?? [];
  const shape = datasetShape(ds) ?? [0];
  if (shape.length !== 1) throw badElement(ctx, path, `a record array must be 1-dimensional, found shape ${shape.join(' × ')}`);
  const nRows = shape[0];
  const rows = nRows === 0 ? [] : (ds.value as unknown[][]);
  const fields: CompoundField[] = [];
  members.forEach((member, m) => {
    const field = fieldColumn(member, rows, m);
    if (field) fields.push({ name: member.name, ...field });
    else notice(ctx, `${displayPath(path)}: field "${member.name}" skipped (unsupported field type)`);
  });
  return fields;
}

function fieldColumn(member: H5Metadata, rows: unknown[][], m: number): { width: number; column: Column } | null {
  const n = rows.length;
  if (member.type === H5T.array && member.array_type) {
    // h5wasm returns array members as nested plain arrays; flatten row-major.
    const base = member.array_type;
    const dtype = elementDtype(base);
    if (dtype === 'string' || dtype === 'other' || dtype === 'bool') return null;
    const width = (base.shape ?? member.shape ?? []).reduce((a, b) => a * Number(b), 1);
    const values = new (typedArrayConstructor(dtype))(n * width);
    const out = values as Float64Array; // element types match: bigint members fill bigint arrays
    for (let i = 0; i < n; i++) {
      const flat = (rows[i][m] as unknown[]).flat(Infinity) as number[];
      for (let j = 0; j < width; j++) out[i * width + j] = flat[j];
    }
    return { width, column: { kind: 'numeric', dtype, values } };
  }
  const dtype = elementDtype(member);
  if (dtype === 'other') return null;
  if (dtype === 'string') return { width: 1, column: { kind: 'string', values: rows.map((r) => r[m] as string) } };
  if (dtype === 'bool') {
    const values = new Uint8Array(n);
    for (let i = 0; i < n; i++) values[i] = rows[i][m] ? 1 : 0;
    return { width: 1, column: { kind: 'bool', values } };
  }
  const values: NumericArray = new (typedArrayConstructor(dtype))(n);
  const out = values as Float64Array; // element types match: bigint members fill bigint arrays
  for (let i = 0; i < n; i++) out[i] = rows[i][m] as number;
  return { width: 1, column: { kind: 'numeric', dtype, values } };
}

export const recArrayEncoding: EncodingReader = {
  type: 'rec-array',
  version: '0.2.0',
  read(ctx, path, node) {
    if (!isDataset(node) || node.metadata.type !== H5T.compound) throw badElement(ctx, path, 'a rec-array must be a compound dataset');
    const fields: { name: string; column: Column }[] = [];
    for (const { name, width, column } of readCompoundFields(ctx, path, node)) {
      if (width === 1) fields.push({ name, column });
      else notice(ctx, `${displayPath(path)}: field "${name}" skipped (array-valued fields are not supported in uns)`);
    }
    return { kind: 'recarray', fields };
  },
};
