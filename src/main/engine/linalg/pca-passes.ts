// The work one thread does in each pass of PCA over its partitions of the rows: column
// statistics, the centered Gram product, the projection onto the components. The same code
// runs inline (one thread) and inside each worker, so results never depend on where it ran.
// Retained blocks and the dense factors live in the thread's kernel memory (kernel-arena.ts).
import {
  accumulateCenteredGram,
  accumulateColumnSums,
  normalizeRowsInPlace,
  selectColumns,
  toWorkingBlock,
  validateColumnIndices,
  writeCenteredProjection,
  type CsrMatrix,
  type CsrRowBlock,
} from './csr';
import { KernelArena } from './kernel-arena';
import { LayerBlockReader, type LayerBlockSpec } from '../store/x/layer-blocks';
import type { StoredCsr } from './wasm-kernels';

export interface PassesConfig {
  /** Partitions this thread owns; a block's partition is its index modulo the partition count. */
  partitions: number[];
  nCols: number;
  normalize: boolean;
  /** Keep the working copy of every block so later passes need not read the source again. */
  retain: boolean;
  /** Use the WebAssembly SIMD kernels when available (false: the JavaScript kernels; same results). */
  useWasmKernels: boolean;
}

export interface PartitionSums {
  partition: number;
  sums: Float64Array;
  sumsOfSquares: Float64Array;
  /** Stored entries per column (to size a gene subset before keeping it). */
  entries: Float64Array;
}

export interface PartitionGram {
  partition: number;
  w: Float64Array;
  ySum: Float64Array;
}

interface RetainedBlock {
  partition: number;
  rowStart: number;
  stored: StoredCsr;
}

/** Offsets of a pass's dense factors in kernel memory; widths are padded to an even number of columns. */
interface GramPass {
  k: number;
  paddedK: number;
  v: number;
  shift: number;
  /** Per owned partition: its W (nCols×paddedK) and ySum (paddedK). */
  partials: Map<number, { w: number; ySum: number }>;
}

interface ProjectionPass {
  k: number;
  paddedK: number;
  p: number;
  shift: number;
  scores: Float32Array;
}

export class PartitionPasses {
  private readonly arena: KernelArena;
  /** In allocation order, so that compaction can rewrite kernel memory front to back. */
  private retained: RetainedBlock[] = [];
  private readonly columnSums = new Map<number, PartitionSums>();
  private retaining: boolean;
  private colMap: Int32Array | null = null;
  private nColsKept: number;
  private gram: GramPass | null = null;
  private projection: ProjectionPass | null = null;

  constructor(private readonly config: PassesConfig) {
    this.arena = new KernelArena(config.useWasmKernels);
    this.retaining = config.retain;
    this.nColsKept = config.nCols;
    for (const partition of config.partitions) {
      const nCols = config.nCols;
      this.columnSums.set(partition, { partition, sums: new Float64Array(nCols), sumsOfSquares: new Float64Array(nCols), entries: new Float64Array(nCols) });
    }
  }

  get partitions(): readonly number[] {
    return this.config.partitions;
  }

  get isRetaining(): boolean {
    return this.retaining;
  }

  get retainedBytes(): number {
    return this.arena.persistentBytes;
  }

  /** First pass: preprocess a source block, add it to its partition's column sums, keep it if retaining. */
  addStatisticsBlock(partition: number, block: CsrRowBlock): void {
    validateColumnIndices(block, this.config.nCols, 'PCA (statistics)');
    const sums = this.partitionSums(partition);
    const { data } = block;
    if (this.retaining && !(data instanceof BigInt64Array || data instanceof BigUint64Array)) {
      // Copy first, then normalise the copy in place: fresh memory is touched once.
      const stored = this.arena.store({ ...block, data }, true);
      const working = this.arena.view(stored, this.config.nCols);
      if (this.config.normalize) normalizeRowsInPlace(working);
      accumulateColumnSums(working, sums.sums, sums.sumsOfSquares, sums.entries);
      this.retained.push({ partition, rowStart: block.rowStart, stored });
      return;
    }
    const working = toWorkingBlock(block, this.config.normalize, false);
    accumulateColumnSums(working, sums.sums, sums.sumsOfSquares, sums.entries);
    if (this.retaining) this.retained.push({ partition, rowStart: block.rowStart, stored: this.arena.store(working, true) });
  }

  /** Copies of each partition's column sums (they may be moved to another thread). */
  statistics(): PartitionSums[] {
    return this.config.partitions.map((p) => {
      const { sums, sumsOfSquares, entries } = this.partitionSums(p);
      return { partition: p, sums: sums.slice(), sumsOfSquares: sumsOfSquares.slice(), entries: entries.slice() };
    });
  }

  /** Keeps a source block (preprocessed and restricted to the selected genes) for the passes that follow. */
  retainBlock(partition: number, block: CsrRowBlock): number {
    this.retaining = true;
    this.retained.push({ partition, rowStart: block.rowStart, stored: this.arena.store(this.toWorking(block), true) });
    return this.arena.persistentBytes;
  }

  /** Frees the retained blocks: later passes then stream the source again. */
  dropRetained(): void {
    this.retaining = false;
    this.retained = [];
    this.arena.resetPersistent();
  }

  /** Restricts every later pass to the columns with colMap[j] ≥ 0 (renumbered), compacting retained blocks in place. */
  selectGenes(colMap: Int32Array, nColsKept: number): void {
    const nCols = this.nColsKept;
    this.colMap = colMap;
    this.nColsKept = nColsKept;
    // Each compacted block is no larger than the original and starts no later, so rewriting
    // front to back never overwrites a block before it has been read.
    this.arena.resetPersistent();
    for (const entry of this.retained) {
      const kept = selectColumns(this.arena.view(entry.stored, nCols), colMap, nColsKept);
      entry.stored = this.arena.store(kept, true);
    }
  }

  beginGram(v: Float64Array, shift: Float64Array, k: number): void {
    const paddedK = k + (k % 2);
    const g = this.nColsKept;
    const pass: GramPass = { k, paddedK, v: this.upload(v, g, k, paddedK), shift: this.upload(shift, 1, k, paddedK), partials: new Map() };
    for (const partition of this.config.partitions) {
      const w = this.arena.allocateScratch(g * paddedK * 8);
      const ySum = this.arena.allocateScratch(paddedK * 8);
      this.arena.f64(w, g * paddedK).fill(0);
      this.arena.f64(ySum, paddedK).fill(0);
      pass.partials.set(partition, { w, ySum });
    }
    this.gram = pass;
  }

  gramBlock(partition: number, block: CsrRowBlock): void {
    const mark = this.arena.scratchMark;
    this.gramStored(partition, this.arena.store(this.toWorking(block), false));
    this.arena.releaseScratch(mark);
  }

  /** Runs the Gram product over retained blocks, yielding between blocks through `between`. */
  async gramRetained(between: () => Promise<void>): Promise<void> {
    for (const entry of this.retained) {
      this.gramStored(entry.partition, entry.stored);
      await between();
    }
  }

  endGram(): PartitionGram[] {
    const pass = this.requireGram();
    const g = this.nColsKept;
    const out = this.config.partitions.map((partition) => {
      const { w, ySum } = pass.partials.get(partition) as { w: number; ySum: number };
      return { partition, w: unpad(this.arena.f64(w, g * pass.paddedK), g, pass.k, pass.paddedK), ySum: this.arena.f64(ySum, pass.k).slice() };
    });
    this.gram = null;
    this.arena.releaseScratch();
    return out;
  }

  beginProjection(p: Float64Array, shift: Float64Array, k: number, scores: Float32Array): void {
    const paddedK = k + (k % 2);
    this.projection = { k, paddedK, p: this.upload(p, this.nColsKept, k, paddedK), shift: this.upload(shift, 1, k, paddedK), scores };
  }

  projectionBlock(block: CsrRowBlock): void {
    const mark = this.arena.scratchMark;
    this.projectStored(block.rowStart, this.arena.store(this.toWorking(block), false));
    this.arena.releaseScratch(mark);
  }

  async projectionRetained(between: () => Promise<void>): Promise<void> {
    for (const entry of this.retained) {
      this.projectStored(entry.rowStart, entry.stored);
      await between();
    }
  }

  endProjection(): void {
    this.projection = null;
    this.arena.releaseScratch();
  }

  private gramStored(partition: number, stored: StoredCsr): void {
    const pass = this.requireGram();
    const partial = pass.partials.get(partition);
    if (!partial) throw new Error(`Partition ${partition} does not belong to this thread.`);
    const { kernels } = this.arena;
    if (kernels) {
      kernels.gram(stored, pass.v, pass.shift, pass.paddedK, partial.w, partial.ySum);
    } else {
      const g = this.nColsKept;
      const f64 = (offset: number, length: number): Float64Array => this.arena.f64(offset, length);
      accumulateCenteredGram(this.arena.view(stored, g), f64(pass.v, g * pass.paddedK), f64(pass.shift, pass.paddedK), pass.paddedK, f64(partial.w, g * pass.paddedK), f64(partial.ySum, pass.paddedK));
    }
  }

  private projectStored(rowStart: number, stored: StoredCsr): void {
    const pass = this.projection;
    if (!pass) throw new Error('No projection pass is running.');
    const { k, paddedK } = pass;
    const mark = this.arena.scratchMark;
    const out = this.arena.allocateScratch(stored.nRows * paddedK * 8);
    const { kernels } = this.arena;
    if (kernels) {
      kernels.project(stored, pass.p, pass.shift, paddedK, out);
    } else {
      const g = this.nColsKept;
      const f64 = (offset: number, length: number): Float64Array => this.arena.f64(offset, length);
      writeCenteredProjection(this.arena.view(stored, g), f64(pass.p, g * paddedK), f64(pass.shift, paddedK), paddedK, f64(out, stored.nRows * paddedK), 0);
    }
    const rows = this.arena.f64(out, stored.nRows * paddedK);
    const { scores } = pass;
    if (paddedK === k) scores.set(rows, rowStart * k); // converts to float32 natively
    else {
      for (let r = 0; r < stored.nRows; r++) {
        const from = r * paddedK;
        const to = (rowStart + r) * k;
        for (let c = 0; c < k; c++) scores[to + c] = rows[from + c];
      }
    }
    this.arena.releaseScratch(mark);
  }

  /** Copies a rows×k matrix into scratch as rows×paddedK (the extra column is zero). */
  private upload(values: Float64Array, rows: number, k: number, paddedK: number): number {
    const offset = this.arena.allocateScratch(rows * paddedK * 8);
    const target = this.arena.f64(offset, rows * paddedK);
    if (paddedK === k) target.set(values.subarray(0, rows * k));
    else for (let r = 0; r < rows; r++) {
      for (let c = 0; c < k; c++) target[r * paddedK + c] = values[r * k + c];
      target[r * paddedK + k] = 0;
    }
    return offset;
  }

  private toWorking(block: CsrRowBlock): CsrMatrix {
    const working = toWorkingBlock(block, this.config.normalize, false);
    return this.colMap ? selectColumns(working, this.colMap, this.nColsKept) : working;
  }

  private requireGram(): GramPass {
    if (!this.gram) throw new Error('No Gram pass is running.');
    return this.gram;
  }

  private partitionSums(partition: number): PartitionSums {
    const sums = this.columnSums.get(partition);
    if (!sums) throw new Error(`Partition ${partition} does not belong to this thread.`);
    return sums;
  }
}

function unpad(padded: Float64Array, rows: number, k: number, paddedK: number): Float64Array {
  if (paddedK === k) return padded.slice(0, rows * k);
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = padded[r * paddedK + c];
  return out;
}

/** Every request a thread's passes answer, with its arguments and its answer. */
export interface PassOps {
  'statistics-block': { args: { partition: number; block: CsrRowBlock }; result: number };
  statistics: { args: Record<string, never>; result: PartitionSums[] };
  'drop-retained': { args: Record<string, never>; result: void };
  'retain-block': { args: { partition: number; block: CsrRowBlock }; result: number };
  'select-genes': { args: { colMap: Int32Array; nColsKept: number }; result: void };
  'begin-gram': { args: { v: Float64Array; shift: Float64Array; k: number }; result: void };
  'gram-block': { args: { partition: number; block: CsrRowBlock }; result: void };
  'gram-retained': { args: Record<string, never>; result: void };
  'end-gram': { args: Record<string, never>; result: PartitionGram[] };
  'begin-projection': { args: { p: Float64Array; shift: Float64Array; k: number; scores: Float32Array }; result: void };
  'projection-block': { args: { block: CsrRowBlock }; result: void };
  'projection-retained': { args: Record<string, never>; result: void };
  'end-projection': { args: Record<string, never>; result: void };
  'source-pass': { args: SourcePassArgs; result: SourcePassResult };
}

/** The block operations a thread can run over blocks it reads from the source itself. */
export type SourceBlockOp = 'statistics-block' | 'retain-block' | 'gram-block' | 'projection-block';

export interface SourcePassArgs {
  op: SourceBlockOp;
  source: LayerBlockSpec;
  partitionCount: number;
  /** Retained bytes above which this thread stops keeping blocks (statistics pass). */
  retainBudget: number;
}

export interface SourcePassResult {
  retainedBytes: number;
  /** False when the budget made this thread drop what it kept: every thread must then stream. */
  retaining: boolean;
}

// A thread keeps its block reader (open files, chunk indexes, buffers) across passes.
let sourceReader: { key: string; reader: LayerBlockReader } | null = null;

function readerFor(spec: LayerBlockSpec): LayerBlockReader {
  const key = JSON.stringify({ ...spec, columns: spec.columns ? Array.from(spec.columns) : null });
  if (sourceReader?.key !== key) {
    sourceReader?.reader.close();
    sourceReader = { key, reader: new LayerBlockReader(spec) };
  }
  return sourceReader.reader;
}

/** One pass over this thread's partitions, reading their blocks from the source here. */
async function runSourcePass(passes: PartitionPasses, args: SourcePassArgs, progress: (rows: number) => void): Promise<SourcePassResult> {
  const reader = readerFor(args.source);
  const owned = new Set(passes.partitions);
  let rows = 0;
  for (const block of reader.blocks((b) => owned.has(b % args.partitionCount))) {
    const partition = Math.floor(block.rowStart / args.source.rowsPerBlock) % args.partitionCount;
    const request = args.op === 'projection-block' ? { op: args.op, args: { block } } : { op: args.op, args: { partition, block } };
    await runPassRequest(passes, request as PassRequest, async () => {});
    if (args.op === 'statistics-block' && passes.isRetaining && passes.retainedBytes > args.retainBudget) passes.dropRetained();
    rows += block.nRows;
    progress(rows);
  }
  return { retainedBytes: passes.retainedBytes, retaining: passes.isRetaining };
}

export type PassOp = keyof PassOps;
export type PassRequest = { [K in PassOp]: { op: K; args: PassOps[K]['args'] } }[PassOp];

/** Answers one request; `between` runs after each retained block (to yield and check for cancellation). */
export async function runPassRequest(passes: PartitionPasses, request: PassRequest, between: () => Promise<void>, progress: (rows: number) => void = () => {}): Promise<unknown> {
  switch (request.op) {
    case 'source-pass':
      return runSourcePass(passes, request.args, progress);
    case 'statistics-block':
      passes.addStatisticsBlock(request.args.partition, request.args.block);
      return passes.retainedBytes;
    case 'statistics':
      return passes.statistics();
    case 'drop-retained':
      return passes.dropRetained();
    case 'retain-block':
      return passes.retainBlock(request.args.partition, request.args.block);
    case 'select-genes':
      return passes.selectGenes(request.args.colMap, request.args.nColsKept);
    case 'begin-gram':
      return passes.beginGram(request.args.v, request.args.shift, request.args.k);
    case 'gram-block':
      return passes.gramBlock(request.args.partition, request.args.block);
    case 'gram-retained':
      return passes.gramRetained(between);
    case 'end-gram':
      return passes.endGram();
    case 'begin-projection':
      return passes.beginProjection(request.args.p, request.args.shift, request.args.k, request.args.scores);
    case 'projection-block':
      return passes.projectionBlock(request.args.block);
    case 'projection-retained':
      return passes.projectionRetained(between);
    case 'end-projection':
      return passes.endProjection();
  }
}

/** The buffers of an answer that can be moved to the other thread instead of copied. */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  if (!Array.isArray(value)) return [];
  const buffers: ArrayBuffer[] = [];
  for (const item of value as (PartitionSums | PartitionGram)[]) {
    for (const array of Object.values(item)) if (ArrayBuffer.isView(array) && array.buffer instanceof ArrayBuffer) buffers.push(array.buffer);
  }
  return buffers;
}
