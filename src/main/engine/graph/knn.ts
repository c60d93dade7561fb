// Approximate k-nearest neighbours of every row of a dense embedding by NN-descent
// (Dong, Charikar & Li 2011) started from a forest of random-projection trees, the way
// pynndescent does it: trees give every cell good first guesses, then "a neighbour of my
// neighbour is likely my neighbour" refines them in a few sweeps. Everything lives in flat
// typed arrays (n × k heaps), so memory is O(n·k) beside the embedding itself.
import { CellarError } from '../../../shared/errors';
import { createRandom, type Random } from '../linalg/random';

export type KnnMetric = 'euclidean' | 'cosine';

export interface KnnOptions {
  /** Neighbours per cell, the cell itself included (as scanpy and umap count them). */
  k: number;
  metric?: KnnMetric;
  seed?: number;
  /** Random-projection trees for the starting guesses. */
  nTrees?: number;
  /** Most NN-descent sweeps; it stops earlier once few neighbours change. */
  maxIterations?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface KnnResult {
  k: number;
  /** Row-major n × k neighbour rows, nearest first; column 0 is the cell itself. */
  indices: Int32Array;
  /** Matching distances: euclidean, or 1 − cosine similarity. */
  distances: Float32Array;
}

/**
 * Per-cell bounded max-heaps of candidate neighbours: the farthest kept one at the root, so a
 * closer candidate replaces it in O(log k). `isNew` marks entries not yet used in a local join.
 */
class NeighbourHeaps {
  readonly ids: Int32Array;
  readonly dist: Float32Array;
  readonly isNew: Uint8Array;

  constructor(
    readonly n: number,
    readonly size: number,
  ) {
    this.ids = new Int32Array(n * size).fill(-1);
    this.dist = new Float32Array(n * size).fill(Infinity);
    this.isNew = new Uint8Array(n * size);
  }

  /** Offers `j` at distance `d` to row `i`; true when it was kept. */
  push(i: number, j: number, d: number): boolean {
    const base = i * this.size;
    const { ids, dist, isNew, size } = this;
    if (!(d < dist[base]!)) return false;
    for (let s = 0; s < size; s++) if (ids[base + s] === j) return false;
    // Replace the root, then sift it down.
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && dist[base + right]! > dist[base + left]! ? right : left;
      if (dist[base + child]! <= d) break;
      ids[base + at] = ids[base + child]!;
      dist[base + at] = dist[base + child]!;
      isNew[base + at] = isNew[base + child]!;
      at = child;
    }
    ids[base + at] = j;
    dist[base + at] = d;
    isNew[base + at] = 1;
    return true;
  }
}

/** Squared euclidean distance between rows a and b of a row-major n × d array. */
function squaredDistance(x: Float32Array, d: number, a: number, b: number): number {
  let sum = 0;
  const ia = a * d;
  const ib = b * d;
  for (let c = 0; c < d; c++) {
    const t = x[ia + c]! - x[ib + c]!;
    sum += t * t;
  }
  return sum;
}

/** Leaves of one random-projection tree: row ids split by random hyperplanes down to `leafSize`. */
function randomProjectionLeaves(x: Float32Array, n: number, d: number, leafSize: number, random: Random, onLeaf: (rows: Int32Array) => void): void {
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const normal = new Float64Array(d);
  const side = new Uint8Array(n);
  const stack: [number, number][] = [[0, n]];
  while (stack.length) {
    const [start, end] = stack.pop()!;
    const count = end - start;
    if (count <= leafSize) {
      onLeaf(rows.subarray(start, end));
      continue;
    }
    // The hyperplane halfway between two random rows, as in pynndescent's euclidean trees.
    const a = rows[start + Math.floor(random.uniform() * count)]!;
    let b = rows[start + Math.floor(random.uniform() * count)]!;
    if (a === b) b = rows[start + ((rows.indexOf(a, start) - start + 1) % count)]!;
    let offset = 0;
    for (let c = 0; c < d; c++) {
      normal[c] = x[a * d + c]! - x[b * d + c]!;
      offset -= (normal[c]! * (x[a * d + c]! + x[b * d + c]!)) / 2;
    }
    let nLeft = 0;
    for (let r = start; r < end; r++) {
      const row = rows[r]!;
      let margin = offset;
      for (let c = 0; c < d; c++) margin += normal[c]! * x[row * d + c]!;
      // Ties (duplicate rows) go either way at random, so a split always makes progress.
      const left = margin === 0 ? random.uniform() < 0.5 : margin > 0;
      side[row] = left ? 1 : 0;
      if (left) nLeft++;
    }
    if (nLeft === 0 || nLeft === count) {
      // Every row on one side (identical rows): split the run in half instead.
      const half = start + (count >> 1);
      stack.push([start, half], [half, end]);
      continue;
    }
    // Partition in place: left rows first.
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (side[rows[i]!]) i++;
      else {
        const t = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = t;
        j--;
      }
    }
    stack.push([start, start + nLeft], [start + nLeft, end]);
  }
}

/** Rows scaled to unit length: euclidean order on them is cosine order on the originals. */
function unitRows(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < d; c++) norm += x[i * d + c]! * x[i * d + c]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < d; c++) out[i * d + c] = x[i * d + c]! * scale;
  }
  return out;
}

/**
 * The k nearest neighbours of each of the n rows of `values` (row-major n × d). Approximate;
 * cancellable between steps through `signal`.
 */
export function nearestNeighbors(values: Float32Array | Float64Array, n: number, d: number, options: KnnOptions): KnnResult {
  const { k } = options;
  if (!Number.isInteger(k) || k < 2 || k > n) throw new CellarError('usage', `k must be a whole number from 2 to the number of cells (${n}); got ${k}.`);
  if (values.length !== n * d) throw new CellarError('shape_mismatch', `The embedding has ${values.length} values; ${n} × ${d} needs ${n * d}.`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new CellarError('bad_element', `The embedding has a missing or infinite value in row ${Math.floor(i / d)}; neighbours need every value.`);
  }
  const metric = options.metric ?? 'euclidean';
  const raw = values instanceof Float32Array ? values : Float32Array.from(values);
  const x = metric === 'cosine' ? unitRows(raw, n, d) : raw;
  const random = createRandom(options.seed ?? 0);
  const others = k - 1; // the cell itself is added at the end
  const heaps = new NeighbourHeaps(n, others);
  const nTrees = options.nTrees ?? Math.min(32, 5 + Math.round(Math.sqrt(Math.sqrt(n)) / 2));
  const maxIterations = options.maxIterations ?? Math.max(5, Math.round(Math.log2(n)));
  const total = nTrees + maxIterations;
  let step = 0;
  const report = (phase: string) => options.onProgress?.(++step, total, phase);

  // Starting guesses: every pair within each tree leaf.
  const leafSize = Math.max(10, others * 2);
  for (let t = 0; t < nTrees; t++) {
    options.signal?.throwIfAborted();
    let leaves = 0;
    randomProjectionLeaves(x, n, d, leafSize, random, (leaf) => {
      if ((++leaves & 255) === 0) options.signal?.throwIfAborted();
      for (let a = 0; a < leaf.length; a++) {
        for (let b = a + 1; b < leaf.length; b++) {
          const p = leaf[a]!;
          const q = leaf[b]!;
          const dd = squaredDistance(x, d, p, q);
          heaps.push(p, q, dd);
          heaps.push(q, p, dd);
        }
      }
    });
    report('random projection trees');
  }
  // Cells a tree left with too few candidates (tiny leaves) get random ones.
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < others; s++) {
      if (heaps.ids[i * others + s] !== -1) continue;
      const j = Math.floor(random.uniform() * n);
      if (j !== i) heaps.push(i, j, squaredDistance(x, d, i, j));
    }
  }

  // NN-descent: join each cell's new candidates with each other and with its old ones,
  // through both directions of every edge (its neighbours and those it is a neighbour of).
  const maxCandidates = Math.min(60, Math.max(others, 20));
  const newCand = new NeighbourHeaps(n, maxCandidates);
  const oldCand = new NeighbourHeaps(n, maxCandidates);
  const stopBelow = 0.001 * n * others;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    options.signal?.throwIfAborted();
    newCand.ids.fill(-1);
    newCand.dist.fill(Infinity);
    oldCand.ids.fill(-1);
    oldCand.dist.fill(Infinity);
    // Random priorities pick a bounded sample of candidates per cell, as pynndescent does.
    for (let i = 0; i < n; i++) {
      if ((i & 4095) === 0) options.signal?.throwIfAborted();
      for (let s = 0; s < others; s++) {
        const at = i * others + s;
        const j = heaps.ids[at]!;
        if (j < 0) continue;
        const priority = random.uniform();
        const target = heaps.isNew[at] ? newCand : oldCand;
        target.push(i, j, priority);
        target.push(j, i, priority);
      }
    }
    // Candidates taken into the new sample are no longer new.
    for (let i = 0; i < n; i++) {
      if ((i & 4095) === 0) options.signal?.throwIfAborted();
      for (let s = 0; s < others; s++) {
        const at = i * others + s;
        if (!heaps.isNew[at]) continue;
        const j = heaps.ids[at]!;
        const base = i * maxCandidates;
        for (let c = 0; c < maxCandidates; c++) {
          if (newCand.ids[base + c] === j) {
            heaps.isNew[at] = 0;
            break;
          }
        }
      }
    }
    let updates = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 4095) === 0) options.signal?.throwIfAborted();
      const base = i * maxCandidates;
      for (let a = 0; a < maxCandidates; a++) {
        const p = newCand.ids[base + a]!;
        if (p < 0) continue;
        for (let b = a + 1; b < maxCandidates; b++) {
          const q = newCand.ids[base + b]!;
          if (q < 0) continue;
          const dd = squaredDistance(x, d, p, q);
          if (heaps.push(p, q, dd)) updates++;
          if (heaps.push(q, p, dd)) updates++;
        }
        for (let b = 0; b < maxCandidates; b++) {
          const q = oldCand.ids[base + b]!;
          if (q < 0 || q === p) continue;
          const dd = squaredDistance(x, d, p, q);
          if (heaps.push(p, q, dd)) updates++;
          if (heaps.push(q, p, dd)) updates++;
        }
      }
    }
    report('NN-descent');
    if (updates <= stopBelow) break;
  }

  // Sorted rows, the cell itself first; squared distances become distances.
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  const order = Int32Array.from({ length: others }, (_, s) => s);
  for (let i = 0; i < n; i++) {
    const base = i * others;
    order.sort((a, b) => heaps.dist[base + a]! - heaps.dist[base + b]!);
    indices[i * k] = i;
    distances[i * k] = 0;
    for (let s = 0; s < others; s++) {
      const j = heaps.ids[base + order[s]!]!;
      const sq = heaps.dist[base + order[s]!]!;
      indices[i * k + 1 + s] = j;
      distances[i * k + 1 + s] = j < 0 ? Infinity : metric === 'cosine' ? sq / 2 : Math.sqrt(sq);
    }
  }
  options.onProgress?.(total, total, 'done');
  return { k, indices, distances };
}
