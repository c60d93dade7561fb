// Reading untrusted files' summaries in a worker thread under the read time limit (SPEC §7),
// one file or several in one thread.
import { CellarError, type ErrorCode } from '../../../shared/errors';
import { callInWorker, readTimeoutFromEnv } from '../threads/worker-call';
import type { InspectReport } from './h5ad/inspect';
import type { InspectOutcome } from './h5ad/inspect-file';

/** Reads an untrusted dataset's summary in a worker under a time limit (SPEC §7). */
export function inspectInWorker(path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<InspectReport> {
  return callInWorker<InspectReport>('inspectFile', [path], {
    timeoutMs: options.timeoutMs ?? readTimeoutFromEnv(),
    // A file read through block by block (Matrix Market) reports each block: the limit is per block.
    timeoutPerProgress: true,
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
