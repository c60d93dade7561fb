// Exports large enough for the built CLI to share the row decoding with its helper thread
// (started while the query is planned, each block claimed by whichever thread gets to it
// first): what anndata reads back from the export equals the same cells of the source file,
// uncompressed and gzip, for every cell and for a scattered selection.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, removeDir, tempDir } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

let root: string;
let home: string;
let source: string;

function ok(result: ReturnType<typeof cellar>): unknown {
  expect(result.stderr, result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.json;
}

beforeAll(() => {
  root = tempDir('shared-decode');
  home = join(root, 'home');
  source = join(root, 'big.h5ad');
  // 12,000 cells × 3,000 genes, 500 entries a cell: 6 M entries. Both exports below (all
  // cells, and the ~9,600 of score < 0.8) read past the 4 M entries at which the helper
  // thread is started for a read.
  const made = runPythonJson<{ nnz: number }>(
    String.raw`
import sys, json, numpy as np, scipy.sparse as sp, pandas as pd, anndata as ad
rng = np.random.default_rng(7)
n, m, k = 12000, 3000, 500
indptr = np.arange(n + 1, dtype=np.int64) * k
indices = np.concatenate([np.sort(rng.choice(m, k, replace=False)) for _ in range(n)]).astype(np.int32)
data = rng.integers(1, 300, n * k).astype(np.float32)
X = sp.csr_matrix((data, indices, indptr), shape=(n, m))
obs = pd.DataFrame({'score': rng.random(n)}, index=[f'cell{i}' for i in range(n)])
var = pd.DataFrame(index=[f'gene{j}' for j in range(m)])
ad.AnnData(X=X, obs=obs, var=var).write_h5ad(sys.argv[1])
print(json.dumps({'nnz': int(X.nnz)}))
`,
    [source],
    120_000,
  );
  expect(made.nnz).toBe(6_000_000);
  ok(cellar(['import', source, '--collection', 'big', '--json'], { home, timeoutMs: 120_000 }));
  ok(cellar(['concat', '--collection', 'big', '--store', 'atlas', '--json'], { home, timeoutMs: 180_000 }));
}, 300_000);

afterAll(() => removeDir(root));

describe('an export decoded on both threads', () => {
  it('holds exactly the cells of the source, uncompressed and gzip, all cells and a scattered selection', () => {
    const outs = [
      { path: join(root, 'all-none.h5ad'), args: ['--compression', 'none'], below: 2 },
      { path: join(root, 'all-gzip.h5ad'), args: [], below: 2 },
      { path: join(root, 'some-none.h5ad'), args: ['--compression', 'none', '--obs', 'score < 0.8'], below: 0.8 },
      { path: join(root, 'some-gzip.h5ad'), args: ['--obs', 'score < 0.8'], below: 0.8 },
    ];
    for (const out of outs) ok(cellar(['query', '--store', 'atlas', '--out', out.path, '--json', ...out.args], { home, timeoutMs: 120_000 }));
    const result = runPythonJson<Record<string, { cells: number; nnz: number; names: boolean; equal: boolean }>>(
      String.raw`
import sys, json, numpy as np, anndata as ad
src = ad.read_h5ad(sys.argv[1])
out = {}
for arg in sys.argv[2:]:
    path, below = arg.rsplit('=', 1)
    want = src[src.obs['score'].to_numpy() < float(below)]
    got = ad.read_h5ad(path)
    same_names = list(got.obs_names) == list(want.obs_names) and list(got.var_names) == list(want.var_names)
    equal = same_names and got.X.shape == want.X.shape and (got.X != want.X).nnz == 0 and got.X.has_sorted_indices
    out[path] = {'cells': int(got.n_obs), 'nnz': int(got.X.nnz), 'names': bool(same_names), 'equal': bool(equal)}
print(json.dumps(out))
`,
      [source, ...outs.map((o) => `${o.path}=${o.below}`)],
      240_000,
    );
    for (const out of outs) {
      const r = result[out.path]!;
      expect(r.names, out.path).toBe(true);
      expect(r.equal, out.path).toBe(true);
      expect(r.nnz).toBe(r.cells * 500);
    }
    expect(result[outs[0]!.path]!.cells).toBe(12_000);
    expect(result[outs[2]!.path]!.cells).toBeGreaterThan(9_200);
    expect(result[outs[2]!.path]!.cells).toBeLessThan(10_000);
  }, 300_000);
});
