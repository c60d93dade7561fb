// Inputs for the Parquet export tests, written by Debian's anndata 0.8.0: two files to
// concatenate and a third to append, with every obs type the export must keep (categorical
// with NA, ordered categorical, plain strings, int64, float with NaN, bool, nullable integer
// and nullable boolean with NA), a counts layer, and raw with more genes than X.
import { join } from 'node:path';
import { runPythonJson } from './python';

const MAKE_PARQUET_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
ad.AnnData.strings_to_categoricals = lambda self, df=None: None
rng = np.random.default_rng(5)
TYPES = ['B', 'T', 'NK']

def make(name, n, prefix):
    genes = [f'g{i}' for i in range(30)]
    raw_genes = genes + [f'r{i}' for i in range(8)]
    counts = sp.random(n, len(raw_genes), density=0.3, random_state=rng, data_rvs=lambda k: rng.integers(1, 50, k)).tocsr().astype(np.float32)
    X = counts[:, :30].copy()
    X.data = np.log1p(X.data).astype(np.float32)
    obs = pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)])
    codes = rng.integers(-1, 3, n)
    obs['cell_type'] = pd.Categorical.from_codes(codes, categories=TYPES)
    obs['stage'] = pd.Categorical(rng.choice(['early', 'mid', 'late'], n), categories=['early', 'mid', 'late'], ordered=True)
    obs['donor'] = rng.choice(['d1', 'd2', "o'brien"], n).astype(object)
    obs['n_genes'] = np.asarray((X != 0).sum(1)).ravel().astype(np.int64)
    score = rng.normal(size=n)
    score[rng.random(n) < 0.1] = np.nan
    obs['score'] = score
    obs['is_doublet'] = rng.random(n) < 0.2
    batch = pd.array(rng.integers(0, 5, n), dtype='Int32')
    batch[rng.random(n) < 0.15] = pd.NA
    obs['batch'] = batch
    qc = pd.array(rng.random(n) < 0.5, dtype='boolean')
    qc[rng.random(n) < 0.15] = pd.NA
    obs['qc_pass'] = qc
    var = pd.DataFrame(index=genes)
    var['symbol'] = [g.upper() for g in genes]
    raw_var = pd.DataFrame(index=raw_genes)
    raw_var['kind'] = ['gene' if g.startswith('g') else 'extra' for g in raw_genes]
    a = ad.AnnData(X=X, obs=obs, var=var, layers={'counts': counts[:, :30].copy()}, dtype=np.float32)
    a.raw = ad.AnnData(X=counts, var=raw_var, dtype=np.float32)
    a.write_h5ad(os.path.join(out, name))

make('p1.h5ad', 120, 'a')
make('p2.h5ad', 90, 'b')
make('p3.h5ad', 40, 'c')
print(json.dumps(sorted(os.listdir(out))))
`;

export const PARQUET_INPUT_CELLS = { p1: 120, p2: 90, p3: 40 } as const;

/** Writes p1…p3.h5ad into `dir` and returns their paths. */
export function makeParquetInputs(dir: string): { p1: string; p2: string; p3: string } {
  runPythonJson(MAKE_PARQUET_INPUTS, [dir]);
  return { p1: join(dir, 'p1.h5ad'), p2: join(dir, 'p2.h5ad'), p3: join(dir, 'p3.h5ad') };
}
