// PCA against an exact reference: numpy's SVD of the explicitly centered dense matrix
// (Debian's /usr/bin/python3), with the same sign convention applied to the reference.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NORMALIZE_TARGET_SUM, csrRowBlockSource, type CsrMatrix, type CsrRowBlock, type RowBlockSource } from '../../src/main/engine/linalg/csr';
import { randomizedPca, type PcaProgress, type PcaResult } from '../../src/main/engine/linalg/pca';
import { livePcaWorkerCount } from '../../src/main/engine/linalg/pca-executors';
import { createRandom } from '../../src/main/engine/linalg/random';
import { syntheticCounts } from '../../src/main/engine/linalg/synthetic-counts';
import { CellarError } from '../../src/shared/errors';

interface Reference {
  scores: number[][];
  components: number[][];
  explainedVariance: number[];
  explainedVarianceRatio: number[];
}

const REFERENCE_SCRIPT = `
import json, sys
import numpy as np
request = json.load(sys.stdin)
x = np.array(request['x'], dtype=np.float64)
k = request['k']
centered = x - x.mean(axis=0)
u, s, vt = np.linalg.svd(centered, full_matrices=False)
for i in range(vt.shape[0]):
    if vt[i, np.argmax(np.abs(vt[i]))] < 0:
        vt[i] = -vt[i]; u[:, i] = -u[:, i]
ev = s ** 2 / (x.shape[0] - 1)
total = x.var(axis=0, ddof=1).sum()
json.dump({'scores': (u[:, :k] * s[:k]).tolist(), 'components': vt[:k].tolist(),
           'explainedVariance': ev[:k].tolist(), 'explainedVarianceRatio': (ev[:k] / total).tolist()}, sys.stdout)
`;

function numpyPca(dense: Float64Array, nRows: number, nCols: number, k: number): Reference {
  const x = Array.from({ length: nRows }, (_, r) => Array.from(dense.subarray(r * nCols, (r + 1) * nCols)));
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', REFERENCE_SCRIPT], { input: JSON.stringify({ x, k }), encoding: 'utf8', maxBuffer: 1 << 28 })) as Reference;
}

function toDense(m: CsrMatrix): Float64Array {
  const out = new Float64Array(m.nRows * m.nCols);
  for (let r = 0; r < m.nRows; r++) for (let t = m.indptr[r]; t < m.indptr[r + 1]; t++) out[r * m.nCols + m.indices[t]] += m.data[t];
  return out;
}

function randomCounts(nRows: number, nCols: number, density: number, seed: number): CsrMatrix & { data: Float64Array } {
  const random = createRandom(seed);
  const indptr = new Int32Array(nRows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      // Column-dependent rates give the columns different variances.
      if (random.uniform() < density * (0.3 + c / nCols)) {
        indices.push(c);
        data.push(1 + Math.floor(random.uniform() * (2 + (c % 7))));
      }
    }
    indptr[r + 1] = indices.length;
  }
  return { nRows, nCols, indptr, indices: Int32Array.from(indices), data: Float64Array.from(data) };
}

/** Largest |ours − reference| relative to the largest |reference| of each component (column). */
function worstRelativeError(ours: ArrayLike<number>, reference: number[][], k: number): number {
  let worst = 0;
  for (let c = 0; c < k; c++) {
    let scale = 0;
    let error = 0;
    for (let r = 0; r < reference.length; r++) {
      scale = Math.max(scale, Math.abs(reference[r][c]));
      error = Math.max(error, Math.abs(ours[r * k + c] - reference[r][c]));
    }
    worst = Math.max(worst, error / scale);
  }
  return worst;
}

function expectMatchesReference(result: PcaResult, reference: Reference, k: number, tolerance: number): void {
  const g = reference.components[0].length;
  expect(worstRelativeError(result.scores, reference.scores, k)).toBeLessThan(tolerance);
  const componentsByColumn = reference.components[0].map((_, j) => reference.components.map((row) => row[j]));
  const oursByColumn = new Float64Array(g * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < g; j++) oursByColumn[j * k + i] = result.components[i * g + j];
  expect(worstRelativeError(oursByColumn, componentsByColumn, k)).toBeLessThan(tolerance);
  for (let i = 0; i < k; i++) {
    expect(Math.abs(result.explainedVariance[i] / reference.explainedVariance[i] - 1)).toBeLessThan(tolerance);
    expect(Math.abs(result.explainedVarianceRatio[i] / reference.explainedVarianceRatio[i] - 1)).toBeLessThan(tolerance);
  }
}

describe('randomized PCA against the exact centered SVD', () => {
  it('matches every component of a full-rank tiny matrix to 1e-6', async () => {
    const m = randomCounts(30, 8, 0.6, 1);
    const result = await randomizedPca(m, { nComponents: 8 });
    expect(result.scores).toBeInstanceOf(Float32Array);
    expect(result.scores.length).toBe(30 * 8);
    expect(result.components.length).toBe(8 * 8);
    expect(Array.from(result.genesUsed)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(result.converged).toBe(true);
    expectMatchesReference(result, numpyPca(toDense(m), 30, 8, 8), 8, 1e-6);
  });

  it('matches the top components of a larger sparse matrix to 1e-6 when run to a tight tolerance', async () => {
    const m = randomCounts(400, 90, 0.15, 2);
    const result = await randomizedPca(m, { nComponents: 6, tolerance: 1e-9, seed: 3 });
    expect(result.converged).toBe(true);
    expectMatchesReference(result, numpyPca(toDense(m), 400, 90, 6), 6, 1e-6);
  });

  it('with default settings the components of cell-type data agree to better than 1e-3', async () => {
    const { matrix } = syntheticCounts({ nCells: 600, nGenes: 150, nCellTypes: 5, nnzPerCell: 40, seed: 4 });
    const result = await randomizedPca(matrix, { nComponents: 10 });
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(15);
    expectMatchesReference(result, numpyPca(toDense(matrix), 600, 150, 10), 10, 1e-3);
  });
});

describe('randomized PCA determinism', () => {
  const { matrix } = syntheticCounts({ nCells: 1500, nGenes: 200, nCellTypes: 6, nnzPerCell: 50, seed: 5 });

  it('the same seed gives identical results: inline or on two worker threads, in memory or streamed, WebAssembly or JavaScript kernels', async () => {
    const first = await randomizedPca(matrix, { nComponents: 12, seed: 9, threads: 1 });
    const again = await randomizedPca(matrix, { nComponents: 12, seed: 9, threads: 1 });
    const workers = await randomizedPca(matrix, { nComponents: 12, seed: 9, threads: 2 });
    const streamed = await randomizedPca(matrix, { nComponents: 12, seed: 9, threads: 2, memoryBudgetBytes: 1 });
    const javascript = await randomizedPca(matrix, { nComponents: 12, seed: 9, threads: 1, useWasmKernels: false });
    const streamedJavascript = await randomizedPca(matrix, { nComponents: 12, seed: 9, threads: 1, memoryBudgetBytes: 1, useWasmKernels: false });
    for (const other of [again, workers, streamed, javascript, streamedJavascript]) {
      expect(other.scores).toEqual(first.scores);
      expect(other.components).toEqual(first.components);
      expect(other.explainedVariance).toEqual(first.explainedVariance);
    }
    expect(livePcaWorkerCount()).toBe(0);
  });

  it('when only the selected genes fit in memory, they are kept after one more read and give the same results', async () => {
    const options = { nComponents: 6, seed: 3, normalize: true, genes: 60, threads: 1 };
    let reads = 0;
    const counted: RowBlockSource = {
      ...csrRowBlockSource(matrix),
      *rowBlocks(): Iterable<CsrRowBlock> {
        reads++;
        yield* csrRowBlockSource(matrix, 20_000).rowBlocks();
      },
    };
    const inMemory = await randomizedPca(counted, options);
    expect(reads).toBe(1); // statistics; the kept copy serves every later pass
    reads = 0;
    const subsetFits = await randomizedPca(counted, { ...options, memoryBudgetBytes: matrix.indptr[1500] * 8 - 1 });
    expect(reads).toBe(2); // statistics, then keeping the selected genes
    expect(subsetFits.scores).toEqual(inMemory.scores);
    reads = 0;
    const nothingFits = await randomizedPca(counted, { ...options, memoryBudgetBytes: 1000 });
    expect(reads).toBe(nothingFits.iterations + 2); // statistics, each iteration, scores
    expect(nothingFits.scores).toEqual(inMemory.scores);
  });

  it('an odd number of components (padded inside the kernels) gives the same results with both kernels', async () => {
    const wasm = await randomizedPca(matrix, { nComponents: 7, seed: 4, normalize: true, genes: 150 });
    const javascript = await randomizedPca(matrix, { nComponents: 7, seed: 4, normalize: true, genes: 150, useWasmKernels: false });
    expect(wasm.scores).toEqual(javascript.scores);
    expect(wasm.explainedVariance).toEqual(javascript.explainedVariance);
  });

  it('another seed converges to the same components', async () => {
    const a = await randomizedPca(matrix, { nComponents: 5, seed: 1 });
    const b = await randomizedPca(matrix, { nComponents: 5, seed: 2 });
    expect(b.scores).not.toEqual(a.scores);
    for (let i = 0; i < 5; i++) expect(b.explainedVariance[i]).toBeCloseTo(a.explainedVariance[i], 6);
    expect(worstRelativeError(b.scores, Array.from({ length: 1500 }, (_, r) => Array.from(a.scores.subarray(r * 5, r * 5 + 5))), 5)).toBeLessThan(1e-3);
  });
});

describe('randomized PCA preprocessing', () => {
  /** The explicit version of --normalize then --genes, on a dense copy. */
  function explicitPreprocessing(m: CsrMatrix, nGenes: number): { dense: Float64Array; genes: number[] } {
    const dense = toDense(m);
    const { nRows, nCols } = m;
    for (let r = 0; r < nRows; r++) {
      let sum = 0;
      for (let c = 0; c < nCols; c++) sum += dense[r * nCols + c];
      for (let c = 0; c < nCols; c++) dense[r * nCols + c] = sum > 0 ? Math.log1p((dense[r * nCols + c] * NORMALIZE_TARGET_SUM) / sum) : 0;
    }
    const variances = Array.from({ length: nCols }, (_, c) => {
      let mean = 0;
      for (let r = 0; r < nRows; r++) mean += dense[r * nCols + c] / nRows;
      let ss = 0;
      for (let r = 0; r < nRows; r++) ss += (dense[r * nCols + c] - mean) ** 2;
      return ss / (nRows - 1);
    });
    const genes = variances
      .map((v, c) => [v, c] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, nGenes)
      .map(([, c]) => c)
      .sort((a, b) => a - b);
    const subset = new Float64Array(nRows * genes.length);
    for (let r = 0; r < nRows; r++) genes.forEach((c, i) => (subset[r * genes.length + i] = dense[r * nCols + c]));
    return { dense: subset, genes };
  }

  it('--normalize and --genes match PCA of the explicitly normalized, subset matrix', async () => {
    const m = randomCounts(300, 60, 0.3, 6);
    const { dense, genes } = explicitPreprocessing(m, 25);
    const result = await randomizedPca(m, { nComponents: 7, normalize: true, genes: 25, tolerance: 1e-10 });
    expect(Array.from(result.genesUsed)).toEqual(genes);
    expectMatchesReference(result, numpyPca(dense, 300, 25, 7), 7, 1e-6);
  });

  it('a row with no counts stays at zero after normalisation', async () => {
    const m = randomCounts(50, 10, 0.5, 7);
    const indptr = Int32Array.from(m.indptr);
    // Empty row 3 by removing its entries.
    const start = indptr[3];
    const end = indptr[4];
    const removed = end - start;
    const indices = Int32Array.from([...m.indices.subarray(0, start), ...m.indices.subarray(end)]);
    const data = Float64Array.from([...m.data.subarray(0, start), ...m.data.subarray(end)]);
    for (let r = 4; r <= 50; r++) indptr[r] -= removed;
    const withEmpty: CsrMatrix = { nRows: 50, nCols: 10, indptr, indices, data };
    const { dense } = explicitPreprocessing(withEmpty, 10);
    const result = await randomizedPca(withEmpty, { nComponents: 4, normalize: true, tolerance: 1e-10 });
    expectMatchesReference(result, numpyPca(dense, 50, 10, 4), 4, 1e-6);
  });
});

describe('randomized PCA sources', () => {
  it('reads an async source of int32 blocks with block-relative indptr like the in-memory matrix', async () => {
    const m = randomCounts(200, 40, 0.3, 8);
    const source: RowBlockSource = {
      nRows: 200,
      nCols: 40,
      async *rowBlocks(): AsyncIterable<CsrRowBlock> {
        for (let start = 0; start < 200; start += 33) {
          const rows = Math.min(33, 200 - start);
          const first = m.indptr[start];
          const last = m.indptr[start + rows];
          await Promise.resolve();
          yield {
            rowStart: start,
            nRows: rows,
            nCols: 40,
            indptr: Int32Array.from(m.indptr.subarray(start, start + rows + 1), (p) => p - first),
            indices: m.indices.slice(first, last),
            data: Int32Array.from(m.data.subarray(first, last)),
          };
        }
      },
    };
    const fromSource = await randomizedPca(source, { nComponents: 5, tolerance: 1e-10 });
    const fromMatrix = await randomizedPca(m, { nComponents: 5, tolerance: 1e-10 });
    expect(worstRelativeError(fromSource.scores, Array.from({ length: 200 }, (_, r) => Array.from(fromMatrix.scores.subarray(r * 5, r * 5 + 5))), 5)).toBeLessThan(1e-6);
  });

  it('rejects a source whose blocks do not fit the matrix', async () => {
    const source: RowBlockSource = {
      nRows: 4,
      nCols: 3,
      *rowBlocks(): Iterable<CsrRowBlock> {
        yield { rowStart: 0, nRows: 2, nCols: 3, indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([0, 5]), data: Float32Array.from([1, 2]) };
      },
    };
    await expect(randomizedPca(source, { nComponents: 2, threads: 1 })).rejects.toMatchObject({ code: 'bad_element', message: expect.stringMatching(/column index 5/) });
    // The same check runs inside the workers and keeps its code and message.
    await expect(randomizedPca(source, { nComponents: 2, threads: 2 })).rejects.toMatchObject({ code: 'bad_element', message: expect.stringMatching(/column index 5/) });
    expect(livePcaWorkerCount()).toBe(0);
    const short: RowBlockSource = {
      nRows: 4,
      nCols: 3,
      *rowBlocks(): Iterable<CsrRowBlock> {
        yield { rowStart: 0, nRows: 2, nCols: 3, indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([0, 1]), data: Float32Array.from([1, 2]) };
      },
    };
    await expect(randomizedPca(short, { nComponents: 2, threads: 1 })).rejects.toMatchObject({ code: 'bad_element', message: expect.stringMatching(/4 rows but its blocks cover 2/) });
  });

  it('rejects impossible options with a usage error', async () => {
    const m = randomCounts(20, 6, 0.5, 9);
    await expect(randomizedPca(m, { nComponents: 7 })).rejects.toMatchObject({ code: 'usage' });
    await expect(randomizedPca(m, { nComponents: 3, genes: 2 })).rejects.toMatchObject({ code: 'usage' });
    await expect(randomizedPca(m, { nComponents: 2, genes: 9 })).rejects.toMatchObject({ code: 'usage' });
    await expect(randomizedPca({ ...m, nRows: 1, indptr: m.indptr.subarray(0, 2) }, { nComponents: 1 })).rejects.toBeInstanceOf(CellarError);
  });
});

describe('randomized PCA progress and cancellation', () => {
  const { matrix } = syntheticCounts({ nCells: 4000, nGenes: 300, nCellTypes: 6, nnzPerCell: 60, seed: 10 });

  it('reports each phase in order with done ≤ total', async () => {
    const events: PcaProgress[] = [];
    await randomizedPca(matrix, { nComponents: 10, onProgress: (p) => events.push(p) });
    const phases = events.map((e) => e.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    expect(phases).toEqual(['statistics', 'iterations', 'scores']);
    for (const e of events) expect(e.done).toBeLessThanOrEqual(e.total);
    expect(events.at(-1)).toEqual({ phase: 'scores', done: 1, total: 1 });
  });

  for (const threads of [1, 2]) {
    it(`cancelling during the iterations rejects with 'cancelled' and leaves no worker running (threads = ${threads})`, async () => {
      const controller = new AbortController();
      const run = randomizedPca(matrix, {
        nComponents: 20,
        threads,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'iterations' && p.done === 1) controller.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'cancelled' });
      expect(livePcaWorkerCount()).toBe(0);
    });
  }

  it('an already aborted signal stops before any work', async () => {
    const controller = new AbortController();
    controller.abort();
    const events: PcaProgress[] = [];
    await expect(randomizedPca(matrix, { nComponents: 3, signal: controller.signal, onProgress: (p) => events.push(p) })).rejects.toMatchObject({ code: 'cancelled' });
    expect(events).toEqual([]);
  });
});
