// Entry of a worker thread: loads a TypeScript engine module through tsx and runs
// one exported function with the given arguments, posting back progress and a result
// or an error value. An {type: 'abort'} message aborts the signal the function gets.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { modulePath, exportName, args } = workerData;
const controller = new AbortController();
parentPort.on('message', (msg) => {
  if (msg?.type === 'abort') controller.abort();
});
try {
  const mod = await import(modulePath);
  const onProgress = (progress) => parentPort.postMessage({ type: 'progress', progress });
  const value = await mod[exportName](...args, { onProgress, signal: controller.signal });
  parentPort.postMessage({ type: 'result', value });
} catch (err) {
  parentPort.postMessage({
    type: 'error',
    error: {
      name: err?.name ?? 'Error',
      code: err?.code ?? 'internal',
      message: err?.message ?? String(err),
      problems: Array.isArray(err?.problems) ? err.problems : [],
    },
  });
}
