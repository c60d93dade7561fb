// Runs one engine function in a worker thread with a time limit, so a hostile or
// corrupted file can never hang or crash the calling process.
import { pathToFileURL } from 'node:url';
import { CellarError, type ErrorCode } from '../../../shared/errors';
import { RUNNING_FROM_SOURCE, startThread } from './threads';
import type { InspectReport } from '../h5ad/inspect';
import type { InspectOutcome } from '../h5ad/inspect-file';

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

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/**
 * Calls the task with `(...args, { onProgress, signal })` inside a worker thread.
 * The worker is terminated on time-out or abort; CellarErrors keep their code and message.
 */
export function callInWorker<T>(task: WorkerTask, args: unknown[], options: WorkerCallOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (typeof task !== 'string' && !RUNNING_FROM_SOURCE) throw new CellarError('internal', 'A worker task given by module path needs the source tree.');
    // Set by an abort and read synchronously by the worker's signal: a job's loops can run for
    // seconds without turning the worker's event loop, where an abort message would wait.
    const abortFlag = new SharedArrayBuffer(4);
    const worker = startThread('task-worker', {
      workerData: typeof task === 'string' ? { task, args, abortFlag } : { module: pathToFileURL(task.module).href, exportName: task.exportName, args, abortFlag },
      resourceLimits: { maxOldGenerationSizeMb: 4096 },
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const giveUp = () =>
      finish(() =>
        reject(
          new CellarError(
            'timeout',
            `Gave up ${options.what} after ${formatDuration(options.timeoutMs)}, the read time limit (CELLAR_READ_TIMEOUT_MS, default ${formatDuration(DEFAULT_READ_TIMEOUT_MS)}). A large file on a slow disk needs a higher limit; a small file that takes this long may be damaged.`,
          ),
        ),
      );
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
      else if (msg.type === 'result') finish(() => resolve(msg.value as T));
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

/** Reads an untrusted .h5ad's summary in a worker under a time limit (SPEC §7). */
export function inspectInWorker(path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<InspectReport> {
  return callInWorker<InspectReport>('inspectFile', [path], {
    timeoutMs: options.timeoutMs ?? readTimeoutFromEnv(),
    signal: options.signal,
    what: `reading ${path}`,
  });
}

/**
 * Reads several untrusted .h5ad files' summaries in one worker, each under the time limit, and
 * returns them in order; the first file that cannot be read fails the call with its own error.
 */
export async function inspectAllInWorker(paths: string[], options: { timeoutMs?: number; signal?: AbortSignal; onFile?: (done: number) => void } = {}): Promise<InspectReport[]> {
  if (!paths.length) return [];
  let current = 0;
  const outcomes = await callInWorker<InspectOutcome[]>('inspectEach', [paths], {
    timeoutMs: options.timeoutMs ?? readTimeoutFromEnv(),
    timeoutPerProgress: true,
    signal: options.signal,
    // Read when a message is made: names the file being read at that moment.
    get what() {
      return `reading ${paths[Math.min(current, paths.length - 1)]}`;
    },
    onProgress: (progress) => {
      current = (progress as { done: number }).done;
      options.onFile?.(current);
    },
  });
  return outcomes.map((outcome) => {
    if (outcome.ok) return outcome.report;
    const e = outcome.error;
    if (e.name === 'CellarError') throw new CellarError(e.code as ErrorCode, e.message, e.problems);
    throw new CellarError('internal', `Unexpected error while reading: ${e.message}`);
  });
}
