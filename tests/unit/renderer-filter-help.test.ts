// The filter boxes' help: an example from the store's own columns, value completion from a
// column's categories, and "did you mean" for a value no category holds.
import { describe, expect, it } from 'vitest';
import type { StoreColumn } from '../../src/shared/contract';
import { applyCompletion, applySuggestions, closestCategory, completeValue, exampleFilter, firstNumericColumn, suggestValues } from '../../src/renderer/src/features/store/filter-help';

const columns: StoreColumn[] = [
  { name: 'obs_id', dtype: 'string' },
  { name: 'dataset', dtype: 'category', categories: [0, 1, 2] },
  { name: 'cell_type', dtype: 'category', categories: ['T cell', 'B cell', 'NK', 'cluster 10', 'cluster 2'] },
  { name: 'n_counts', dtype: 'float64' },
  { name: 'cell type 2', dtype: 'category', categories: ['a', 'b'] },
  { name: 'cellar_run_uid', dtype: 'category', categories: ['R1'] },
];

describe('exampleFilter', () => {
  it('uses the first categorical column and the median of a numeric one', () => {
    expect(firstNumericColumn(columns)?.name).toBe('n_counts');
    expect(exampleFilter(columns, { name: 'n_counts', median: 93.4 })).toBe('cell_type == "B cell" and n_counts > 93');
    expect(exampleFilter(columns)).toBe('cell_type == "B cell"');
  });

  it('falls back to ids when the table has no categories', () => {
    expect(exampleFilter([{ name: 'var_id', dtype: 'string' }], null, ['var_id', 'CD3E', 'MS4A1'])).toBe('var_id in ["CD3E", "MS4A1"]');
    expect(exampleFilter([{ name: 'var_id', dtype: 'string' }])).toBeNull();
  });
});

describe('completeValue', () => {
  it('offers categories that start with, then contain, what is typed', () => {
    const text = 'cell_type == "c';
    expect(completeValue(text, text.length, columns)).toEqual({ column: 'cell_type', from: 14, partial: 'c', values: ['cluster 2', 'cluster 10'] });
    const two = 'cell_type == "ce';
    expect(completeValue(two, two.length, columns)?.values).toEqual(['B cell', 'T cell']);
    const inList = 'cell_type in ["NK", "T';
    expect(completeValue(inList, inList.length, columns)?.values).toEqual(['T cell']);
    const spaced = 'attr("cell type 2") != "';
    expect(completeValue(spaced, spaced.length, columns)?.values).toEqual(['a', 'b']);
  });

  it('offers nothing outside a quoted value or for a column without categories', () => {
    expect(completeValue('cell_type == ', 13, columns)).toBeNull();
    expect(completeValue('n_counts == "1', 14, columns)).toBeNull();
    expect(completeValue('cell_type == "NK', 16, columns)).toBeNull();
  });

  it('puts the chosen value in and closes its quote', () => {
    const text = 'cell_type == "B and n_counts > 5';
    const completion = completeValue(text, 15, columns)!;
    expect(applyCompletion(text, 15, completion, 'B cell')).toEqual({ text: 'cell_type == "B cell" and n_counts > 5', caret: 21 });
  });
});

describe('suggestValues', () => {
  it('says did you mean for a near miss, a case slip and a prefix', () => {
    expect(suggestValues('cell_type == "B cel"', columns)).toEqual([{ column: 'cell_type', value: 'B cel', suggestion: 'B cell' }]);
    expect(suggestValues("cell_type in ['nk', 'T cell'] and n_counts > 3", columns)).toEqual([{ column: 'cell_type', value: 'nk', suggestion: 'NK' }]);
    expect(closestCategory('clust', ['cluster 2', 'cluster 10'])).toBe('cluster 2');
    expect(closestCategory('zzzzzz', ['B cell', 'NK'])).toBeNull();
  });

  it('leaves correct values and non-categorical columns alone, and rewrites the filter', () => {
    expect(suggestValues('cell_type == "NK" and obs_id == "x"', columns)).toEqual([]);
    const filter = 'cell_type == "B cel" or cell_type == "nk"';
    expect(applySuggestions(filter, suggestValues(filter, columns))).toBe('cell_type == "B cell" or cell_type == "NK"');
  });
});
