// `dataframe` 0.2.0 and 0.1.0 (anndata 0.7). Both: a group whose `_index`
// attribute names the index column and whose `column-order` lists the columns.
// 0.1.0 stores categoricals as integer codes with a `categories` attribute that
// is an object reference into `__categories/<col>`.
import { attributeNames, isDataset, isGroup, readAttribute, readNumeric, readStringAttribute, type H5Dataset } from '../h5';
import type { Column, DataFrame } from '../../../columns/column-model';
import { columnLength } from '../../../columns/field-schema';
import { elementToColumn } from './arrays';
import { buildCategorical, readOrderedFlag } from './categorical';
import { badElement, childPath, type EncodingReader, type ReadContext } from './context';

export function readColumnOrder(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map(String);
  // An empty column-order is stored as an empty float array by h5py, or has no dataspace at all.
  return [];
}

/** Reads one column; returns null (with a notice already recorded) for columns that are skipped. */
export function readFrameColumn(ctx: ReadContext, path: string): Column | null {
  const node = ctx.file.get(path);
  if (isDataset(node) && attributeNames(node).includes('categories')) return readReferencedCategorical(ctx, path, node);
  const element = ctx.readElement(path);
  if (element.kind === 'skipped') return null;
  return elementToColumn(ctx, path, element);
}

/** anndata 0.7: codes dataset whose `categories` attribute references the categories dataset. */
function readReferencedCategorical(ctx: ReadContext, path: string, codes: H5Dataset): Column {
  const ref = readAttribute(codes, 'categories');
  const first = Array.isArray(ref) ? ref[0] : ref;
  const target: unknown = first ? codes.dereference(first as Parameters<H5Dataset['dereference']>[0]) : null;
  if (!isDataset(target)) throw badElement(ctx, path, 'the categories reference does not point to a dataset');
  const categories = elementToColumn(ctx, target.path, ctx.readElement(target.path));
  const ordered = readOrderedFlag(readAttribute(target, 'ordered'));
  return buildCategorical(ctx, path, readNumeric(codes), categories, ordered);
}

/** Index values as strings, whatever the index column's type. */
export function columnToIndex(column: Column): string[] {
  switch (column.kind) {
    case 'string':
      return column.values.includes(null) ? column.values.map((v) => v ?? '') : (column.values as string[]);
    case 'nullable-string':
      return column.values;
    case 'category': {
      const labels = columnToIndex(column.categories);
      return Array.from(column.codes, (code) => (code < 0 ? '' : labels[code]));
    }
    case 'bool':
      return Array.from(column.values, (v) => (v ? 'True' : 'False'));
    default:
      return Array.from(column.values as ArrayLike<number | bigint>, String);
  }
}

function readDataframe(ctx: ReadContext, path: string, node: Parameters<EncodingReader['read']>[2]): DataFrame {
  if (!isGroup(node)) throw badElement(ctx, path, 'a dataframe must be a group');
  const indexName = readStringAttribute(node, '_index');
  if (indexName === undefined) throw badElement(ctx, path, 'dataframe has no _index attribute');
  const children = node.keys();
  if (!children.includes(indexName)) throw badElement(ctx, path, `index column "${indexName}" is missing`);
  const indexPath = childPath(path, indexName);
  const indexColumn = readFrameColumn(ctx, indexPath);
  if (!indexColumn) throw badElement(ctx, indexPath, 'the index could not be read');
  const index = columnToIndex(indexColumn);

  const columns: DataFrame['columns'] = [];
  for (const name of readColumnOrder(readAttribute(node, 'column-order'))) {
    if (!children.includes(name)) throw badElement(ctx, path, `column "${name}" listed in column-order is missing`);
    const columnPath = childPath(path, name);
    const column = readFrameColumn(ctx, columnPath);
    if (!column) continue;
    const length = columnLength(column);
    if (length !== index.length) {
      throw badElement(ctx, columnPath, `has ${length} values but the index has ${index.length}`);
    }
    columns.push({ name, column });
  }
  return { indexName, index, columns };
}

export const dataframeEncoding: EncodingReader = {
  type: 'dataframe',
  version: '0.2.0',
  read: (ctx, path, node) => ({ kind: 'dataframe', frame: readDataframe(ctx, path, node) }),
};

export const dataframe07Encoding: EncodingReader = {
  type: 'dataframe',
  version: '0.1.0',
  read: (ctx, path, node) => ({ kind: 'dataframe', frame: readDataframe(ctx, path, node) }),
};
