// An Arrow IPC file writer that streams its bytes to a sink and records where every
// record batch's buffers landed, so the X reader can decompress one chunk's buffers
// without parsing Arrow metadata.
//
// It also writes the compressed-buffer length prefix as the Arrow spec says (the
// UNcompressed length; apache-arrow 21's own writer puts the compressed length there,
// which other Arrow readers reject).
import { RecordBatchFileWriter, type RecordBatch } from 'apache-arrow';
import { BufferRegion, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { arrowCompressionType, compressBuffer, type StoreCodec } from './codecs';

/** A buffer of a record batch body, as absolute byte positions in the file. */
export interface BufferSpan {
  /** Start of the buffer (for compressed files: of its 8-byte length prefix). */
  offset: number;
  /** Bytes on disk, prefix included. */
  length: number;
}

export interface BatchLayout {
  numRows: number;
  bodyOffset: number;
  bodyLength: number;
  buffers: BufferSpan[];
}

const UNCOMPRESSED = -1n;

export class StoreIpcFileWriter extends RecordBatchFileWriter {
  readonly batchLayouts: BatchLayout[] = [];
  private readonly codec: StoreCodec;
  private readonly level: number | undefined;
  private readonly sink: (bytes: Uint8Array) => void;

  constructor(sink: (bytes: Uint8Array) => void, codec: StoreCodec, level?: number) {
    super({ autoDestroy: true, writeLegacyIpcFormat: false, compressionType: arrowCompressionType(codec) });
    this.sink = sink;
    this.codec = codec;
    this.level = level;
  }

  get bytesWritten(): number {
    return this._position;
  }

  protected override _write(chunk: unknown): this {
    if (!this._started) return this;
    const view = chunk as ArrayBufferView;
    const bytes = view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (bytes.byteLength > 0) {
      this.sink(bytes);
      this._position += bytes.byteLength;
    }
    return this;
  }

  protected override _compressBodyBuffers(buffers: ArrayBufferView[]) {
    let offset = 0;
    const compressed: ArrayBufferView[] = [];
    const regions: BufferRegion[] = [];
    for (const buffer of buffers) {
      const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      if (bytes.byteLength === 0) {
        compressed.push(new Uint8Array(0), new Uint8Array(0));
        regions.push(new BufferRegion(offset, 0));
        continue;
      }
      const packed = compressBuffer(this.codec, bytes, this.level);
      const worthIt = packed.byteLength < bytes.byteLength;
      const body = worthIt ? packed : bytes;
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigInt64(0, worthIt ? BigInt(bytes.byteLength) : UNCOMPRESSED, true);
      compressed.push(prefix, body);
      offset = (offset + 7) & ~7;
      regions.push(new BufferRegion(offset, 8 + body.byteLength));
      offset += 8 + body.byteLength;
    }
    return { byteLength: (offset + 7) & ~7, bufferRegions: regions, buffers: compressed };
  }

  protected override _writeRecordBatch(batch: RecordBatch): this {
    const { byteLength, nodes, bufferRegions, buffers, variadicBufferCounts } = this._assembleRecordBatch(batch);
    const header = new RecordBatchHeader(batch.numRows, nodes, bufferRegions, this._compression, variadicBufferCounts, batch.metadata);
    const message = Message.from(header, byteLength);
    this._writeDictionaries(batch);
    this._writeMessage(message);
    const bodyOffset = this._position;
    this.batchLayouts.push({
      numRows: batch.numRows,
      bodyOffset,
      bodyLength: byteLength,
      buffers: bufferRegions.map((region) => ({ offset: bodyOffset + region.offset, length: region.length })),
    });
    return this._writeBodyBuffers(buffers);
  }
}
