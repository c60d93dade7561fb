// `cellar qc`, `neighbors`, `cluster` and `umap` through the built CLI on a store made from
// real anndata files, each with only --store (the defaults) and with options: QC columns
// against numpy on the same counts, the stored graph against sklearn's exact neighbours, the
// clusters against leidenalg on the same graph, UMAP's trustworthiness; the versions, runs and
// parameters they leave; what verify, compact and append do with a graph; and every bad
// request (a clear sentence, nothing written).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/main/engine/store/store-reader';
import { fuzzyUnionGraph } from '../../src/main/engine/graph/connectivities';
import type { ClusterJobResult, NeighborsJobResult, QcJobResult, UmapJobResult } from '../../src/shared/result-types';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

/**
 * Two files of 700 cells × 300 genes (float32 counts, six cell types with their own gene
 * programs): var has gene_symbols with MT-/mt- and RPS/RPL/Rps genes (and MTOR and RPLX-like
 * decoys that are not); one cell per file has no counts at all. A third file to append later.
 */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)
G, T = 300, 6
symbols = [f'GENE{j}' for j in range(G)]
for j, s in zip(range(1, 80, 7), ['MT-CO1', 'MT-ND1', 'MT-ATP6', 'mt-Nd2', 'RPS3', 'RPL10', 'RPS27A', 'RPL13', 'Rps6', 'MTOR', 'XRPS1', 'MT1A']):
    symbols[j] = s
programs = [rng.choice(G, 25, replace=False) for _ in range(T)]
def cells(n, prefix):
    ct = rng.integers(0, T, n)
    rate = np.full((n, G), 0.25)
    for t in range(T):
        rate[np.ix_(np.where(ct == t)[0], programs[t])] = 3.0
    rate[:, [1, 8, 29, 36]] *= 5
    rate *= rng.uniform(0.5, 2.0, size=(n, 1))
    X = rng.poisson(rate).astype(np.float32)
    X[3] = 0
    obs = pd.DataFrame({'cell_type': pd.Categorical([f'type{t}' for t in ct])}, index=[f'{prefix}{i}' for i in range(n)])
    return X, obs
var = pd.DataFrame({'gene_symbols': symbols}, index=[f'ENSG{j:05d}' for j in range(G)])
for name, n, prefix in (('a.h5ad', 700, 'a'), ('b.h5ad', 700, 'b'), ('c.h5ad', 100, 'c')):
    X, obs = cells(n, prefix)
    ad.AnnData(X=sp.csr_matrix(X), obs=obs, var=var.copy(), dtype=np.float32).write_h5ad(os.path.join(out, name))
print(json.dumps({'ok': True}))
`;

/** numpy's QC metrics of the input files (concatenated) against an exported h5ad's obs. */
const QC_REFERENCE = String.raw`
import sys, json, numpy as np, anndata as ad, scipy.sparse as sp
files, exported = sys.argv[1].split(','), sys.argv[2]
adatas = [ad.read_h5ad(f) for f in files]
X = sp.vstack([sp.csr_matrix(a.X, dtype=np.float64) for a in adatas]).toarray()
symbols = adatas[0].var['gene_symbols'].astype(str)
mt = symbols.str.startswith('MT-') | symbols.str.startswith('mt-')
ribo = symbols.str.startswith(('RPS', 'RPL', 'Rps', 'Rpl'))
total = X.sum(axis=1)
with np.errstate(invalid='ignore', divide='ignore'):
    expected = {
        'total_counts': total, 'n_genes_by_counts': (X > 0).sum(axis=1),
        'total_counts_mt': X[:, mt.values].sum(axis=1), 'pct_counts_mt': X[:, mt.values].sum(axis=1) / total * 100,
        'total_counts_ribo': X[:, ribo.values].sum(axis=1), 'pct_counts_ribo': X[:, ribo.values].sum(axis=1) / total * 100,
    }
obs = ad.read_h5ad(exported).obs
worst = {}
for name, values in expected.items():
    ours = obs[name].to_numpy(dtype=np.float64)
    same_nan = bool((np.isnan(ours) == np.isnan(values)).all())
    finite = ~np.isnan(values)
    worst[name] = {'max_abs_diff': float(np.abs(ours[finite] - values[finite]).max()), 'same_nan': same_nan, 'n_nan': int((~finite).sum()), 'dtype': str(obs[name].dtype)}
print(json.dumps({'columns': worst, 'n_mt': int(mt.sum()), 'n_ribo': int(ribo.sum())}))
`;

/** Recall of a stored graph against sklearn's exact neighbours on the exported embedding. */
const GRAPH_REFERENCE = String.raw`
import sys, json, numpy as np, anndata as ad
from sklearn.neighbors import NearestNeighbors
exported, graph, k, metric, embedding = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
E = ad.read_h5ad(exported).obsm[embedding]
ours = np.fromfile(graph, dtype=np.int32).reshape(E.shape[0], k)
_, exact = NearestNeighbors(n_neighbors=k, metric=metric, algorithm='brute').fit(E).kneighbors(E)
print(json.dumps({'recall': float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, exact)]))}))
`;

/** leidenalg on the same weighted graph against our stored clusters. */
const LEIDEN_REFERENCE = String.raw`
import sys, json, numpy as np, igraph as ig, leidenalg
from sklearn.metrics import adjusted_rand_score
prefix, n, res = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
indptr = np.fromfile(prefix + '.indptr', dtype=np.int32); cols = np.fromfile(prefix + '.cols', dtype=np.int32); w = np.fromfile(prefix + '.w')
rows = np.repeat(np.arange(n), np.diff(indptr)); upper = rows < cols
g = ig.Graph(n=n, edges=list(zip(rows[upper].tolist(), cols[upper].tolist())), directed=False)
g.es['weight'] = w[upper]
p = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights='weight', resolution_parameter=res, n_iterations=-1, seed=0)
ours = np.fromfile(prefix + '.codes', dtype=np.int32)
print(json.dumps({'ari': adjusted_rand_score(p.membership, ours), 'n_theirs': len(set(p.membership))}))
`;

const TRUST_REFERENCE = String.raw`
import sys, json, numpy as np, anndata as ad
from sklearn.manifold import trustworthiness
a = ad.read_h5ad(sys.argv[1])
print(json.dumps({'trustworthiness': float(trustworthiness(a.obsm['pca'], a.obsm['X_umap'], n_neighbors=15)), 'shape': list(a.obsm['X_umap'].shape)}))
`;

let root: string;
let home: string;
let inputs: string;
const h = () => ({ home });
const N = 1400;

function ok<T>(r: CellarResult): T {
  expect(r.code, r.stderr).toBe(0);
  return r.json as T;
}

function storeDir(uid: string): string {
  return join(home, 'stores', uid.slice(0, 16));
}

function exportH5ad(store: string, name: string): string {
  const out = join(root, `${name}.h5ad`);
  ok(cellar(['query', '--store', store, '--out', out, '--json'], h()));
  return out;
}

beforeAll(() => {
  root = tempDir('cell-graph');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  for (const store of ['cells', 'bare']) {
    ok(cellar(['import', join(inputs, 'a.h5ad'), join(inputs, 'b.h5ad'), '--collection', `c-${store}`, '--json'], h()));
    ok(cellar(['concat', '--collection', `c-${store}`, '--store', store, '--json'], h()));
  }
  ok(cellar(['embed', '--store', 'cells', '--pca', '15', '--normalize', '--json'], h()));
}, 300_000);
afterAll(() => removeDir(root));

describe('cellar qc', () => {
  it("adds scanpy's QC columns, equal to numpy's on the same counts (NaN percentages for a cell without counts)", () => {
    const r = ok<QcJobResult>(cellar(['qc', '--store', 'bare', '--json'], h()));
    expect(r.store.version).toBe(2);
    expect(r.qc.symbols).toBe('gene_symbols');
    expect(r.qc.not_counts).toBeNull();
    const ref = runPythonJson<{ columns: Record<string, { max_abs_diff: number; same_nan: boolean; n_nan: number }>; n_mt: number; n_ribo: number }>(QC_REFERENCE, [
      ['a.h5ad', 'b.h5ad'].map((f) => join(inputs, f)).join(','),
      exportH5ad('bare', 'qc'),
    ]);
    expect(r.qc.genes).toEqual({ mt: ref.n_mt, ribo: ref.n_ribo });
    expect(ref.n_mt).toBe(4);
    expect(ref.n_ribo).toBe(5);
    expect(Object.keys(ref.columns)).toEqual(r.qc.columns);
    for (const [name, c] of Object.entries(ref.columns)) {
      expect(c.same_nan, name).toBe(true);
      expect(c.max_abs_diff, name).toBeLessThan(1e-9);
    }
    expect(ref.columns.pct_counts_mt!.n_nan).toBe(2);
  });
});

describe('cellar neighbors', () => {
  it('stores a 15-neighbour graph on pca given only --store, ≥ 95 % of the exact neighbours', async () => {
    const r = ok<NeighborsJobResult>(cellar(['neighbors', '--store', 'cells', '--json'], h()));
    expect(r.graph).toEqual({ name: 'neighbors', embedding: 'pca', k: 15, metric: 'euclidean', n_obs: N });
    const reader = openStore(storeDir(r.store.uid), r.store.version);
    let indices: Int32Array;
    try {
      expect(reader.obspNames('RNA')).toEqual(['neighbors']);
      indices = (await reader.readObsp('RNA', 'neighbors')).indices;
    } finally {
      reader.close();
    }
    const graphFile = join(root, 'graph.i32');
    writeFileSync(graphFile, new Uint8Array(indices.buffer));
    const ref = runPythonJson<{ recall: number }>(GRAPH_REFERENCE, [exportH5ad('cells', 'nn'), graphFile, '15', 'euclidean', 'pca']);
    expect(ref.recall).toBeGreaterThanOrEqual(0.95);
    const versions = ok<{ version: number; run: { transform: string } }[]>(cellar(['versions', '--store', 'cells', '--json'], h()));
    expect(versions[0]).toMatchObject({ version: r.store.version, run: { transform: 'neighbors' } });
  });

  it('takes --k, --metric cosine and --name, and verify accepts the graph', () => {
    const r = ok<NeighborsJobResult>(cellar(['neighbors', '--store', 'cells', '--k', '8', '--metric', 'cosine', '--name', 'cos8', '--json'], h()));
    expect(r.graph).toMatchObject({ name: 'cos8', k: 8, metric: 'cosine' });
    const reader = openStore(storeDir(r.store.uid), r.store.version);
    try {
      expect(reader.obspNames('RNA').sort()).toEqual(['cos8', 'neighbors']);
    } finally {
      reader.close();
    }
    expect(ok<{ ok: boolean }>(cellar(['verify', '--store', 'cells', '--json'], h())).ok).toBe(true);
  });
});


/** Our stored graph's weights and clusters, written for leidenalg. */
async function writeGraphAndClusters(uid: string, version: number, column: string, prefix: string): Promise<void> {
  const reader = openStore(storeDir(uid), version);
  try {
    const { entry, indices, distances } = await reader.readObsp('RNA', 'neighbors');
    const graph = fuzzyUnionGraph(indices, distances, reader.nObs, entry.k);
    writeFileSync(`${prefix}.indptr`, new Uint8Array(graph.indptr.buffer));
    writeFileSync(`${prefix}.cols`, new Uint8Array(graph.indices.buffer));
    writeFileSync(`${prefix}.w`, new Uint8Array(graph.weights.buffer));
    const clusters = reader.obs.column(column);
    if (clusters?.kind !== 'category') throw new Error(`${column} is not categorical`);
    writeFileSync(`${prefix}.codes`, new Uint8Array(Int32Array.from(clusters.codes).buffer));
  } finally {
    reader.close();
  }
}

describe('cellar cluster', () => {
  it('adds a categorical leiden column given only --store, agreeing with leidenalg on the same graph (ARI ≥ 0.9)', async () => {
    const r = ok<ClusterJobResult>(cellar(['cluster', '--store', 'cells', '--json'], h()));
    expect(r.clusters).toMatchObject({ name: 'leiden', resolution: 1, graph: 'neighbors', graph_computed: false, replaced: false });
    expect(r.clusters.sizes.reduce((a, b) => a + b, 0)).toBe(N);
    const prefix = join(root, 'leiden');
    await writeGraphAndClusters(r.store.uid, r.store.version, 'leiden', prefix);
    const ref = runPythonJson<{ ari: number; n_theirs: number }>(LEIDEN_REFERENCE, [prefix, String(N), '1']);
    console.log(`cellar cluster: ${r.clusters.n_clusters} clusters (leidenalg ${ref.n_theirs}), ARI with leidenalg ${ref.ari.toFixed(4)}, modularity ${r.clusters.modularity.toFixed(4)}`);
    expect(ref.ari).toBeGreaterThanOrEqual(0.9);
    const reader = openStore(storeDir(r.store.uid), r.store.version);
    try {
      const column = reader.obs.column('leiden');
      expect(column?.kind).toBe('category');
      if (column?.kind === 'category' && column.categories.kind === 'string') expect(column.categories.values).toEqual(r.clusters.sizes.map((_, i) => String(i)));
    } finally {
      reader.close();
    }
  });

  it('takes --resolution and --name, and makes the graph first on a version without one', () => {
    ok(cellar(['embed', '--store', 'bare', '--pca', '10', '--normalize', '--json'], h()));
    const r = ok<ClusterJobResult>(cellar(['cluster', '--store', 'bare', '--resolution', '0.3', '--name', 'coarse', '--json'], h()));
    expect(r.clusters).toMatchObject({ name: 'coarse', resolution: 0.3, graph_computed: true });
    const fine = ok<ClusterJobResult>(cellar(['cluster', '--store', 'bare', '--resolution', '3', '--name', 'fine', '--json'], h()));
    expect(fine.clusters.graph_computed).toBe(false);
    expect(fine.clusters.n_clusters).toBeGreaterThan(r.clusters.n_clusters);
    const lineage = ok<{ nodes: { id: string; kind: string; label: string }[] }>(cellar(['lineage', 'bare', '--json'], h()));
    expect(lineage.nodes.filter((n) => n.kind === 'run').map((n) => n.label).join(' ')).toMatch(/cluster/);
  });
});

describe('cellar umap', () => {
  it('adds obsm X_umap from the graph, keeping neighbourhoods (trustworthiness ≥ 0.9)', () => {
    const r = ok<UmapJobResult>(cellar(['umap', '--store', 'cells', '--epochs', '150', '--json'], h()));
    expect(r.umap).toMatchObject({ name: 'X_umap', shape: [N, 2], graph: 'neighbors', graph_computed: false, min_dist: 0.5, seed: 0 });
    const ref = runPythonJson<{ trustworthiness: number; shape: number[] }>(TRUST_REFERENCE, [exportH5ad('cells', 'umap')]);
    console.log(`cellar umap: trustworthiness ${ref.trustworthiness.toFixed(4)} (15 neighbours, all ${N} cells, against pca)`);
    expect(ref.shape).toEqual([N, 2]);
    expect(ref.trustworthiness).toBeGreaterThanOrEqual(0.9);
  }, 300_000);
});

describe('graphs across compact and append', () => {
  it('compact keeps the graphs; an append, which adds cells the graph does not know, leaves them out', () => {
    ok(cellar(['compact', '--store', 'cells', '--yes', '--json'], h()));
    const compacted = ok<{ uid: string; version: number }[]>(cellar(['versions', '--store', 'cells', '--json'], h()))[0]!;
    let reader = openStore(storeDir(compacted.uid), compacted.version);
    try {
      expect(reader.obspNames('RNA').sort()).toEqual(['cos8', 'neighbors']);
    } finally {
      reader.close();
    }
    const appended = ok<{ store: { uid: string; version: number } }>(cellar(['append', '--store', 'cells', join(inputs, 'c.h5ad'), '--fill-missing', '--json'], h()));
    reader = openStore(storeDir(appended.store.uid), appended.store.version);
    try {
      expect(reader.obspNames('RNA')).toEqual([]);
    } finally {
      reader.close();
    }
    expect(ok<{ ok: boolean }>(cellar(['verify', '--store', 'cells', '--json'], h())).ok).toBe(true);
  }, 300_000);
});

describe('bad requests: a clear sentence, nothing written', () => {
  const CASES: { name: string; args: string[]; code: number; message: RegExp }[] = [
    { name: 'an unknown store', args: ['neighbors', '--store', 'nope'], code: 1, message: /nope/ },
    { name: '--k 1', args: ['neighbors', '--store', 'bare', '--k', '1'], code: 2, message: /^--k must be a whole number from 2 to 200/ },
    { name: '--k 500', args: ['neighbors', '--store', 'bare', '--k', '500'], code: 2, message: /^--k must be a whole number from 2 to 200/ },
    { name: '--k abc', args: ['neighbors', '--store', 'bare', '--k', 'abc'], code: 2, message: /^Option --k must be an integer/ },
    { name: 'an unknown metric', args: ['neighbors', '--store', 'bare', '--metric', 'manhattan'], code: 2, message: /^Option --metric must be euclidean or cosine/ },
    { name: 'an embedding the store does not have', args: ['neighbors', '--store', 'bare', '--embedding', 'tsne'], code: 1, message: /^The store bare has no embedding "tsne"; it has pca\./ },
    { name: 'a graph name with a slash', args: ['neighbors', '--store', 'bare', '--name', 'a/b'], code: 2, message: /cannot name a graph/ },
    { name: 'no PCA to find neighbours on', args: ['neighbors', '--store', 'plain'], code: 1, message: /^The store plain has no PCA embedding to find neighbours on\. Add one first: cellar embed --store plain --pca 50/ },
    { name: 'clustering without PCA or graph', args: ['cluster', '--store', 'plain'], code: 1, message: /^The store plain has no PCA embedding/ },
    { name: '--resolution 0', args: ['cluster', '--store', 'bare', '--resolution', '0'], code: 2, message: /^--resolution must be a number above 0/ },
    { name: '--resolution abc', args: ['cluster', '--store', 'bare', '--resolution', 'abc'], code: 2, message: /^Option --resolution must be a number/ },
    { name: 'a reserved column name', args: ['cluster', '--store', 'bare', '--name', 'obs_id'], code: 2, message: /^"obs_id" is a column Cellar keeps/ },
    { name: 'a graph the store does not have (cluster)', args: ['cluster', '--store', 'bare', '--neighbors', 'knn30'], code: 1, message: /^The store bare has no neighbour graph "knn30"; it has neighbors\./ },
    { name: 'a graph the store does not have (umap)', args: ['umap', '--store', 'bare', '--neighbors', 'knn30'], code: 1, message: /^The store bare has no neighbour graph "knn30"/ },
    { name: '--min-dist 2', args: ['umap', '--store', 'bare', '--min-dist', '2'], code: 2, message: /^--min-dist must be a number from 0 to 1/ },
    { name: '--epochs 0', args: ['umap', '--store', 'bare', '--epochs', '0'], code: 2, message: /^Option --epochs must be at least 1/ },
    { name: 'a QC layer the store does not have', args: ['qc', '--store', 'bare', '--layer', 'counts'], code: 1, message: /^The store bare has no layer "counts"; it has data\./ },
  ];
  beforeAll(() => {
    ok(cellar(['import', join(inputs, 'a.h5ad'), '--collection', 'c-plain', '--json'], h()));
    ok(cellar(['concat', '--collection', 'c-plain', '--store', 'plain', '--json'], h()));
  }, 120_000);
  for (const c of CASES) {
    it(c.name, () => {
      const before = snapshotTree(join(home, 'stores'));
      const r = cellar([...c.args, '--json'], h());
      expect(r.code, r.stderr).toBe(c.code);
      expect(firstLine(r.stderr)).toMatch(c.message);
      expect(r.stderr).not.toContain('    at ');
      const { error } = r.json as { error: { message: string } };
      expect(firstLine(error.message)).toBe(firstLine(r.stderr));
      expect(snapshotTree(join(home, 'stores'))).toEqual(before);
    });
  }
});
