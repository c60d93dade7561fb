// Pre-0.7 layouts that carry no encoding attributes: obs/var (and raw.var) as
// one compound dataset whose first field is the index, categorical codes whose
// categories live in uns['<col>_categories'], obsm/varm as compound datasets
// with one array field per embedding, and top-level raw.X / raw.var / raw.varm.
// (h5sparse-tagged sparse groups are routed to the sparse reader by the registry.)
import { columnLength } from '../../columns/field-schema';
import { elementToColumn } from './encodings/arrays';
import { buildCategorical } from './encodings/categorical';
import { columnToIndex } from './encodings/dataframe';
import { badElement, childPath, displayPath, notice, type ReadContext } from './encodings/context';
import { readCompoundFields } from './encodings/recarray';
import { H5T, isDataset, type H5Dataset } from './h5';
import type { Column, DataFrame } from '../../columns/column-model';
import type { DenseHandle } from './types';

export function isLegacyCompound(node: unknown): node is H5Dataset {
  return isDataset(node) && node.metadata.type === H5T.compound;
}

export function readLegacyFrame(ctx: ReadContext, path: string, ds: H5Dataset): DataFrame {
  const fields = readCompoundFields(ctx, path, ds);
  if (fields.length === 0) throw badElement(ctx, path, 'the table has no fields');
  const [indexField, ...rest] = fields;
  const columns: DataFrame['columns'] = [];
  for (const field of rest) {
    if (field.width !== 1) {
      notice(ctx, `${displayPath(path)}: field "${field.name}" skipped (array-valued columns are not supported)`);
      continue;
    }
    columns.push({ name: field.name, column: field.column });
  }
  return { indexName: indexField.name, index: columnToIndex(indexField.column), columns };
}

/** obsm/varm stored as one compound dataset: each array field becomes an (n × width) dense handle. */
export function readLegacyAxisArrays(ctx: ReadContext, path: string, ds: H5Dataset): Map<string, DenseHandle> {
  const out = new Map<string, DenseHandle>();
  for (const field of readCompoundFields(ctx, path, ds)) {
    const { column } = field;
    if (column.kind !== 'numeric' && column.kind !== 'bool') {
      notice(ctx, `${displayPath(path)}: field "${field.name}" skipped (not numeric)`);
      continue;
    }
    const values = column.values;
    const rows = field.width === 0 ? 0 : values.length / field.width;
    out.set(field.name, {
      path: childPath(path, field.name),
      dtype: column.kind === 'bool' ? 'bool' : column.dtype,
      shape: field.width === 1 ? [rows] : [rows, field.width],
      read: () => values,
    });
  }
  return out;
}

/**
 * anndata ≤ 0.6 kept categories in uns['<col>_categories'] for integer code
 * columns of obs and var; like anndata, apply them where every code fits, and
 * report which uns keys were consumed.
 */
export function applyUnsCategories(ctx: ReadContext, frames: DataFrame[], unsKeys: string[]): Set<string> {
  const consumed = new Set<string>();
  for (const key of unsKeys) {
    if (!key.endsWith('_categories')) continue;
    const name = key.slice(0, -'_categories'.length);
    const targets = frames.flatMap((frame) => frame.columns.filter((c) => c.name === name && isIntegerColumn(c.column)));
    if (targets.length === 0) continue;
    const path = `/uns/${key}`;
    const element = ctx.readElement(path);
    const categories: Column =
      element.kind === 'scalar'
        ? typeof element.value === 'string'
          ? { kind: 'string', values: [element.value] }
          : { kind: 'numeric', dtype: 'float64', values: Float64Array.of(Number(element.value)) }
        : elementToColumn(ctx, path, element);
    const nCategories = columnLength(categories);
    for (const target of targets) {
      if (target.column.kind !== 'numeric') continue;
      const codes = target.column.values;
      if (!codesFit(codes, nCategories)) continue;
      target.column = buildCategorical(ctx, path, codes, categories, false);
      consumed.add(key);
    }
  }
  return consumed;
}

function isIntegerColumn(column: Column): boolean {
  return column.kind === 'numeric' && column.dtype !== 'float32' && column.dtype !== 'float64';
}

function codesFit(codes: ArrayLike<number | bigint>, nCategories: number): boolean {
  for (let i = 0; i < codes.length; i++) {
    const code = Number(codes[i]);
    if (code < -1 || code >= nCategories) return false;
  }
  return true;
}

/** Where a pre-0.7 file keeps raw: top-level raw.X / raw.var / raw.varm. */
export function legacyRawPaths(root: { keys(): string[] }): { X: string | null; var: string | null; varm: string | null } {
  const keys = root.keys();
  const pick = (name: string): string | null => (keys.includes(name) ? `/${name}` : null);
  return { X: pick('raw.X'), var: pick('raw.var'), varm: pick('raw.varm') };
}
