// Issue 3 acceptance: `cellar query --obs FILTER --format json` on a concatenated store
// selects exactly the rows pandas selects on the concatenated obs. SQL NA semantics:
// a row whose value is missing never satisfies a comparison (`!=` and `not` included),
// so the pandas side adds `.notna()` where pandas alone would keep it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, cellarAsync, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

/** Two datasets: argv[1]/x.h5ad and y.h5ad. Then, for each pandas expression in argv[2] (JSON), the obs ids it selects. */
const MAKE_AND_SELECT = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
from anndata._io import h5ad as ad_h5ad
out = sys.argv[1]
exprs = json.loads(sys.argv[2])
ad.AnnData.strings_to_categoricals = lambda self, df=None: None
rng = np.random.default_rng(11)

def dataset(prefix, n, cell_types, note):
    obs = pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)])
    ct = rng.choice(cell_types, n).astype(object)
    ct[rng.random(n) < 0.1] = np.nan
    obs['cell_type'] = pd.Categorical(ct, categories=sorted(cell_types, reverse=True))
    obs['n genes'] = rng.integers(100, 500, n).astype(np.int64)
    s = rng.normal(size=n).round(2)
    s[rng.random(n) < 0.15] = np.nan
    obs['score'] = s
    obs['batch'] = rng.choice(['b1', 'b2', 'b3'], n).astype(object)
    obs['is_doublet'] = rng.random(n) < 0.2
    obs['n_counts'] = rng.integers(0, 1000, n).astype(np.int32 if prefix == 'x' else np.int64)
    obs['note'] = note(n)
    obs['level'] = pd.Categorical(rng.choice(['low', 'mid', 'high'], n), categories=['low', 'mid', 'high'], ordered=True)
    X = sp.random(n, 8, density=0.4, format='csr', random_state=rng, dtype=np.float32)
    var = pd.DataFrame(index=[f'gene{i}' for i in range(8)])
    return ad.AnnData(X=X, obs=obs, var=var, dtype=np.float32)

x = dataset('x', 120, ['T', 'B', 'NK'], lambda n: np.full(n, np.nan))
y = dataset('y', 90, ['B', 'Mono', 'DC', 'T'], lambda n: rng.choice(['ok', 'odd', 'bad'], n).astype(object))
os.makedirs(out, exist_ok=True)
ad_h5ad.write_h5ad(os.path.join(out, 'x.h5ad'), x)
ad_h5ad.write_h5ad(os.path.join(out, 'y.h5ad'), y)

obs = pd.concat([x.obs, y.obs])
obs['dataset'] = [0] * x.n_obs + [1] * y.n_obs
obs['obs_id'] = obs.index
ct = obs['cell_type'].astype(object)
result = {}
for key, expr in exprs.items():
    mask = eval(expr, {'obs': obs, 'ct': ct, 'pd': pd, 'np': np})
    result[key] = list(obs.index[np.asarray(mask, dtype=bool)])
print(json.dumps(result))
`;

/** [Cellar filter, the same selection in pandas]. */
const CASES: [string, string][] = [
  ['cell_type == "B"', 'obs.index.isin(obs.query(\'cell_type == "B"\').index)'],
  ['cell_type != "B"', '(ct != "B") & ct.notna()'],
  ['score < 0.25', 'obs["score"] < 0.25'],
  ['cell_type in ["T", "NK"]', 'ct.isin(["T", "NK"])'],
  ['cell_type not in ["T", "NK"]', '~ct.isin(["T", "NK"]) & ct.notna()'],
  ['n_counts >= 500 and is_doublet == False', '(obs["n_counts"] >= 500) & ~obs["is_doublet"]'],
  ['score > 0 or attr("n genes") <= 200', '(obs["score"] > 0) | (obs["n genes"] <= 200)'],
  ['not (cell_type == "T")', '~(ct == "T") & ct.notna()'],
  ['100 < n_counts <= 600', 'obs.eval("100 < n_counts <= 600")'],
  ['attr("n genes") > 250 & batch == "b2" | batch == "b3"', '((obs["n genes"] > 250) & (obs["batch"] == "b2")) | (obs["batch"] == "b3")'],
  ['isna(score)', 'obs["score"].isna()'],
  ['notna(note) and note != "ok"', 'obs["note"].notna() & (obs["note"] != "ok")'],
  ['dataset == 1 and (cell_type == "Mono" or cell_type == "DC") and level == "high"', '(obs["dataset"] == 1) & ct.isin(["Mono", "DC"]) & (obs["level"] == "high")'],
  ['obs_id in ["x3", "y7", "nope"]', 'obs.index.isin(["x3", "y7", "nope"])'],
  ['cell_type >= "Mono" and not is_doublet', '(ct.where(ct.notna(), "") >= "Mono") & ct.notna() & ~obs["is_doublet"]'],
];

let root: string;
let home: string;
let expected: Record<string, string[]>;
const results = new Map<string, CellarResult>();

beforeAll(async () => {
  root = tempDir('concat-filters');
  home = join(root, 'home');
  const exprs = Object.fromEntries(CASES.map(([filter, pandas]) => [filter, pandas]));
  expected = runPythonJson(MAKE_AND_SELECT, [join(root, 'in'), JSON.stringify(exprs)]);
  const imported = cellar(['import', join(root, 'in', 'x.h5ad'), join(root, 'in', 'y.h5ad'), '--collection', 'xy'], { home });
  expect(imported.code, imported.stderr).toBe(0);
  const concat = cellar(['concat', '--collection', 'xy', '--store', 'cells'], { home });
  expect(concat.code, concat.stderr).toBe(0);
  // Two at a time: each command is a separate Node process.
  const queue = CASES.map(([filter]) => filter);
  const worker = async () => {
    for (let filter = queue.shift(); filter !== undefined; filter = queue.shift()) {
      results.set(filter, await cellarAsync(['query', '--store', 'cells', '--obs', filter, '--format', 'json'], { home }));
    }
  };
  await Promise.all([worker(), worker()]);
}, 300_000);

afterAll(() => removeDir(root));

describe('obs filters select exactly the rows pandas selects', () => {
  it('the data exercise NA everywhere it matters', () => {
    expect(expected['isna(score)']!.length).toBeGreaterThan(10);
    expect(expected['cell_type != "B"']!.length).toBeGreaterThan(50);
  });

  it.each(CASES.map(([filter]) => [filter]))('%s', (filter) => {
    const r = results.get(filter)!;
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { obs_id: string }[];
    const ids = rows.map((row) => row.obs_id);
    expect(ids).toEqual(expected[filter]);
    expect(ids.length).toBeGreaterThan(0);
  });
});
