// Writes an X layer on more than one core: an XLayerWriter in an encoding thread
// (x-encode-worker.ts) encodes each block while this thread reads the next. With two threads the
// rows are cut into segments, each its own fragments, on alternating threads. The threads send
// their file bytes back here, with the checksums they took of them: every file is still created,
// written, synced and (after a failure) removed by this thread's DataFileSet, so the store's
// crash and clean-up rules are the same as on one core.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CellarError, type ErrorCode } from '../../../../shared/errors';
import type { CsrBlock, NumericArray } from '../../columns/column-model';
import { startThread } from '../../threads/start-thread';
import type { DataFileSet } from '../io/data-files';
import type { HashingFileSink } from '../io/store-fs';
import { dtypeOfArray, narrowestExactDtype } from '../format/dtypes';
import type { XFragment } from '../format/manifest';
import type { EncodeReply, EncodeRequest } from './x-encode-worker';
import { XLayerWriter, type XWriteOptions } from './x-writer';

/**
 * Blocks queued per thread: one keeps a thread fed (reading a block takes a third of the time
 * encoding it does), and every block slot is fresh memory the first time (1–4 ms per MB on this VM).
 */
const MAX_QUEUED_BLOCKS = 1;
const MAX_FREE_BUFFERS = 12;

export interface XEncodeSettings {
  /** Encoding threads; 0 encodes everything in the calling thread. */
  threads: number;
  /**
   * With one encoding thread: the blocks it may hold; with that many queued, the calling thread
   * encodes the next block itself (a fragment of its own) instead of waiting. 0: it waits.
   */
  helpQueue: number;
  /** Blocks smaller than this are encoded in the calling thread until a larger one comes. */
  minBlockNnz: number;
  /** A segment closes at a block boundary once it holds this many entries (or a quarter of the layer so far). */
  minSegmentNnz: number;
}

/**
 * One thread per core besides the calling one (which reads meanwhile), at most two: on two cores
 * a second encoding thread mostly adds its own costs (its heap, its compiled code: 19% more CPU
 * at 4 × 12,500 cells, measured; docs/benchmarks.md). A block under 1 M entries costs less than starting a thread. With two threads,
 * segments of at least 2 M entries, and a quarter of the layer so far when more, split small
 * stores across them without leaving large ones in hundreds of fragments.
 */
export function defaultXEncodeSettings(): XEncodeSettings {
  return { threads: Math.min(2, availableParallelism() - 1), helpQueue: HELP_QUEUE, minBlockNnz: 1_000_000, minSegmentNnz: 2_000_000 };
}

/**
 * On two cores the one encoding thread is what a write waits for: the calling thread reads a
 * block in about half the time the thread encodes one. With two blocks queued for the thread,
 * the calling thread encodes the next block itself rather than wait, so both cores encode
 * (docs/benchmarks.md).
 */
const HELP_QUEUE = 2;
/** Entries this thread encodes between looks at the cancel signal (tens of milliseconds). */
const HERE_SLICE_ENTRIES = 1 << 19;

class EncodeThread {
  readonly worker: Worker;
  queued = 0;
  openSegments = 0;
  /** The shared buffers of each queued block, oldest first (a thread takes blocks in order). */
  readonly queuedBuffers: SharedArrayBuffer[][] = [];
  private readonly sinks = new Map<string, HashingFileSink>();

  constructor(
    private readonly pool: XEncodePool,
    private readonly files: DataFileSet,
  ) {
    this.worker = startThread('x-encode-worker');
    this.worker.on('message', (reply: EncodeReply) => this.receive(reply));
    this.worker.on('error', (err) => pool.fail(new CellarError('internal', `An X encoding thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => pool.fail(new CellarError('internal', `An X encoding thread stopped (exit code ${code}).`)));
  }

  post(request: EncodeRequest): void {
    this.worker.postMessage(request);
  }

  private receive(reply: EncodeReply): void {
    // After close() the store writer has removed its files (or committed): nothing more is opened.
    if (this.pool.isClosed) return;
    try {
      switch (reply.type) {
        case 'open':
          this.sinks.set(reply.name, this.files.openNamed(reply.name, 'caller').sink);
          break;
        case 'write':
          this.sinks.get(reply.name)!.write(reply.bytes);
          this.post({ type: 'piece', buffer: reply.bytes.buffer as SharedArrayBuffer });
          break;
        case 'finish':
          this.files.finish(reply.name, this.sinks.get(reply.name)!, reply.hashed);
          this.sinks.delete(reply.name);
          break;
        case 'abandon':
          this.sinks.get(reply.name)?.abandon();
          this.sinks.delete(reply.name);
          break;
        case 'block-done':
          this.queued--;
          this.pool.recycle(this.queuedBuffers.shift() ?? []);
          break;
        case 'done':
          this.segmentEnded();
          this.pool.settle(reply.segment, reply.fragments);
          break;
        case 'error': {
          this.segmentEnded();
          const { name, code, message } = reply.error;
          this.pool.fail(name === 'CellarError' ? new CellarError(code as ErrorCode, message) : new CellarError('internal', `An X encoding thread failed: ${message}`));
          break;
        }
      }
    } catch (err) {
      // A file that could not be written (a full disk): the whole write fails.
      this.pool.fail(err);
    }
    this.pool.wake();
  }

  segmentStarted(): void {
    // Held open only while it owes work: an idle thread never keeps the process alive.
    if (this.openSegments++ === 0) this.worker.ref();
  }

  private segmentEnded(): void {
    if (--this.openSegments === 0) this.worker.unref();
  }

  /** Closes the files this thread was writing (the store writer removes them). */
  abandon(): void {
    for (const sink of this.sinks.values()) sink.abandon();
    this.sinks.clear();
    void this.worker.terminate();
  }
}

/** The encoding threads of one store writer, started on first use and stopped by close(). */
export class XEncodePool {
  private readonly threads: EncodeThread[] = [];
  private readonly results = new Map<number, { resolve: (fragments: XFragment[]) => void; reject: (err: unknown) => void }>();
  private waiters: (() => void)[] = [];
  private freeBuffers: SharedArrayBuffer[] = [];
  private nextSegment = 1;
  private readonly watched = new WeakSet<AbortSignal>();
  private failure: unknown = null;
  private closed = false;

  get isClosed(): boolean {
    return this.closed;
  }

  /** With one thread a layer needs no cutting: it is one segment, laid out as one thread writes it. */
  get splitsSegments(): boolean {
    return this.size > 1;
  }

  /** True when the calling thread encodes blocks itself once the thread is full (one thread, helpQueue > 0). */
  private readonly helped: boolean;
  /** Blocks a thread may hold before send() waits. */
  private readonly maxQueued: number;

  constructor(
    private readonly files: DataFileSet,
    private readonly size: number,
    helpQueue = 0,
  ) {
    this.helped = size === 1 && helpQueue > 0;
    this.maxQueued = this.helped ? helpQueue : MAX_QUEUED_BLOCKS;
  }

  /** True when the calling thread may help and the one encoding thread holds as many blocks as it may (the caller would wait). */
  get full(): boolean {
    return this.helped && (this.threads[0]?.queued ?? 0) >= this.maxQueued;
  }

  /** Starts a segment on the least busy thread; its fragments arrive when it is finished. */
  openSegment(label: string, options: XWriteOptions): { id: number; thread: EncodeThread; fragments: Promise<XFragment[]> } {
    this.throwIfFailed();
    if (this.threads.length < this.size) this.threads.push(new EncodeThread(this, this.files));
    const thread = this.threads.reduce((best, t) => (t.queued + t.openSegments < best.queued + best.openSegments ? t : best));
    const id = this.nextSegment++;
    const fragments = new Promise<XFragment[]>((resolve, reject) => this.results.set(id, { resolve, reject }));
    // A failure is reported by the call that meets it; this promise must not also go unhandled.
    fragments.catch(() => undefined);
    thread.segmentStarted();
    thread.post({ type: 'open', segment: id, label, options });
    return { id, thread, fragments };
  }

  /**
   * A cancelled write stops the threads at once: what they still hold is waited for by the
   * commit, which would otherwise finish it first.
   */
  watch(signal: AbortSignal | undefined): void {
    if (!signal || this.watched.has(signal)) return;
    this.watched.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        this.fail(signal.reason);
        this.close();
      },
      { once: true },
    );
  }

  /** Sends a copy of the block (in reused shared buffers) once the thread has room for it. */
  async send(segment: number, thread: EncodeThread, block: CsrBlock): Promise<void> {
    while (thread.queued >= this.maxQueued) {
      this.throwIfFailed();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.throwIfFailed();
    const copy = this.copyBlock(block);
    // Scanned here, just after the copy (the values are in this core's cache): the encoding thread
    // is the one the whole write waits for.
    const valuesDtype = narrowestExactDtype(copy.data, 0, copy.data.length);
    thread.queued++;
    thread.queuedBuffers.push([copy.indptr.buffer, copy.indices.buffer, copy.data.buffer] as SharedArrayBuffer[]);
    thread.post({ type: 'block', segment, block: copy, valuesDtype });
    // Lets the threads' replies (file bytes to write) in between blocks.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.throwIfFailed();
  }

  finishSegment(segment: number, thread: EncodeThread): void {
    thread.post({ type: 'finish', segment });
  }

  settle(segment: number, fragments: XFragment[]): void {
    this.results.get(segment)?.resolve(fragments);
    this.results.delete(segment);
  }

  fail(err: unknown): void {
    if (this.closed) return;
    this.failure ??= err;
    for (const { reject } of this.results.values()) reject(this.failure);
    this.results.clear();
    this.wake();
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  recycle(buffers: SharedArrayBuffer[]): void {
    for (const buffer of buffers) if (this.freeBuffers.length < MAX_FREE_BUFFERS) this.freeBuffers.push(buffer);
  }

  /** Stops the threads: after the last segment is done, or after a failure (their open files are closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const thread of this.threads) thread.abandon();
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new CellarError('internal', 'The X encoding threads are already stopped.');
  }

  private buffer(bytes: number): SharedArrayBuffer {
    let at = -1;
    // The smallest that fits: a block's small indptr must not take the buffer its values need.
    for (let i = 0; i < this.freeBuffers.length; i++) {
      const size = this.freeBuffers[i]!.byteLength;
      if (size >= bytes && (at < 0 || size < this.freeBuffers[at]!.byteLength)) at = i;
    }
    if (at >= 0) return this.freeBuffers.splice(at, 1)[0]!;
    // Room to grow: the next blocks are about as large.
    return new SharedArrayBuffer(Math.ceil((bytes * 1.25) / 8) * 8);
  }

  /** The block's rows with indptr starting at 0, in buffers that can be handed to a thread. */
  private copyBlock(block: CsrBlock): CsrBlock {
    const first = Number(block.indptr[0]);
    const last = Number(block.indptr[block.nRows]);
    const nnz = last - first;
    const indptr = new Int32Array(this.buffer((block.nRows + 1) * 4), 0, block.nRows + 1);
    for (let i = 0; i <= block.nRows; i++) indptr[i] = Number(block.indptr[i]) - first;
    const indices = new Int32Array(this.buffer(nnz * 4), 0, nnz);
    indices.set(block.indices.subarray(first, last));
    const Values = block.data.constructor as new (buffer: SharedArrayBuffer, offset: number, length: number) => NumericArray;
    const data = new Values(this.buffer(nnz * block.data.BYTES_PER_ELEMENT), 0, nnz);
    (data as Float64Array).set((block.data as Float64Array).subarray(first, last));
    return { rowStart: block.rowStart, nRows: block.nRows, nCols: block.nCols, indptr, indices, data };
  }
}

/** Rows [from, to) of a block as a block of their own (indptr from 0; indices and values are views). */
function rowSlice(block: CsrBlock, from: number, to: number): CsrBlock {
  const base = Number(block.indptr[from]);
  const indptr = new Float64Array(to - from + 1);
  for (let i = 0; i <= to - from; i++) indptr[i] = Number(block.indptr[from + i]) - base;
  const end = base + indptr[to - from]!;
  return { rowStart: block.rowStart + from, nRows: to - from, nCols: block.nCols, indptr, indices: block.indices.subarray(base, end), data: block.data.subarray(base, end) as NumericArray };
}

interface OpenSegment {
  id: number;
  thread: EncodeThread;
  nextRow: number;
  dtype: string;
  nnz: number;
}

/**
 * The store writer's view of one layer: blocks go to encoding threads once one is large
 * enough to pay for them, and are encoded here before (small stores, tests).
 */
export class ParallelXLayerWriter {
  /** Each piece of the layer in row order: fragments written here, or a segment's to come. */
  private readonly pieces: (XFragment[] | Promise<XFragment[]>)[] = [];
  private local: XLayerWriter | null = null;
  private segment: OpenSegment | null = null;
  private layerNnz = 0;

  constructor(
    private readonly label: string,
    private readonly files: DataFileSet,
    private readonly options: XWriteOptions,
    /** Null: everything is encoded in this thread. */
    private readonly pool: XEncodePool | null,
    private readonly settings: XEncodeSettings,
  ) {}

  async append(block: CsrBlock, signal?: AbortSignal): Promise<void> {
    if (block.nRows === 0) return;
    const nnz = Number(block.indptr[block.nRows]) - Number(block.indptr[0]);
    this.layerNnz += nnz;
    if (!this.pool || (!this.segment && nnz < this.settings.minBlockNnz) || (await this.helps())) {
      this.local ??= new XLayerWriter(this.label, this.files, this.options);
      this.appendHere(this.local, block, signal);
      return;
    }
    if (this.local) {
      this.pieces.push(this.local.finish());
      this.local = null;
    }
    const dtype = dtypeOfArray(block.data);
    const segment = this.segment;
    const full = segment !== null && this.pool.splitsSegments && segment.nnz >= Math.max(this.settings.minSegmentNnz, this.layerNnz / 4);
    if (!segment || full || segment.nextRow !== block.rowStart || segment.dtype !== dtype) this.startSegment(block.rowStart, dtype);
    this.pool.watch(signal);
    const current = this.segment!;
    current.nextRow = block.rowStart + block.nRows;
    current.nnz += nnz;
    await this.pool.send(current.id, current.thread, block);
  }

  /**
   * Encodes a block in this thread a slice of rows at a time (whole chunks, about 2^19 entries),
   * so a cancelled write stops within a slice rather than after the whole block.
   */
  private appendHere(writer: XLayerWriter, block: CsrBlock, signal: AbortSignal | undefined): void {
    const chunk = this.options.chunkRows;
    for (let r = 0; r < block.nRows; ) {
      signal?.throwIfAborted();
      const base = Number(block.indptr[r]);
      let end = Math.min(block.nRows, r + chunk);
      while (end < block.nRows && Number(block.indptr[end]) - base < HERE_SLICE_ENTRIES) end = Math.min(block.nRows, end + chunk);
      writer.append(end === block.nRows && r === 0 ? block : rowSlice(block, r, end));
      r = end;
    }
  }

  /**
   * With one encoding thread: whether this thread encodes the block itself (one block, its own
   * fragment), which it does when the thread is full and its segment is large enough to close.
   */
  private async helps(): Promise<boolean> {
    const pool = this.pool!;
    if (!this.segment || this.segment.nnz < this.settings.minSegmentNnz || !pool.full) return false;
    // The thread's replies (a block done) arrive only between tasks of this thread.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!pool.full) return false;
    this.endSegment();
    return true;
  }

  private startSegment(rowStart: number, dtype: string): void {
    this.endSegment();
    const { id, thread, fragments } = this.pool!.openSegment(this.label, this.options);
    this.pieces.push(fragments);
    this.segment = { id, thread, nextRow: rowStart, dtype, nnz: 0 };
  }

  private endSegment(): void {
    if (this.segment) this.pool!.finishSegment(this.segment.id, this.segment.thread);
    this.segment = null;
  }

  async finish(): Promise<XFragment[]> {
    if (this.local) this.pieces.push(this.local.finish());
    this.local = null;
    this.endSegment();
    const fragments: XFragment[] = [];
    for (const piece of this.pieces) fragments.push(...(await piece));
    return fragments;
  }

  abandon(): void {
    this.local?.abandon();
    this.local = null;
    this.segment = null;
  }
}
