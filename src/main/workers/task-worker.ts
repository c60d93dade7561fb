// A task thread: runs named tasks one at a time, each asked for by a {type: 'run'} message —
// reading untrusted files under a time limit, and the app's long jobs. It posts back
// progress and a result or an error value; an {type: 'abort'} message aborts the signal the
// running task gets. The host keeps a thread that finished cleanly for the next task
// (engine/threads/worker-call.ts). Each task's code is loaded only when first asked for, so
// reading a file's summary never pays for SQLite or Arrow.
import { parentPort } from 'node:worker_threads';
import type { WorkerTaskName } from '../engine/threads/worker-call';

type TaskFunction = (...args: never[]) => unknown;

const TASKS: Record<WorkerTaskName, () => Promise<TaskFunction>> = {
  inspectFile: async () => (await loadInspect()).inspectFile,
  inspectEach: async () => (await loadInspect()).inspectEach,
  runJob: async () => (await import('../service/job-entry')).runJob,
  planConcatenation: async () => (await import('../service/job-entry')).planCollectionConcatenation,
  preflightAppend: async () => (await import('../service/job-entry')).preflightAppend,
  previewAnnotation: async () => (await import('../service/job-entry')).previewStoreAnnotation,
  deGeneBlocks: async () => (await import('../engine/stats/de-genes')).testGeneBlocks,
};

/** The readers' modules, with h5wasm's WebAssembly compiling on V8's background threads meanwhile. */
async function loadInspect() {
  (await import('../engine/formats/h5ad/h5')).startLoadingH5wasm();
  return import('../engine/formats/h5ad/inspect-file');
}

interface RunMessage {
  type: 'run';
  task?: WorkerTaskName;
  /** Running from source only (tests): a module URL and the function to call. */
  module?: string;
  exportName?: string;
  args: unknown[];
  /** An Int32 the host sets to 1 on abort (see abortableSignal). */
  abortFlag?: SharedArrayBuffer;
}

async function loadTask(data: RunMessage): Promise<(...args: unknown[]) => unknown> {
  if (data.task) {
    const load = TASKS[data.task];
    if (!load) throw new Error(`Unknown worker task ${data.task}`);
    return (await load()) as (...args: unknown[]) => unknown;
  }
  const mod = (await import(data.module!)) as Record<string, (...args: unknown[]) => unknown>;
  return mod[data.exportName!]!;
}

const port = parentPort!;
let controller = new AbortController();

/**
 * The task's signal also reads the host's shared abort flag whenever it is asked: a job
 * that copies blocks without yielding to the event loop would otherwise hear its abort
 * message only when it has finished.
 */
function abortableSignal(flag: SharedArrayBuffer | undefined): AbortSignal {
  const own = controller;
  const signal = own.signal;
  if (!flag) return signal;
  const cells = new Int32Array(flag);
  const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
  const aborted = (): boolean => {
    if (!nativeAborted.call(signal) && Atomics.load(cells, 0) === 1) own.abort(new DOMException('This operation was aborted', 'AbortError'));
    return nativeAborted.call(signal) as boolean;
  };
  Object.defineProperty(signal, 'aborted', { get: aborted });
  signal.throwIfAborted = () => {
    if (aborted()) throw signal.reason;
  };
  return signal;
}

async function runTask(data: RunMessage): Promise<void> {
  controller = new AbortController();
  try {
    const run = await loadTask(data);
    const onProgress = (progress: unknown) => port.postMessage({ type: 'progress', progress });
    const value = await run(...data.args, { onProgress, signal: abortableSignal(data.abortFlag) });
    port.postMessage({ type: 'result', value });
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string; problems?: unknown } | undefined;
    port.postMessage({
      type: 'error',
      error: {
        name: e?.name ?? 'Error',
        code: e?.code ?? 'internal',
        message: e?.message ?? String(err),
        problems: Array.isArray(e?.problems) ? e.problems : [],
      },
    });
  }
}

port.on('message', (msg: RunMessage | { type: 'abort' }) => {
  if (msg.type === 'abort') controller.abort();
  else if (msg.type === 'run') void runTask(msg);
});
