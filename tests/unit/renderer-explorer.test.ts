// The explorer's small pure pieces: axis labels from explained variance, the filter that names
// selected cells, and the differential expression table's search and sort.
import { describe, expect, it } from 'vitest';
import { axisLabel } from '../../src/renderer/src/features/embeddings/pca-summary';
import { joinidFilter, makeSelection, selectionJoinids } from '../../src/renderer/src/features/embeddings/explorer-selection';
import { viewDeRows } from '../../src/renderer/src/features/embeddings/de-rows';
import type { DeRow } from '../../src/shared/contract';

describe('axisLabel', () => {
  it('says how much variance a PCA component explains, and numbers other embeddings', () => {
    expect(axisLabel('pca', 0, [0.1234, 0.05])).toBe('PC1 (12.3%)');
    expect(axisLabel('pca', 1, [0.1234, 0.05])).toBe('PC2 (5.0%)');
    expect(axisLabel('X_umap', 1, undefined)).toBe('X_umap 2');
    expect(axisLabel('pca', 4, [0.2])).toBe('pca 5');
  });
});

describe('selections', () => {
  it('are null when empty and name their cells by joinid', () => {
    expect(makeSelection(null, [])).toBeNull();
    expect(makeSelection(new Uint8Array(4), [])).toBeNull();
    const s = makeSelection(Uint8Array.from([0, 1, 0, 1, 1]), [[0, 0, 1, 0, 1, 1]])!;
    expect(s.count).toBe(3);
    expect(selectionJoinids(s)).toEqual([1, 3, 4]);
    expect(joinidFilter(s)).toBe('soma_joinid in [1, 3, 4]');
  });
});

describe('viewDeRows', () => {
  const row = (gene: string, symbol: string | null, logfc: number, pval: number): DeRow => ({ gene, symbol, logfc, pval, padj: pval, pct_in: 0.5, pct_out: 0.1, score: -pval });
  const rows = [row('G2', 'cd3e', 1.5, 0.01), row('G10', 'CD19', -2, 1e-8), row('G1', null, Number.NaN, 0.5), row('G3', 'ms4a1', 0.2, 0.2)];
  it('keeps the engine order without a sort, and finds genes by id or symbol in any case', () => {
    expect(viewDeRows(rows, '', null).map((r) => r.gene)).toEqual(['G2', 'G10', 'G1', 'G3']);
    expect(viewDeRows(rows, 'cd', null).map((r) => r.gene)).toEqual(['G2', 'G10']);
    expect(viewDeRows(rows, ' g1 ', null).map((r) => r.gene)).toEqual(['G10', 'G1']);
  });
  it('sorts numbers by value with NaN last either way, and names naturally with missing symbols last', () => {
    expect(viewDeRows(rows, '', { column: 'logfc', descending: true }).map((r) => r.gene)).toEqual(['G2', 'G3', 'G10', 'G1']);
    expect(viewDeRows(rows, '', { column: 'logfc', descending: false }).map((r) => r.gene)).toEqual(['G10', 'G3', 'G2', 'G1']);
    expect(viewDeRows(rows, '', { column: 'pval', descending: false }).map((r) => r.gene)).toEqual(['G10', 'G2', 'G3', 'G1']);
    expect(viewDeRows(rows, '', { column: 'gene', descending: false }).map((r) => r.gene)).toEqual(['G1', 'G2', 'G3', 'G10']);
    // Natural order: cd3e before CD19 (3 < 19), so descending puts CD19 first.
    expect(viewDeRows(rows, '', { column: 'symbol', descending: true }).map((r) => r.gene)).toEqual(['G3', 'G10', 'G2', 'G1']);
    // The table given is left in its order.
    expect(rows.map((r) => r.gene)).toEqual(['G2', 'G10', 'G1', 'G3']);
  });
});
