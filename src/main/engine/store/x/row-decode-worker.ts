// A worker thread that decodes its share of large row reads into shared memory (see
// XLayerReader.readRowsShared). It keeps each layer's reader (open files, chunk indexes).
import { parentPort } from 'node:worker_threads';
import type { XLayerDescription } from './layer-files';
import { decodeUnlessClaimed, type RowDecodeRequest } from './row-reads';
import { XLayerReader } from './x-reader';

export type RowDecodeMessage = { id: number; request: RowDecodeRequest } | { id: 0; prepare: XLayerDescription };
export type RowDecodeReply = { id: number; ok: true } | { id: number; ok: false; error: { name: string; code: string; message: string } };

const port = parentPort;
if (!port) throw new Error('row-decode-worker must run in a worker thread.');
const readers = new Map<string, XLayerReader>();

function readerFor(layer: XLayerDescription): XLayerReader {
  const key = JSON.stringify(layer);
  let reader = readers.get(key);
  if (!reader) {
    reader = new XLayerReader(layer.dir, layer.label, layer.layer, layer.nObs, layer.nVars);
    readers.set(key, reader);
  }
  return reader;
}

port.on('message', (message: RowDecodeMessage) => {
  if ('prepare' in message) {
    try {
      readerFor(message.prepare).loadIndexes();
    } catch {
      // Said again by the first read that needs the layer.
    }
    return;
  }
  const { id, request } = message;
  let reply: RowDecodeReply;
  try {
    const { sorted, starts, from, to, indices, data } = request;
    decodeUnlessClaimed(request, () => readerFor(request.layer).decodeSortedRows(sorted, starts, from, to, indices, data));
    reply = { id, ok: true };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    reply = { id, ok: false, error: { name: e?.name ?? 'Error', code: e?.code ?? 'internal', message: e?.message ?? String(err) } };
  }
  port.postMessage(reply);
});
