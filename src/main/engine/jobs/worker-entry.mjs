// Entry of a worker thread: loads a TypeScript engine module through tsx and runs
// one exported function with the given arguments, posting back a result or an error value.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { modulePath, exportName, args } = workerData;
try {
  const mod = await import(modulePath);
  const onProgress = (progress) => parentPort.postMessage({ type: 'progress', progress });
  const value = await mod[exportName](...args, { onProgress });
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
