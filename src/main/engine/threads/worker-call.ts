// Runs one engine function in a worker thread with a time limit, so a hostile or
// corrupted file can never hang or crash the calling process.
import { pathToFileURL } from 'node:url';
import { CellarError, type ErrorCode } from '../../../shared/errors';
import type { Worker } from 'node:worker_threads';
import { formatDuration } from '../../../shared/format-number';
import { RUNNING_FROM_SOURCE, startThread } from './start-thread';

export interface WorkerCallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (progress: unknown) => void;
  /** What the user is waiting for, for the time-out message ("reading FILE"). */
  what: string;
  /** After an abort, how long the worker may take to stop by itself before it is terminated. */
  abortGraceMs?: number;
  /** Start the time limit again at each progress message (a limit per step, not for the whole call). */
  timeoutPerProgress?: boolean;
}

/** The tasks the task worker (src/main/workers/task-worker.ts) knows, by name. */
export type WorkerTaskName = 'inspectFile' | 'inspectEach' | 'runJob' | 'planConcatenation' | 'preflightAppend' | 'previewAnnotation' | 'deGeneBlocks';

/**
 * A named task, or (only when running from source, for tests) any exported function of a
 * TypeScript module: built bundles have no modules to load by path.
 */
export type WorkerTask = WorkerTaskName | { module: string; exportName: string };

export const DEFAULT_READ_TIMEOUT_MS = 120_000;

/** The read time limit: CELLAR_READ_TIMEOUT_MS (milliseconds), else two minutes. A bad value is a usage error. */
export function readTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CELLAR_READ_TIMEOUT_MS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_READ_TIMEOUT_MS;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new CellarError('usage', `CELLAR_READ_TIMEOUT_MS must be a whole number of milliseconds, at least 1 (got "${raw}"); unset it for the default of ${DEFAULT_READ_TIMEOUT_MS / 1000} s.`);
  }
  return Number(raw);
}

/** The error of a read that ran out of time: what was being done, the limit, and how to raise it. */
export function readTimeoutError(what: string, timeoutMs: number): CellarError {
  return new CellarError(
    'timeout',
    `Gave up ${what} after ${formatDuration(timeoutMs)}, the read time limit (CELLAR_READ_TIMEOUT_MS, default ${formatDuration(DEFAULT_READ_TIMEOUT_MS)}). A large file on a slow disk needs a higher limit; a small file that takes this long may be damaged.`,
  );
}

/**
 * Task threads that finished a task cleanly wait here for the next one, so a second call in
 * the same process does not pay for a new thread, its module loading and h5wasm's start again.
 * A thread whose task failed, timed out or was cancelled is never reused: a damaged or hostile
 * file could have left its WebAssembly heap in any state. Idle threads do not keep the
 * process alive and end after IDLE_THREAD_MS.
 */
const idleThreads: Worker[] = [];
const MAX_IDLE_THREADS = 2;
const IDLE_THREAD_MS = 30_000;
const idleTimers = new WeakMap<Worker, NodeJS.Timeout>();

function takeThread(): Worker {
  const worker = idleThreads.pop();
  if (!worker) return startThread('task-worker', { resourceLimits: { maxOldGenerationSizeMb: 4096 } });
  clearTimeout(idleTimers.get(worker));
  worker.ref();
  return worker;
}

function giveBackThread(worker: Worker): void {
  worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
  if (idleThreads.length >= MAX_IDLE_THREADS) return void worker.terminate();
  // An idle thread that dies (or is terminated) leaves the pool by itself.
  worker.once('exit', () => forgetThread(worker));
  worker.on('error', () => forgetThread(worker));
  worker.unref();
  const timer = setTimeout(() => {
    forgetThread(worker);
    void worker.terminate();
  }, IDLE_THREAD_MS);
  timer.unref();
  idleTimers.set(worker, timer);
  idleThreads.push(worker);
}

function forgetThread(worker: Worker): void {
  const i = idleThreads.indexOf(worker);
  if (i >= 0) idleThreads.splice(i, 1);
  clearTimeout(idleTimers.get(worker));
}

/** Ends the idle task threads now (tests, and a process that wants to exit at once). */
export async function closeIdleThreads(): Promise<void> {
  const threads = idleThreads.splice(0);
  await Promise.all(threads.map((w) => (clearTimeout(idleTimers.get(w)), w.terminate())));
}

/**
 * Calls the task with `(...args, { onProgress, signal })` inside a task thread (a waiting one
 * when there is one). The thread is terminated on time-out or abort; CellarErrors keep their
 * code and message.
 */
export function callInWorker<T>(task: WorkerTask, args: unknown[], options: WorkerCallOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (typeof task !== 'string' && !RUNNING_FROM_SOURCE) throw new CellarError('internal', 'A worker task given by module path needs the source tree.');
    // Set by an abort and read synchronously by the worker's signal: a job's loops can run for
    // seconds without turning the worker's event loop, where an abort message would wait.
    const abortFlag = new SharedArrayBuffer(4);
    const worker = takeThread();
    worker.postMessage({ type: 'run', ...(typeof task === 'string' ? { task } : { module: pathToFileURL(task.module).href, exportName: task.exportName }), args, abortFlag });
    let settled = false;
    const finish = (fn: () => void, reuse = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (reuse && !options.signal?.aborted) giveBackThread(worker);
      else void worker.terminate();
      fn();
    };
    const giveUp = () => finish(() => reject(readTimeoutError(options.what, options.timeoutMs)));
    let timer = setTimeout(giveUp, options.timeoutMs);
    // Ask the worker to stop cleanly (it aborts its own signal); terminate it if it does not.
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      Atomics.store(new Int32Array(abortFlag), 0, 1);
      worker.postMessage({ type: 'abort' });
      graceTimer = setTimeout(() => finish(() => reject(new CellarError('cancelled', `Cancelled ${options.what}.`))), options.abortGraceMs ?? 15_000);
    };
    options.signal?.addEventListener('abort', onAbort);
    worker.on('message', (msg: { type: string; value?: T; progress?: unknown; error?: { code: string; message: string; problems: string[]; name: string } }) => {
      if (msg.type === 'progress') {
        if (options.timeoutPerProgress && !settled) {
          clearTimeout(timer);
          timer = setTimeout(giveUp, options.timeoutMs);
        }
        options.onProgress?.(msg.progress);
      }
      else if (msg.type === 'result') finish(() => resolve(msg.value as T), true);
      else if (msg.type === 'error' && msg.error) {
        const e = msg.error;
        const error = e.name === 'CellarError' ? new CellarError(e.code as ErrorCode, e.message, e.problems) : options.signal?.aborted ? new CellarError('cancelled', `Cancelled ${options.what}.`) : new CellarError('internal', `Unexpected error while ${options.what}: ${e.message}`);
        finish(() => reject(error));
      }
    });
    worker.on('error', (err) => finish(() => reject(new CellarError('internal', `The worker ${options.what} failed: ${err.message}`))));
    worker.on('exit', (code) => finish(() => reject(new CellarError('internal', `The worker ${options.what} stopped unexpectedly (exit code ${code}).`))));
  });
}
