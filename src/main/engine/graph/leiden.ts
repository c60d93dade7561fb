// Leiden community detection (Traag, Waltman & van Eck 2019) on a weighted undirected graph,
// maximising the RB configuration quality Σ_ij (A_ij − γ·k_i·k_j / 2m)·δ(c_i, c_j) — modularity
// at resolution γ, what scanpy's leiden optimises through leidenalg. Each round: fast local
// moving of nodes, refinement of every community into well-connected parts (which is what
// makes Leiden's communities connected, unlike Louvain's), and aggregation of the refined
// parts into the next level's nodes. Rounds repeat until the partition no longer changes.
import { createRandom, type Random } from '../linalg/random';
import type { WeightedGraph } from './connectivities';

export interface LeidenOptions {
  resolution?: number;
  seed?: number;
  /** Randomness of the refinement's choice between merges (leidenalg's θ). */
  theta?: number;
  /** Most passes of the whole algorithm, each starting from the last partition. */
  maxPasses?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface LeidenResult {
  /** Community of each node, numbered from 0 by decreasing size (ties by first node). */
  membership: Int32Array;
  nCommunities: number;
  /** The RB configuration quality of the result (modularity when γ = 1), per 2m. */
  quality: number;
}

/** One level: a graph whose nodes carry strengths K (their summed original degrees); self-loops dropped. */
interface Level {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float64Array;
  strength: Float64Array;
}

function shuffled(n: number, random: Random): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Scratch for "weight from a node to each neighbouring community", reset through its touched list. */
class CommunityWeights {
  readonly weight: Float64Array;
  readonly touched: Int32Array;
  count = 0;
  constructor(n: number) {
    this.weight = new Float64Array(n);
    this.touched = new Int32Array(n);
  }
  add(c: number, w: number): void {
    if (this.weight[c] === 0) this.touched[this.count++] = c;
    this.weight[c]! += w;
  }
  clear(): void {
    for (let t = 0; t < this.count; t++) this.weight[this.touched[t]!] = 0;
    this.count = 0;
  }
}

/** Moves nodes to the neighbouring community of best gain until none gains; true when any moved. */
function fastLocalMove(level: Level, community: Int32Array, gamma: number, twoM: number, random: Random, signal?: AbortSignal): boolean {
  const { n, indptr, indices, weights, strength } = level;
  const total = new Float64Array(n);
  const size = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    total[community[v]!]! += strength[v]!;
    size[community[v]!]!++;
  }
  const empty: number[] = [];
  for (let c = n - 1; c >= 0; c--) if (size[c] === 0) empty.push(c);
  const queue = shuffled(n, random);
  const queued = new Uint8Array(n).fill(1);
  // A ring buffer over `queue`: every node is in it at most once.
  let head = 0;
  let length = n;
  const scratch = new CommunityWeights(n);
  let moved = false;
  let steps = 0;
  while (length > 0) {
    if ((++steps & 16383) === 0) signal?.throwIfAborted();
    const v = queue[head]!;
    head = (head + 1) % n;
    length--;
    queued[v] = 0;
    const current = community[v]!;
    const kv = strength[v]!;
    total[current]! -= kv;
    size[current]!--;
    for (let e = indptr[v]!; e < indptr[v + 1]!; e++) if (indices[e] !== v) scratch.add(community[indices[e]!]!, weights[e]!);
    let best = current;
    let bestGain = scratch.weight[current]! - (gamma * kv * total[current]!) / twoM;
    for (let t = 0; t < scratch.count; t++) {
      const c = scratch.touched[t]!;
      const gain = scratch.weight[c]! - (gamma * kv * total[c]!) / twoM;
      if (gain > bestGain + 1e-12) {
        best = c;
        bestGain = gain;
      }
    }
    // Alone in a fresh community gains 0: better when every neighbouring one costs.
    if (bestGain < -1e-12 && size[current]! > 0) {
      best = empty.pop()!;
      bestGain = 0;
    }
    scratch.clear();
    if (size[current] === 0 && best !== current) empty.push(current);
    community[v] = best;
    total[best]! += kv;
    size[best]!++;
    if (best !== current) {
      moved = true;
      for (let e = indptr[v]!; e < indptr[v + 1]!; e++) {
        const u = indices[e]!;
        if (!queued[u] && community[u] !== best) {
          queued[u] = 1;
          queue[(head + length) % n] = u;
          length++;
        }
      }
    }
  }
  return moved;
}

/**
 * Splits each community into well-connected parts: singletons merge, one at a time, into
 * parts of their own community, chosen at random weighted by exp(gain / θ).
 */
function refine(level: Level, community: Int32Array, gamma: number, twoM: number, theta: number, random: Random): Int32Array {
  const { n, indptr, indices, weights, strength } = level;
  const refined = Int32Array.from({ length: n }, (_, i) => i);
  const communityTotal = new Float64Array(n);
  for (let v = 0; v < n; v++) communityTotal[community[v]!]! += strength[v]!;
  // Per refined part: its strength, its size, and its edge weight to the rest of its community.
  const partTotal = Float64Array.from(strength);
  const partSize = new Int32Array(n).fill(1);
  const partExternal = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    for (let e = indptr[v]!; e < indptr[v + 1]!; e++) {
      const u = indices[e]!;
      if (u !== v && community[u] === community[v]) partExternal[v]! += weights[e]!;
    }
  }
  const scratch = new CommunityWeights(n);
  const candidates: number[] = [];
  const gains: number[] = [];
  for (const v of shuffled(n, random)) {
    if (partSize[refined[v]!] !== 1) continue;
    const c = community[v]!;
    const kv = strength[v]!;
    const cTotal = communityTotal[c]!;
    if (partExternal[v]! < (gamma * kv * (cTotal - kv)) / twoM) continue; // not well connected
    for (let e = indptr[v]!; e < indptr[v + 1]!; e++) {
      const u = indices[e]!;
      if (u !== v && community[u] === c) scratch.add(refined[u]!, weights[e]!);
    }
    candidates.length = 0;
    gains.length = 0;
    let maxGain = 0;
    for (let t = 0; t < scratch.count; t++) {
      const part = scratch.touched[t]!;
      if (part === refined[v]) continue;
      const pTotal = partTotal[part]!;
      if (partExternal[part]! < (gamma * pTotal * (cTotal - pTotal)) / twoM) continue;
      const gain = scratch.weight[part]! - (gamma * kv * pTotal) / twoM;
      if (gain < 0) continue;
      candidates.push(part);
      gains.push(gain);
      if (gain > maxGain) maxGain = gain;
    }
    if (candidates.length) {
      let sum = 0;
      for (let t = 0; t < gains.length; t++) sum += gains[t] = Math.exp((gains[t]! - maxGain) / theta);
      let pick = random.uniform() * sum;
      let chosen = candidates[candidates.length - 1]!;
      for (let t = 0; t < candidates.length; t++) {
        pick -= gains[t]!;
        if (pick <= 0) {
          chosen = candidates[t]!;
          break;
        }
      }
      const own = refined[v]!;
      const toChosen = scratch.weight[chosen]!;
      refined[v] = chosen;
      partExternal[chosen] = partExternal[chosen]! + partExternal[own]! - 2 * toChosen;
      partTotal[chosen]! += kv;
      partSize[chosen]!++;
      partSize[own] = 0;
    }
    scratch.clear();
  }
  return refined;
}

/** Numbers the distinct values of `labels` 0..m-1 in order of first appearance; returns m. */
function renumber(labels: Int32Array): number {
  const map = new Int32Array(labels.length).fill(-1);
  let m = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (map[l] === -1) map[l] = m++;
    labels[i] = map[l]!;
  }
  return m;
}

/** The graph whose nodes are the parts: summed strengths, summed edge weights between parts. */
function aggregate(level: Level, part: Int32Array, nParts: number): Level {
  const { n, indptr, indices, weights, strength } = level;
  const members = new Int32Array(n);
  const start = new Int32Array(nParts + 1);
  for (let v = 0; v < n; v++) start[part[v]! + 1]!++;
  for (let p = 0; p < nParts; p++) start[p + 1]! += start[p]!;
  const fill = start.slice(0, nParts);
  for (let v = 0; v < n; v++) members[fill[part[v]!]!++] = v;
  const outStrength = new Float64Array(nParts);
  const outIndptr = new Int32Array(nParts + 1);
  const outIndices: number[] = [];
  const outWeights: number[] = [];
  const scratch = new CommunityWeights(nParts);
  for (let p = 0; p < nParts; p++) {
    for (let m = start[p]!; m < start[p + 1]!; m++) {
      const v = members[m]!;
      outStrength[p]! += strength[v]!;
      for (let e = indptr[v]!; e < indptr[v + 1]!; e++) {
        const q = part[indices[e]!]!;
        if (q !== p) scratch.add(q, weights[e]!);
      }
    }
    for (let t = 0; t < scratch.count; t++) {
      outIndices.push(scratch.touched[t]!);
      outWeights.push(scratch.weight[scratch.touched[t]!]!);
    }
    scratch.clear();
    outIndptr[p + 1] = outIndices.length;
  }
  return { n: nParts, indptr: outIndptr, indices: Int32Array.from(outIndices), weights: Float64Array.from(outWeights), strength: outStrength };
}

/** RB configuration quality of a membership, divided by 2m. */
function qualityOf(graph: WeightedGraph, membership: Int32Array, gamma: number, strength: Float64Array, twoM: number): number {
  let inside = 0;
  for (let v = 0; v < graph.n; v++) {
    for (let e = graph.indptr[v]!; e < graph.indptr[v + 1]!; e++) if (membership[graph.indices[e]!] === membership[v]) inside += graph.weights[e]!;
  }
  const totals = new Float64Array(graph.n);
  for (let v = 0; v < graph.n; v++) totals[membership[v]!]! += strength[v]!;
  let expected = 0;
  for (const t of totals) expected += t * t;
  return (inside - (gamma * expected) / twoM) / twoM;
}

export function leiden(graph: WeightedGraph, options: LeidenOptions = {}): LeidenResult {
  const gamma = options.resolution ?? 1;
  const theta = options.theta ?? 0.01;
  const maxPasses = options.maxPasses ?? 10;
  const random = createRandom(options.seed ?? 0);
  const { n } = graph;
  const strength = new Float64Array(n);
  for (let v = 0; v < n; v++) for (let e = graph.indptr[v]!; e < graph.indptr[v + 1]!; e++) if (graph.indices[e] !== v) strength[v]! += graph.weights[e]!;
  let twoM = 0;
  for (const s of strength) twoM += s;
  const membership = Int32Array.from({ length: n }, (_, i) => i);
  if (twoM === 0) return finish(membership, graph, gamma, strength, 1);

  for (let pass = 0; pass < maxPasses; pass++) {
    options.signal?.throwIfAborted();
    const before = membership.slice();
    let level: Level = { n, indptr: graph.indptr, indices: graph.indices, weights: graph.weights, strength };
    // nodeOf[v]: the current level's node holding original node v.
    const nodeOf = Int32Array.from({ length: n }, (_, i) => i);
    let community = membership.slice();
    renumber(community);
    for (;;) {
      options.signal?.throwIfAborted();
      fastLocalMove(level, community, gamma, twoM, random, options.signal);
      const nCommunities = renumber(community);
      for (let v = 0; v < n; v++) membership[v] = community[nodeOf[v]!]!;
      if (nCommunities === level.n) break;
      const refined = refine(level, community, gamma, twoM, theta, random);
      const nParts = renumber(refined);
      // Each part's next-level starting community is the community that holds it.
      const next = new Int32Array(nParts);
      for (let v = 0; v < level.n; v++) next[refined[v]!] = community[v]!;
      for (let v = 0; v < n; v++) nodeOf[v] = refined[nodeOf[v]!]!;
      level = aggregate(level, refined, nParts);
      community = next;
    }
    options.onProgress?.(pass + 1, maxPasses);
    if (sameGrouping(before, membership)) break;
  }
  return finish(membership, graph, gamma, strength, twoM);
}

function sameGrouping(a: Int32Array, b: Int32Array): boolean {
  const map = new Map<number, number>();
  const back = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const x = map.get(a[i]!);
    const y = back.get(b[i]!);
    if (x === undefined && y === undefined) {
      map.set(a[i]!, b[i]!);
      back.set(b[i]!, a[i]!);
    } else if (x !== b[i] || y !== a[i]) return false;
  }
  return true;
}

/** Communities renumbered by decreasing size, as scanpy labels them. */
function finish(membership: Int32Array, graph: WeightedGraph, gamma: number, strength: Float64Array, twoM: number): LeidenResult {
  const m = renumber(membership);
  const sizes = new Int32Array(m);
  for (const c of membership) sizes[c]!++;
  const order = Array.from({ length: m }, (_, c) => c).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const rank = new Int32Array(m);
  order.forEach((c, r) => (rank[c] = r));
  for (let i = 0; i < membership.length; i++) membership[i] = rank[membership[i]!]!;
  return { membership, nCommunities: m, quality: qualityOf(graph, membership, gamma, strength, twoM) };
}
