// The seed workflow's data, shared by the browser and the desktop end-to-end tests.
// Four small datasets with overlapping genes; pbmc4 brings a new gene and a new cell type,
// clash.h5ad has n_counts as strings (a dtype clash), notes.txt is not HDF5 at all.
export const MAKE_DATA = `
import sys, json
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out = sys.argv[1]
rng = np.random.default_rng(7)
def make(name, n, genes, types, extra=False, clash=False):
    X = sp.random(n, len(genes), density=0.3, random_state=int(rng.integers(1 << 30)), format='csr', dtype=np.float32)
    X.data = np.ceil(X.data * 10).astype(np.float32)
    obs = pd.DataFrame({
        'cell_type': pd.Categorical(rng.choice(types, size=n), categories=sorted(set(types))),
        'n_counts': np.asarray(X.sum(axis=1)).ravel().astype(np.float64),
        'donor': pd.Categorical(rng.choice(['d1', 'd2'], size=n)),
    }, index=[f'{name}-c{i}' for i in range(n)])
    if extra:
        obs['only_here'] = np.arange(n)
    if clash:
        obs['n_counts'] = [f'x{i}' for i in range(n)]
    var = pd.DataFrame({'symbol': [g.lower() for g in genes]}, index=genes)
    a = ad.AnnData(X=X, obs=obs, var=var)
    a.write_h5ad(f'{out}/{name}.h5ad')
    return a
base = [f'G{i}' for i in range(60)]
a1 = make('pbmc1', 120, base, ['B', 'NK', 'T'])
a2 = make('pbmc2', 100, base[5:] + ['G60', 'G61'], ['B', 'NK', 'T'])
a3 = make('pbmc3', 80, base, ['B', 'T'], extra=True)
a4 = make('pbmc4', 60, base + ['NEWGENE'], ['B', 'Mono', 'T'])
make('clash', 40, base, ['B', 'T'], clash=True)
open(f'{out}/notes.txt', 'w').write('these are notes, not an h5ad file\\n')
obs = pd.concat([a.obs for a in (a1, a2, a3)])
selected = (obs.cell_type.astype(str) == 'B') & (obs.n_counts > 90)
newgene = np.asarray(a4[:, 'NEWGENE'].X.todense()).ravel()
# As the Embeddings screen colours a gene: counts per 10,000 of each cell's total, then log1p.
totals = np.asarray(a4.X.sum(axis=1)).ravel()
lognorm = np.log1p(np.divide(newgene, totals, out=np.zeros_like(newgene), where=totals > 0) * 1e4)
print(json.dumps({'n_obs': len(obs), 'n_vars': 62, 'filtered': int(selected.sum()),
                  'newgene': {'expressing': int((newgene > 0).sum()), 'max': float(newgene.max()), 'lognorm_max': float(lognorm.max())}}))
`;

/** What the script prints: the numbers the screens must show. */
export interface SeedExpectations {
  n_obs: number;
  n_vars: number;
  filtered: number;
  newgene: { expressing: number; max: number; lognorm_max: number };
}
