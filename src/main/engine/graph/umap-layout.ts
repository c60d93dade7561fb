// A 2-D UMAP layout of a kNN graph, with umap-js (a maintained port of umap-learn) doing the
// fuzzy simplicial set and the stochastic layout. We hand it our graph (it never searches
// neighbours itself), a seeded random stream, and a starting layout from the first two
// columns of the embedding the graph was built on: umap-js can only start at random, and a
// PCA start keeps the global arrangement the way umap-learn's spectral start does.
import { UMAP } from 'umap-js';
import { createRandom } from '../linalg/random';

export interface UmapOptions {
  minDist?: number;
  spread?: number;
  /** Optimisation epochs (default: umap-js's choice by size, 200–500). */
  nEpochs?: number;
  seed?: number;
  /** Row-major n × d starting coordinates; the first two columns are used. */
  init?: { values: ArrayLike<number>; nCols: number };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Row-major n × 2 coordinates. */
export function umapLayout(indices: Int32Array, distances: Float32Array, n: number, k: number, options: UmapOptions = {}): Float32Array {
  const random = createRandom(options.seed ?? 0);
  const umap = new UMAP({ nComponents: 2, nNeighbors: k, minDist: options.minDist ?? 0.5, spread: options.spread ?? 1, nEpochs: options.nEpochs, random: () => random.uniform() });
  const knnIndices: number[][] = new Array(n);
  const knnDistances: number[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    knnIndices[i] = Array.from(indices.subarray(i * k, (i + 1) * k));
    knnDistances[i] = Array.from(distances.subarray(i * k, (i + 1) * k));
  }
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  // With neighbours given, umap-js reads only the number of rows of X.
  const nEpochs = umap.initializeFit(Array.from({ length: n }, () => []));
  if (options.init && options.init.nCols >= 2) startFrom(umap, options.init.values, options.init.nCols, n);
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    if ((epoch & 7) === 0) {
      options.signal?.throwIfAborted();
      options.onProgress?.(epoch, nEpochs);
    }
    umap.step();
  }
  const embedding = umap.getEmbedding();
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[i * 2] = embedding[i]![0]!;
    out[i * 2 + 1] = embedding[i]![1]!;
  }
  options.onProgress?.(nEpochs, nEpochs);
  return out;
}

/**
 * Overwrites umap-js's random start in place, scaled to its ±10 box as umap-learn scales its
 * own start. umap-js 1.4 keeps the start in a private `embedding` that its optimiser shares,
 * so the rows are changed, never replaced.
 */
function startFrom(umap: UMAP, values: ArrayLike<number>, nCols: number, n: number): void {
  const embedding = (umap as unknown as { embedding: number[][] }).embedding;
  if (!Array.isArray(embedding) || embedding.length !== n) return;
  let scale = 0;
  for (let i = 0; i < n; i++) for (let c = 0; c < 2; c++) scale = Math.max(scale, Math.abs(Number(values[i * nCols + c])));
  if (!(scale > 0) || !Number.isFinite(scale)) return;
  for (let i = 0; i < n; i++) {
    embedding[i]![0] = (Number(values[i * nCols]) / scale) * 10;
    embedding[i]![1] = (Number(values[i * nCols + 1]) / scale) * 10;
  }
}
