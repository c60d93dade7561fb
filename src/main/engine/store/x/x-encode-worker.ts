// A thread that encodes X segments (x-parallel-writer.ts): each segment is an ordinary
// XLayerWriter whose files are stand-ins forwarding their bytes to the thread that owns the
// store's files, which writes them. Encoding, compression, the column companion and the files'
// checksums (taken of the bytes as they are forwarded) are made here; file handling, failures
// and clean-up stay with the store writer.
import { parentPort } from 'node:worker_threads';
import type { CsrBlock, NumericDtype } from '../../columns/column-model';
import { registerArrowCodecs, type StoreCodec } from '../io/codecs';
import { newDataFileName, type DataFileSink, type DataFiles } from '../io/data-files';
import { FileHasher, type WrittenFile } from '../io/store-fs';
import { StoreIpcFileWriter, type BatchLayout } from '../io/ipc-file-writer';
import type { XFragment } from '../format/manifest';
import type { RecordBatch } from 'apache-arrow';
import { XLayerWriter, type XWriteOptions } from './x-writer';

export type EncodeRequest =
  | { type: 'open'; segment: number; label: string; options: XWriteOptions }
  /** valuesDtype: the narrowest exact type of the block's values, found while copying it. */
  | { type: 'block'; segment: number; block: CsrBlock; valuesDtype: NumericDtype }
  | { type: 'finish'; segment: number }
  /** A piece handed back once its bytes are written. */
  | { type: 'piece'; buffer: SharedArrayBuffer };

export type EncodeReply =
  | { type: 'open'; name: string }
  | { type: 'write'; name: string; bytes: Uint8Array }
  /** `hashed`: the checksums of every byte forwarded for the file. */
  | { type: 'finish'; name: string; hashed: WrittenFile }
  | { type: 'abandon'; name: string }
  /** The block's shared buffers are free for the next block. */
  | { type: 'block-done'; segment: number }
  | { type: 'done'; segment: number; fragments: XFragment[] }
  | { type: 'error'; segment: number; error: { name: string; code: string; message: string } };

/**
 * Bytes are forwarded in shared pieces of this size, reused: few messages, and no buffer changes
 * hands (moving buffers between threads churns both threads' garbage collectors).
 */
const PIECE_BYTES = 4 << 20;

const port = parentPort;
if (!port) throw new Error('x-encode-worker must run in a worker thread.');
registerArrowCodecs();

const freePieces: SharedArrayBuffer[] = [];
const send = (reply: EncodeReply) => port.postMessage(reply);
const newPiece = () => new Uint8Array(freePieces.pop() ?? new SharedArrayBuffer(PIECE_BYTES));

const NO_PIECE = new Uint8Array(new SharedArrayBuffer(0));

class ForwardingSink implements DataFileSink {
  private piece = newPiece();
  private used = 0;
  readonly hasher = new FileHasher();

  constructor(readonly name: string) {
    send({ type: 'open', name });
  }

  write(bytes: Uint8Array): void {
    if (this.piece === NO_PIECE) throw new Error(`${this.name} was written after it was closed.`);
    this.hasher.update(bytes);
    let at = 0;
    while (at < bytes.byteLength) {
      const take = Math.min(bytes.byteLength - at, this.piece.byteLength - this.used);
      this.piece.set(bytes.subarray(at, at + take), this.used);
      this.used += take;
      at += take;
      if (this.used === this.piece.byteLength) this.flush();
    }
  }

  flush(): void {
    if (this.used === 0) return;
    // The piece comes back once written; meanwhile the next one fills.
    send({ type: 'write', name: this.name, bytes: this.piece.subarray(0, this.used) });
    this.piece = newPiece();
    this.used = 0;
  }

  /** Gives the piece to the next file (once: a piece in two files would mix their bytes). */
  release(): void {
    if (this.piece !== NO_PIECE) freePieces.push(this.piece.buffer as SharedArrayBuffer);
    this.piece = NO_PIECE;
    this.used = 0;
  }

  abandon(): void {
    if (this.piece === NO_PIECE) return;
    this.release();
    send({ type: 'abandon', name: this.name });
  }
}

const forwardingFiles: DataFiles = {
  open(kind: string) {
    const name = newDataFileName(kind);
    return { name, sink: new ForwardingSink(name) };
  },
  finish(name: string, sink: DataFileSink) {
    const forwarding = sink as ForwardingSink;
    forwarding.flush();
    forwarding.release();
    send({ type: 'finish', name, hashed: forwarding.hasher.digest() });
  },
  writeArrowFile(kind: string, codec: StoreCodec, level: number | undefined, batches: Iterable<RecordBatch>) {
    const { name, sink } = this.open(kind);
    try {
      const writer = new StoreIpcFileWriter((bytes) => sink.write(bytes), codec, level);
      for (const batch of batches) writer.write(batch);
      const layouts: BatchLayout[] = writer.batchLayouts;
      writer.finish();
      this.finish(name, sink);
      return { name, layouts };
    } catch (err) {
      sink.abandon();
      throw err;
    }
  },
};

const segments = new Map<number, XLayerWriter>();

function failed(segment: number, err: unknown): void {
  segments.get(segment)?.abandon();
  segments.delete(segment);
  const e = err as { name?: string; code?: string; message?: string };
  send({ type: 'error', segment, error: { name: e?.name ?? 'Error', code: e?.code ?? 'internal', message: e?.message ?? String(err) } });
}

port.on('message', (request: EncodeRequest) => {
  if (request.type === 'piece') {
    freePieces.push(request.buffer);
    return;
  }
  const { segment } = request;
  try {
    if (request.type === 'open') {
      segments.set(segment, new XLayerWriter(request.label, forwardingFiles, request.options));
    } else if (request.type === 'block') {
      const { block } = request;
      // A segment that failed already said so; its later blocks only go back.
      segments.get(segment)?.append(block, request.valuesDtype);
      send({ type: 'block-done', segment });
    } else {
      const writer = segments.get(segment);
      if (!writer) return;
      segments.delete(segment);
      send({ type: 'done', segment, fragments: writer.finish() });
    }
  } catch (err) {
    failed(segment, err);
    if (request.type === 'block') send({ type: 'block-done', segment });
  }
});
