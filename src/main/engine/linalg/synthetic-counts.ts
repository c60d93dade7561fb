// Deterministic synthetic single-cell counts (cell types with their own gene programs),
// for PCA tests and benchmarks that must not depend on files.
import type { CsrMatrix } from './csr';
import { createRandom } from './random';

export interface SyntheticCountsOptions {
  nCells: number;
  nGenes: number;
  nCellTypes: number;
  /** Target mean number of non-zeros per cell (approximate). */
  nnzPerCell: number;
  seed: number;
  /** Share of a cell's reads drawn from its type's program (default 0.3). */
  programShare?: number;
  /** Share of genes in each type's program (default 0.04, at least 5 genes). */
  programGeneShare?: number;
}

export interface SyntheticCounts {
  matrix: CsrMatrix & { data: Float32Array; indptr: Float64Array };
  cellTypes: Int32Array;
}

/** Float32 integer counts in CSR, rows sorted by column, reproducible from the seed. */
export function syntheticCounts(options: SyntheticCountsOptions): SyntheticCounts {
  const { nCells, nGenes, nCellTypes, seed } = options;
  const programShare = options.programShare ?? 0.3;
  const programSize = Math.min(nGenes, Math.max(5, Math.round(nGenes * (options.programGeneShare ?? 0.04))));
  const rng = createRandom(seed);

  const baseCdf = new Float64Array(nGenes);
  let total = 0;
  for (let j = 0; j < nGenes; j++) {
    total += Math.exp(1.5 * rng.gaussian());
    baseCdf[j] = total;
  }
  for (let j = 0; j < nGenes; j++) baseCdf[j] /= total;

  const programGenes = new Int32Array(nCellTypes * programSize);
  const programCdf = new Float64Array(nCellTypes * programSize);
  const chosen = new Uint8Array(nGenes);
  for (let t = 0; t < nCellTypes; t++) {
    chosen.fill(0);
    let sum = 0;
    for (let m = 0; m < programSize; m++) {
      let gene = Math.floor(rng.uniform() * nGenes);
      while (chosen[gene]) gene = (gene + 1) % nGenes;
      chosen[gene] = 1;
      programGenes[t * programSize + m] = gene;
      sum += Math.exp(rng.gaussian());
      programCdf[t * programSize + m] = sum;
    }
    for (let m = 0; m < programSize; m++) programCdf[t * programSize + m] /= sum;
  }

  const readsPerCell = readsForDistinctGenes(baseCdf, options.nnzPerCell);
  const cellTypes = new Int32Array(nCells);
  const indptr = new Float64Array(nCells + 1);
  let capacity = Math.max(16, Math.ceil(nCells * options.nnzPerCell * 1.3));
  let indices = new Int32Array(capacity);
  let data = new Float32Array(capacity);
  const counts = new Float32Array(nGenes);
  const touched = new Int32Array(nGenes);
  let nnz = 0;

  for (let i = 0; i < nCells; i++) {
    const type = Math.floor(rng.uniform() * nCellTypes);
    cellTypes[i] = type;
    const reads = Math.max(1, Math.round(readsPerCell * Math.exp(0.35 * rng.gaussian())));
    let nTouched = 0;
    for (let r = 0; r < reads; r++) {
      const gene =
        rng.uniform() < programShare
          ? programGenes[type * programSize + searchCdf(programCdf, type * programSize, programSize, rng.uniform())]
          : searchCdf(baseCdf, 0, nGenes, rng.uniform());
      if (counts[gene] === 0) touched[nTouched++] = gene;
      counts[gene] += 1;
    }
    const rowGenes = touched.subarray(0, nTouched).sort();
    if (nnz + nTouched > capacity) {
      capacity = Math.ceil((nnz + nTouched) * 1.5);
      indices = grow(indices, capacity, Int32Array);
      data = grow(data, capacity, Float32Array);
    }
    for (let m = 0; m < nTouched; m++) {
      const gene = rowGenes[m];
      indices[nnz] = gene;
      data[nnz] = counts[gene];
      counts[gene] = 0;
      nnz++;
    }
    indptr[i + 1] = nnz;
  }
  return {
    matrix: { nRows: nCells, nCols: nGenes, indptr, indices: indices.slice(0, nnz), data: data.slice(0, nnz) },
    cellTypes,
  };
}

/** Index of the first cdf entry ≥ u within cdf[offset, offset + length). */
function searchCdf(cdf: Float64Array, offset: number, length: number, u: number): number {
  let lo = 0;
  let hi = length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[offset + mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reads per cell whose expected number of distinct genes under the base profile is `target`. */
function readsForDistinctGenes(cdf: Float64Array, target: number): number {
  const n = cdf.length;
  const expectedDistinct = (reads: number): number => {
    let sum = 0;
    let previous = 0;
    for (let j = 0; j < n; j++) {
      sum += 1 - Math.exp(-reads * (cdf[j] - previous));
      previous = cdf[j];
    }
    return sum;
  };
  const goal = Math.min(target, n * 0.95);
  let lo = 1;
  let hi = 1;
  while (expectedDistinct(hi) < goal && hi < 1e9) hi *= 2;
  for (let step = 0; step < 50; step++) {
    const mid = (lo + hi) / 2;
    if (expectedDistinct(mid) < goal) lo = mid;
    else hi = mid;
  }
  return hi;
}

function grow<T extends Int32Array | Float32Array>(array: T, capacity: number, Ctor: { new (n: number): T }): T {
  const bigger = new Ctor(capacity);
  bigger.set(array);
  return bigger;
}
