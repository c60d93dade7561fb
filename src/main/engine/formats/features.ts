// The features table of 10x files (HDF5 and Matrix Market): which features become X
// (Gene Expression) and the var frame they get: gene ids as the index, symbols, feature
// types and genome as columns.
import { CellarError } from '../../../shared/errors';
import type { Column, DataFrame } from '../columns/column-model';
import type { MatrixHandle } from './h5ad/types';
import { categoryColumn, frame, keepColumns, repeatedIds, stringColumn, type DroppedPart, type FeatureTypeCount } from './source';

export const GENE_EXPRESSION = 'Gene Expression';

export interface FeatureTable {
  ids: string[];
  names: string[];
  types: string[];
  genome?: string[];
  /** Further per-feature strings (10x feature barcoding: read, pattern, sequence). */
  extra: { name: string; values: string[] }[];
}

export interface FeatureSelection {
  keptType: string;
  var: DataFrame;
  X: MatrixHandle;
  featureTypes: FeatureTypeCount[];
}

/** Feature types in the order the file first lists them, with counts. */
function countTypes(types: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** Gene Expression features become X (or, in a file without any, those of the first type listed). */
export function selectFeatures(table: FeatureTable, matrix: MatrixHandle, label = ''): FeatureSelection {
  const counts = countTypes(table.types);
  const keptType = counts.has(GENE_EXPRESSION) ? GENE_EXPRESSION : (table.types[0] ?? GENE_EXPRESSION);
  const keep: number[] = [];
  for (let i = 0; i < table.types.length; i++) if (table.types[i] === keptType) keep.push(i);
  const take = (values: string[]): string[] => keep.map((i) => values[i]!);
  const ids = take(table.ids);
  const repeated = repeatedIds(ids);
  if (repeated.length) throw new CellarError('bad_element', `${label ? `${label}: ` : ''}feature ids must be unique, but ${repeated.join(', ')} ${repeated.length === 1 ? 'appears' : 'appear'} more than once.`);
  const columns: { name: string; column: Column }[] = [
    { name: 'gene_symbols', column: stringColumn(take(table.names)) },
    { name: 'feature_types', column: categoryColumn(take(table.types)) },
  ];
  if (table.genome) columns.push({ name: 'genome', column: categoryColumn(take(table.genome)) });
  for (const extra of table.extra) {
    const values = take(extra.values);
    // Columns that only feature barcoding fills stay empty for genes: not worth a column.
    if (values.some((v) => v !== '')) columns.push({ name: extra.name, column: stringColumn(values) });
  }
  const all = keep.length === table.ids.length;
  let X = matrix;
  if (!all) {
    const newColumn = new Int32Array(table.ids.length).fill(-1);
    keep.forEach((old, i) => (newColumn[old] = i));
    X = keepColumns(matrix, newColumn, keep.length);
  }
  return {
    keptType,
    var: frame('gene_ids', ids, columns),
    X,
    featureTypes: [...counts].map(([type, count]) => ({ type, count, kept: type === keptType })),
  };
}

/** One notice and one dropped entry per feature type left out. */
export function describeFeatureSelection(label: string, table: FeatureTable, selection: FeatureSelection): { notices: string[]; dropped: DroppedPart[] } {
  const notices: string[] = [];
  const dropped: DroppedPart[] = [];
  if (selection.keptType !== GENE_EXPRESSION) notices.push(`${label} has no Gene Expression features; its ${selection.keptType} features are read as X.`);
  for (const { type, count, kept } of selection.featureTypes) {
    if (kept) continue;
    const examples = table.ids.filter((_, i) => table.types[i] === type).slice(0, 3);
    const detail = `${count} ${type} feature${count === 1 ? '' : 's'} (${examples.join(', ')}${count > 3 ? ', …' : ''}): only ${selection.keptType} features become X`;
    notices.push(`${label}: ${detail}; the others are not imported.`);
    dropped.push({ element: 'features', name: type, detail });
  }
  return { notices, dropped };
}
