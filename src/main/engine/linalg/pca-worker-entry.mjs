// Entry of a PCA worker thread: lets the worker load TypeScript through tsx, then starts the
// TypeScript worker module, which listens for pass requests.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.modulePath);
