// An Arrow IPC file writer that streams its bytes to a sink and records where every
// record batch's buffers landed, so the X reader can decompress one chunk's buffers
// without parsing Arrow metadata.
//
// It also writes the compressed-buffer length prefix as the Arrow spec says (the
// UNcompressed length; apache-arrow 21's own writer puts the compressed length there,
// which other Arrow readers reject).
import { RecordBatchFileWriter, type RecordBatch } from 'apache-arrow';
import { BufferRegion, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { arrowCompressionType, compressBuffer, zstdCompressBound, zstdCompressInto, type StoreCodec } from './codecs';

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
const EMPTY = new Uint8Array(0);
// Below this size a buffer is stored uncompressed (frame headers would eat any gain).
const MIN_COMPRESSED_BYTES = 64;

export class StoreIpcFileWriter extends RecordBatchFileWriter {
  readonly batchLayouts: BatchLayout[] = [];
  private readonly codec: StoreCodec;
  private readonly level: number | undefined;
  private readonly sink: (bytes: Uint8Array) => void;
  private arena = new Uint8Array(1 << 16);

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

  /**
   * Compresses a batch's buffers into one reused arena (the batch is written out before the next
   * is assembled). Tiny buffers are stored raw: a compressed frame would not be smaller.
   */
  protected override _compressBodyBuffers(buffers: ArrayBufferView[]) {
    let needed = 0;
    for (const buffer of buffers) needed += 16 + (this.codec === 'zstd' ? zstdCompressBound(buffer.byteLength) : 0);
    if (this.arena.byteLength < needed) this.arena = new Uint8Array(Math.max(needed, this.arena.byteLength * 2));
    const arena = this.arena;
    const view = new DataView(arena.buffer, arena.byteOffset, arena.byteLength);
    let used = 0;
    let offset = 0;
    const compressed: ArrayBufferView[] = [];
    const regions: BufferRegion[] = [];
    for (const buffer of buffers) {
      const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      if (bytes.byteLength === 0) {
        compressed.push(EMPTY, EMPTY);
        regions.push(new BufferRegion(offset, 0));
        continue;
      }
      const prefixAt = used;
      used += 8;
      let body: Uint8Array = bytes;
      if (bytes.byteLength >= MIN_COMPRESSED_BYTES) {
        if (this.codec === 'zstd') {
          const length = zstdCompressInto(arena.subarray(used), bytes, this.level);
          if (length < bytes.byteLength) {
            body = arena.subarray(used, used + length);
            used += length;
          }
        } else {
          const packed = compressBuffer(this.codec, bytes, this.level);
          if (packed.byteLength < bytes.byteLength) body = packed;
        }
      }
      view.setBigInt64(prefixAt, body === bytes ? UNCOMPRESSED : BigInt(bytes.byteLength), true);
      compressed.push(arena.subarray(prefixAt, prefixAt + 8), body);
      offset = (offset + 7) & ~7;
      regions.push(new BufferRegion(offset, 8 + body.byteLength));
      offset += 8 + body.byteLength;
    }
    return { byteLength: (offset + 7) & ~7, bufferRegions: regions, buffers: compressed };
  }

  protected override _writeRecordBatch(batch: RecordBatch): this {
    // Dictionaries first: their compression reuses the arena this batch's buffers will occupy.
    this._writeDictionaries(batch);
    const { byteLength, nodes, bufferRegions, buffers, variadicBufferCounts } = this._assembleRecordBatch(batch);
    const header = new RecordBatchHeader(batch.numRows, nodes, bufferRegions, this._compression, variadicBufferCounts, batch.metadata);
    const message = Message.from(header, byteLength);
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
