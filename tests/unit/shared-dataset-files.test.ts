// Which names the app takes as dataset files when they are dropped or uploaded.
import { describe, expect, it } from 'vitest';
import { DATASET_ACCEPT, isDatasetFileName } from '../../src/shared/dataset-files';

describe('isDatasetFileName', () => {
  it('takes .h5ad, 10x .h5 and .loom files, in any case and as paths', () => {
    expect(['a.h5ad', 'filtered_feature_bc_matrix.h5', 'x.LOOM', '/data/b c.H5AD', 'C:\\data\\s.h5'].map(isDatasetFileName)).toEqual([true, true, true, true, true]);
  });
  it('refuses other suffixes and names without one', () => {
    expect(['notes.txt', 'matrix.mtx.gz', 'a.h5ad.gz', 'h5ad', 'folder', 'a.hdf5'].map(isDatasetFileName)).toEqual([false, false, false, false, false, false]);
  });
  it('offers the same suffixes to a browser file input', () => {
    expect(DATASET_ACCEPT).toBe('.h5ad,.h5,.loom');
  });
});
