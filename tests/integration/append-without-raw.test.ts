// Issue 10, deliverable 1: the reference workflow (lamindb + tiledbsoma) concatenates
// files that have raw and a counts layer, then appends a file that has neither. The
// append goes through with a notice: the new cells have no raw.X and no counts
// entries (empty rows), older cells keep theirs. obsm missing from the new file is a
// problem unless --fill-missing; new obs columns become store columns with
// --add-columns (NA for older cells). Everything is checked by anndata reading a full
// export (`query --out`), which also covers deliverable 2's compression options.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, firstLine, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

/** r1, r2: raw (50 genes), counts layer, X_pca. noraw: 500 cells, none of those, new obs columns. noobsm: raw but no X_pca. */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)
raw_genes = [f'g{i}' for i in range(50)]
genes = raw_genes[:20]

def counts(n, g):
    m = sp.random(n, g, density=0.3, format='csr', random_state=rng, dtype=np.float32)
    m.data = np.round(m.data * 10 + 1).astype(np.float32)
    return m

def make(name, ids, with_raw=True, with_obsm=True, extra=False):
    n = len(ids)
    raw_x = counts(n, len(raw_genes))
    obs = pd.DataFrame(index=ids)
    obs['cell_type'] = pd.Categorical(rng.choice(['T', 'B'], n), categories=['T', 'B'])
    if extra:
        obs['tissue'] = pd.Categorical(rng.choice(['lung', 'gut'], n), categories=['lung', 'gut'])
        obs['score'] = rng.integers(0, 100, n).astype(np.int64)
    x = raw_x[:, :20].copy()
    x.data = np.log1p(x.data)
    a = ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=genes))
    if with_raw:
        a.layers['counts'] = raw_x[:, :20].copy()
        a.raw = ad.AnnData(X=raw_x, obs=obs[[]], var=pd.DataFrame({'kind': ['protein_coding'] * 50}, index=raw_genes))
    if with_obsm:
        a.obsm['X_pca'] = rng.normal(size=(n, 3)).astype(np.float32)
    a.write_h5ad(os.path.join(out, name))

make('r1.h5ad', [f'a{i}' for i in range(40)])
make('r2.h5ad', [f'b{i}' for i in range(30)])
make('noraw.h5ad', [f'n{i}' for i in range(500)], with_raw=False, extra=True)
make('noobsm.h5ad', [f'm{i}' for i in range(10)], with_obsm=False)
print(json.dumps(sorted(os.listdir(out))))
`;

/** Reads the export and the inputs with anndata and reports what the test checks. */
const CHECK_EXPORT = String.raw`
import sys, json, warnings
warnings.filterwarnings('ignore')
import numpy as np, scipy.sparse as sp, anndata as ad
export, inputs = sys.argv[1], sys.argv[2]
e = ad.read_h5ad(export)
orig = {k: ad.read_h5ad(f'{inputs}/{k}.h5ad') for k in ('r1', 'r2', 'noraw')}
old = list(orig['r1'].obs_names) + list(orig['r2'].obs_names)
new = list(orig['noraw'].obs_names)
pos = {c: i for i, c in enumerate(e.obs_names)}
d = lambda m: m.toarray() if sp.issparse(m) else np.asarray(m)
raw = d(e.raw.X)
counts = d(e.layers['counts'])
X = d(e.X)
def rows_equal(mat, names, src, attr):
    ok = True
    for k in ('r1', 'r2'):
        o = orig[k]
        ref = d(o.raw.X) if attr == 'raw' else d(o.layers['counts']) if attr == 'counts' else d(o.X)
        for j, c in enumerate(o.obs_names):
            ok = ok and np.array_equal(mat[pos[c]], ref[j])
    return bool(ok)
print(json.dumps({
    'n_obs': e.n_obs, 'n_vars': e.n_vars, 'raw_shape': list(e.raw.shape), 'raw_var_kind': sorted(set(e.raw.var['kind'].astype(str))),
    'raw_old_equal': rows_equal(raw, old, None, 'raw'),
    'raw_new_nnz': int(sum(np.count_nonzero(raw[pos[c]]) for c in new)),
    'counts_old_equal': rows_equal(counts, old, None, 'counts'),
    'counts_new_nnz': int(sum(np.count_nonzero(counts[pos[c]]) for c in new)),
    'X_old_equal': rows_equal(X, old, None, 'X'),
    'X_new_equal': bool(np.array_equal(np.stack([X[pos[c]] for c in new]), d(orig['noraw'].X))),
    'pca_new_equal': bool(np.array_equal(np.stack([e.obsm['X_pca'][pos[c]] for c in new]), orig['noraw'].obsm['X_pca'])),
    'tissue_dtype': str(e.obs['tissue'].dtype),
    'tissue_old_na': int(e.obs['tissue'].loc[old].isna().sum()),
    'tissue_new': [str(v) for v in e.obs['tissue'].loc[new]] == [str(v) for v in orig['noraw'].obs['tissue']],
    'score_dtype': str(e.obs['score'].dtype),
    'score_old_na': int(e.obs['score'].loc[old].isna().sum()),
    'score_new': [int(v) for v in e.obs['score'].loc[new]] == [int(v) for v in orig['noraw'].obs['score']],
}))
`;

/** A small export read back: its X must equal the same slice of the input. */
const CHECK_SMALL = String.raw`
import sys, json, warnings, h5py
warnings.filterwarnings('ignore')
import numpy as np, anndata as ad
small, source = sys.argv[1], sys.argv[2]
e = ad.read_h5ad(small)
o = ad.read_h5ad(source)[:, ['g0', 'g1']]
with h5py.File(small, 'r') as f:
    filters = sorted({str(f['X/data'].compression), str(f['X/indices'].compression), str(f['obs/cell_type/codes'].compression)})
print(json.dumps({'shape': list(e.shape), 'equal': bool(np.array_equal(e.X.toarray(), o.X.toarray())), 'filters': filters, 'obs_names': list(e.obs_names) == list(o.obs_names)}))
`;

interface PlanEntry {
  element: string;
  name: string;
  detail?: string;
}
interface Plan {
  kept: PlanEntry[];
  dropped: PlanEntry[];
  converted: PlanEntry[];
  added: PlanEntry[];
  problems: string[];
}

let root: string;
let home: string;
let inputs: string;
const h = () => ({ home });
const f = (name: string) => join(inputs, name);

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

beforeAll(() => {
  root = tempDir('append-noraw');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  ok(cellar(['import', f('r1.h5ad'), f('r2.h5ad'), '--collection', 'withraw'], h()));
  ok(cellar(['concat', '--collection', 'withraw', '--store', 'atlas', '--json'], h()));
}, 180_000);

afterAll(() => removeDir(root));

describe('append of a file without raw and without the counts layer', () => {
  let dry: Plan;
  beforeAll(() => {
    dry = (ok(cellar(['append', '--store', 'atlas', f('noraw.h5ad'), '--dry-run', '--json'], h())) as { plan: Plan }).plan;
  }, 60_000);

  it('the preflight passes with a notice for raw and for the layer, and lists new columns as dropped', () => {
    expect(dry.problems).toEqual([]);
    expect(dry.converted).toEqual(
      expect.arrayContaining([
        { element: 'raw', name: 'raw', detail: expect.stringMatching(/missing in noraw\.h5ad: those cells have no raw\.X entries/) },
        { element: 'layers', name: 'counts', detail: expect.stringMatching(/missing in noraw\.h5ad: those cells have no entries in this layer/) },
      ]),
    );
    expect(dry.dropped).toEqual(
      expect.arrayContaining([
        { element: 'obs', name: 'tissue', detail: expect.stringMatching(/not in the store \(use --add-columns to add it\)/) },
        { element: 'obs', name: 'score', detail: expect.stringMatching(/--add-columns/) },
      ]),
    );
  });

  it('with --add-columns the preflight adds the columns, NA for the cells already in the store', () => {
    const plan = (ok(cellar(['append', '--store', 'atlas', f('noraw.h5ad'), '--add-columns', '--dry-run', '--json'], h())) as { plan: Plan }).plan;
    expect(plan.problems).toEqual([]);
    expect(plan.added).toEqual(
      expect.arrayContaining([
        { element: 'obs', name: 'tissue', detail: 'new column (category of string): NA for the cells already in the store' },
        { element: 'obs', name: 'score', detail: 'new column (nullable-int (int64)): NA for the cells already in the store' },
      ]),
    );
    expect(plan.converted).toEqual(expect.arrayContaining([{ element: 'obs', name: 'score', detail: 'int64 → nullable-int (int64) so that older cells can be NA' }]));
    expect(plan.dropped.filter((d) => d.element === 'obs')).toEqual([]);
  });

  it('obsm missing from the new file is a problem unless --fill-missing (NaN rows)', () => {
    const r = cellar(['append', '--store', 'atlas', f('noobsm.h5ad'), '--json'], h());
    expect(r.code).toBe(1);
    const { error } = r.json as { error: { code: string; problems: string[] } };
    expect(error.code).toBe('preflight_failed');
    expect(error.problems).toEqual([expect.stringMatching(/^obsm "X_pca" is missing in noobsm\.h5ad .*--fill-missing/)]);
    const filled = (ok(cellar(['append', '--store', 'atlas', f('noobsm.h5ad'), '--fill-missing', '--dry-run', '--json'], h())) as { plan: Plan }).plan;
    expect(filled.problems).toEqual([]);
    expect(filled.converted).toEqual(expect.arrayContaining([{ element: 'obsm', name: 'X_pca', detail: 'missing in noobsm.h5ad: those cells get NaN rows' }]));
  });
});

describe('after the append, a full export read by anndata', () => {
  let facts: Record<string, unknown>;
  let appended: { store: { version: number; n_observations: number; n_vars: number } };
  beforeAll(() => {
    appended = ok(cellar(['append', '--store', 'atlas', f('noraw.h5ad'), '--add-columns', '--json'], h())) as typeof appended;
    ok(cellar(['query', '--store', 'atlas', '--out', join(root, 'all.h5ad'), '--json'], h()));
    facts = runPythonJson(CHECK_EXPORT, [join(root, 'all.h5ad'), inputs]);
  }, 180_000);

  it('made version 2 with every cell', () => {
    expect(appended.store).toEqual(expect.objectContaining({ version: 2, n_observations: 570, n_vars: 20 }));
    expect(facts).toEqual(expect.objectContaining({ n_obs: 570, n_vars: 20, raw_shape: [570, 50], raw_var_kind: ['protein_coding'] }));
  });

  it('the appended cells have empty raw.X and counts rows; older cells keep theirs', () => {
    expect(facts).toEqual(expect.objectContaining({ raw_new_nnz: 0, raw_old_equal: true, counts_new_nnz: 0, counts_old_equal: true }));
  });

  it('X and obsm of every cell are the files\' values', () => {
    expect(facts).toEqual(expect.objectContaining({ X_old_equal: true, X_new_equal: true, pca_new_equal: true }));
  });

  it('the added columns are NA for older cells and hold the new file\'s values', () => {
    expect(facts).toEqual(expect.objectContaining({ tissue_dtype: 'category', tissue_old_na: 70, tissue_new: true, score_dtype: 'Int64', score_old_na: 70, score_new: true }));
  });
});

describe('query --out of a small slice', () => {
  it.each([
    ['gzip', [], 'gzip'],
    ['lzf', ['--compression', 'lzf'], 'lzf'],
    ['none', ['--compression', 'none'], 'None'],
  ])('%s: 500 cells × 2 genes is small, compressed as asked and read back by anndata', (name, flags, filter) => {
    const out = join(root, `small-${name}.h5ad`);
    ok(cellar(['query', '--store', 'atlas', '--obs', 'dataset == 2', '--var', 'var_id in ["g0", "g1"]', '--out', out, ...flags], h()));
    expect(statSync(out).size).toBeLessThan(200 * 1024);
    const r = runPythonJson<{ shape: number[]; equal: boolean; filters: string[]; obs_names: boolean }>(CHECK_SMALL, [out, f('noraw.h5ad')]);
    expect(r).toEqual({ shape: [500, 2], equal: true, filters: [filter], obs_names: true });
  });

  it('an unknown --compression is a usage error, and --layers names unknown layers', () => {
    const bad = cellar(['query', '--store', 'atlas', '--out', join(root, 'x.h5ad'), '--compression', 'zip'], h());
    expect(bad.code).toBe(2);
    expect(firstLine(bad.stderr)).toBe('Unknown --compression zip; use gzip, lzf or none.');
    const layer = cellar(['query', '--store', 'atlas', '--out', join(root, 'x.h5ad'), '--layers', 'counts,spliced'], h());
    expect(layer.code).toBe(1);
    expect(firstLine(layer.stderr)).toBe('The store has no layer "spliced"; it has data, counts.');
  });
});
