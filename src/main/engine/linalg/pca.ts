// PCA of a sparse matrix with implicit mean centering: the centered matrix C = A − 1μᵀ is
// never formed. The top eigenpairs of the gene×gene operator CᵀC come from randomized block
// Krylov iterations (krylov.ts) whose products CᵀC·V = Σᵢ (xᵢ − μ)ᵀ((xᵢ − μ)·V) are one fused
// pass over the rows; the scores C·components are one more pass.
//
// Rows are split into a fixed number of partitions (block index modulo the partition count);
// each thread owns some partitions and keeps their rows in its kernel memory across passes when
// they fit, otherwise every pass streams the source again. The hot loops run as WebAssembly SIMD
// (wasm-kernels.ts) or, identically, as JavaScript. Partial sums are added in partition order,
// so a seed gives identical results whatever the number of threads (up to the partition count).
import { availableParallelism } from 'node:os';
import { CellarError } from '../../../shared/errors';
import { columnMeanVariance, csrRowBlockSource, validateRowBlock, type CsrMatrix, type CsrRowBlock, type RowBlockSource } from './csr';
import { blockKrylovEigen } from './krylov';
import { InlineExecutor, WorkerExecutor, type PassExecutor } from './pca-executors';
import type { PassesConfig, PassOp, PassOps, SourceBlockOp, SourcePassResult } from './pca-passes';
import { createRandom } from './random';

export interface PcaProgress {
  phase: 'statistics' | 'iterations' | 'scores';
  done: number;
  total: number;
}

export interface PcaOptions {
  nComponents: number;
  /** The Krylov basis holds at least nComponents + nOversamples vectors before convergence is tested (default 10). */
  nOversamples?: number;
  /** Upper bound on block Krylov iterations (passes over the matrix); they stop earlier once converged. */
  nIter?: number;
  /** Columns per Krylov block (default 16, more for many components). */
  blockSize?: number;
  /** Relative residual below which a component counts as converged (default 1e-4). */
  tolerance?: number;
  seed?: number;
  /** Scale each row to sum 10,000, then log1p, on the fly. */
  normalize?: boolean;
  /** Keep only the N most variable genes (after normalisation). */
  genes?: number;
  signal?: AbortSignal;
  onProgress?: (progress: PcaProgress) => void;
  /** Worker threads for the passes (default: up to 2, and 1 for small matrices). */
  threads?: number;
  /** Largest working copy of the matrix kept in memory across passes (default 2 GiB); beyond it every pass re-reads the source. */
  memoryBudgetBytes?: number;
  /** Run the hot loops as WebAssembly SIMD (default) or as JavaScript; both give identical results. */
  useWasmKernels?: boolean;
}

export interface PcaResult {
  /** nRows×k row-major: the centered data projected on the components (sklearn/scanpy X_pca). */
  scores: Float32Array;
  /** k×g row-major, unit rows; the largest-magnitude entry of each row is positive. */
  components: Float64Array;
  /** Variance along each component (ddof = 1). */
  explainedVariance: Float64Array;
  /** explainedVariance over the total variance of the genes used. */
  explainedVarianceRatio: Float64Array;
  /** Columns of the input used, ascending (all of them unless `genes` was given). */
  genesUsed: Int32Array;
  /** Mean of each used gene (after normalisation) that was subtracted. */
  mean: Float64Array;
  /** Passes of the Krylov iteration that were run. */
  iterations: number;
  converged: boolean;
}

const MIN_PARTITIONS = 4;
const DEFAULT_MEMORY_BUDGET = 2 * 1024 ** 3;
const MAX_RETAINED_PER_THREAD = 3 * 1024 ** 3;
/** Kernel memory per stored entry: an int32 column index and a float32 value (float64 sources take 12). */
const BYTES_PER_ENTRY = 8;
/** Below this many non-zeros, starting workers costs more than it saves. */
const SMALL_MATRIX_NNZ = 2_000_000;
/** Requests (and staging slots) per worker while streaming, so reading overlaps computing. */
const MAX_IN_FLIGHT = 2;

export async function randomizedPca(input: RowBlockSource | CsrMatrix, options: PcaOptions): Promise<PcaResult> {
  const source: RowBlockSource = 'rowBlocks' in input ? input : csrRowBlockSource(input);
  const settings = resolveSettings(source, options);
  const { signal } = options;
  const throwIfCancelled = (): void => {
    if (signal?.aborted) throw new CellarError('cancelled', 'PCA was cancelled.');
  };
  throwIfCancelled();

  const partitionCount = Math.max(MIN_PARTITIONS, settings.threads);
  const retain = source.nnz === undefined || source.nnz * BYTES_PER_ENTRY <= settings.memoryBudget;
  const executors = createExecutors(settings.threads, partitionCount, source, options.normalize ?? false, retain, options.useWasmKernels ?? true, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    throwIfCancelled();
  });
  const onAbort = (): void => {
    for (const executor of executors) void executor.close();
  };
  signal?.addEventListener('abort', onAbort);
  try {
    return await runPca(source, executors, partitionCount, retain, settings, options, throwIfCancelled);
  } catch (err) {
    if (signal?.aborted) throw new CellarError('cancelled', 'PCA was cancelled.');
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(executors.map((executor) => executor.close()));
  }
}

interface Settings {
  k: number;
  nGenes: number;
  oversamples: number;
  blockSize: number;
  maxPasses: number;
  tolerance: number;
  seed: number;
  threads: number;
  memoryBudget: number;
}

function resolveSettings(source: RowBlockSource, options: PcaOptions): Settings {
  const usage = (message: string): never => {
    throw new CellarError('usage', message);
  };
  const { nRows, nCols } = source;
  if (nRows < 2) usage(`PCA needs at least 2 cells; the matrix has ${nRows}.`);
  const nGenes = options.genes ?? nCols;
  if (!Number.isInteger(nGenes) || nGenes < 1 || nGenes > nCols) usage(`--genes must be an integer between 1 and ${nCols} (the number of genes); got ${options.genes}.`);
  const k = options.nComponents;
  const maxK = Math.min(nRows, nGenes);
  if (!Number.isInteger(k) || k < 1 || k > maxK) usage(`The number of components must be an integer between 1 and ${maxK} (cells and genes used); got ${k}.`);
  const oversamples = options.nOversamples ?? 10;
  if (!Number.isInteger(oversamples) || oversamples < 0) usage(`nOversamples must be a non-negative integer; got ${oversamples}.`);
  const blockSize = Math.min(nGenes, options.blockSize ?? Math.max(16, 8 * Math.ceil(k / 32)));
  if (!Number.isInteger(blockSize) || blockSize < 1) usage(`blockSize must be a positive integer; got ${options.blockSize}.`);
  // Enough passes for a basis of ten times the wanted size: a cap for hard spectra, rarely reached.
  const maxPasses = options.nIter !== undefined ? options.nIter + 1 : Math.max(4, Math.ceil((10 * (k + oversamples)) / blockSize));
  if (!Number.isInteger(maxPasses) || maxPasses < 1) usage(`nIter must be a non-negative integer; got ${options.nIter}.`);
  const tolerance = options.tolerance ?? 1e-4;
  if (!(tolerance >= 0)) usage(`tolerance must be a non-negative number; got ${options.tolerance}.`);
  const small = source.nnz !== undefined && source.nnz < SMALL_MATRIX_NNZ;
  const threads = options.threads ?? (small ? 1 : Math.min(2, availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1) usage(`threads must be a positive integer; got ${options.threads}.`);
  return {
    k,
    nGenes,
    oversamples,
    blockSize,
    maxPasses,
    tolerance,
    seed: options.seed ?? 0,
    threads,
    // Each thread keeps its share in one WebAssembly memory, which cannot exceed 4 GiB.
    memoryBudget: Math.min(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET, threads * MAX_RETAINED_PER_THREAD),
  };
}

function createExecutors(
  threads: number,
  partitionCount: number,
  source: RowBlockSource,
  normalize: boolean,
  retain: boolean,
  useWasmKernels: boolean,
  between: () => Promise<void>,
): PassExecutor[] {
  const configFor = (thread: number): PassesConfig => ({
    partitions: Array.from({ length: partitionCount }, (_, p) => p).filter((p) => p % threads === thread),
    nCols: source.nCols,
    normalize,
    retain,
    useWasmKernels,
  });
  if (threads === 1) return [new InlineExecutor(configFor(0), between)];
  return Array.from({ length: threads }, (_, t) => new WorkerExecutor(configFor(t), MAX_IN_FLIGHT));
}

async function runPca(
  source: RowBlockSource,
  executors: PassExecutor[],
  partitionCount: number,
  retainAtStart: boolean,
  settings: Settings,
  options: PcaOptions,
  throwIfCancelled: () => void,
): Promise<PcaResult> {
  const { nRows, nCols } = source;
  const { k } = settings;
  const report = (phase: PcaProgress['phase'], done: number, total: number): void => options.onProgress?.({ phase, done, total });
  const passes = new PassRunner(source, executors, partitionCount, throwIfCancelled);

  // Retained bytes reported by each thread; over the budget, every thread drops its copy.
  let retainedBytes = executors.map(() => 0);
  let retaining = retainAtStart;
  const keepWithinBudget = async (): Promise<void> => {
    if (retaining && retainedBytes.reduce((a, b) => a + b, 0) > settings.memoryBudget) {
      retaining = false;
      await passes.drain();
      await Promise.all(executors.map((e) => e.call('drop-retained', {})));
      retainedBytes = executors.map(() => 0);
    }
  };

  // Pass 1: preprocess, column statistics, and (when it fits) the working copy kept by each thread.
  if (passes.readsInWorkers) {
    const results = await passes.sourcePass('statistics-block', settings.memoryBudget / executors.length, (rows) => report('statistics', rows, nRows));
    retainedBytes = results.map((r) => r.retainedBytes);
    // A thread over its share stopped keeping blocks: then no thread keeps any.
    if (retaining && results.some((r) => !r.retaining)) retainedBytes = retainedBytes.map(() => Infinity);
    await keepWithinBudget();
  } else {
    await passes.run('statistics', true, (block, partition, executor) => {
      const call = executor.call('statistics-block', { partition, block }).then((bytes) => {
        retainedBytes[executors.indexOf(executor)] = bytes;
      });
      report('statistics', block.rowStart + block.nRows, nRows);
      return call;
    }, keepWithinBudget);
  }
  const statistics = (await Promise.all(executors.map((e) => e.call('statistics', {})))).flat().sort((a, b) => a.partition - b.partition);
  const sums = new Float64Array(nCols);
  const sumsOfSquares = new Float64Array(nCols);
  const entries = new Float64Array(nCols);
  for (const part of statistics) {
    for (let j = 0; j < nCols; j++) {
      sums[j] += part.sums[j];
      sumsOfSquares[j] += part.sumsOfSquares[j];
      entries[j] += part.entries[j];
    }
  }
  const { means, variances } = columnMeanVariance(sums, sumsOfSquares, nRows);

  const genesUsed = mostVariable(variances, settings.nGenes);
  const g = genesUsed.length;
  if (g < nCols) {
    const colMap = new Int32Array(nCols).fill(-1);
    for (let i = 0; i < g; i++) colMap[genesUsed[i]] = i;
    await Promise.all(executors.map((e) => e.call('select-genes', { colMap, nColsKept: g })));
  }
  // The whole matrix did not fit, but the selected genes may: one more read keeps them, and
  // then every Krylov pass runs from memory instead of reading the source again.
  let subsetEntries = 0;
  for (let i = 0; i < g; i++) subsetEntries += entries[genesUsed[i]];
  if (!retaining && g < nCols && subsetEntries * BYTES_PER_ENTRY <= settings.memoryBudget) {
    retaining = true;
    if (passes.readsInWorkers) {
      retainedBytes = (await passes.sourcePass('retain-block', Infinity, () => {})).map((r) => r.retainedBytes);
      await keepWithinBudget();
    } else {
      await passes.run(
        'keeping the selected genes',
        false,
        async (block, partition, executor) => {
          if (!retaining) return; // over the budget after all: the passes will stream
          retainedBytes[executors.indexOf(executor)] = await executor.call('retain-block', { partition, block });
        },
        keepWithinBudget,
      );
    }
  }

  const mean = new Float64Array(g);
  let totalVariance = 0;
  for (let i = 0; i < g; i++) {
    mean[i] = means[genesUsed[i]];
    totalVariance += variances[genesUsed[i]];
  }

  // Krylov passes: each applies CᵀC to a block of vectors.
  const applyGram = async (v: Float64Array, width: number): Promise<Float64Array> => {
    const shift = transposeTimes(mean, v, g, width);
    await Promise.all(executors.map((e) => e.call('begin-gram', { v, shift, k: width })));
    await passes.runOnRetainedOrStream(retaining, 'gram-retained', (block, partition, executor) => executor.call('gram-block', { partition, block }));
    const partials = (await Promise.all(executors.map((e) => e.call('end-gram', {})))).flat().sort((a, b) => a.partition - b.partition);
    const w = new Float64Array(g * width);
    const ySum = new Float64Array(width);
    for (const part of partials) {
      for (let i = 0; i < w.length; i++) w[i] += part.w[i];
      for (let c = 0; c < width; c++) ySum[c] += part.ySum[c];
    }
    for (let j = 0; j < g; j++) for (let c = 0; c < width; c++) w[j * width + c] -= mean[j] * ySum[c];
    return w;
  };
  const eigen = await blockKrylovEigen(applyGram, {
    dimension: g,
    count: k,
    blockSize: settings.blockSize,
    minBasisSize: Math.min(g, k + settings.oversamples),
    maxPasses: settings.maxPasses,
    tolerance: settings.tolerance,
    random: createRandom(settings.seed),
    onPass: (pass, total) => report('iterations', pass, total),
  });
  throwIfCancelled();

  const components = eigen.vectors; // g×k, column i = component i
  orientComponents(components, g, k);

  // Scores pass: C·components.
  const shared = executors.some((e) => e instanceof WorkerExecutor);
  const scores = new Float32Array(shared ? new SharedArrayBuffer(nRows * k * 4) : new ArrayBuffer(nRows * k * 4));
  const shift = transposeTimes(mean, components, g, k);
  report('scores', 0, 1);
  await Promise.all(executors.map((e) => e.call('begin-projection', { p: components, shift, k, scores })));
  await passes.runOnRetainedOrStream(retaining, 'projection-retained', (block, _partition, executor) => executor.call('projection-block', { block }));
  await Promise.all(executors.map((e) => e.call('end-projection', {})));
  report('scores', 1, 1);

  const explainedVariance = new Float64Array(k);
  const explainedVarianceRatio = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    explainedVariance[i] = Math.max(0, eigen.values[i]) / (nRows - 1);
    explainedVarianceRatio[i] = totalVariance > 0 ? explainedVariance[i] / totalVariance : 0;
  }
  const componentRows = new Float64Array(k * g);
  for (let j = 0; j < g; j++) for (let i = 0; i < k; i++) componentRows[i * g + j] = components[j * k + i];
  return {
    scores: shared ? scores.slice() : scores,
    components: componentRows,
    explainedVariance,
    explainedVarianceRatio,
    genesUsed,
    mean,
    iterations: eigen.passes,
    converged: eigen.converged,
  };
}

/** Sends one block to the thread owning its partition. */
type BlockVisitor = (block: CsrRowBlock, partition: number, executor: PassExecutor) => Promise<unknown>;

/** Streams the source's blocks to the threads owning their partitions, keeping a few requests in flight per thread. */
class PassRunner {
  private inFlight: Promise<void>[][];
  private firstError: unknown = null;

  constructor(
    private readonly source: RowBlockSource,
    private readonly executors: PassExecutor[],
    private readonly partitionCount: number,
    private readonly throwIfCancelled: () => void,
  ) {
    this.inFlight = executors.map(() => []);
  }

  /** Whether every thread reads its own partitions from the source (in parallel) rather than being sent them. */
  get readsInWorkers(): boolean {
    return this.source.workerBlocks !== undefined && this.executors.every((e) => e instanceof WorkerExecutor);
  }

  /** One pass in which every thread reads and processes its own partitions; `onRows` hears the rows read in all. */
  async sourcePass(op: SourceBlockOp, retainBudget: number, onRows: (rows: number) => void): Promise<SourcePassResult[]> {
    const spec = this.source.workerBlocks!;
    const rowsRead = this.executors.map(() => 0);
    const results = await Promise.all(
      this.executors.map((executor, t) =>
        executor.call('source-pass', { op, source: spec, partitionCount: this.partitionCount, retainBudget }, (rows) => {
          rowsRead[t] = rows;
          onRows(rowsRead.reduce((a, b) => a + b, 0));
        }),
      ),
    );
    this.throwIfCancelled();
    return results;
  }

  /** One pass over the source; `afterBlock` runs after each block is dispatched. */
  async run(
    what: string,
    validate: boolean,
    visit: BlockVisitor,
    afterBlock?: () => Promise<void>,
  ): Promise<void> {
    const { nRows, nCols } = this.source;
    let blockIndex = 0;
    let nextRow = 0;
    for await (const block of this.source.rowBlocks()) {
      // A macrotask turn per block lets an abort (or any other event) be seen even for in-memory sources.
      await new Promise((resolve) => setImmediate(resolve));
      this.throwIfCancelled();
      if (validate) validateRowBlock(block, nextRow, nRows, nCols, `PCA (${what})`);
      else if (block.rowStart !== nextRow) throw new CellarError('bad_element', `PCA (${what}): the matrix changed between passes (a block starts at row ${block.rowStart}, expected ${nextRow}).`);
      nextRow = block.rowStart + block.nRows;
      const partition = blockIndex++ % this.partitionCount;
      const owner = this.executors.findIndex((e) => e.partitions.includes(partition));
      const executor = this.executors[owner];
      const queue = this.inFlight[owner];
      if (queue.length >= MAX_IN_FLIGHT) await queue.shift();
      this.rethrow();
      // Workers read a copy in a shared staging slot (one per request in flight); the inline thread reads the block in place.
      const { staged, release } = executor instanceof WorkerExecutor ? executor.stage(block) : { staged: block, release: () => {} };
      const settled = visit(staged, partition, executor)
        .then(
          () => undefined,
          (err: unknown) => {
            this.firstError ??= err;
          },
        )
        .finally(release);
      queue.push(settled);
      if (afterBlock) await afterBlock();
    }
    await this.drain();
    if (nextRow !== nRows) throw new CellarError('bad_element', `PCA (${what}): the matrix has ${nRows} rows but its blocks cover ${nextRow}.`);
  }

  /** With retained blocks every thread runs the pass over its own copy; otherwise the source is streamed. */
  async runOnRetainedOrStream(
    retaining: boolean,
    retainedOp: Extract<PassOp, 'gram-retained' | 'projection-retained'>,
    visit: BlockVisitor,
  ): Promise<void> {
    if (retaining) {
      await Promise.all(this.executors.map((e) => e.call(retainedOp, {} as PassOps[typeof retainedOp]['args'])));
      this.throwIfCancelled();
    } else if (this.readsInWorkers) {
      await this.sourcePass(retainedOp === 'gram-retained' ? 'gram-block' : 'projection-block', Infinity, () => {});
    } else {
      await this.run(retainedOp === 'gram-retained' ? 'iterations' : 'scores', false, visit);
    }
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight.flat());
    this.inFlight = this.executors.map(() => []);
    this.rethrow();
  }

  private rethrow(): void {
    if (this.firstError !== null) throw this.firstError;
  }
}

/** The indices of the `count` largest variances (ties: lower index first), ascending. */
function mostVariable(variances: Float64Array, count: number): Int32Array {
  const n = variances.length;
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => variances[b] - variances[a] || a - b);
  return Int32Array.from(order.slice(0, count)).sort();
}

/** xᵀ·M for a length-g vector x and a g×width row-major M. */
function transposeTimes(x: Float64Array, m: Float64Array, g: number, width: number): Float64Array {
  const out = new Float64Array(width);
  for (let j = 0; j < g; j++) {
    const xj = x[j];
    if (xj === 0) continue;
    for (let c = 0; c < width; c++) out[c] += xj * m[j * width + c];
  }
  return out;
}

/** Flips each component (column of the g×k matrix) so that its largest-magnitude entry is positive. */
function orientComponents(components: Float64Array, g: number, k: number): void {
  for (let c = 0; c < k; c++) {
    let best = 0;
    let bestIndex = 0;
    for (let j = 0; j < g; j++) {
      const magnitude = Math.abs(components[j * k + c]);
      if (magnitude > best) {
        best = magnitude;
        bestIndex = j;
      }
    }
    if (components[bestIndex * k + c] < 0) for (let j = 0; j < g; j++) components[j * k + c] = -components[j * k + c];
  }
}
