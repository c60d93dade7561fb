// Entry of a long-lived worker thread (PCA passes, row decoding): lets the worker load
// TypeScript through tsx, then starts the TypeScript module named in workerData.modulePath,
// which listens for requests.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.modulePath);
