// The cell-graph engine against the reference tools on the same data in the same run:
// neighbours against sklearn's exact search (recall, distances) with pynndescent timed beside
// ours; Leiden against leidenalg (RBConfigurationVertexPartition) on the very same weighted
// graph (adjusted Rand index, quality); UMAP's layout scored by sklearn's trustworthiness.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestNeighbors } from '../../src/main/engine/graph/knn';
import { fuzzyUnionGraph } from '../../src/main/engine/graph/connectivities';
import { leiden } from '../../src/main/engine/graph/leiden';
import { umapLayout } from '../../src/main/engine/graph/umap-layout';
import { runPythonJson } from '../integration/helpers/python';

/** Gaussian clusters in d dimensions: argv = out prefix, n, d, clusters, spread, seed. */
const MAKE_BLOBS = String.raw`
import sys, json, numpy as np
out, n, d, c, sd, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
rng = np.random.default_rng(seed)
centers = rng.normal(0, 4, (c, d))
labels = rng.integers(0, c, n)
X = (centers[labels] + rng.normal(0, sd, (n, d))).astype(np.float32)
X.tofile(out + '.f32'); labels.astype(np.int32).tofile(out + '.labels')
print(json.dumps({'n': n}))
`;

/** Exact neighbours (sklearn, brute force) and, if asked, pynndescent's, timed; argv = prefix, n, d, k, metric, yes|no. */
const EXACT_AND_PYNNDESCENT = String.raw`
import sys, json, time, numpy as np
from sklearn.neighbors import NearestNeighbors
import pynndescent
prefix, n, d, k, metric = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
X = np.fromfile(prefix + '.f32', dtype=np.float32).reshape(n, d)
ours = np.fromfile(prefix + '.knn', dtype=np.int32).reshape(n, k)
dist = np.fromfile(prefix + '.dist', dtype=np.float32).reshape(n, k)
exact_d, exact = NearestNeighbors(n_neighbors=k, metric=metric, algorithm='brute').fit(X).kneighbors(X)
recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, exact)])
# The distance we report for each neighbour we found, against the metric computed here.
if metric == 'cosine':
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    true_d = 1 - np.einsum('ij,ikj->ik', U, U[ours])
else:
    true_d = np.linalg.norm(X[:, None, :] - X[ours], axis=2)
p_seconds = p_recall = None
if sys.argv[6] == 'yes':
    t = time.perf_counter()
    index = pynndescent.NNDescent(X, n_neighbors=k, metric=metric, random_state=0)
    p_idx, _ = index.neighbor_graph
    p_seconds = time.perf_counter() - t
    p_recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(p_idx, exact)]))
print(json.dumps({'recall': float(recall), 'max_distance_error': float(np.abs(true_d - dist).max()),
                  'self_first': bool((ours[:, 0] == np.arange(n)).all()), 'sorted': bool((np.diff(dist, axis=1) >= -1e-6).all()),
                  'pynndescent_seconds': p_seconds, 'pynndescent_recall': p_recall}))
`;

/** leidenalg on our weighted graph (CSR files); argv = prefix, n, resolution. */
const LEIDENALG = String.raw`
import sys, json, numpy as np, igraph as ig, leidenalg
from sklearn.metrics import adjusted_rand_score
prefix, n, res = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
indptr = np.fromfile(prefix + '.indptr', dtype=np.int32); cols = np.fromfile(prefix + '.cols', dtype=np.int32); w = np.fromfile(prefix + '.w')
rows = np.repeat(np.arange(n), np.diff(indptr)); upper = rows < cols
g = ig.Graph(n=n, edges=list(zip(rows[upper].tolist(), cols[upper].tolist())), directed=False)
g.es['weight'] = w[upper]
p = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights='weight', resolution_parameter=res, n_iterations=-1, seed=0)
ours = np.fromfile(prefix + '.membership', dtype=np.int32)
labels = np.fromfile(prefix + '.labels', dtype=np.int32)
mine = leidenalg.RBConfigurationVertexPartition(g, initial_membership=ours.tolist(), weights='weight', resolution_parameter=res)
print(json.dumps({'ari': adjusted_rand_score(p.membership, ours), 'ari_truth_ours': adjusted_rand_score(labels, ours),
                  'ari_truth_theirs': adjusted_rand_score(labels, p.membership), 'n_theirs': len(set(p.membership)),
                  'quality_theirs': p.quality(), 'quality_ours': mine.quality()}))
`;

/** sklearn's trustworthiness of a 2-D layout on a subsample; argv = prefix, n, d, layout file. */
const TRUSTWORTHINESS = String.raw`
import sys, json, numpy as np
from sklearn.manifold import trustworthiness
prefix, n, d, layout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
X = np.fromfile(prefix + '.f32', dtype=np.float32).reshape(n, d)
U = np.fromfile(layout, dtype=np.float32).reshape(n, 2)
pick = np.random.default_rng(0).choice(n, min(n, 2000), replace=False)
print(json.dumps({'trustworthiness': float(trustworthiness(X[pick], U[pick], n_neighbors=15))}))
`;

let dir: string;
const file = (name: string) => join(dir, name);
const readF32 = (path: string) => new Float32Array(new Uint8Array(readFileSync(path)).buffer);
const write = (path: string, array: ArrayBufferView) => writeFileSync(path, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));

function blobs(name: string, n: number, d: number, clusters: number, spread: number, seed: number): Float32Array {
  runPythonJson(MAKE_BLOBS, [file(name), String(n), String(d), String(clusters), String(spread), String(seed)]);
  return readF32(file(`${name}.f32`));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-graph-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nearest neighbours (NN-descent) against exact search and pynndescent', () => {
  it('finds ≥ 95 % of the exact 15 nearest neighbours of 20,000 cells, with true distances, faster than pynndescent', () => {
    const n = 20_000;
    const d = 30;
    const x = blobs('big', n, d, 12, 2.5, 0);
    const started = performance.now();
    const knn = nearestNeighbors(x, n, d, { k: 15 });
    const ours = (performance.now() - started) / 1000;
    write(file('big.knn'), knn.indices);
    write(file('big.dist'), knn.distances);
    const ref = runPythonJson<{ recall: number; max_distance_error: number; self_first: boolean; sorted: boolean; pynndescent_seconds: number; pynndescent_recall: number }>(
      EXACT_AND_PYNNDESCENT,
      [file('big'), String(n), String(d), '15', 'euclidean', 'yes'],
      300_000,
    );
    console.log(`kNN 20,000 × 30, k 15: recall ${ref.recall.toFixed(4)} in ${ours.toFixed(2)} s; pynndescent recall ${ref.pynndescent_recall.toFixed(4)} in ${ref.pynndescent_seconds.toFixed(2)} s (its first call includes numba compiling)`);
    expect(ref.recall).toBeGreaterThanOrEqual(0.95);
    expect(ref.self_first).toBe(true);
    expect(ref.sorted).toBe(true);
    expect(ref.max_distance_error).toBeLessThan(1e-3);
  }, 400_000);

  it('measures cosine distance as 1 − cosine similarity and finds ≥ 95 % of the exact neighbours', () => {
    const n = 3_000;
    const d = 20;
    const x = blobs('cos', n, d, 6, 2, 1);
    const knn = nearestNeighbors(x, n, d, { k: 10, metric: 'cosine' });
    write(file('cos.knn'), knn.indices);
    write(file('cos.dist'), knn.distances);
    const ref = runPythonJson<{ recall: number; max_distance_error: number; self_first: boolean }>(EXACT_AND_PYNNDESCENT, [file('cos'), String(n), String(d), '10', 'cosine', 'no'], 300_000);
    expect(ref.recall).toBeGreaterThanOrEqual(0.95);
    expect(ref.self_first).toBe(true);
    expect(ref.max_distance_error).toBeLessThan(1e-4);
  }, 300_000);

  it('gives the same graph for the same seed, and refuses k outside 2..n and non-finite values', () => {
    const x = Float32Array.from({ length: 200 * 3 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const a = nearestNeighbors(x, 200, 3, { k: 5, seed: 4 });
    const b = nearestNeighbors(x, 200, 3, { k: 5, seed: 4 });
    expect(a.indices).toEqual(b.indices);
    expect(() => nearestNeighbors(x, 200, 3, { k: 1 })).toThrow(/k must be a whole number from 2/);
    expect(() => nearestNeighbors(x, 200, 3, { k: 201 })).toThrow(/k must be a whole number from 2/);
    const bad = x.slice();
    bad[7] = NaN;
    expect(() => nearestNeighbors(bad, 200, 3, { k: 5 })).toThrow(/missing or infinite value in row 2/);
  });

  it('stops when cancelled', () => {
    const x = Float32Array.from({ length: 5000 * 10 }, (_, i) => (i * 7919) % 1000);
    const controller = new AbortController();
    let calls = 0;
    expect(() =>
      nearestNeighbors(x, 5000, 10, {
        k: 15,
        signal: controller.signal,
        onProgress: () => {
          if (++calls === 2) controller.abort();
        },
      }),
    ).toThrow(/abort/i);
  });
});

describe('Leiden against leidenalg on the same graph', () => {
  let graph: ReturnType<typeof fuzzyUnionGraph>;
  const n = 6_000;
  beforeAll(() => {
    // Overlapping clusters, so the partition is not trivially the same for any method.
    const x = blobs('overlap', n, 30, 10, 4.5, 2);
    const knn = nearestNeighbors(x, n, 30, { k: 15 });
    graph = fuzzyUnionGraph(knn.indices, knn.distances, n, 15);
    write(file('overlap.indptr'), graph.indptr);
    write(file('overlap.cols'), graph.indices);
    write(file('overlap.w'), graph.weights);
  }, 120_000);

  it('makes a symmetric graph of fuzzy memberships in (0, 1]', () => {
    const weight = new Map<string, number>();
    for (let i = 0; i < n; i++) for (let e = graph.indptr[i]!; e < graph.indptr[i + 1]!; e++) weight.set(`${i},${graph.indices[e]}`, graph.weights[e]!);
    for (const [key, w] of weight) {
      const [i, j] = key.split(',');
      expect(weight.get(`${j},${i}`)).toBe(w);
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThanOrEqual(1);
    }
  });

  for (const resolution of [0.5, 1, 2]) {
    it(`agrees with leidenalg at resolution ${resolution} (adjusted Rand index ≥ 0.9) with the same quality`, () => {
      const ours = leiden(graph, { resolution });
      write(file('overlap.membership'), ours.membership);
      const ref = runPythonJson<{ ari: number; ari_truth_ours: number; ari_truth_theirs: number; n_theirs: number; quality_theirs: number; quality_ours: number }>(LEIDENALG, [file('overlap'), String(n), String(resolution)], 300_000);
      console.log(`Leiden at resolution ${resolution}: ${ours.nCommunities} clusters (leidenalg ${ref.n_theirs}); ARI with leidenalg ${ref.ari.toFixed(4)}; ARI with the true groups ours ${ref.ari_truth_ours.toFixed(4)}, leidenalg ${ref.ari_truth_theirs.toFixed(4)}; quality ours ${ref.quality_ours.toFixed(3)}, leidenalg ${ref.quality_theirs.toFixed(3)}`);
      expect(ref.ari).toBeGreaterThanOrEqual(0.9);
      expect(ref.quality_ours).toBeGreaterThanOrEqual(ref.quality_theirs * 0.995);
      // Labels are numbered by decreasing size.
      const sizes = new Array<number>(ours.nCommunities).fill(0);
      for (const c of ours.membership) sizes[c]!++;
      for (let c = 1; c < sizes.length; c++) expect(sizes[c]).toBeLessThanOrEqual(sizes[c - 1]!);
    }, 300_000);
  }

  it('puts separate components in separate clusters and leaves isolated cells alone', () => {
    // Two triangles and one cell with no edges.
    const edges = [[0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5]];
    const indptr = new Int32Array(8);
    const adj: number[][] = Array.from({ length: 7 }, () => []);
    for (const [a, b] of edges) {
      adj[a!]!.push(b!);
      adj[b!]!.push(a!);
    }
    adj.forEach((row, i) => (indptr[i + 1] = indptr[i]! + row.length));
    const result = leiden({ n: 7, indptr, indices: Int32Array.from(adj.flat()), weights: new Float64Array(12).fill(1) });
    const m = Array.from(result.membership);
    expect(result.nCommunities).toBe(3);
    expect(new Set([m[0], m[1], m[2]]).size).toBe(1);
    expect(new Set([m[3], m[4], m[5]]).size).toBe(1);
    expect(m[0]).not.toBe(m[3]);
    expect(m[6]).toBe(2);
  });
});

describe('UMAP layout', () => {
  it('keeps neighbourhoods (sklearn trustworthiness ≥ 0.9 on 2,000 cells) and is the same for the same seed', () => {
    const n = 2_500;
    const d = 30;
    const x = blobs('umap', n, d, 8, 3, 3);
    const knn = nearestNeighbors(x, n, d, { k: 15 });
    const started = performance.now();
    const layout = umapLayout(knn.indices, knn.distances, n, 15, { seed: 1, nEpochs: 200, init: { values: x, nCols: d } });
    const seconds = (performance.now() - started) / 1000;
    write(file('umap.layout'), layout);
    const ref = runPythonJson<{ trustworthiness: number }>(TRUSTWORTHINESS, [file('umap'), String(n), String(d), file('umap.layout')], 300_000);
    console.log(`UMAP of 2,500 cells, 200 epochs: ${seconds.toFixed(2)} s; trustworthiness (15 neighbours, 2,000 cells) ${ref.trustworthiness.toFixed(4)}`);
    expect(ref.trustworthiness).toBeGreaterThanOrEqual(0.9);
    const again = umapLayout(knn.indices, knn.distances, n, 15, { seed: 1, nEpochs: 200, init: { values: x, nCols: d } });
    expect(again).toEqual(layout);
  }, 300_000);
});
