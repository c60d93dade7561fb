import { Field, Float32, Int32, Int64, List, Schema, Uint16, makeData, tableFromIPC } from 'apache-arrow';
import * as lz4Module from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { lz4FrameCompress, lz4FrameDecompress, registerArrowCodecs, zstdCompress, zstdDecompress, type StoreCodec } from '../../src/main/engine/store/io/codecs';
import { recordBatchOf } from '../../src/main/engine/store/io/data-files';
import { narrowestExactDtype, promoteDtypes } from '../../src/main/engine/store/format/dtypes';
import { StoreIpcFileWriter } from '../../src/main/engine/store/io/ipc-file-writer';
import { xxhash32 } from '../../src/main/engine/store/io/xxhash32';
import { seededRandom } from './store-testkit';

const lz4 = ((lz4Module as unknown as { default?: typeof lz4Module }).default ?? lz4Module) as typeof lz4Module;

function sampleBytes(size: number, seed: number, alphabet: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: size }, () => Math.floor(random() * alphabet));
}

describe('xxhash32', () => {
  it('matches the published test vectors', () => {
    expect(xxhash32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxhash32(new TextEncoder().encode('a'))).toBe(0x550d7456);
    expect(xxhash32(new TextEncoder().encode('abc'))).toBe(0x32d153ff);
    expect(xxhash32(new TextEncoder().encode('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });
});

describe('LZ4 frame codec', () => {
  it.each([
    ['empty', 0, 4],
    ['small compressible', 1000, 4],
    ['incompressible', 70_000, 256],
    ['several 4 MiB blocks', 9 * (1 << 20) + 17, 16],
  ])('round-trips %s data and is readable by an independent LZ4 frame decoder', (_, size, alphabet) => {
    const data = sampleBytes(size, size + 1, alphabet);
    const frame = lz4FrameCompress(data);
    expect(Array.from(frame.subarray(0, 4))).toEqual([0x04, 0x22, 0x4d, 0x18]);
    expect(Buffer.from(lz4FrameDecompress(frame)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(lz4FrameDecompress(frame, size, new Uint8Array(size + 10))).equals(Buffer.from(data))).toBe(true);
    // lz4-napi's frame decoder checks the header checksum byte.
    expect(lz4.decompressFrameSync(Buffer.from(frame)).equals(Buffer.from(data))).toBe(true);
  });

  it('decodes frames written by another encoder', () => {
    const data = sampleBytes(300_000, 7, 8);
    const foreign = lz4.compressFrameSync(Buffer.from(data));
    expect(Buffer.from(lz4FrameDecompress(foreign)).equals(Buffer.from(data))).toBe(true);
  });

  it('rejects a damaged frame with a store error', () => {
    const frame = lz4FrameCompress(sampleBytes(5000, 3, 4));
    frame[0] = 0;
    expect(() => lz4FrameDecompress(frame)).toThrow(/LZ4-compressed buffer .* damaged/);
  });
});

describe('ZSTD codec', () => {
  it('round-trips into a caller buffer and without a known size', () => {
    const data = sampleBytes(123_457, 11, 20);
    const packed = zstdCompress(data);
    expect(packed.length).toBeLessThan(data.length);
    expect(Buffer.from(zstdDecompress(packed)).equals(Buffer.from(data))).toBe(true);
    const out = new Uint8Array(200_000);
    expect(Buffer.from(zstdDecompress(packed, data.length, out)).equals(Buffer.from(data))).toBe(true);
  });

  it('reports a size mismatch as damage', () => {
    const packed = zstdCompress(sampleBytes(1000, 5, 20));
    expect(() => zstdDecompress(packed, 999)).toThrow(/ZSTD-compressed buffer/);
  });
});

describe('Arrow IPC files with body compression', () => {
  it.each(['zstd', 'lz4_frame', 'none'] as StoreCodec[])('%s: prefixes each buffer with its uncompressed length and reads back', (codec) => {
    registerArrowCodecs();
    const parts: Uint8Array[] = [];
    const writer = new StoreIpcFileWriter((bytes) => parts.push(bytes.slice()), codec);
    const schema = new Schema([new Field('a', new Int32(), false), new Field('b', new Float32(), false)]);
    const n = 5000;
    const a = Int32Array.from({ length: n }, (_, i) => i % 17);
    const b = Float32Array.from({ length: n }, (_, i) => i / 4);
    writer.write(recordBatchOf(schema, [makeData({ type: new Int32(), length: n, data: a }), makeData({ type: new Float32(), length: n, data: b })], n));
    const layout = writer.batchLayouts[0];
    writer.finish();
    const bytes = Buffer.concat(parts);
    const table = tableFromIPC(bytes);
    expect(Array.from(table.getChild('a')!.toArray() as Int32Array)).toEqual(Array.from(a));
    expect(Array.from(table.getChild('b')!.toArray() as Float32Array)).toEqual(Array.from(b));
    const valuesOfA = layout.buffers[1];
    if (codec === 'none') {
      expect(valuesOfA.length).toBe(n * 4);
    } else {
      // The Arrow spec: an int64 prefix holding the UNcompressed length (or -1 if stored raw).
      const prefix = bytes.readBigInt64LE(valuesOfA.offset);
      expect(prefix === BigInt(n * 4) || prefix === -1n).toBe(true);
      expect(prefix).toBe(BigInt(n * 4));
    }
  });
});

describe('dtypes', () => {
  it('picks the narrowest exact type for integer-valued data', () => {
    expect(narrowestExactDtype(Float32Array.of(0, 1, 255), 0, 3)).toBe('uint8');
    expect(narrowestExactDtype(Float32Array.of(0, 256), 0, 2)).toBe('uint16');
    expect(narrowestExactDtype(Float32Array.of(-3, 100), 0, 2)).toBe('int8');
    expect(narrowestExactDtype(Float64Array.of(70000, 1), 0, 2)).toBe('uint32');
    expect(narrowestExactDtype(Float32Array.of(1.5), 0, 1)).toBe('float32');
    expect(narrowestExactDtype(Float32Array.of(NaN), 0, 1)).toBe('float32');
    expect(narrowestExactDtype(Float32Array.of(-0), 0, 1)).toBe('float32');
    // Same width is no gain: the own type stays.
    expect(narrowestExactDtype(Int32Array.of(5, 70000), 0, 2)).toBe('int32');
    expect(narrowestExactDtype(Int32Array.of(5, 300), 0, 2)).toBe('uint16');
    expect(narrowestExactDtype(Int32Array.of(-70000), 0, 1)).toBe('int32');
    expect(narrowestExactDtype(BigInt64Array.of(3n, 9n), 0, 2)).toBe('uint8');
    expect(narrowestExactDtype(BigInt64Array.of(2n ** 60n), 0, 1)).toBe('int64');
    // Only the given range counts.
    expect(narrowestExactDtype(Float32Array.of(0.5, 2, 3), 1, 3)).toBe('uint8');
    // Integers past int32, infinities and -0 among ordinary counts.
    expect(narrowestExactDtype(Float64Array.of(1, 3e9, 2), 0, 3)).toBe('uint32');
    expect(narrowestExactDtype(Float64Array.of(1, -3e9), 0, 2)).toBe('float64');
    expect(narrowestExactDtype(Float32Array.of(1, Infinity), 0, 2)).toBe('float32');
    expect(narrowestExactDtype(Float32Array.of(4, -0, 2), 0, 3)).toBe('float32');
    expect(narrowestExactDtype(Float32Array.of(4, 0, 2), 0, 3)).toBe('uint8');
    expect(narrowestExactDtype(Float32Array.of(-2, -0, 3), 0, 3)).toBe('float32');
    expect(narrowestExactDtype(Float64Array.of(7, -0), 0, 2)).toBe('float64');
    expect(narrowestExactDtype(Float64Array.of(-0, 7, 1.5), 0, 2)).toBe('float64');
    expect(narrowestExactDtype(Float64Array.of(-0, 7, 1.5), 1, 2)).toBe('uint8');
  });

  it('promotes like numpy', () => {
    expect(promoteDtypes('float32', 'float64')).toBe('float64');
    expect(promoteDtypes('float32', 'int16')).toBe('float32');
    expect(promoteDtypes('float32', 'int32')).toBe('float64');
    expect(promoteDtypes('uint8', 'int8')).toBe('int16');
    expect(promoteDtypes('uint16', 'int32')).toBe('int32');
    expect(promoteDtypes('uint64', 'int64')).toBe('float64');
    expect(promoteDtypes('int32', 'int64')).toBe('int64');
  });
});

describe('StoreIpcFileWriter.writeBatch', () => {
  // The row-chunk layout: an int64 column and two list columns (validity, offsets, values each).
  const schema = new Schema(
    [
      new Field('soma_dim_0', new Int64(), false),
      new Field('soma_dim_1', new List(new Field('item', new Uint16(), false)), false),
      new Field('soma_data', new List(new Field('item', new Float32(), false)), false),
    ],
    new Map([['cellar.encoding', 'csr-row-chunks']]),
  );
  const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

  function batches(): { nRows: number; ids: BigInt64Array; offsets: Int32Array; indices: Uint16Array; values: Float32Array; metadata?: Map<string, string> }[] {
    const random = seededRandom(7);
    // Tiny (stored raw), empty lists, and large compressible buffers; one batch with its own metadata.
    return [1, 4, 4, 3, 50].map((nRows, b) => {
      const offsets = new Int32Array(nRows + 1);
      for (let r = 0; r < nRows; r++) offsets[r + 1] = offsets[r]! + (b === 2 ? 0 : Math.floor(random() * (b === 4 ? 400 : 30)));
      const nnz = offsets[nRows]!;
      return {
        nRows,
        ids: BigInt64Array.from({ length: nRows }, (_, i) => BigInt(b * 100 + i)),
        offsets,
        indices: Uint16Array.from({ length: nnz }, () => Math.floor(random() * 20)),
        values: Float32Array.from({ length: nnz }, () => Math.floor(random() * 5)),
        ...(b === 3 ? { metadata: new Map([['cellar.group_row_start', '1024']]) } : {}),
      };
    });
  }

  it.each(['zstd', 'lz4_frame', 'none'] as StoreCodec[])('%s: writes the bytes apache-arrow writes, and records where each buffer went', (codec) => {
    registerArrowCodecs();
    const viaArrow: Uint8Array[] = [];
    const reference = new StoreIpcFileWriter((bytes) => viaArrow.push(bytes.slice()), codec);
    const direct: Uint8Array[] = [];
    const writer = new StoreIpcFileWriter((bytes) => direct.push(bytes.slice()), codec);
    const [, indexField, dataField] = schema.fields;
    for (const b of batches()) {
      const nnz = b.indices.length;
      const children = [
        makeData({ type: new Int64(), length: b.nRows, data: b.ids }),
        makeData({ type: indexField!.type as List, length: b.nRows, valueOffsets: b.offsets, child: makeData({ type: new Uint16(), length: nnz, data: b.indices }) }),
        makeData({ type: dataField!.type as List, length: b.nRows, valueOffsets: b.offsets, child: makeData({ type: new Float32(), length: nnz, data: b.values }) }),
      ];
      reference.write(recordBatchOf(schema, children, b.nRows, b.metadata));
      const empty = new Uint8Array(0);
      const offsets = bytesOf(b.offsets);
      writer.writeBatch(schema, b.nRows, [b.nRows, b.nRows, nnz, b.nRows, nnz], [empty, bytesOf(b.ids), empty, offsets, empty, bytesOf(b.indices), empty, offsets, empty, bytesOf(b.values)], b.metadata);
      const layout = reference.batchLayouts[reference.batchLayouts.length - 1]!;
      expect(writer.lastBuffers).toEqual(layout.buffers.flatMap((s) => [s.offset, s.length]));
    }
    reference.finish();
    writer.finish();
    const concat = (parts: Uint8Array[]) => Buffer.concat(parts);
    expect(concat(direct).equals(concat(viaArrow))).toBe(true);
    const table = tableFromIPC(concat(direct));
    expect(table.numRows).toBe(62);
    expect(Number(table.getChild('soma_dim_0')!.get(61))).toBe(449);
  });
});
