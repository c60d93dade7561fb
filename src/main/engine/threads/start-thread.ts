// Starts worker threads from built JavaScript. The app and the CLI run bundles in which every
// thread entry (task-worker, pca-worker, row-decode-worker, x-encode-worker) is an output file beside the code
// that starts it, so the path comes from this module's own location, never from the working
// directory or an environment variable. Tests run the same code from source: there a small
// shim lets the new thread load TypeScript, then imports the entry's source file.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export type ThreadEntry = 'task-worker' | 'pca-worker' | 'row-decode-worker' | 'x-encode-worker';

/** Each entry's source, relative to this file (used only when running from source). */
const SOURCES: Record<ThreadEntry, string> = {
  'task-worker': '../../workers/task-worker.ts',
  'pca-worker': '../linalg/pca-worker.ts',
  'row-decode-worker': '../store/x/row-decode-worker.ts',
  'x-encode-worker': '../store/x/x-encode-worker.ts',
};

const HERE = dirname(fileURLToPath(import.meta.url));
/** True under a TypeScript runner (tests, bench); false in every built bundle. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The built file of a thread entry; inside a packaged app, its copy unpacked from the asar archive. */
export function builtThreadFile(entry: ThreadEntry, dir = HERE): string {
  return outsideAsar(join(dir, `${entry}.js`));
}

/** Worker threads read their script with the plain file system: use the unpacked copy when there is one. */
export function outsideAsar(path: string, exists: (p: string) => boolean = existsSync): string {
  const unpacked = path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
  return unpacked !== path && exists(unpacked) ? unpacked : path;
}

export function startThread(entry: ThreadEntry, options: WorkerOptions = {}): Worker {
  if (!RUNNING_FROM_SOURCE) return new Worker(builtThreadFile(entry), options);
  const source = pathToFileURL(join(HERE, SOURCES[entry])).href;
  return new Worker(join(HERE, 'source-thread.mjs'), { ...options, argv: [...(options.argv ?? []), source] });
}
