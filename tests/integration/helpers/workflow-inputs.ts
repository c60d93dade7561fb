// Inputs of the seed workflow (SPEC §4), written by Debian's anndata 0.8.0: three files
// to concatenate and a fourth to append. Cells of each type express their own gene
// program (genes whose number ≡ type mod 4) so that the top principal components are
// well separated and any two correct PCAs agree.
import { join } from 'node:path';
import { runPythonJson } from './python';

const MAKE_SEED_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
# anndata turns repeated strings into categoricals on write; donor must stay plain strings.
ad.AnnData.strings_to_categoricals = lambda self, df=None: None
rng = np.random.default_rng(11)
TYPES = ['T', 'B', 'NK', 'Mono']

def make(name, n, genes, types, prefix):
    ct = rng.choice(types, n)
    rate = np.full((n, len(genes)), 0.3)
    for t_i, t in enumerate(TYPES):
        program = [j for j, g in enumerate(genes) if int(g[1:]) % 4 == t_i]
        rate[np.ix_(np.where(ct == t)[0], program)] = 6.0
    X = sp.csr_matrix(rng.poisson(rate).astype(np.float32))
    obs = pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)])
    obs['cell_type'] = pd.Categorical(ct, categories=[t for t in TYPES if t in types])
    obs['donor'] = rng.choice(['d1', 'd2', 'd3'], n).astype(object)
    obs['n_counts'] = np.asarray(X.sum(1)).ravel().astype(np.float64)
    var = pd.DataFrame(index=genes)
    var['symbol'] = [g.upper() for g in genes]
    ad.AnnData(X=X, obs=obs, var=var, dtype=np.float32).write_h5ad(os.path.join(out, name))

genes = [f'g{i}' for i in range(40)]
make('s1.h5ad', 80, genes, ['T', 'B', 'NK'], 'a')
make('s2.h5ad', 70, genes[::-1], ['T', 'B', 'NK'], 'b')
make('s3.h5ad', 60, genes[:30] + genes[35:], ['B', 'NK', 'T'], 'c')
# The file to append: 6 new genes and a new cell type.
make('s4.h5ad', 50, genes + [f'g{i}' for i in range(40, 46)], ['T', 'Mono'], 'd')
print(json.dumps(sorted(os.listdir(out))))
`;

export const SEED_CELLS = { s1: 80, s2: 70, s3: 60, s4: 50 } as const;
export const SEED_CONCAT_CELLS = 210;
export const SEED_GENES = 40;
export const SEED_NEW_GENES = ['g40', 'g41', 'g42', 'g43', 'g44', 'g45'];

/** Writes s1…s4.h5ad into `dir` and returns their paths. */
export function makeSeedInputs(dir: string): { s1: string; s2: string; s3: string; s4: string } {
  runPythonJson(MAKE_SEED_INPUTS, [dir]);
  return { s1: join(dir, 's1.h5ad'), s2: join(dir, 's2.h5ad'), s3: join(dir, 's3.h5ad'), s4: join(dir, 's4.h5ad') };
}
