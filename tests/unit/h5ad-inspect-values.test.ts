// What `inspect` reads of values: X classified as counts / normalised / scaled from a sample,
// category counts in natural order, and the first obs rows; values checked against h5py's
// reading of the same fixtures (tests/fixtures/h5ad, written by anndata and h5py).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyXValues, countCategories, previewRows, sampleXValues } from '../../src/main/engine/formats/h5ad/inspect-values';
import { describeXValues } from '../../src/shared/x-values';
import { openH5ad } from '../../src/main/engine/formats/h5ad/reader';
import type { H5adFile } from '../../src/main/engine/formats/h5ad/types';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/h5ad/${name}.h5ad`, import.meta.url));

async function withFile<T>(name: string, work: (file: H5adFile) => T): Promise<T> {
  const file = await openH5ad(fixture(name));
  try {
    return work(file);
  } finally {
    file.close();
  }
}

describe('classifyXValues', () => {
  it('calls whole non-negative numbers counts, whatever their dtype', () => {
    expect(classifyXValues(new Float32Array([0, 1, 5, 120]))).toEqual({ kind: 'counts', sampled: 4, min: 0, max: 120 });
    expect(classifyXValues(new Int32Array([3, 7]))).toEqual({ kind: 'counts', sampled: 2, min: 3, max: 7 });
    expect(classifyXValues(new BigInt64Array([2n, 9n]))).toEqual({ kind: 'counts', sampled: 2, min: 2, max: 9 });
  });

  it('calls non-negative fractions normalised and any negative value scaled', () => {
    expect(classifyXValues(new Float32Array([0.5, 2, 3.25]))).toEqual({ kind: 'normalized', sampled: 3, min: 0.5, max: 3.25 });
    expect(classifyXValues(new Float64Array([1, -0.25, 4]))).toEqual({ kind: 'scaled', sampled: 3, min: -0.25, max: 4 });
    // A negative whole number is still scaled data, not counts.
    expect(classifyXValues(new Int16Array([-2, 4])).kind).toBe('scaled');
  });

  it('skips NaN and says empty when there is nothing to judge by', () => {
    expect(classifyXValues(new Float32Array([Number.NaN, 2, 3]))).toEqual({ kind: 'counts', sampled: 3, min: 2, max: 3 });
    expect(classifyXValues(new Float32Array([]))).toEqual({ kind: 'empty', sampled: 0, min: null, max: null });
    expect(classifyXValues(new Float32Array([Number.NaN]))).toEqual({ kind: 'empty', sampled: 1, min: null, max: null });
  });

  it('reads as one sentence', () => {
    expect(describeXValues({ kind: 'counts', sampled: 10_000, min: 0, max: 57 })).toBe('integer counts (10,000 stored values sampled, 0 to 57)');
    expect(describeXValues({ kind: 'scaled', sampled: 12, min: -1.80512, max: 3 })).toBe('scaled: has negative values (12 stored values sampled, -1.805 to 3)');
  });
});

describe('sampleXValues on real files', () => {
  it('tells log-normalised X, a counts layer and a scaled dense layer apart', async () => {
    const [x, counts, scaled] = await withFile('kitchen_sink', (f) => [sampleXValues(f.X), sampleXValues(f.layers.get('counts')!), sampleXValues(f.layers.get('scaled')!)]);
    expect(x).toEqual({ kind: 'normalized', sampled: 17, min: expect.closeTo(0.2876821, 6), max: expect.closeTo(2.6390574, 6) });
    expect(counts).toMatchObject({ kind: 'counts', max: expect.any(Number) });
    expect(counts!.min).toBeGreaterThanOrEqual(0);
    expect(scaled).toMatchObject({ kind: 'scaled', min: -1.805 });
  });

  it('stops at the sample size, also for CSC', async () => {
    const hint = await withFile('x_csc_float64', (f) => ({ nnz: f.X!.nnz, hint: sampleXValues(f.X, 5) }));
    expect(hint.hint!.sampled).toBe(Math.min(5, hint.nnz));
    expect(await withFile('x_absent', (f) => sampleXValues(f.X))).toBeNull();
  });
});

describe('category counts and the obs preview', () => {
  it('counts each category in natural order and keeps an ordered categorical in its own order', async () => {
    const stage = await withFile('obs_categoricals', (f) => {
      const column = f.obs.columns.find((c) => c.name === 'stage')!.column;
      return column.kind === 'category' ? countCategories(column) : null;
    });
    expect(stage!.counts.map((c) => c.value)).toEqual(['early', 'mid', 'late']);
    const cluster = await withFile('obs_categoricals', (f) => {
      const column = f.obs.columns.find((c) => c.name === 'cluster')!.column;
      return column.kind === 'category' ? countCategories(column) : null;
    });
    // Integer categories 0, 3, 7 with codes [0 1 2 2 1 0 -1 0 1 2 2 2] (read with h5py).
    expect(cluster).toEqual({ counts: [{ value: '0', count: 3 }, { value: '3', count: 3 }, { value: '7', count: 5 }], missing: 1 });
  });

  it('sorts "cluster 2" before "cluster 10"', () => {
    const column = { kind: 'category' as const, codes: new Int32Array([0, 1, 1, 2]), categories: { kind: 'string' as const, values: ['cluster 10', 'cluster 2', 'cluster 1'] }, ordered: false };
    expect(countCategories(column).counts).toEqual([
      { value: 'cluster 1', count: 1 },
      { value: 'cluster 2', count: 2 },
      { value: 'cluster 10', count: 1 },
    ]);
  });

  it('previews the first rows with NA as null', async () => {
    const preview = await withFile('kitchen_sink', (f) => previewRows(f.obs, 3));
    expect(preview.columns).toEqual(['cell_type', 'leiden', 'n_counts', 'n_genes', 'is_doublet', 'donor', 'n_reads']);
    expect(preview.rows).toHaveLength(3);
    expect(preview.rows[0]!.slice(0, 1)).toEqual(['cell0']);
    // n_counts is float32 (98.67 rounds), the rest exact: values as h5py reads them.
    expect(preview.rows.map((r) => r[3])).toEqual([expect.closeTo(98.67, 4), expect.closeTo(39.73, 4), expect.closeTo(32.85, 4)]);
    expect(preview.rows.map((r) => [r[4], r[5], r[6], r[7]])).toEqual([
      [11, true, 'd1', 10],
      [42, false, null, 20],
      [54, false, 'd2', null],
    ]);
  });
});
