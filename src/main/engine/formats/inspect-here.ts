// `cellar inspect` of one .h5ad in the command's own thread. A task thread costs a quarter of
// a small file's whole inspect (its start, and h5wasm loaded in it while the command's thread
// waits), so a one-shot command reads the file itself, under the same read time limit: V8's
// watchdog (node:vm's timeout) stops the read wherever it is, inside HDF5 included.
//
// Only for a process that ends after it: a read stopped by the watchdog leaves the file open
// and h5wasm's heap as it was. The app and `serve` read untrusted files in task threads
// (inspect-in-worker.ts), which they can throw away.
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { Script } from 'node:vm';
import { loadH5wasm, preferBaselineWasm } from './h5ad/h5';
import type { DatasetInspectReport } from './inspect-dataset';
import { readTimeoutError } from '../threads/worker-call';

/** True for a path the command's thread reads itself: a file named .h5ad (every other format goes to a task thread). */
export function inspectsHere(path: string): boolean {
  if (extname(path).toLowerCase() !== '.h5ad') return false;
  try {
    return !statSync(path).isDirectory();
  } catch {
    // A missing file: the reader's own message names it.
    return true;
  }
}

const SLOT = Symbol.for('cellar.inspectHere');
/** The watchdog runs a script; the script calls the read through this global slot. */
const CALL_READ = new Script(`globalThis[Symbol.for('cellar.inspectHere')]()`, { filename: 'cellar-inspect-here' });

/** Reads an .h5ad's summary in this thread within timeoutMs (the load of h5wasm, which reads no file, is not counted). */
export async function inspectHere(path: string, timeoutMs: number): Promise<DatasetInspectReport> {
  preferBaselineWasm();
  // The readers' modules are loaded only here: the command decides with inspectsHere first,
  // and for other formats starts its task thread before loading them.
  const [h5, { inspectLoadedH5ad }] = await Promise.all([loadH5wasm(), import('./inspect-dataset')]);
  let report: DatasetInspectReport | undefined;
  const slots = globalThis as unknown as Record<symbol, () => void>;
  slots[SLOT] = () => {
    report = inspectLoadedH5ad(h5, path);
  };
  try {
    CALL_READ.runInThisContext({ timeout: timeoutMs });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw readTimeoutError(`reading ${path}`, timeoutMs);
    throw err;
  } finally {
    delete slots[SLOT];
  }
  return report!;
}
