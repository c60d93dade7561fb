// The work one thread does in each pass of PCA over its partitions of the rows: column
// statistics, the centered Gram product, the projection onto the components. The same code
// runs inline (one thread) and inside each worker, so results never depend on where it ran.
import {
  accumulateCenteredGram,
  accumulateColumnSums,
  selectColumns,
  toWorkingBlock,
  writeCenteredProjection,
  type CsrMatrix,
  type CsrRowBlock,
} from './csr';

export interface PassesConfig {
  /** Partitions this thread owns; a block's partition is its index modulo the partition count. */
  partitions: number[];
  nCols: number;
  normalize: boolean;
  /** Keep the working copy of every block so later passes need not read the source again. */
  retain: boolean;
  /** Blocks handed to this thread may change after the call (so retained blocks must be copies). */
  volatileBlocks: boolean;
}

export interface PartitionSums {
  partition: number;
  sums: Float64Array;
  sumsOfSquares: Float64Array;
}

export interface PartitionGram {
  partition: number;
  w: Float64Array;
  ySum: Float64Array;
}

interface RetainedBlock {
  rowStart: number;
  block: CsrMatrix;
}

export class PartitionPasses {
  private readonly retained = new Map<number, RetainedBlock[]>();
  private readonly columnSums = new Map<number, PartitionSums>();
  private retaining: boolean;
  private colMap: Int32Array | null = null;
  private nColsKept: number;
  private gram: { v: Float64Array; shift: Float64Array; k: number; out: Map<number, PartitionGram> } | null = null;
  private projection: { p: Float64Array; shift: Float64Array; k: number; scores: Float32Array } | null = null;
  retainedBytes = 0;

  constructor(private readonly config: PassesConfig) {
    this.retaining = config.retain;
    this.nColsKept = config.nCols;
    for (const partition of config.partitions) {
      this.retained.set(partition, []);
      this.columnSums.set(partition, { partition, sums: new Float64Array(config.nCols), sumsOfSquares: new Float64Array(config.nCols) });
    }
  }

  /** First pass: preprocess a source block, add it to its partition's column sums, keep it if retaining. */
  addStatisticsBlock(partition: number, block: CsrRowBlock): void {
    const working = toWorkingBlock(block, this.config.normalize, this.retaining && this.config.volatileBlocks);
    const sums = this.partitionSums(partition);
    accumulateColumnSums(working, sums.sums, sums.sumsOfSquares);
    if (this.retaining) {
      this.retainedList(partition).push({ rowStart: block.rowStart, block: working });
      this.retainedBytes += blockBytes(working);
    }
  }

  /** Copies of each partition's column sums (they may be moved to another thread). */
  statistics(): PartitionSums[] {
    return this.config.partitions.map((p) => {
      const { sums, sumsOfSquares } = this.partitionSums(p);
      return { partition: p, sums: sums.slice(), sumsOfSquares: sumsOfSquares.slice() };
    });
  }

  /** Frees the retained blocks: later passes then stream the source again. */
  dropRetained(): void {
    this.retaining = false;
    for (const list of this.retained.values()) list.length = 0;
    this.retainedBytes = 0;
  }

  /** Restricts every later pass to the columns with colMap[j] ≥ 0 (renumbered), compacting retained blocks. */
  selectGenes(colMap: Int32Array, nColsKept: number): void {
    this.colMap = colMap;
    this.nColsKept = nColsKept;
    this.retainedBytes = 0;
    for (const list of this.retained.values()) {
      for (const entry of list) {
        entry.block = selectColumns(entry.block, colMap, nColsKept);
        this.retainedBytes += blockBytes(entry.block);
      }
    }
  }

  get isRetaining(): boolean {
    return this.retaining;
  }

  beginGram(v: Float64Array, shift: Float64Array, k: number): void {
    const out = new Map<number, PartitionGram>();
    for (const partition of this.config.partitions) {
      out.set(partition, { partition, w: new Float64Array(this.nColsKept * k), ySum: new Float64Array(k) });
    }
    this.gram = { v, shift, k, out };
  }

  gramBlock(partition: number, block: CsrRowBlock): void {
    this.gramWorking(partition, this.toWorking(block));
  }

  /** Runs the Gram product over retained blocks, yielding between blocks through `between`. */
  async gramRetained(between: () => Promise<void>): Promise<void> {
    for (const [partition, list] of this.retained) {
      for (const entry of list) {
        this.gramWorking(partition, entry.block);
        await between();
      }
    }
  }

  endGram(): PartitionGram[] {
    const gram = this.requireGram();
    this.gram = null;
    return this.config.partitions.map((p) => gram.out.get(p) as PartitionGram);
  }

  beginProjection(p: Float64Array, shift: Float64Array, k: number, scores: Float32Array): void {
    this.projection = { p, shift, k, scores };
  }

  projectionBlock(block: CsrRowBlock): void {
    this.projectWorking(block.rowStart, this.toWorking(block));
  }

  async projectionRetained(between: () => Promise<void>): Promise<void> {
    for (const list of this.retained.values()) {
      for (const entry of list) {
        this.projectWorking(entry.rowStart, entry.block);
        await between();
      }
    }
  }

  endProjection(): void {
    this.projection = null;
  }

  private gramWorking(partition: number, block: CsrMatrix): void {
    const gram = this.requireGram();
    const out = gram.out.get(partition);
    if (!out) throw new Error(`Partition ${partition} does not belong to this thread.`);
    accumulateCenteredGram(block, gram.v, gram.shift, gram.k, out.w, out.ySum);
  }

  private projectWorking(rowStart: number, block: CsrMatrix): void {
    const projection = this.projection;
    if (!projection) throw new Error('No projection pass is running.');
    writeCenteredProjection(block, projection.p, projection.shift, projection.k, projection.scores, rowStart);
  }

  private toWorking(block: CsrRowBlock): CsrMatrix {
    const working = toWorkingBlock(block, this.config.normalize, false);
    return this.colMap ? selectColumns(working, this.colMap, this.nColsKept) : working;
  }

  private requireGram(): NonNullable<PartitionPasses['gram']> {
    if (!this.gram) throw new Error('No Gram pass is running.');
    return this.gram;
  }

  private partitionSums(partition: number): PartitionSums {
    const sums = this.columnSums.get(partition);
    if (!sums) throw new Error(`Partition ${partition} does not belong to this thread.`);
    return sums;
  }

  private retainedList(partition: number): RetainedBlock[] {
    const list = this.retained.get(partition);
    if (!list) throw new Error(`Partition ${partition} does not belong to this thread.`);
    return list;
  }
}

function blockBytes(block: CsrMatrix): number {
  return block.indptr.byteLength + block.indices.byteLength + block.data.byteLength;
}

/** Every request a thread's passes answer, with its arguments and its answer. */
export interface PassOps {
  'statistics-block': { args: { partition: number; block: CsrRowBlock }; result: number };
  statistics: { args: Record<string, never>; result: PartitionSums[] };
  'drop-retained': { args: Record<string, never>; result: void };
  'select-genes': { args: { colMap: Int32Array; nColsKept: number }; result: void };
  'begin-gram': { args: { v: Float64Array; shift: Float64Array; k: number }; result: void };
  'gram-block': { args: { partition: number; block: CsrRowBlock }; result: void };
  'gram-retained': { args: Record<string, never>; result: void };
  'end-gram': { args: Record<string, never>; result: PartitionGram[] };
  'begin-projection': { args: { p: Float64Array; shift: Float64Array; k: number; scores: Float32Array }; result: void };
  'projection-block': { args: { block: CsrRowBlock }; result: void };
  'projection-retained': { args: Record<string, never>; result: void };
  'end-projection': { args: Record<string, never>; result: void };
}

export type PassOp = keyof PassOps;
export type PassRequest = { [K in PassOp]: { op: K; args: PassOps[K]['args'] } }[PassOp];

/** Answers one request; `between` runs after each retained block (to yield and check for cancellation). */
export async function runPassRequest(passes: PartitionPasses, request: PassRequest, between: () => Promise<void>): Promise<unknown> {
  switch (request.op) {
    case 'statistics-block':
      passes.addStatisticsBlock(request.args.partition, request.args.block);
      return passes.retainedBytes;
    case 'statistics':
      return passes.statistics();
    case 'drop-retained':
      return passes.dropRetained();
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
