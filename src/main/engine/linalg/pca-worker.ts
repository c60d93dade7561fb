// A PCA worker thread: owns some partitions of the rows (kept in memory across passes when
// they fit) and answers pass requests from the thread running the PCA, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { PartitionPasses, runPassRequest, transferablesOf, type PassesConfig, type PassRequest } from './pca-passes';

export interface PcaWorkerData {
  config: PassesConfig;
}

export interface PcaWorkerMessage {
  id: number;
  request: PassRequest;
}

export type PcaWorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; code: string; message: string } }
  /** Not an answer yet: rows this request has read from the source so far. */
  | { id: number; progress: number };

const port = parentPort;
if (!port) throw new Error('pca-worker must run in a worker thread.');
const passes = new PartitionPasses((workerData as PcaWorkerData).config);
const noPause = async (): Promise<void> => {};
let queue: Promise<void> = Promise.resolve();

port.on('message', (message: PcaWorkerMessage) => {
  queue = queue.then(async () => {
    let reply: PcaWorkerReply;
    try {
      const value = await runPassRequest(passes, message.request, noPause, (rows) => port.postMessage({ id: message.id, progress: rows } satisfies PcaWorkerReply));
      reply = { id: message.id, ok: true, value };
      port.postMessage(reply, transferablesOf(value));
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      reply = { id: message.id, ok: false, error: { name: e?.name ?? 'Error', code: e?.code ?? 'internal', message: e?.message ?? String(err) } };
      port.postMessage(reply);
    }
  });
});
