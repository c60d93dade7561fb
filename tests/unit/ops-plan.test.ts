import { describe, expect, it } from 'vitest';
import type { Column, DataFrame } from '../../src/main/engine/columns/column-model';
import { planConcatenation, type DatasetInfo } from '../../src/main/engine/ops/plan';
import { convertColumn } from '../../src/main/engine/columns/conversions';
import { unifyFields, fieldOf, widenInts, MAX_CATEGORIES } from '../../src/main/engine/columns/field-schema';

const cat = (values: (string | null)[], categories: string[], ordered = false): Column => ({
  kind: 'category',
  codes: Int32Array.from(values, (v) => (v === null ? -1 : categories.indexOf(v))),
  categories: { kind: 'string', values: categories },
  ordered,
});
const f64 = (values: number[]): Column => ({ kind: 'numeric', dtype: 'float64', values: Float64Array.from(values) });
const i32 = (values: number[]): Column => ({ kind: 'numeric', dtype: 'int32', values: Int32Array.from(values) });
const str = (values: (string | null)[]): Column => ({ kind: 'string', values });

function frame(index: string[], columns: Record<string, Column>): DataFrame {
  return { indexName: '_index', index, columns: Object.entries(columns).map(([name, column]) => ({ name, column })) };
}

function dataset(label: string, obs: DataFrame, genes: string[], extra: Partial<DatasetInfo> = {}): DatasetInfo {
  return {
    label,
    nObs: obs.index.length,
    nVars: genes.length,
    obs,
    var: frame(genes, {}),
    hasX: true,
    layers: [],
    obsm: new Map(),
    varm: new Map(),
    obsp: [],
    varp: [],
    uns: [],
    raw: null,
    ...extra,
  };
}

describe('column unification', () => {
  it('unions unordered categories in first-seen order and remaps codes by value', () => {
    const a = cat(['B', 'T', null], ['B', 'T']);
    const b = cat(['NK', 'T'], ['NK', 'T']);
    const u = unifyFields('cell_type', [
      { label: 'a', field: fieldOf('cell_type', a) },
      { label: 'b', field: fieldOf('cell_type', b) },
    ]);
    expect(u.problems).toEqual([]);
    expect(u.field).toMatchObject({ dtype: 'category', categories: ['B', 'T', 'NK'], ordered: false });
    const cb = convertColumn(b, u.field, 'obs/cell_type') as Extract<Column, { kind: 'category' }>;
    expect(Array.from(cb.codes)).toEqual([2, 1]);
    const ca = convertColumn(a, u.field, 'obs/cell_type') as Extract<Column, { kind: 'category' }>;
    expect(Array.from(ca.codes)).toEqual([0, 1, -1]);
  });
  it('refuses ordered categoricals whose categories differ', () => {
    const u = unifyFields('stage', [
      { label: 'a', field: fieldOf('stage', cat(['lo'], ['lo', 'hi'], true)) },
      { label: 'b', field: fieldOf('stage', cat(['hi'], ['hi', 'lo'], true)) },
    ]);
    expect(u.problems[0]).toMatch(/ordered categorical whose categories differ/);
  });
  it('turns an all-NaN float column plus strings into strings, not floats', () => {
    const u = unifyFields('donor', [
      { label: 'a', field: fieldOf('donor', f64([NaN, NaN])) },
      { label: 'b', field: fieldOf('donor', str(['d1', 'd2'])), distinctStrings: () => ['d1', 'd2'] },
    ]);
    expect(u.field.dtype).toBe('string');
    expect(u.conversions[0]).toMatch(/float64 in a, string in b → string/);
    expect(convertColumn(f64([NaN, NaN]), u.field, 'x')).toEqual({ kind: 'string', values: [null, null] });
  });
  it('makes categorical + plain strings categorical with the strings as categories', () => {
    const u = unifyFields('batch', [
      { label: 'a', field: fieldOf('batch', cat(['x'], ['x'])) },
      { label: 'b', field: fieldOf('batch', str(['y', 'x'])), distinctStrings: () => ['y', 'x'] },
    ]);
    expect(u.field).toMatchObject({ dtype: 'category', categories: ['x', 'y'] });
    const converted = convertColumn(str(['y', 'x', null]), u.field, 'obs/batch') as Extract<Column, { kind: 'category' }>;
    expect(Array.from(converted.codes)).toEqual([1, 0, -1]);
  });
  it('stores plain strings past the category threshold', () => {
    const many = Array.from({ length: MAX_CATEGORIES + 1 }, (_, i) => `c${i}`);
    const u = unifyFields('barcode', [
      { label: 'a', field: fieldOf('barcode', cat(['c0'], ['c0'])) },
      { label: 'b', field: fieldOf('barcode', str(many)), distinctStrings: () => many },
    ]);
    expect(u.field.dtype).toBe('string');
  });
  it('widens int and float mixes to float and ints to the wider int', () => {
    const u = unifyFields('n', [
      { label: 'a', field: fieldOf('n', i32([1, 2])) },
      { label: 'b', field: fieldOf('n', { kind: 'numeric', dtype: 'float32', values: Float32Array.from([0.5]) }) },
    ]);
    expect(u.field.dtype).toBe('float64');
    expect(Array.from((convertColumn(i32([1, 2]), u.field, "x") as { values: Float64Array }).values)).toEqual([1, 2]);
    expect(widenInts('int8', 'int32')).toBe('int32');
    expect(widenInts('uint16', 'int16')).toBe('int32');
    expect(widenInts('uint64', 'int8')).toBe('float64');
  });
});

describe('planConcatenation', () => {
  const a = dataset('a.h5ad', frame(['c1', 'c2'], { cell_type: cat(['B', 'T'], ['B', 'T']), only_a: f64([1, 2]), n_genes: i32([5, 6]) }), ['g1', 'g2'], {
    obsm: new Map([['X_umap', [2, 2]], ['X_pca', [2, 50]]]),
    uns: ['neighbors'],
    obsp: ['distances'],
  });
  const b = dataset('b.h5ad', frame(['c3'], { n_genes: i32([7]), cell_type: cat(['NK'], ['NK']) }), ['g2', 'g3'], { obsm: new Map([['X_umap', [1, 2]]]) });

  it('intersects columns, unions genes in first-seen order and lists what is dropped', () => {
    const plan = planConcatenation([a, b]);
    expect(plan.obs.fields.map((f) => f.name)).toEqual(['cell_type', 'n_genes']);
    expect(plan.varIds.ids).toEqual(['g1', 'g2', 'g3']);
    expect(Array.from(plan.varIds.localToGlobal[1]!)).toEqual([1, 2]);
    expect(plan.obsIds).toEqual(['c1', 'c2', 'c3']);
    expect(plan.obsOffsets).toEqual([0, 2, 3]);
    expect(plan.obsm).toEqual([{ name: 'X_umap', width: 2 }]);
    expect(plan.dropped).toEqual(
      expect.arrayContaining([
        { element: 'obs', name: 'only_a', detail: 'in a.h5ad but not in b.h5ad' },
        { element: 'obsm', name: 'X_pca', detail: 'missing in b.h5ad' },
        { element: 'uns', name: 'neighbors', detail: 'uns is not carried (a.h5ad)' },
        { element: 'obsp', name: 'distances', detail: 'pairwise matrices are not carried (a.h5ad)' },
      ]),
    );
    expect(plan.problems).toEqual([]);
  });
  it('reports duplicate obs ids, or suffixes them with --make-unique', () => {
    const c = dataset('c.h5ad', frame(['c1', 'c9'], { n_genes: i32([1, 2]), cell_type: cat(['B', 'B'], ['B']) }), ['g1']);
    const plan = planConcatenation([a, c]);
    expect(plan.problems).toEqual(['1 obs id is not unique: "c1" in a.h5ad and c.h5ad. Use --make-unique to suffix them.']);
    const unique = planConcatenation([a, c], { makeUnique: true });
    expect(unique.problems).toEqual([]);
    expect(unique.obsIds).toEqual(['c1', 'c2', 'c1-1', 'c9']);
  });
  it('checks new obs ids against the existing store', () => {
    const plan = planConcatenation([b], { existingObsIds: new Set(['c3']) });
    expect(plan.problems[0]).toBe('1 obs id is not unique: "c3" in the store and b.h5ad. Use --make-unique to suffix them.');
  });
  it('renames a dataset column that collides with a column Cellar adds', () => {
    const d = dataset('d.h5ad', frame(['x1'], { dataset: str(['pbmc']) }), ['g1']);
    const plan = planConcatenation([d]);
    expect(plan.obs.fields.map((f) => f.name)).toEqual(['dataset_original']);
    expect(plan.obs.sources[0]![0]!.sourceName).toBe('dataset');
  });
});
