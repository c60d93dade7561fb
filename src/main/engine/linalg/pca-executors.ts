// Where PCA passes run: inline on the calling thread, or in a worker thread that keeps its
// partitions of the matrix across passes. Both answer the same typed requests.
import type { Worker } from 'node:worker_threads';
import { CellarError, type ErrorCode } from '../../../shared/errors';
import { startThread } from '../threads/start-thread';
import { PartitionPasses, runPassRequest, type PassesConfig, type PassOp, type PassOps, type PassRequest } from './pca-passes';
import type { CsrRowBlock } from './csr';
import type { PcaWorkerData, PcaWorkerMessage, PcaWorkerReply } from './pca-worker';

type TypedArrayConstructor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): CsrRowBlock['data']; BYTES_PER_ELEMENT: number };

const align8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;

export interface PassExecutor {
  readonly partitions: readonly number[];
  /** `onProgress` hears the rows a source pass has read so far. */
  call<K extends PassOp>(op: K, args: PassOps[K]['args'], onProgress?: (rows: number) => void): Promise<PassOps[K]['result']>;
  close(): Promise<void>;
}

export class InlineExecutor implements PassExecutor {
  private readonly passes: PartitionPasses;
  readonly partitions: readonly number[];

  /** `between` runs after each retained block: it yields to the event loop and checks for cancellation. */
  constructor(
    config: PassesConfig,
    private readonly between: () => Promise<void>,
  ) {
    this.passes = new PartitionPasses(config);
    this.partitions = config.partitions;
  }

  async call<K extends PassOp>(op: K, args: PassOps[K]['args'], onProgress?: (rows: number) => void): Promise<PassOps[K]['result']> {
    return (await runPassRequest(this.passes, { op, args } as PassRequest, this.between, onProgress)) as PassOps[K]['result'];
  }

  async close(): Promise<void> {}
}

let liveWorkers = 0;

/** PCA worker threads currently running (tests use it to check that nothing is left behind). */
export function livePcaWorkerCount(): number {
  return liveWorkers;
}

export class WorkerExecutor implements PassExecutor {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; onProgress?: (rows: number) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private closed = false;
  private readonly slots: { buffer: SharedArrayBuffer | null; busy: boolean }[];

  constructor(
    readonly config: PassesConfig,
    slotCount: number,
  ) {
    this.slots = Array.from({ length: slotCount }, () => ({ buffer: null, busy: false }));
    const workerData: PcaWorkerData = { config };
    this.worker = startThread('pca-worker', { workerData });
    liveWorkers++;
    this.worker.on('message', (reply: PcaWorkerReply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(new CellarError('internal', `A PCA worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => {
      this.markClosed();
      this.fail(new CellarError('internal', `A PCA worker stopped unexpectedly (exit code ${code}).`));
    });
  }

  get partitions(): readonly number[] {
    return this.config.partitions;
  }

  /**
   * Copies a block into a free shared staging slot, so no fresh memory is allocated per block
   * (first touches of memory are slow), and returns the staged block with a release function to
   * call once the request carrying it has been answered. `slotCount` requests may carry one at a time.
   */
  stage(block: CsrRowBlock): { staged: CsrRowBlock; release: () => void } {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new Error('Every staging slot is busy.');
    const first = block.indptr[0];
    const nnz = block.indptr[block.nRows] - first;
    const Values = block.data.constructor as TypedArrayConstructor;
    const indptrBytes = align8((block.nRows + 1) * 8);
    const indicesBytes = align8(nnz * 4);
    const needed = indptrBytes + indicesBytes + nnz * Values.BYTES_PER_ELEMENT;
    if (!slot.buffer || slot.buffer.byteLength < needed) slot.buffer = new SharedArrayBuffer(Math.max(needed, 2 * (slot.buffer?.byteLength ?? 0)));
    const indptr = new Float64Array(slot.buffer, 0, block.nRows + 1);
    for (let r = 0; r <= block.nRows; r++) indptr[r] = block.indptr[r] - first;
    const indices = new Int32Array(slot.buffer, indptrBytes, nnz);
    indices.set(block.indices.subarray(first, first + nnz));
    const data = new Values(slot.buffer, indptrBytes + indicesBytes, nnz);
    (data as { set(source: ArrayLike<number | bigint>): void }).set(block.data.subarray(first, first + nnz));
    slot.busy = true;
    const staged: CsrRowBlock = { rowStart: block.rowStart, nRows: block.nRows, nCols: block.nCols, indptr, indices, data };
    return { staged, release: () => (slot.busy = false) };
  }

  call<K extends PassOp>(op: K, args: PassOps[K]['args'], onProgress?: (rows: number) => void): Promise<PassOps[K]['result']> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<PassOps[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onProgress });
      const message: PcaWorkerMessage = { id, request: { op, args } as PassRequest };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.fail(new CellarError('cancelled', 'The PCA workers were stopped.'));
    if (!this.closed) {
      await this.worker.terminate();
      this.markClosed();
    }
  }

  private settle(reply: PcaWorkerReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    if ('progress' in reply) {
      waiter.onProgress?.(reply.progress);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else {
      const { name, code, message } = reply.error;
      waiter.reject(name === 'CellarError' ? new CellarError(code as ErrorCode, message) : new CellarError('internal', `A PCA worker failed: ${message}`));
    }
  }

  private fail(error: Error): void {
    if (!this.failure) this.failure = error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    liveWorkers--;
  }
}
