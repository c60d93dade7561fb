// `cellar inspect` on the formats besides h5ad, through the real CLI: 10x HDF5 (Cell Ranger
// v3 with Antibody Capture features, v2 with two genomes), 10x Matrix Market folders (v3
// gzipped, v2 plain; the folder or its matrix file) and loom 3 / loom 2. Shapes, stored
// entries, feature types and what is left out are compared with h5py / scipy reading the
// same files. Bad inputs (a truncated .mtx, a folder without barcodes, an .h5 of neither
// 10x layout, a loom without /matrix) get one clear sentence and register nothing.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, firstLine, removeDir, REPO_ROOT, tempDir, type CellarResult } from './helpers/cellar';
import { readReference, type ReferenceSource } from './helpers/format-reference';

const FORMATS = join(REPO_ROOT, 'tests', 'fixtures', 'formats');
const BAD = join(FORMATS, 'bad');

interface Report {
  file: string;
  format: string;
  format_label: string;
  layout_version: string;
  n_obs: number;
  n_vars: number;
  obs_index_name: string;
  var_index_name: string;
  obs: { name: string; dtype: string; n_categories?: number }[];
  var: { name: string; dtype: string; n_categories?: number }[];
  X: { encoding: string; dtype: string; shape: [number, number]; nnz: number };
  layers: string[];
  obsm: Record<string, number[]>;
  feature_types: { type: string; count: number; kept: boolean }[];
  dropped: { element: string; name: string; detail: string }[];
  notices: string[];
}

let home: string;
let ref: Record<string, ReferenceSource>;
const reports: Record<string, Report> = {};
const texts: Record<string, string> = {};

const INPUTS = {
  tenx_v3: { kind: '10x-h5', path: join(FORMATS, 'tenx_v3.h5') },
  tenx_v2: { kind: '10x-h5', path: join(FORMATS, 'tenx_v2.h5') },
  mtx_v3: { kind: 'mtx', path: join(FORMATS, 'mtx_v3') },
  mtx_v2: { kind: 'mtx', path: join(FORMATS, 'mtx_v2') },
  loom3: { kind: 'loom', path: join(FORMATS, 'loom3.loom') },
  loom2: { kind: 'loom', path: join(FORMATS, 'loom2.loom') },
} as const;

beforeAll(() => {
  home = tempDir('formats-inspect');
  ref = readReference(INPUTS);
  for (const [name, { path }] of Object.entries(INPUTS)) {
    const r = cellar(['inspect', path, '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    reports[name] = r.json as Report;
    texts[name] = cellar(['inspect', path], { home }).stdout;
  }
}, 180_000);

afterAll(() => removeDir(home));

function storageFiles(): string[] {
  const dir = join(home, 'storage');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Feature types as the reference counts them, Gene Expression kept. */
function expectedTypes(source: ReferenceSource): Report['feature_types'] {
  return Object.entries(source.types).map(([type, count]) => ({ type, count, kept: type === 'Gene Expression' }));
}

describe('10x HDF5', () => {
  it('v3: barcodes × Gene Expression features, the Antibody Capture features listed and left out', () => {
    const r = reports.tenx_v3!;
    const s = ref.tenx_v3!;
    expect([r.format, r.layout_version]).toEqual(['10x-h5', '10x-v3']);
    expect([r.n_obs, r.n_vars]).toEqual([s.cells.length, s.ids.length]);
    expect([r.n_obs, r.n_vars]).toEqual([12, 10]);
    expect(r.X).toEqual({ encoding: 'csr_matrix', dtype: 'int32', shape: [12, 10], nnz: s.nnz });
    expect(r.feature_types).toEqual(expectedTypes(s));
    expect(r.feature_types).toEqual([
      { type: 'Gene Expression', count: 10, kept: true },
      { type: 'Antibody Capture', count: 3, kept: false },
    ]);
    expect(r.dropped).toEqual([{ element: 'features', name: 'Antibody Capture', detail: '3 Antibody Capture features (CD3_TotalSeqB, CD19_TotalSeqB, CD14_TotalSeqB): only Gene Expression features become X' }]);
    expect(r.notices).toEqual(['tenx_v3.h5: 3 Antibody Capture features (CD3_TotalSeqB, CD19_TotalSeqB, CD14_TotalSeqB): only Gene Expression features become X; the others are not imported.']);
    expect([r.obs_index_name, r.var_index_name]).toEqual(['barcode', 'gene_ids']);
    // read, pattern and sequence are empty for genes: no columns for them.
    expect(r.var.map((c) => [c.name, c.dtype])).toEqual([['gene_symbols', 'string'], ['feature_types', 'category'], ['genome', 'category']]);
    expect(texts.tenx_v3!.split('\n').slice(0, 2)).toEqual([
      'tenx_v3.h5: 12 observations × 10 variables, 10x Genomics HDF5 feature-barcode matrix (Cell Ranger v3 layout)',
      'feature types: Gene Expression (10, kept as X), Antibody Capture (3, not imported)',
    ]);
  });

  it('v2: the genomes side by side, each gene with its genome', () => {
    const r = reports.tenx_v2!;
    const s = ref.tenx_v2!;
    expect([r.format, r.layout_version]).toEqual(['10x-h5', '10x-v2']);
    expect([r.n_obs, r.n_vars, r.X.nnz]).toEqual([s.cells.length, s.ids.length, s.nnz]);
    expect([r.n_obs, r.n_vars]).toEqual([9, 10]);
    expect(r.format_label).toBe('10x Genomics HDF5 feature-barcode matrix (Cell Ranger v2 layout, genomes hg19, mm10)');
    expect(r.var.find((c) => c.name === 'genome')).toEqual({ name: 'genome', dtype: 'category', n_categories: 2, ordered: false, categories_dtype: 'string' });
    expect(r.feature_types).toEqual([{ type: 'Gene Expression', count: 10, kept: true }]);
    expect(r.dropped).toEqual([]);
  });
});

describe('10x Matrix Market folders', () => {
  it('v3 (gzipped, features.tsv): Gene Expression kept, Antibody Capture listed and left out', () => {
    const r = reports.mtx_v3!;
    const s = ref.mtx_v3!;
    expect([r.format, r.layout_version]).toEqual(['10x-mtx', '10x-mtx-v3']);
    expect([r.n_obs, r.n_vars, r.X.nnz]).toEqual([s.cells.length, s.ids.length, s.nnz]);
    expect([r.n_obs, r.n_vars]).toEqual([15, 10]);
    expect(r.feature_types).toEqual(expectedTypes(s));
    expect(r.dropped.map((d) => [d.element, d.name])).toEqual([['features', 'Antibody Capture']]);
  });

  it('v2 (plain, genes.tsv): every row a gene', () => {
    const r = reports.mtx_v2!;
    const s = ref.mtx_v2!;
    expect([r.format, r.layout_version]).toEqual(['10x-mtx', '10x-mtx-v2']);
    expect([r.n_obs, r.n_vars, r.X.nnz]).toEqual([s.cells.length, s.ids.length, s.nnz]);
    expect(r.var.map((c) => c.name)).toEqual(['gene_symbols', 'feature_types']);
  });

  it('the path of the matrix file reads the same folder', () => {
    const r = cellar(['inspect', join(FORMATS, 'mtx_v3', 'matrix.mtx.gz'), '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    const report = r.json as Report;
    expect({ ...report, file: 'x' }).toEqual({ ...reports.mtx_v3!, file: 'x' });
  });
});

describe('loom', () => {
  it.each(['loom3', 'loom2'] as const)('%s: cells as rows, Accession as gene ids, CellID as cell ids, layers and 2-d attributes kept, graphs listed', (name) => {
    const r = reports[name]!;
    const s = ref[name]!;
    expect(r.format).toBe('loom');
    expect(r.layout_version).toBe(name === 'loom3' ? 'loom-3.0.0' : 'loom-2.0.1');
    expect([r.n_obs, r.n_vars]).toEqual([s.cells.length, s.ids.length]);
    expect([r.n_obs, r.n_vars]).toEqual([11, 9]);
    expect(r.X).toEqual({ encoding: 'array', dtype: 'float32', shape: [11, 9], nnz: 99 });
    expect([r.obs_index_name, r.var_index_name]).toEqual(['CellID', 'Accession']);
    expect(r.obs.map((c) => [c.name, c.dtype])).toEqual([['ClusterID', 'int64'], ['total', 'float64']]);
    expect(r.var.map((c) => [c.name, c.dtype])).toEqual([['Gene', 'string'], ['n_cells', 'int64']]);
    expect(r.layers).toEqual(['spliced']);
    expect(r.obsm).toEqual({ X_umap: [11, 2] });
    expect(r.dropped).toEqual([{ element: 'graphs', name: 'col_graphs/knn', detail: 'loom graphs are not carried' }]);
  });
});

describe('bad inputs: one clear sentence, nothing registered or copied', () => {
  const cases: [string, string, string, RegExp][] = [
    ['a truncated .mtx', join(BAD, 'mtx_truncated'), 'bad_element', /^matrix\.mtx is truncated: it holds 12 of the 28 entries its size line announces\.$/],
    ['a folder without barcodes', join(BAD, 'mtx_no_barcodes'), 'not_found', /^The folder mtx_no_barcodes has no barcodes\.tsv or barcodes\.tsv\.gz beside matrix\.mtx\.gz: a 10x Matrix Market folder holds matrix\.mtx, barcodes\.tsv and features\.tsv \(or genes\.tsv\), each maybe gzipped\.$/],
    ['an .h5 of neither 10x layout', join(BAD, 'not_10x.h5'), 'unknown_format', /^not_10x\.h5 is an HDF5 file but not a 10x Genomics feature-barcode matrix: it has \/counts at the top\. Cellar reads the Cell Ranger v3 layout/],
    ['a loom without /matrix', join(BAD, 'no_matrix.loom'), 'unknown_format', /^no_matrix\.loom is not a loom file: it has no \/matrix dataset/],
    ['a folder with no matrix at all', join(FORMATS, 'bad'), 'unknown_format', /^The folder bad has no matrix\.mtx or matrix\.mtx\.gz/],
  ];

  const expectRefused = (r: CellarResult, code: string, message: RegExp) => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toContain('    at ');
    expect(firstLine(r.stderr)).toMatch(message);
    expect((r.json as { error: { code: string } }).error.code).toBe(code);
  };

  it.each(cases)('%s: inspect and import refuse it', (_what, path, code, message) => {
    expectRefused(cellar(['inspect', path, '--json'], { home }), code, message);
    expectRefused(cellar(['import', path, '--collection', 'bad', '--json'], { home }), code, message);
    const list = cellar(['list', '--json'], { home }).json as { artifacts: unknown[]; collections: unknown[] };
    expect([list.artifacts, list.collections]).toEqual([[], []]);
    expect(storageFiles()).toEqual([]);
  });

  it('a good file with a bad one in one import: nothing registered', () => {
    expectRefused(cellar(['import', INPUTS.tenx_v3.path, join(BAD, 'mtx_truncated'), '--collection', 'bad', '--json'], { home }), 'bad_element', /^matrix\.mtx is truncated/);
    const list = cellar(['list', '--json'], { home }).json as { artifacts: unknown[]; collections: unknown[] };
    expect([list.artifacts, list.collections]).toEqual([[], []]);
    expect(storageFiles()).toEqual([]);
  });
});
