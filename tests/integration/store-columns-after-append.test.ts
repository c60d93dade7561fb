// Reading the columns of genes that an append added: old fragments have no such
// column and must read 0 there (this once looped forever).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry } from '../../src/main/registry/registry';
import { importFiles } from '../../src/main/engine/ops/import';
import { concatenateCollection } from '../../src/main/engine/ops/concatenate';
import { appendToStore } from '../../src/main/engine/ops/append';
import { resolveStore } from '../../src/main/engine/ops/reconcile';
import { openStore } from '../../src/main/engine/store/store-reader';
import { runPythonJson } from './helpers/python';

describe('column reads across an append', () => {
  it('returns the same entries for new genes by column as by row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellar-cols-'));
    try {
      await runPythonJson(
        `
import sys, json, numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
out = sys.argv[1]
rng = np.random.default_rng(3)
def mk(name, genes, prefix, n):
    X = sp.random(n, len(genes), density=0.4, format='csr', random_state=int(rng.integers(1000)), dtype=np.float32)
    X.data = np.ceil(X.data * 9)
    ad.AnnData(X=X, obs=pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)]), var=pd.DataFrame(index=genes)).write_h5ad(f'{out}/{name}.h5ad')
mk('a', ['g1', 'g2', 'g3'], 'a', 40)
mk('b', ['g2', 'g4', 'g5', 'g6'], 'b', 30)
print(json.dumps({}))
`,
        [dir],
      );
      const home = join(dir, 'home');
      const registry = openRegistry(home);
      try {
        await importFiles({ registry, home, files: [join(dir, 'a.h5ad')], collectionKey: 'c' });
        await concatenateCollection({ registry, home, collectionKey: 'c', storeKey: 's' });
        await appendToStore({ registry, home, storeKey: 's', files: [join(dir, 'b.h5ad')] });
        const { dir: storeDir } = await resolveStore(registry, 's');
        const reader = openStore(storeDir);
        try {
          expect(reader.nVars('RNA')).toBe(6);
          const all = Uint32Array.from({ length: reader.nObs }, (_, i) => i);
          const rows = await reader.readXRows('RNA', 'data', all);
          const cols = await reader.readXColumns('RNA', 'data', [0, 3, 4, 5]);
          [0, 3, 4, 5].forEach((gene, c) => {
            const byRow: number[] = [];
            for (let r = 0; r < reader.nObs; r++) for (let i = Number(rows.indptr[r]); i < Number(rows.indptr[r + 1]); i++) if (rows.indices[i] === gene) byRow.push(r);
            const byCol = Array.from(cols.indices.subarray(Number(cols.indptr[c]), Number(cols.indptr[c + 1])));
            expect(byCol).toEqual(byRow);
          });
          // Old cells read nothing at the new genes.
          expect(Array.from(cols.indices.subarray(Number(cols.indptr[1]), Number(cols.indptr[4]))).every((r) => r >= 40)).toBe(true);
        } finally {
          reader.close();
        }
      } finally {
        registry.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
