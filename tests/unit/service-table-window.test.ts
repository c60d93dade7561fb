// The Store screen's table windows sorted over every kept row (numbers by value, text
// naturally, NA last), with soma_joinid beside the id, and one column summarised.
import { describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { columnStats, tableWindow } from '../../src/main/service/table-window';
import type { DataFrame } from '../../src/main/engine/columns/column-model';

const frame: DataFrame = {
  indexName: '_index',
  index: ['c0', 'c1', 'c2', 'c3', 'c4'],
  columns: [
    { name: 'cluster', column: { kind: 'category', codes: new Int32Array([0, 1, 2, -1, 1]), categories: { kind: 'string', values: ['cluster 10', 'cluster 2', 'cluster 1'] }, ordered: false } },
    { name: 'n_genes', column: { kind: 'numeric', dtype: 'float64', values: new Float64Array([500, Number.NaN, 20, 1000, 90]) } },
    { name: 'doublet', column: { kind: 'nullable-bool', values: new Uint8Array([1, 0, 0, 0, 1]), mask: new Uint8Array([0, 0, 1, 0, 0]) } },
    { name: 'barcode', column: { kind: 'string', values: ['AAC', 'AAC', 'GGT', null, 'TTA'] } },
  ],
};
// The frame holds kept rows only: their joinids in the store are these.
const joinids = new Uint32Array([3, 8, 11, 12, 40]);

function windowRows(request: Parameters<typeof tableWindow>[3]) {
  const table = tableFromIPC(tableWindow(frame, joinids, 'obs_id', request).arrow);
  return { names: table.schema.fields.map((f) => f.name), rows: table.toArray().map((r) => r.toJSON()) };
}

describe('tableWindow', () => {
  it('puts the id and soma_joinid first and keeps the frame order without a sort', () => {
    const { names, rows } = windowRows({ offset: 1, limit: 2 });
    expect(names).toEqual(['obs_id', 'soma_joinid', 'cluster', 'n_genes', 'doublet', 'barcode']);
    expect(rows.map((r) => [r.obs_id, r.soma_joinid])).toEqual([
      ['c1', 8],
      ['c2', 11],
    ]);
  });

  it('sorts numbers numerically with NaN last, either way', () => {
    expect(windowRows({ offset: 0, limit: 5, sortColumn: 'n_genes' }).rows.map((r) => r.obs_id)).toEqual(['c2', 'c4', 'c0', 'c3', 'c1']);
    expect(windowRows({ offset: 0, limit: 5, sortColumn: 'n_genes', sortDescending: true }).rows.map((r) => r.obs_id)).toEqual(['c3', 'c0', 'c4', 'c2', 'c1']);
    // The second window continues the same order.
    expect(windowRows({ offset: 3, limit: 5, sortColumn: 'n_genes' }).rows.map((r) => r.obs_id)).toEqual(['c3', 'c1']);
  });

  it('sorts categories naturally with NA last', () => {
    expect(windowRows({ offset: 0, limit: 5, sortColumn: 'cluster' }).rows.map((r) => r.cluster)).toEqual(['cluster 1', 'cluster 2', 'cluster 2', 'cluster 10', null]);
    expect(windowRows({ offset: 0, limit: 5, sortColumn: 'cluster', sortDescending: true }).rows.map((r) => r.cluster)).toEqual(['cluster 10', 'cluster 2', 'cluster 2', 'cluster 1', null]);
  });

  it('names the columns when asked to sort by one that does not exist', () => {
    expect(() => tableWindow(frame, joinids, 'obs_id', { offset: 0, limit: 5, sortColumn: 'nope' })).toThrow('There is no column "nope" to sort by; the columns are obs_id, soma_joinid, cluster, n_genes, doublet, barcode.');
  });
});

describe('columnStats', () => {
  it('counts categories in natural order, levels no row holds included', () => {
    expect(columnStats(frame, joinids, 'obs_id', 'cluster')).toEqual({
      name: 'cluster',
      n: 5,
      n_missing: 1,
      kind: 'category',
      n_categories: 3,
      categories: [
        { value: 'cluster 1', count: 1 },
        { value: 'cluster 2', count: 2 },
        { value: 'cluster 10', count: 1 },
      ],
    });
  });

  it('gives min, median and max of the present values', () => {
    expect(columnStats(frame, joinids, 'obs_id', 'n_genes')).toEqual({ name: 'n_genes', n: 5, n_missing: 1, kind: 'numeric', min: 20, median: 295, max: 1000 });
    expect(columnStats(frame, joinids, 'obs_id', 'soma_joinid')).toMatchObject({ kind: 'numeric', min: 3, median: 11, max: 40 });
  });

  it('counts true and false, and the distinct and most frequent text', () => {
    expect(columnStats(frame, joinids, 'obs_id', 'doublet')).toEqual({ name: 'doublet', n: 5, n_missing: 1, kind: 'bool', n_true: 2, n_false: 2 });
    expect(columnStats(frame, joinids, 'obs_id', 'barcode')).toEqual({
      name: 'barcode',
      n: 5,
      n_missing: 1,
      kind: 'string',
      n_distinct: 3,
      top: [
        { value: 'AAC', count: 2 },
        { value: 'GGT', count: 1 },
        { value: 'TTA', count: 1 },
      ],
    });
    expect(columnStats(frame, joinids, 'obs_id', 'obs_id')).toMatchObject({ kind: 'string', n_distinct: 5, n_missing: 0 });
  });
});
