// A 2-D UMAP layout of a kNN graph: umap-learn's stochastic layout (optimize_layout_euclidean)
// on the fuzzy graph the clustering also uses, in flat typed arrays. umap-js (a maintained
// port of umap-learn) fits the a, b curve parameters for us; its own layout keeps the graph in
// string-keyed maps and a number[][] per cell, which took minutes just to start at 40,000
// cells, so the layout loop is ours. The start is the first two columns of the embedding the
// graph was built on (umap-learn starts from a spectral layout; a PCA start keeps the global
// arrangement in the same way), scaled to umap-learn's ±10 box.
import { findABParams } from 'umap-js/dist/umap';
import { createRandom } from '../linalg/random';
import { fuzzyUnionGraph } from './connectivities';

export interface UmapOptions {
  minDist?: number;
  spread?: number;
  /** Optimisation epochs (default as umap-learn: 500 up to 10,000 cells, else 200). */
  nEpochs?: number;
  seed?: number;
  /** Row-major n × d starting coordinates; the first two columns are used. */
  init?: { values: ArrayLike<number>; nCols: number };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

const NEGATIVE_SAMPLE_RATE = 5;
const REPULSION = 1;
const CLIP = 4;

const clip = (v: number) => (v > CLIP ? CLIP : v < -CLIP ? -CLIP : v);

/** Row-major n × 2 coordinates. */
export function umapLayout(indices: Int32Array, distances: Float32Array, n: number, k: number, options: UmapOptions = {}): Float32Array {
  const random = createRandom(options.seed ?? 0);
  const nEpochs = options.nEpochs ?? (n <= 10_000 ? 500 : 200);
  const { a, b } = findABParams(options.spread ?? 1, options.minDist ?? 0.5);
  const graph = fuzzyUnionGraph(indices, distances, n, k);

  // Every directed edge of the symmetric graph is sampled in proportion to its weight; edges
  // too weak to be sampled once in the whole run are left out, as umap-learn does.
  let maxWeight = 0;
  for (const w of graph.weights) if (w > maxWeight) maxWeight = w;
  const nEdges = graph.weights.length;
  const head = new Int32Array(nEdges);
  const tail = new Int32Array(nEdges);
  const epochsPerSample = new Float64Array(nEdges);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let e = graph.indptr[i]!; e < graph.indptr[i + 1]!; e++) {
      const w = graph.weights[e]!;
      if (w < maxWeight / nEpochs) continue;
      head[m] = i;
      tail[m] = graph.indices[e]!;
      epochsPerSample[m++] = maxWeight / w;
    }
  }
  const nextSample = epochsPerSample.slice(0, m);
  const epochsPerNegative = epochsPerSample.map((e) => e / NEGATIVE_SAMPLE_RATE);
  const nextNegative = epochsPerNegative.slice(0, m);

  const y = startingLayout(n, options.init, random);
  const gradients = new GradientTables(a, b);
  const attraction = gradients.attraction;
  const repulsion = gradients.repulsion;
  // Negative samples are drawn uniformly by scaling a 31-bit xorshift state (no integer modulo).
  const toCell = n / 2 ** 31;
  let state = (Math.floor(random.uniform() * 0xffffffff) | 1) | 0;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    options.signal?.throwIfAborted();
    if ((epoch & 7) === 0) options.onProgress?.(epoch, nEpochs);
    const alpha = 1 - epoch / nEpochs;
    for (let e = 0; e < m; e++) {
      if (nextSample[e]! > epoch) continue;
      const i = head[e]!;
      const j = tail[e]!;
      let dx = y[2 * i]! - y[2 * j]!;
      let dy = y[2 * i + 1]! - y[2 * j + 1]!;
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const coeff = gradients.at(attraction, d2);
        const gx = clip(coeff * dx) * alpha;
        const gy = clip(coeff * dy) * alpha;
        y[2 * i]! += gx;
        y[2 * i + 1]! += gy;
        y[2 * j]! -= gx;
        y[2 * j + 1]! -= gy;
      }
      nextSample[e]! += epochsPerSample[e]!;
      const nNegative = Math.floor((epoch - nextNegative[e]!) / epochsPerNegative[e]!);
      for (let s = 0; s < nNegative; s++) {
        // xorshift32: negative samples are most of the work, and need no more than this.
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const other = ((state >>> 1) * toCell) | 0;
        if (other === i) continue;
        dx = y[2 * i]! - y[2 * other]!;
        dy = y[2 * i + 1]! - y[2 * other + 1]!;
        d2 = dx * dx + dy * dy;
        if (d2 > 0) {
          const coeff = gradients.at(repulsion, d2);
          y[2 * i]! += clip(coeff * dx) * alpha;
          y[2 * i + 1]! += clip(coeff * dy) * alpha;
        } else {
          y[2 * i]! += CLIP * alpha;
          y[2 * i + 1]! += CLIP * alpha;
        }
      }
      nextNegative[e]! += nNegative * epochsPerNegative[e]!;
    }
  }
  options.onProgress?.(nEpochs, nEpochs);
  return Float32Array.from(y);
}

/**
 * The two gradient coefficients as functions of the squared distance d², tabulated: Math.pow
 * with a fractional exponent was three quarters of the layout's time. The grid has 256 points
 * per octave of d² from 2^-24 to 2^24 and is interpolated linearly (relative error about 1e-5,
 * far below the step noise of the stochastic descent); outside it the formula is evaluated.
 *   attraction(d²) = −2ab·d²^(b−1) / (1 + a·d²^b)
 *   repulsion(d²)  =  2b / ((0.001 + d²)(1 + a·d²^b))   (umap-learn's repulsion strength 1)
 */
export class GradientTables {
  static readonly STEPS_PER_OCTAVE = 256;
  static readonly MIN_EXPONENT = -24;
  static readonly MAX_EXPONENT = 24;
  readonly attraction: Float64Array;
  readonly repulsion: Float64Array;
  private readonly bits = new Float64Array(1);
  private readonly words = new Uint32Array(this.bits.buffer);
  /** The float64 high word of 2^MIN_EXPONENT, shifted like an index. */
  private readonly base = (GradientTables.MIN_EXPONENT + 1023) << 8;
  private readonly size = (GradientTables.MAX_EXPONENT - GradientTables.MIN_EXPONENT) * GradientTables.STEPS_PER_OCTAVE;

  constructor(
    private readonly a: number,
    private readonly b: number,
  ) {
    // Each grid point holds its d², the value there and the slope to the next point, interleaved.
    this.attraction = new Float64Array(3 * this.size + 3);
    this.repulsion = new Float64Array(3 * this.size + 3);
    for (const [table, f] of [
      [this.attraction, (x: number) => this.exactAttraction(x)],
      [this.repulsion, (x: number) => this.exactRepulsion(x)],
    ] as const) {
      for (let k = 0; k <= this.size; k++) {
        table[3 * k] = gridPoint(k);
        table[3 * k + 1] = f(table[3 * k]!);
      }
      for (let k = 0; k < this.size; k++) table[3 * k + 2] = (table[3 * k + 4]! - table[3 * k + 1]!) / (table[3 * k + 3]! - table[3 * k]!);
    }
  }

  exactAttraction(d2: number): number {
    const powB1 = Math.pow(d2, this.b - 1);
    return (-2 * this.a * this.b * powB1) / (this.a * powB1 * d2 + 1);
  }

  exactRepulsion(d2: number): number {
    return (2 * REPULSION * this.b) / ((0.001 + d2) * (this.a * Math.pow(d2, this.b) + 1));
  }

  /** `table` (attraction or repulsion) at d² > 0. */
  at(table: Float64Array, d2: number): number {
    this.bits[0] = d2;
    // Exponent and the top 8 bits of the mantissa: the grid cell d² falls in.
    const k = (this.words[1]! >>> 12) - this.base;
    if (k >= 0 && k < this.size) return table[3 * k + 1]! + (d2 - table[3 * k]!) * table[3 * k + 2]!;
    return table === this.attraction ? this.exactAttraction(d2) : this.exactRepulsion(d2);
  }

}

/** The k-th grid point: octave k / 256 above 2^-24, step k mod 256 within it. */
function gridPoint(k: number): number {
  const octave = Math.floor(k / GradientTables.STEPS_PER_OCTAVE);
  const step = k - octave * GradientTables.STEPS_PER_OCTAVE;
  return 2 ** (GradientTables.MIN_EXPONENT + octave) * (1 + step / GradientTables.STEPS_PER_OCTAVE);
}

/** The first two columns of `init` scaled into ±10 (with a little noise to separate ties), else uniform in ±10. */
function startingLayout(n: number, init: UmapOptions['init'], random: ReturnType<typeof createRandom>): Float64Array {
  const y = new Float64Array(n * 2);
  let scale = 0;
  if (init && init.nCols >= 2) for (let i = 0; i < n; i++) for (let c = 0; c < 2; c++) scale = Math.max(scale, Math.abs(Number(init.values[i * init.nCols + c])));
  if (init && init.nCols >= 2 && scale > 0 && Number.isFinite(scale)) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 2; c++) y[2 * i + c] = (Number(init.values[i * init.nCols + c]) / scale) * 10 + random.gaussian() * 1e-4;
    }
  } else {
    for (let i = 0; i < 2 * n; i++) y[i] = random.uniform() * 20 - 10;
  }
  return y;
}
