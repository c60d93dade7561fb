// An Arrow IPC file writer that streams its bytes to a sink and records where every
// record batch's buffers landed, so the X reader can decompress one chunk's buffers
// without parsing Arrow metadata.
//
// It also writes the compressed-buffer length prefix as the Arrow spec says (the
// UNcompressed length; apache-arrow 21's own writer puts the compressed length there,
// which other Arrow readers reject).
import { RecordBatchFileWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { FileBlock } from 'apache-arrow/ipc/metadata/file';
import { BufferRegion, FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
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
const CONTINUATION = 0xffffffff;
const EMPTY = new Uint8Array(0);
// Below this size a buffer is stored uncompressed (frame headers would eat any gain).
const MIN_COMPRESSED_BYTES = 64;

export class StoreIpcFileWriter extends RecordBatchFileWriter {
  readonly batchLayouts: BatchLayout[] = [];
  private readonly codec: StoreCodec;
  private readonly level: number | undefined;
  private readonly sink: (bytes: Uint8Array) => void;
  private arena = new Uint8Array(1 << 16);
  /** writeBatch's output: the framed message and body of one batch, reused. */
  private out = new Uint8Array(1 << 16);
  private template: BatchTemplate | null = null;
  /** Where the last batch written by writeBatch put its buffers: (offset, length) pairs, absolute. */
  readonly lastBuffers: number[] = [];
  // writeIdListsBatch's field lengths and body buffers (validity buffers stay empty), reused.
  private readonly idListsNodes = [0, 0, 0, 0, 0];
  private readonly idListsBuffers: Uint8Array[] = Array.from({ length: 10 }, () => EMPTY);

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

  /**
   * Writes one record batch of `schema` (no nulls, no dictionaries) from its body buffers in
   * assembly order (each column's validity, offsets and values; empty for an absent buffer), and
   * `nodeLengths`, each field's length in depth-first order. The bytes are the same apache-arrow's
   * writer makes for that batch, without its per-batch objects: the message is a template made
   * once per layout whose numbers are patched in, and the body is compressed straight into a
   * reused buffer that goes to the sink in one piece. The buffers' positions are in lastBuffers
   * (batchLayouts is not extended).
   */
  writeBatch(schema: Schema, numRows: number, nodeLengths: ArrayLike<number>, buffers: readonly Uint8Array[], metadata?: Map<string, string>): void {
    if (!this._started) this.reset(this._sink, schema);
    else if (schema !== this._schema) throw new Error('writeBatch: every batch of a file has its schema.');
    const template = this.templateFor(nodeLengths.length, buffers.length, metadata);
    const headerBytes = template.bytes.byteLength;
    const zstd = this.codec === 'zstd' && this._compression !== null;
    const compressed = this._compression !== null;
    let needed = headerBytes;
    for (const buffer of buffers) needed += 16 + buffer.byteLength + (zstd ? zstdCompressBound(buffer.byteLength) : 0);
    if (this.out.byteLength < needed) this.out = new Uint8Array(Math.max(needed, this.out.byteLength * 2));
    const out = this.out;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    out.set(template.bytes, 0);
    const spans = this.lastBuffers;
    spans.length = 0;
    // Body offsets are relative to the body, `offset` is the end of the last buffer (an empty
    // buffer is placed there, unaligned, as apache-arrow's writer places it).
    let offset = 0;
    for (let i = 0; i < buffers.length; i++) {
      const bytes = buffers[i]!;
      if (bytes.byteLength === 0) {
        spans.push(offset, 0);
        continue;
      }
      const start = (offset + 7) & ~7;
      const at = headerBytes + start;
      out.fill(0, headerBytes + offset, at);
      if (!compressed) {
        // Uncompressed buffers' regions include their padding.
        const padded = (bytes.byteLength + 7) & ~7;
        out.set(bytes, at);
        out.fill(0, at + bytes.byteLength, at + padded);
        spans.push(start, padded);
        offset = start + padded;
        continue;
      }
      let length = -1;
      if (bytes.byteLength >= MIN_COMPRESSED_BYTES) {
        if (zstd) {
          const packed = zstdCompressInto(out.subarray(at + 8), bytes, this.level);
          if (packed < bytes.byteLength) length = packed;
        } else {
          const packed = compressBuffer(this.codec, bytes, this.level);
          if (packed.byteLength < bytes.byteLength) {
            out.set(packed, at + 8);
            length = packed.byteLength;
          }
        }
      }
      if (length < 0) {
        out.set(bytes, at + 8);
        view.setInt32(at, -1, true);
        view.setInt32(at + 4, -1, true);
        length = bytes.byteLength;
      } else {
        view.setUint32(at, bytes.byteLength >>> 0, true);
        view.setUint32(at + 4, Math.floor(bytes.byteLength / 2 ** 32), true);
      }
      spans.push(start, 8 + length);
      offset = start + 8 + length;
    }
    const bodyLength = (offset + 7) & ~7;
    out.fill(0, headerBytes + offset, headerBytes + bodyLength);
    const at = headerBytes + bodyLength;
    // The message: numbers patched into the template.
    const put = (slot: number, value: number) => {
      view.setUint32(slot, value >>> 0, true);
      view.setUint32(slot + 4, Math.floor(value / 2 ** 32), true);
    };
    const slots = template.slots;
    put(slots[0]!, numRows);
    put(slots[1]!, bodyLength);
    for (let i = 0; i < nodeLengths.length; i++) put(slots[2 + i]!, nodeLengths[i]!);
    const bufferSlots = 2 + nodeLengths.length;
    for (let i = 0; i < buffers.length; i++) {
      put(slots[bufferSlots + 2 * i]!, spans[2 * i]!);
      put(slots[bufferSlots + 2 * i + 1]!, spans[2 * i + 1]!);
    }
    const position = this._position;
    this._recordBatchBlocks.push(new FileBlock(headerBytes, bodyLength, position));
    const bodyOffset = position + headerBytes;
    for (let i = 0; i < spans.length; i += 2) spans[i] += bodyOffset;
    this.sink(out.subarray(0, at));
    this._position += at;
  }

  /**
   * writeBatch for the store's chunk layout (X row chunks, companion batches): an int64 column
   * `ids` and two list columns of `entries` values each (`first`, `second`) sharing `offsets`.
   * With `firstLists`, the first list column has offsets and a length of its own (X's column
   * indices as varint bytes).
   */
  writeIdListsBatch(
    schema: Schema,
    ids: BigInt64Array,
    offsets: Int32Array,
    entries: number,
    first: ArrayBufferView,
    second: ArrayBufferView,
    metadata?: Map<string, string>,
    firstLists?: { offsets: Int32Array; entries: number },
  ): void {
    const n = ids.length;
    const nodes = this.idListsNodes;
    nodes[0] = n;
    nodes[1] = n;
    nodes[2] = firstLists ? firstLists.entries : entries;
    nodes[3] = n;
    nodes[4] = entries;
    const buffers = this.idListsBuffers;
    buffers[1] = bytesOf(ids);
    buffers[3] = bytesOf(firstLists ? firstLists.offsets : offsets);
    buffers[5] = bytesOf(first);
    buffers[7] = bytesOf(offsets);
    buffers[9] = bytesOf(second);
    this.writeBatch(schema, n, nodes, buffers, metadata);
  }

  /** The framed message of a batch with this many nodes and buffers, and where its numbers go. */
  private templateFor(nNodes: number, nBuffers: number, metadata: Map<string, string> | undefined): BatchTemplate {
    const key = `${nNodes},${nBuffers},${metadata ? JSON.stringify([...metadata]) : ''}`;
    if (this.template?.key === key) return this.template;
    // Distinct safe integers whose bytes are found in the encoded message.
    const sentinel = (i: number) => 0x000fa5c3 * 2 ** 32 + (i + 1) * 0x10001;
    let k = 0;
    const numRows = sentinel(k++);
    const bodyLength = sentinel(k++);
    const nodes = Array.from({ length: nNodes }, () => new FieldNode(sentinel(k++), 0));
    const regions = Array.from({ length: nBuffers }, () => new BufferRegion(sentinel(k++), sentinel(k++)));
    const header = new RecordBatchHeader(numRows, nodes, regions, this._compression, [], metadata ?? new Map<string, string>());
    const flatbuffer = Message.encode(Message.from(header, bodyLength));
    const size = (flatbuffer.byteLength + 8 + 7) & ~7;
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, CONTINUATION, true);
    view.setInt32(4, size - 8, true);
    bytes.set(flatbuffer, 8);
    const slots: number[] = [];
    for (let i = 0; i < k; i++) {
      const value = sentinel(i);
      const lo = value >>> 0;
      const hi = Math.floor(value / 2 ** 32);
      let found = -1;
      for (let p = 8; p + 8 <= size; p++) {
        if (view.getUint32(p, true) === lo && view.getUint32(p + 4, true) === hi) {
          if (found >= 0) throw new Error('writeBatch: an ambiguous message template.');
          found = p;
        }
      }
      if (found < 0) throw new Error('writeBatch: a number is missing from the message template.');
      slots.push(found);
    }
    this.template = { key, bytes, slots };
    return this.template;
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

interface BatchTemplate {
  key: string;
  /** Continuation marker, length and flatbuffer message, padded to 8 bytes. */
  bytes: Uint8Array;
  /** Byte positions of numRows, bodyLength, each node's length, and each buffer's offset and length. */
  slots: number[];
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
