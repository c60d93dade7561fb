// The calling side of the row-decoding worker: started on the first large read and kept for
// the next ones, holding the process open only while a request is in flight.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CellarError, type ErrorCode } from '../../../../shared/errors';
import { RUNNING_FROM_SOURCE, startThread } from '../../threads/start-thread';
import type { XLayerDescription } from './layer-files';
import type { RowDecodeMessage, RowDecodeReply } from './row-decode-worker';
import type { RowDecodeHelper, RowDecodeRequest } from './row-reads';


class RowDecodeWorker implements RowDecodeHelper {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;

  constructor(private readonly onGone: () => void) {
    this.worker = startThread('row-decode-worker');
    // An unref before the thread is online does not hold: do it again once it is.
    this.worker.unref();
    this.worker.once('online', () => {
      if (this.pending.size === 0) this.worker.unref();
    });
    this.worker.on('message', (reply: RowDecodeReply) => this.settle(reply));
    this.worker.on('error', (err) => this.failAll(new CellarError('internal', `The row-reading thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.failAll(new CellarError('internal', `The row-reading thread stopped (exit code ${code}).`)));
  }

  /**
   * Has the thread open `layer` (its files and chunk indexes) now, ahead of the reads it will
   * help with. Nothing waits for it: a failure shows again at the first read that needs it.
   */
  prepare(layer: XLayerDescription): void {
    this.worker.postMessage({ id: 0, prepare: layer } satisfies RowDecodeMessage);
  }

  decode(request: RowDecodeRequest): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive while the worker owes an answer.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, request } satisfies RowDecodeMessage);
    });
  }

  private settle(reply: RowDecodeReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiter.resolve();
    else waiter.reject(reply.error.name === 'CellarError' ? new CellarError(reply.error.code as ErrorCode, reply.error.message) : new CellarError('internal', `The row-reading thread failed: ${reply.error.message}`));
  }

  private failAll(error: Error): void {
    this.onGone();
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

let shared: RowDecodeWorker | null = null;

/**
 * Starting the thread costs about a second (TypeScript and module loading): a read starts it
 * only when decoding it alone would take about that long; once running it helps smaller ones.
 */
const START_MIN_NNZ = 16_000_000;
const WARM_MIN_NNZ = 4_000_000;

/** The process's row-decoding helper thread, started on first use (null on a single core). */
export function rowDecodeHelper(): RowDecodeHelper | null {
  if (availableParallelism() < 2) return null;
  shared ??= new RowDecodeWorker(() => (shared = null));
  return shared;
}

/** The helper for a read of `nnz` non-zeros when sharing it pays, else null. */
export function rowDecodeHelperFor(nnz: number): RowDecodeHelper | null {
  if (nnz < (shared ? WARM_MIN_NNZ : START_MIN_NNZ)) return null;
  return rowDecodeHelper();
}

/**
 * The helper for a read decoded block by block ahead of its consumer (rowBlocksAhead). The
 * built thread starts in tens of milliseconds, so there the lower threshold applies from the
 * first read; from source it keeps the cold one (the thread compiles TypeScript). A thread
 * already running (e.g. started by prepareRowDecodeHelper) helps reads from AHEAD_MIN_NNZ: the
 * reading thread claims blocks too and never waits for it to start.
 */
export function rowDecodeHelperAheadFor(nnz: number): RowDecodeHelper | null {
  if (nnz < (shared ? AHEAD_MIN_NNZ : RUNNING_FROM_SOURCE ? START_MIN_NNZ : WARM_MIN_NNZ)) return null;
  return rowDecodeHelper();
}

const AHEAD_MIN_NNZ = 500_000;

/**
 * Starts the helper thread (on two or more cores, from built code) for a read of about
 * `expectedNnz` entries from WARM_MIN_NNZ, and has it open `layer` (files, chunk indexes) while
 * this thread plans the read, so it is ready to decode sooner.
 */
export function prepareRowDecodeHelper(layer: XLayerDescription, expectedNnz: number): void {
  if (RUNNING_FROM_SOURCE || expectedNnz < WARM_MIN_NNZ) return;
  (rowDecodeHelper() as RowDecodeWorker | null)?.prepare(layer);
}
