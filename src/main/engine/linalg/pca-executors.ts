// Where PCA passes run: inline on the calling thread, or in a worker thread that keeps its
// partitions of the matrix across passes. Both answer the same typed requests.
import { Worker } from 'node:worker_threads';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { CellarError, type ErrorCode } from '../../../shared/errors';
import { PartitionPasses, runPassRequest, type PassesConfig, type PassOp, type PassOps, type PassRequest } from './pca-passes';
import type { PcaWorkerData, PcaWorkerMessage, PcaWorkerReply } from './pca-worker';

export interface PassExecutor {
  readonly partitions: readonly number[];
  call<K extends PassOp>(op: K, args: PassOps[K]['args'], transfer?: ArrayBuffer[]): Promise<PassOps[K]['result']>;
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

  async call<K extends PassOp>(op: K, args: PassOps[K]['args']): Promise<PassOps[K]['result']> {
    return (await runPassRequest(this.passes, { op, args } as PassRequest, this.between)) as PassOps[K]['result'];
  }

  async close(): Promise<void> {}
}

const WORKER_ENTRY = new URL('./pca-worker-entry.mjs', import.meta.url);
const WORKER_MODULE = new URL('./pca-worker.ts', import.meta.url);

let liveWorkers = 0;

/** PCA worker threads currently running (tests use it to check that nothing is left behind). */
export function livePcaWorkerCount(): number {
  return liveWorkers;
}

export class WorkerExecutor implements PassExecutor {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private closed = false;

  constructor(readonly config: PassesConfig) {
    const workerData: PcaWorkerData = { modulePath: pathToFileURL(fileURLToPath(WORKER_MODULE)).href, config };
    this.worker = new Worker(WORKER_ENTRY, { workerData });
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

  call<K extends PassOp>(op: K, args: PassOps[K]['args'], transfer: ArrayBuffer[] = []): Promise<PassOps[K]['result']> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<PassOps[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const message: PcaWorkerMessage = { id, request: { op, args } as PassRequest };
      this.worker.postMessage(message, transfer);
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
