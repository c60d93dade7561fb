// Edge weights of a kNN graph as UMAP and scanpy make them (umap's fuzzy_simplicial_set):
// each cell's distances become memberships exp(−(d − ρ)/σ), with ρ the distance to its
// nearest other cell and σ chosen so the memberships sum to log2(k); the directed graph is
// then made symmetric by fuzzy union (a + b − a·b). Clustering runs on these weights.

/** A symmetric weighted graph in CSR form (no self-loops). */
export interface WeightedGraph {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float64Array;
}

const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;

/** Directed memberships of row-major n × k neighbours (column 0 the cell itself, weight 0). */
export function membershipStrengths(indices: Int32Array, distances: Float32Array, n: number, k: number): Float64Array {
  const target = Math.log2(k);
  const out = new Float64Array(n * k);
  let meanAll = 0;
  for (let i = 0; i < distances.length; i++) if (Number.isFinite(distances[i]!)) meanAll += distances[i]!;
  meanAll /= distances.length;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let rho = 0;
    let mean = 0;
    for (let s = 0; s < k; s++) {
      const dist = distances[row + s]!;
      if (indices[row + s] !== i && rho === 0 && dist > 0) rho = dist;
      mean += dist;
    }
    mean /= k;
    // Binary search for sigma, as umap's smooth_knn_dist (local_connectivity 1).
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let iter = 0; iter < 64; iter++) {
      let sum = 0;
      for (let s = 1; s < k; s++) {
        const dd = distances[row + s]! - rho;
        sum += dd > 0 ? Math.exp(-dd / sigma) : 1;
      }
      if (Math.abs(sum - target) < SMOOTH_K_TOLERANCE) break;
      if (sum > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
      }
    }
    if (rho > 0) sigma = Math.max(sigma, MIN_K_DIST_SCALE * mean);
    else sigma = Math.max(sigma, MIN_K_DIST_SCALE * meanAll);
    for (let s = 0; s < k; s++) {
      const j = indices[row + s]!;
      if (j === i || j < 0) continue;
      const dd = distances[row + s]! - rho;
      out[row + s] = dd <= 0 || sigma === 0 ? 1 : Math.exp(-dd / sigma);
    }
  }
  return out;
}

/** The fuzzy union of the directed memberships: symmetric, one entry per connected pair. */
export function fuzzyUnionGraph(indices: Int32Array, distances: Float32Array, n: number, k: number): WeightedGraph {
  const strengths = membershipStrengths(indices, distances, n, k);
  // Directed edges i → j with weight w, in both directions, then summed per pair as a + b − ab.
  const degree = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < k; s++) {
      const j = indices[i * k + s]!;
      if (j < 0 || j === i || strengths[i * k + s] === 0) continue;
      degree[i + 1]!++;
      degree[j + 1]!++;
    }
  }
  for (let i = 0; i < n; i++) degree[i + 1]! += degree[i]!;
  const fill = degree.slice(0, n);
  const cols = new Int32Array(degree[n]!);
  const forward = new Float64Array(degree[n]!);
  const backward = new Float64Array(degree[n]!);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < k; s++) {
      const j = indices[i * k + s]!;
      const w = strengths[i * k + s]!;
      if (j < 0 || j === i || w === 0) continue;
      cols[fill[i]!] = j;
      forward[fill[i]!++] = w;
      cols[fill[j]!] = i;
      backward[fill[j]!++] = w;
    }
  }
  // Per row: sort by column, merge duplicates (the same pair seen from both ends).
  const indptr = new Int32Array(n + 1);
  const outCols = new Int32Array(cols.length);
  const outW = new Float64Array(cols.length);
  let nnz = 0;
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    order.length = 0;
    for (let e = degree[i]!; e < degree[i + 1]!; e++) order.push(e);
    order.sort((a, b) => cols[a]! - cols[b]!);
    let e = 0;
    while (e < order.length) {
      const j = cols[order[e]!]!;
      let a = 0;
      let b = 0;
      while (e < order.length && cols[order[e]!] === j) {
        a = Math.max(a, forward[order[e]!]!);
        b = Math.max(b, backward[order[e]!]!);
        e++;
      }
      outCols[nnz] = j;
      outW[nnz++] = a + b - a * b;
    }
    indptr[i + 1] = nnz;
  }
  return { n, indptr, indices: outCols.slice(0, nnz), weights: outW.slice(0, nnz) };
}
