import { describe, expect, it } from 'vitest';
import { datasetHistograms } from '../../src/renderer/src/features/embeddings/qc-histogram';

describe('datasetHistograms', () => {
  it('bins every dataset on the same edges, the largest value in the last bin', () => {
    const values = [0, 1, 2, 3, 4, 10, 10, 5];
    const datasets = [0, 0, 0, 0, 1, 1, 1, 1];
    const h = datasetHistograms(values, datasets, 5);
    expect(h.edges).toEqual([0, 2, 4, 6, 8, 10]);
    expect(h.datasets).toEqual([
      { position: 0, counts: [2, 2, 0, 0, 0], nCells: 4, nMissing: 0, median: 1.5 },
      { position: 1, counts: [0, 0, 2, 0, 2], nCells: 4, nMissing: 0, median: 7.5 },
    ]);
  });

  it('counts missing values apart and orders datasets by position', () => {
    const h = datasetHistograms([NaN, 3, 1, NaN], [2, 2, 0, 0], 2);
    expect(h.edges).toEqual([1, 2, 3]);
    expect(h.datasets.map((d) => [d.position, d.counts, d.nCells, d.nMissing, d.median])).toEqual([
      [0, [1, 0], 1, 1, 1],
      [2, [0, 1], 1, 1, 3],
    ]);
  });

  it('gives one distinct value a bin of width one around it, and no bins when every value is missing', () => {
    expect(datasetHistograms([4, 4], [0, 0], 2)).toEqual({ edges: [3.5, 4, 4.5], datasets: [{ position: 0, counts: [0, 2], nCells: 2, nMissing: 0, median: 4 }] });
    expect(datasetHistograms([NaN], [0], 3)).toEqual({ edges: [], datasets: [{ position: 0, counts: [], nCells: 0, nMissing: 1, median: null }] });
  });
});
