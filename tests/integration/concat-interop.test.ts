// Issue 3 acceptance, through the real CLI: three files written by Debian's anndata
// 0.8.0 (different genes, obs columns that clash in type, CSR / CSC / dense X, gzip
// and lzf, raw with its own genes, obsm in some) are imported, planned (--dry-run),
// concatenated and exported; anndata reads the exports and they must equal
// anndata.concat(join="outer") of the inputs. Query slices (--obs/--var/--layer,
// --measurement raw) are checked against the same slice taken in Python, and every
// store file is read by nodejs-polars, an Arrow implementation that is not ours.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/main/engine/store/store-reader';
import { readManifest } from '../../src/main/engine/store/format/manifest';
import { cellar, firstLine, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';
import { runningSumsOfVarints } from './helpers/varints';

/** Writes a.h5ad (CSR X, gzip), b.h5ad (CSC X, lzf), c.h5ad (dense X, gzip) into argv[1]. */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
from anndata._io import h5ad as ad_h5ad
out = sys.argv[1]
# anndata turns repeated strings into categoricals on write; the test needs plain strings.
ad.AnnData.strings_to_categoricals = lambda self, df=None: None
rng = np.random.default_rng(7)

def counts(n, g):
    m = sp.random(n, g, density=0.3, format='csr', random_state=rng, dtype=np.float32)
    m.data = np.round(m.data * 10 + 1).astype(np.float32)
    return m

def obs_base(n, prefix):
    df = pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)])
    df['score'] = rng.normal(size=n).round(3)
    q = rng.uniform(0, 1, size=n).round(3)
    q[::7] = np.nan
    df['quality score'] = q
    return df

nA, nB, nC = 40, 50, 30
oA = obs_base(nA, 'a')
oA['cell_type'] = pd.Categorical(rng.choice(['T', 'B', 'NK'], nA), categories=['T', 'B', 'NK'])
oA['note'] = np.full(nA, np.nan)                                   # all-NaN here, strings elsewhere
oA['n_counts'] = rng.integers(100, 1000, nA).astype(np.int32)      # int32 / float32 / int64
oA['only_a'] = np.arange(nA)
oA['donor'] = rng.choice(['d1', 'd2'], nA).astype(object)
oA['stage'] = pd.Categorical(rng.choice(['early', 'late'], nA), categories=['early', 'late'])
oA['batch_id'] = rng.integers(1, 4, nA).astype(np.int64)            # int here and in b, all-NaN in c
oA['is_doublet'] = rng.random(nA) < 0.3                             # bool here and in b, all-NaN in c

oB = obs_base(nB, 'b')
oB['cell_type'] = rng.choice(['B', 'Mono', 'T', 'DC'], nB).astype(object)   # plain strings here
oB['note'] = rng.choice(['ok', 'low', 'high'], nB).astype(object)
oB['n_counts'] = rng.uniform(100, 1000, nB).astype(np.float32).round(1)
oB['donor'] = rng.choice(['d3', 'd4'], nB).astype(object)
oB['stage'] = pd.Categorical(rng.choice(['late', 'mid'], nB), categories=['late', 'mid'])
oB['batch_id'] = rng.integers(4, 6, nB).astype(np.int64)
oB['is_doublet'] = rng.random(nB) < 0.3

oC = obs_base(nC, 'c')
ct = rng.choice(['NK', 'Mono', 'Plasma'], nC).astype(object)
ct[3] = np.nan
oC['cell_type'] = pd.Categorical(ct, categories=['Plasma', 'NK', 'Mono'])
oC['note'] = rng.choice(['ok', 'weird'], nC).astype(object)
oC['n_counts'] = rng.integers(100, 1000, nC).astype(np.int64)
oC['only_c'] = rng.choice(['x', 'y'], nC).astype(object)
oC['stage'] = pd.Categorical(rng.choice(['mid', 'early'], nC), categories=['mid', 'early'])
oC['batch_id'] = np.full(nC, np.nan)
oC['is_doublet'] = np.full(nC, np.nan)

def var(names, extra):
    df = pd.DataFrame(index=names)
    df['gene_symbol'] = [s.upper() for s in names]
    for k, v in extra.items():
        df[k] = v
    return df

gA = [f'g{i}' for i in range(0, 30)]
gB = [f'g{i}' for i in list(range(45, 20, -1)) + [0, 3]]
gC = [f'g{i}' for i in list(range(40, 60)) + [5, 1, 2]]
vA = var(gA, {'highly_variable': rng.random(len(gA)) > 0.5})
vB = var(gB, {})
vC = var(gC, {'mean': rng.random(len(gC))})

def build(obs, v, X, raw_genes, obsm):
    a = ad.AnnData(X=X, obs=obs, var=v, dtype=np.float32)
    a.layers['counts'] = X * 2
    a.raw = ad.AnnData(X=counts(obs.shape[0], len(raw_genes)), obs=obs,
                       var=pd.DataFrame({'rv': [g + '!' for g in raw_genes]}, index=raw_genes), dtype=np.float32)
    for k, w in obsm.items():
        a.obsm[k] = rng.normal(size=(obs.shape[0], w)).astype(np.float32)
    # In every file, but not dense arrays: not carried.
    a.obsm['X_sparse'] = sp.random(obs.shape[0], 4, density=0.5, format='csr', random_state=rng)
    a.obsm['meta_df'] = pd.DataFrame({'u': np.arange(obs.shape[0]), 'v': np.ones(obs.shape[0])}, index=obs.index)
    a.uns['hello'] = 'world'
    return a

A = build(oA, vA, counts(nA, len(gA)), [f'r{i}' for i in range(0, 10)], {'X_pca': 5, 'X_umap': 2})
B = build(oB, vB, counts(nB, len(gB)).tocsc(), [f'r{i}' for i in range(5, 15)], {'X_pca': 5, 'X_umap': 2})
C = build(oC, vC, counts(nC, len(gC)).toarray(), [f'r{i}' for i in range(10, 20)], {'X_pca': 5})
os.makedirs(out, exist_ok=True)
ad_h5ad.write_h5ad(os.path.join(out, 'a.h5ad'), A, dataset_kwargs={'compression': 'gzip'})
ad_h5ad.write_h5ad(os.path.join(out, 'b.h5ad'), B, dataset_kwargs={'compression': 'lzf'})
ad_h5ad.write_h5ad(os.path.join(out, 'c.h5ad'), C, dataset_kwargs={'compression': 'gzip'})

import h5py
enc = {}
for n in 'abc':
    with h5py.File(os.path.join(out, n + '.h5ad'), 'r') as f:
        x = f['X']
        enc[n] = {'X': x.attrs['encoding-type'], 'compression': (x['data'] if isinstance(x, h5py.Group) else x).compression}
print(json.dumps(enc))
`;

/**
 * Reads the inputs and every export with anndata and prints the values to compare:
 * "ref" is what anndata itself makes of the inputs, "got" what it reads from Cellar's exports.
 */
const COMPARE = String.raw`
import sys, json, math
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
d, full_path, slice_path, counts_path, raw_path = sys.argv[1:6]
A, B, C = [ad.read_h5ad(f'{d}/{n}.h5ad') for n in 'abc']

def val(v):
    if v is None or v is pd.NA: return None
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, (np.integer,)): return int(v)
    if isinstance(v, (np.bool_,)): return bool(v)
    return v

def values(s):
    return [val(v) for v in s.astype(object).tolist()]

def dense(m):
    m = m.toarray() if sp.issparse(m) else np.asarray(m)
    return [[val(v) for v in row] for row in m.tolist()]

def first_seen(*indexes):
    return list(dict.fromkeys(v for ix in indexes for v in ix))

# fill_value=0: the store is sparse, so genes a dataset lacks read 0 (anndata pads dense X with NaN otherwise).
cat = ad.concat([A, B, C], join='outer', fill_value=0)
genes = first_seen(A.var_names, B.var_names, C.var_names)
obs = pd.concat([A.obs, B.obs, C.obs])
raw = [ad.AnnData(X=x.raw.X, obs=x.obs, var=x.raw.var) for x in (A, B, C)]
raw_cat = ad.concat(raw, join='outer', fill_value=0)
raw_genes = first_seen(*[r.var_names for r in raw])
layers = [ad.AnnData(X=x.layers['counts'], obs=x.obs, var=x.var) for x in (A, B, C)]
counts_cat = ad.concat(layers, join='outer', fill_value=0)

def frame(a):
    return {
        'obs_names': list(a.obs_names), 'var_names': list(a.var_names),
        'obs_columns': list(a.obs.columns), 'var_columns': list(a.var.columns),
        'obs_dtypes': {c: str(a.obs[c].dtype) for c in a.obs.columns},
        'obs': {c: values(a.obs[c]) for c in a.obs.columns},
        'var': {c: values(a.var[c]) for c in a.var.columns},
        'X_type': type(a.X).__name__, 'X_dtype': str(a.X.dtype), 'X': dense(a.X),
        'obsm': {k: dense(v) for k, v in a.obsm.items()},
        'layers': list(a.layers.keys()),
        'categories': {c: [val(v) for v in a.obs[c].cat.categories] for c in a.obs.columns if str(a.obs[c].dtype) == 'category'},
    }

full = ad.read_h5ad(full_path)
# The slice asked of Cellar, taken here with pandas on the full export.
obs_mask = (full.obs['cell_type'].isin(['T', 'Mono']) & (full.obs['n_counts'] > 300)).to_numpy()
var_mask = (full.var_names.isin(['g1', 'g5', 'g22', 'g41', 'g59', 'gX']) | (full.var['gene_symbol'] == 'G3')).to_numpy()
expected_slice = full[obs_mask][:, var_mask]
intersect = [c for c in A.obs.columns if c in B.obs.columns and c in C.obs.columns]

print(json.dumps({
    'ref': {
        'genes': genes, 'obs_names': list(cat.obs_names), 'intersect': intersect,
        'obs': {c: values(obs[c]) for c in intersect},
        'var_gene_symbol': [g.upper() for g in genes],
        'X': dense(cat[:, genes].X), 'counts': dense(counts_cat[:, genes].X),
        'X_pca': dense(np.concatenate([A.obsm['X_pca'], B.obsm['X_pca'], C.obsm['X_pca']])),
        'raw_genes': raw_genes, 'raw_X': dense(raw_cat[:, raw_genes].X),
        'raw_rv': [g + '!' for g in raw_genes],
        'slice': {'obs_names': list(expected_slice.obs_names), 'var_names': list(expected_slice.var_names), 'X': dense(expected_slice.X)},
    },
    'full': frame(full),
    'slice': frame(ad.read_h5ad(slice_path)),
    'counts': frame(ad.read_h5ad(counts_path)),
    'raw': frame(ad.read_h5ad(raw_path)),
}))
`;

interface Frame {
  obs_names: string[];
  var_names: string[];
  obs_columns: string[];
  var_columns: string[];
  obs_dtypes: Record<string, string>;
  obs: Record<string, unknown[]>;
  var: Record<string, unknown[]>;
  X_type: string;
  X_dtype: string;
  X: number[][];
  obsm: Record<string, number[][]>;
  layers: string[];
  categories: Record<string, unknown[]>;
}

interface Comparison {
  ref: {
    genes: string[];
    obs_names: string[];
    intersect: string[];
    obs: Record<string, unknown[]>;
    var_gene_symbol: string[];
    X: number[][];
    counts: number[][];
    X_pca: number[][];
    raw_genes: string[];
    raw_X: number[][];
    raw_rv: string[];
    slice: { obs_names: string[]; var_names: string[]; X: number[][] };
  };
  full: Frame;
  slice: Frame;
  counts: Frame;
  raw: Frame;
}

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
  n_obs: number;
  n_vars: number;
}

const OBS_FILTER = 'cell_type in ["T", "Mono"] and n_counts > 300';
const VAR_FILTER = 'var_id in ["g1", "g5", "g22", "g41", "g59", "gX"] or gene_symbol == "G3"';

let root: string;
let home: string;
let inputs: string;
let encodings: Record<string, { X: string; compression: string | null }>;
let imported: CellarResult;
let listBefore: CellarResult;
let dryRun: CellarResult;
let listAfterDryRun: CellarResult;
let storesAfterDryRun: boolean;
let concat: CellarResult;
let exports: Record<'full' | 'slice' | 'counts' | 'raw' | 'noLayer', CellarResult>;
let obsJson: CellarResult;
let cmp: Comparison;

const h = () => ({ home });

beforeAll(() => {
  root = tempDir('concat-interop');
  home = join(root, 'home');
  inputs = join(root, 'inputs');
  encodings = runPythonJson(MAKE_INPUTS, [inputs]);
  imported = cellar(['import', ...['a', 'b', 'c'].map((n) => join(inputs, `${n}.h5ad`)), '--collection', 'trio', '--json'], h());
  expect(imported.code, imported.stderr).toBe(0);

  listBefore = cellar(['list', '--json'], h());
  dryRun = cellar(['concat', '--collection', 'trio', '--store', 'atlas', '--dry-run', '--json'], h());
  listAfterDryRun = cellar(['list', '--json'], h());
  storesAfterDryRun = existsSync(join(home, 'stores')) && readdirSync(join(home, 'stores')).length > 0;

  concat = cellar(['concat', '--collection', 'trio', '--store', 'atlas', '--json'], h());
  expect(concat.code, concat.stderr).toBe(0);
  const out = (name: string) => join(root, `${name}.h5ad`);
  exports = {
    full: cellar(['query', '--store', 'atlas', '--out', out('full'), '--json'], h()),
    slice: cellar(['query', '--store', 'atlas', '--version', '1', '--obs', OBS_FILTER, '--var', VAR_FILTER, '--out', out('slice'), '--json'], h()),
    counts: cellar(['query', '--store', 'atlas', '--layer', 'counts', '--out', out('counts'), '--json'], h()),
    raw: cellar(['query', '--store', 'atlas', '--measurement', 'raw', '--out', out('raw'), '--json'], h()),
    noLayer: cellar(['query', '--store', 'atlas', '--layer', 'spliced', '--out', out('no-layer'), '--json'], h()),
  };
  for (const name of ['full', 'slice', 'counts', 'raw'] as const) expect(exports[name].code, `${name}: ${exports[name].stderr}`).toBe(0);
  obsJson = cellar(['query', '--store', 'atlas', '--format', 'json'], h());
  expect(obsJson.code, obsJson.stderr).toBe(0);
  cmp = runPythonJson<Comparison>(COMPARE, [inputs, out('full'), out('slice'), out('counts'), out('raw')]);
}, 300_000);

afterAll(() => removeDir(root));

describe('three anndata files with clashing metadata → one store → h5ad', () => {
  it('the inputs really use CSR, CSC and dense X with gzip and lzf', () => {
    expect(encodings).toEqual({
      a: { X: 'csr_matrix', compression: 'gzip' },
      b: { X: 'csc_matrix', compression: 'lzf' },
      c: { X: 'array', compression: 'gzip' },
    });
  });

  it('--dry-run --json prints the plan: dropped columns, conversions, added columns, no problems', () => {
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const plan = (dryRun.json as { plan: Plan }).plan;
    expect(Object.keys(dryRun.json as object)).toEqual(['plan']);
    expect(plan.problems).toEqual([]);
    expect(plan.n_obs).toBe(120);
    expect(plan.n_vars).toBe(60);
    const names = (entries: PlanEntry[]) => entries.map((e) => `${e.element}/${e.name}`);
    expect(names(plan.kept)).toEqual([
      'obs/score', 'obs/quality score', 'obs/cell_type', 'obs/note', 'obs/n_counts', 'obs/stage', 'obs/batch_id', 'obs/is_doublet',
      'var/gene_symbol', 'var/genes', 'X/X', 'layers/counts', 'obsm/X_pca', 'raw.var/rv', 'raw/raw',
    ]);
    expect(plan.dropped).toEqual([
      { element: 'obs', name: 'only_a', detail: 'in a.h5ad but not in b.h5ad, c.h5ad' },
      { element: 'obs', name: 'donor', detail: 'in a.h5ad but not in c.h5ad' },
      { element: 'obs', name: 'donor', detail: 'in b.h5ad but not in c.h5ad' },
      { element: 'obs', name: 'only_c', detail: 'in c.h5ad but not in a.h5ad, b.h5ad' },
      { element: 'var', name: 'highly_variable', detail: 'in a.h5ad but not in b.h5ad, c.h5ad' },
      { element: 'var', name: 'mean', detail: 'in c.h5ad but not in a.h5ad, b.h5ad' },
      { element: 'obsm', name: 'X_sparse', detail: 'only dense numeric arrays are carried; it is sparse, a data frame or text in a.h5ad, b.h5ad, c.h5ad' },
      { element: 'obsm', name: 'X_umap', detail: 'missing in c.h5ad' },
      { element: 'obsm', name: 'meta_df', detail: 'only dense numeric arrays are carried; it is sparse, a data frame or text in a.h5ad, b.h5ad, c.h5ad' },
      { element: 'uns', name: 'hello', detail: 'uns is not carried (a.h5ad)' },
      { element: 'uns', name: 'hello', detail: 'uns is not carried (b.h5ad)' },
      { element: 'uns', name: 'hello', detail: 'uns is not carried (c.h5ad)' },
    ]);
    expect(plan.converted).toEqual([
      { element: 'obs', name: 'cell_type', detail: 'cell_type: category of string in a.h5ad, string in b.h5ad, category of string in c.h5ad → category of string' },
      { element: 'obs', name: 'note', detail: 'note: float64 in a.h5ad, string in b.h5ad, string in c.h5ad → string' },
      { element: 'obs', name: 'n_counts', detail: 'n_counts: int32 in a.h5ad, float32 in b.h5ad, int64 in c.h5ad → float64' },
      { element: 'obs', name: 'batch_id', detail: 'batch_id: int64 in a.h5ad, int64 in b.h5ad, float64 in c.h5ad → float64' },
      { element: 'obs', name: 'is_doublet', detail: 'is_doublet: bool in a.h5ad, bool in b.h5ad, float64 in c.h5ad → nullable-bool' },
      // Each dataset lacks some genes of the union: the plan counts them (first five named).
      { element: 'var', name: 'genes', detail: '30 genes not measured in a.h5ad: g45, g44, g43, g42, g41, … (recorded in the feature presence table: its cells read "not measured" there, not 0)' },
      { element: 'var', name: 'genes', detail: '33 genes not measured in b.h5ad: g1, g2, g4, g5, g6, … (recorded in the feature presence table: its cells read "not measured" there, not 0)' },
      { element: 'var', name: 'genes', detail: '37 genes not measured in c.h5ad: g0, g3, g4, g6, g7, … (recorded in the feature presence table: its cells read "not measured" there, not 0)' },
    ]);
    expect(names(plan.added)).toEqual(['obs/obs_id', 'obs/dataset', 'obs/cellar_run_uid', 'var/var_id']);
  });

  it('--dry-run writes nothing: the registry listing is unchanged and no store folder exists', () => {
    expect(listAfterDryRun.json).toEqual(listBefore.json);
    expect((listBefore.json as { stores: unknown[] }).stores).toEqual([]);
    expect(storesAfterDryRun).toBe(false);
  });

  it('concat reports the new store', () => {
    const json = concat.json as { store: { key: string; version: number; n_observations: number; n_vars: number }; run: { uid: string } };
    expect(json.store).toMatchObject({ key: 'atlas', version: 1, n_observations: 120, n_vars: 60 });
    expect(json.run.uid).toMatch(/^[0-9A-Za-z]{20}$/);
    // The dataset column holds positions; the manifest records which artifact each one was.
    const dir = join(home, 'stores', readdirSync(join(home, 'stores'))[0]!);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifests', 'v000001.json'), 'utf8')) as { meta: { datasets: { position: number; uid: string; key: string }[]; runUid: string } };
    const artifacts = (imported.json as { artifacts: { uid: string; key: string }[] }).artifacts;
    expect(manifest.meta.datasets.map((d) => [d.position, d.uid, d.key])).toEqual(artifacts.map((a, i) => [i, a.uid, a.key]));
    expect(manifest.meta.runUid).toBe(json.run.uid);
  });

  it('X of the export equals anndata.concat(join="outer") over the first-seen union of genes', () => {
    const { full, ref } = cmp;
    expect(full.var_names).toEqual(ref.genes);
    expect(ref.genes.slice(0, 3)).toEqual(['g0', 'g1', 'g2']);
    expect(ref.genes.slice(30, 33)).toEqual(['g45', 'g44', 'g43']);
    expect(full.obs_names).toEqual(ref.obs_names);
    expect(full.X_type).toBe('csr_matrix');
    expect(full.X_dtype).toBe('float32');
    expect(full.X).toEqual(ref.X);
  });

  it('obs holds exactly the shared columns (+ dataset, cellar_run_uid) with the same values', () => {
    const { full, ref } = cmp;
    expect(ref.intersect).toEqual(['score', 'quality score', 'cell_type', 'note', 'n_counts', 'stage', 'batch_id', 'is_doublet']);
    expect(full.obs_columns).toEqual([...ref.intersect, 'dataset', 'cellar_run_uid']);
    // pandas' own concat turns bool + NaN into float 0/1/NaN; compare by value.
    const asNumber = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v);
    for (const c of ref.intersect) expect(full.obs[c]!.map(asNumber), c).toEqual(ref.obs[c]);
    expect(full.obs.dataset).toEqual([...Array(40).fill(0), ...Array(50).fill(1), ...Array(30).fill(2)]);
    expect(full.obs.cellar_run_uid).toEqual(Array(120).fill((concat.json as { run: { uid: string } }).run.uid));
    // Plain strings + categoricals → one categorical; int32/float32/int64 → float64.
    expect(full.obs_dtypes.cell_type).toBe('category');
    expect(full.obs_dtypes.n_counts).toBe('float64');
    expect(full.categories.cell_type).toEqual(expect.arrayContaining(['T', 'B', 'NK', 'DC', 'Mono', 'Plasma']));
    expect(full.categories.cell_type).toHaveLength(6);
    expect(full.categories.cell_type!.slice(0, 3)).toEqual(['T', 'B', 'NK']);
    // The all-NaN column of a.h5ad became strings (missing in a), not floats.
    expect(full.obs.note!.slice(0, 40)).toEqual(Array(40).fill(null));
    expect(new Set(full.obs.note!.slice(40))).toEqual(new Set(['ok', 'low', 'high', 'weird']));
  });

  it('an int or bool column that is all-NaN in one dataset keeps NA there (float64 / nullable bool), never 0 or False', () => {
    const { full } = cmp;
    expect(full.obs_dtypes.batch_id).toBe('float64');
    expect(full.obs_dtypes.is_doublet).toBe('boolean');
    expect(full.obs.batch_id!.slice(90)).toEqual(Array(30).fill(null));
    expect(full.obs.is_doublet!.slice(90)).toEqual(Array(30).fill(null));
    expect(new Set(full.obs.batch_id!.slice(0, 90))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(new Set(full.obs.is_doublet!.slice(0, 90))).toEqual(new Set([true, false]));
  });

  it('var holds the first-seen union of genes and only the shared var columns', () => {
    expect(cmp.full.var_columns).toEqual(['gene_symbol']);
    expect(cmp.full.var.gene_symbol).toEqual(cmp.ref.var_gene_symbol);
  });

  it('obsm is carried only when every dataset has it as a dense array (X_pca), with the same values', () => {
    expect(Object.keys(cmp.full.obsm)).toEqual(['X_pca']);
    expect(cmp.full.obsm.X_pca).toEqual(cmp.ref.X_pca);
  });

  it('the counts layer is kept and exported with --layer counts', () => {
    expect(cmp.counts.X).toEqual(cmp.ref.counts);
    expect(cmp.counts.var_names).toEqual(cmp.ref.genes);
  });

  it('raw (different genes in each file) is its own measurement: --measurement raw exports it', () => {
    expect(cmp.raw.var_names).toEqual(cmp.ref.raw_genes);
    expect(cmp.ref.raw_genes).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(cmp.raw.var.rv).toEqual(cmp.ref.raw_rv);
    expect(cmp.raw.obs_names).toEqual(cmp.ref.obs_names);
    expect(cmp.raw.X).toEqual(cmp.ref.raw_X);
  });
});

describe('query slices', () => {
  it('--obs and --var select the rows and genes pandas selects, and X is that slice', () => {
    const { slice, ref } = cmp;
    expect(ref.slice.obs_names.length).toBeGreaterThan(5);
    expect(ref.slice.var_names).toEqual(['g1', 'g3', 'g5', 'g22', 'g41', 'g59']);
    expect(slice.obs_names).toEqual(ref.slice.obs_names);
    expect(slice.var_names).toEqual(ref.slice.var_names);
    expect(slice.X).toEqual(ref.slice.X);
    expect((exports.slice.json as { n_obs: number; n_vars: number }).n_obs).toBe(ref.slice.obs_names.length);
  });

  it('--layer of a layer the store does not have is a clear error with exit code 1', () => {
    const r = exports.noLayer;
    expect(r.code).toBe(1);
    expect(firstLine(r.stderr)).toBe('The store atlas has no layer "spliced"; it has data, counts.');
    expect(r.stderr).not.toContain('    at ');
    expect(r.json).toEqual({ error: { code: 'not_found', message: 'The store atlas has no layer "spliced"; it has data, counts.', problems: [] } });
    expect(existsSync(join(root, 'no-layer.h5ad'))).toBe(false);
  });
});

describe('store files are read by an independent Arrow implementation (nodejs-polars)', () => {
  const storeDir = () => {
    const stores = readdirSync(join(home, 'stores'));
    expect(stores).toHaveLength(1);
    return join(home, 'stores', stores[0]!);
  };

  it('polars reads every data file of the store', () => {
    const dir = storeDir();
    const files = readdirSync(join(dir, 'data')).filter((f) => f.endsWith('.arrow'));
    // obs, var (main + raw), X (data, counts, raw) with their chunk indexes, obsm X_pca per dataset.
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) {
      const df = pl.readIPC(readFileSync(join(dir, 'data', f)));
      expect(df.height, f).toBeGreaterThan(0);
    }
  });

  it("polars' view of the obs files equals query --format json", () => {
    const dir = storeDir();
    // Each obs column is stored in its own files (pieces of rows), as the manifest names them;
    // soma_joinid is the row number.
    const manifest = readManifest(dir, 1);
    const rows = JSON.parse(obsJson.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(120);
    expect(manifest.obs.nRows).toBe(120);
    for (const name of Object.keys(rows[0]!)) {
      const entry = manifest.obs.columns.find((c) => c.name === name);
      expect(entry, name).toBeDefined();
      const values: unknown[] = new Array(120);
      for (const piece of entry!.pieces) {
        const df = pl.readIPC(readFileSync(join(dir, piece.file)));
        expect(df.height).toBe(piece.nRows);
        df.getColumn(name).toArray().forEach((v: unknown, i: number) => {
          // NaN in a float column is a missing value (null) in the JSON rows.
          values[piece.rowStart + i] = typeof v === 'number' && Number.isNaN(v) ? null : typeof v === 'bigint' ? Number(v) : v;
        });
      }
      expect(values, name).toEqual(rows.map((r) => r[name]));
    }
  });

  it("polars' view of the X files, decoded with the manifest's encoding, equals the store reader's rows", async () => {
    const dir = storeDir();
    const reader = openStore(dir, 1);
    try {
      const entry = reader.manifest.ms.RNA!.X.data!;
      for (const fragment of entry.fragments) {
        const df = pl.readIPC(readFileSync(join(dir, fragment.file)));
        const rowIds = df.getColumn('soma_dim_0').toArray().map(Number);
        const dims = df.getColumn('soma_dim_1').toArray() as unknown as ArrayLike<number>[];
        const vals = df.getColumn('soma_data').toArray() as unknown as ArrayLike<number>[];
        const ours = await reader.readXRows('RNA', 'data', rowIds);
        for (let r = 0; r < rowIds.length; r++) {
          const cols = rowColumns(Array.from(dims[r]!, Number), fragment.indexEncoding);
          const start = Number(ours.indptr[r]);
          const end = Number(ours.indptr[r + 1]);
          expect(cols, `row ${rowIds[r]}`).toEqual(Array.from(ours.indices.subarray(start, end)));
          expect(Array.from(vals[r]!, Number)).toEqual(Array.from(ours.data.subarray(start, end) as ArrayLike<number>, Number));
        }
      }
    } finally {
      reader.close();
    }
  });
});

/**
 * A row's var joinids from its soma_dim_1 list as the manifest's encoding says: 'delta' holds
 * the differences, 'varint-delta' their unsigned LEB128 bytes.
 */
function rowColumns(list: number[], encoding: string): number[] {
  if (encoding === 'varint-delta') return runningSumsOfVarints(list);
  if (encoding !== 'delta') return list;
  let column = 0;
  return list.map((d) => (column += d));
}
