// `cellar inspect`: the JSON shape of SPEC §5 and the human summary, on
// fixtures written by real anndata (kitchen sink) and by the pre-0.7 layout.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatInspect, inspectH5ad, type InspectReport } from '../../src/main/engine/formats/h5ad/inspect';
import { openH5ad } from '../../src/main/engine/formats/h5ad/reader';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/h5ad/${name}.h5ad`, import.meta.url));

async function inspect(name: string): Promise<InspectReport> {
  const file = await openH5ad(fixture(name));
  try {
    return inspectH5ad(file);
  } finally {
    file.close();
  }
}

describe('inspectH5ad', () => {
  it('reports the kitchen sink in the SPEC §5 shape', async () => {
    const report = await inspect('kitchen_sink');
    expect(report).toMatchObject({
      n_obs: 10,
      n_vars: 6,
      X: { encoding: 'csr_matrix', dtype: 'float32', shape: [10, 6] },
      layers: ['counts', 'scaled'],
      obsm: { X_pca: [10, 2], X_umap: [10, 2], meta: [10, 2], sparse_scores: [10, 3] },
      varm: { PCs: [6, 2] },
      obsp: ['connectivities', 'distances'],
      varp: ['gene_corr'],
      raw: { n_vars: 9, var: [{ name: 'gene_ids', dtype: 'string' }] },
    });
    expect(report.obs).toEqual([
      {
        name: 'cell_type',
        dtype: 'category',
        n_categories: 3,
        ordered: false,
        categories_dtype: 'string',
        category_counts: [
          { value: 'B cell', count: 0 },
          { value: 'NK', count: 6 },
          { value: 'T cell', count: 2 },
        ],
        n_missing: 2,
      },
      {
        name: 'leiden',
        dtype: 'category',
        n_categories: 3,
        ordered: false,
        categories_dtype: 'string',
        category_counts: [
          { value: '0', count: 4 },
          { value: '1', count: 4 },
          { value: '2', count: 2 },
        ],
        n_missing: 0,
      },
      { name: 'n_counts', dtype: 'float32' },
      { name: 'n_genes', dtype: 'int32' },
      { name: 'is_doublet', dtype: 'bool' },
      { name: 'donor', dtype: 'nullable-string' },
      { name: 'n_reads', dtype: 'nullable-int' },
    ]);
    expect(report.var).toEqual([
      { name: 'gene_ids', dtype: 'string' },
      { name: 'highly_variable', dtype: 'bool' },
    ]);
    expect([...report.uns].sort()).toEqual([
      'big_uint', 'cell_type_colors', 'flag', 'int_array', 'n_pcs', 'neighbors', 'nested',
      'nothing', 'ragged', 'rank_genes_groups', 'resolution', 'scores', 'title',
    ]);
    expect(report.X!.nnz).toBeGreaterThan(0);
    expect(report.notices).toEqual(['uns/ragged: skipped (awkward arrays are not supported)']);
    // The report is plain JSON (no bigint, no typed arrays).
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('reports ordered categoricals and a file without X', async () => {
    const ordered = await inspect('obs_categoricals');
    expect(ordered.obs.find((c) => c.name === 'stage')).toMatchObject({ dtype: 'category', ordered: true });
    expect(ordered.obs.find((c) => c.name === 'cluster')).toMatchObject({ dtype: 'category', categories_dtype: 'int64' });
    const absent = await inspect('x_absent');
    expect(absent.X).toBeNull();
    expect(absent.raw).toBeNull();
  });

  it('reports a pre-0.7 file, with the uns categories folded into obs/var', async () => {
    const report = await inspect('legacy_pre07');
    expect(report.layout_version).toBe('legacy');
    expect(report.obs.find((c) => c.name === 'louvain')).toMatchObject({ dtype: 'category', n_categories: 3 });
    expect(report.uns).toEqual(['louvain_colors', 'neighbors']);
    expect(report.raw).toMatchObject({ n_vars: 9, X: { encoding: 'csc_matrix', shape: [8, 9] } });
  });
});

describe('formatInspect', () => {
  it('summarises a file in readable lines', async () => {
    const text = formatInspect(await inspect('kitchen_sink'));
    const lines = text.split('\n');
    expect(lines[0]).toBe('kitchen_sink.h5ad: 10 observations × 6 variables, AnnData encoding 0.1.0');
    expect(lines[1]).toMatch(/^X: csr_matrix float32, 10 × 6, \d+ stored \(\d+\.\d% of cells\)$/);
    expect(lines[2]).toBe('X values: normalised: non-negative, not whole numbers (17 stored values sampled, 0.2877 to 2.639)');
    expect(text).toContain('obs (7 columns, index "_index"):');
    expect(text).toContain('  cell_type   category (3 string categories)');
    expect(text).toContain('  n_reads     nullable-int');
    expect(text).toMatch(/layers: counts \(csr_matrix int32, 10 × 6, \d+ stored .*\), scaled \(array float64, 10 × 6, dense\)/);
    expect(text).toContain('obsm: X_pca (10 × 2), X_umap (10 × 2), meta (10 × 2), sparse_scores (10 × 3)');
    expect(text).toContain('obsp: connectivities, distances');
    expect(text).toMatch(/^raw: 9 variables; X: csr_matrix float32, 10 × 9/m);
    expect(text).toContain('notices:\n  uns/ragged: skipped (awkward arrays are not supported)');
  });

  it('says "none" and "—" for what is absent', async () => {
    const text = formatInspect(await inspect('x_absent'));
    expect(text).toContain('X: none');
    expect(text).toContain('layers: —');
    expect(text).toContain('raw: none');
    expect(text).not.toContain('notices:');
  });
});
