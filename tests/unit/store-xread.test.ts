import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import { createStoreWriter, openStore, type StoreCodec, type StoreReader } from '../../src/main/engine/store';
import { rowDecodeHelper, rowDecodeHelperFor } from '../../src/main/engine/store/x/row-decode-host';
import { COLUMN_GROUP_ROWS, GENES_PER_BATCH, MAX_GROUP_ENTRIES } from '../../src/main/engine/store/x/x-column-writer';
import type { XLayerDescription } from '../../src/main/engine/store/x/layer-files';
import { decodeVarintColumns, decodeVarints, skipVarints } from '../../src/main/engine/store/x/varints';
import type { XLayerReader } from '../../src/main/engine/store/x/x-reader';
import { csrBlocks, randomCounts, seededRandom, tempStoreDir, type ReferenceMatrix } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

interface WriteOptions {
  codec?: StoreCodec;
  chunkRows?: number;
  companion?: boolean;
  blockRows?: number;
  makeData?: (values: number[]) => CsrBlock['data'];
  /** Encoding threads (default: as the machine allows); 0 writes the layer as one fragment here. */
  threads?: number;
}

async function writeMatrix(matrix: ReferenceMatrix, options: WriteOptions = {}): Promise<StoreReader> {
  const { dir, cleanup } = tempStoreDir('xread');
  cleanups.push(cleanup);
  const writer = await createStoreWriter({ dir, baseVersion: null, xCodec: options.codec, xChunkRows: options.chunkRows, xColumnCompanion: options.companion, ...(options.threads === undefined ? {} : { xEncode: { threads: options.threads } }) });
  await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: matrix.nRows }, (_, i) => `c${i}`) } }] });
  await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: matrix.nCols }, (_, i) => `g${i}`) } }] });
  for (const block of csrBlocks(matrix, options.blockRows ?? 37, 0, options.makeData)) await writer.appendXRows('RNA', 'data', block);
  await writer.commit();
  const reader = openStore(dir);
  cleanups.unshift(() => reader.close());
  return reader;
}

function expectRows(csr: { indptr: ArrayLike<number>; indices: Int32Array; data: ArrayLike<number | bigint> }, matrix: ReferenceMatrix, rows: number[]) {
  expect(csr.indptr.length).toBe(rows.length + 1);
  rows.forEach((row, i) => {
    const start = Number(csr.indptr[i]);
    const end = Number(csr.indptr[i + 1]);
    expect(Array.from(csr.indices.subarray(start, end)), `row ${row} columns`).toEqual(matrix.rows[row].columns);
    expect(Array.from({ length: end - start }, (_, k) => Number(csr.data[start + k])), `row ${row} values`).toEqual(matrix.rows[row].values);
  });
}

function expectColumns(csc: { indptr: ArrayLike<number>; indices: Int32Array; data: ArrayLike<number | bigint>; shape: [number, number] }, matrix: ReferenceMatrix, genes: number[]) {
  expect(csc.shape).toEqual([matrix.nRows, genes.length]);
  genes.forEach((gene, j) => {
    const expectedRows: number[] = [];
    const expectedValues: number[] = [];
    matrix.rows.forEach((row, r) => {
      const at = row.columns.indexOf(gene);
      if (at >= 0) {
        expectedRows.push(r);
        expectedValues.push(row.values[at]);
      }
    });
    const start = Number(csc.indptr[j]);
    const end = Number(csc.indptr[j + 1]);
    expect(Array.from(csc.indices.subarray(start, end)), `gene ${gene} rows`).toEqual(expectedRows);
    expect(Array.from({ length: end - start }, (_, k) => Number(csc.data[start + k])), `gene ${gene} values`).toEqual(expectedValues);
  });
}

function randomSubset(n: number, k: number, seed: number): number[] {
  const random = seededRandom(seed);
  const picked = new Set<number>();
  while (picked.size < k) picked.add(Math.floor(random() * n));
  return [...picked].sort((a, b) => a - b);
}

describe('X row reads', () => {
  it.each([
    ['zstd, 4-cell chunks', { codec: 'zstd', chunkRows: 4 }],
    ['zstd, 16-cell chunks, blocks unaligned with chunks', { codec: 'zstd', chunkRows: 16, blockRows: 23 }],
    ['lz4 frame', { codec: 'lz4_frame', chunkRows: 8 }],
    ['uncompressed', { codec: 'none', chunkRows: 5 }],
    ['one cell per chunk', { codec: 'zstd', chunkRows: 1, blockRows: 1 }],
  ] as [string, WriteOptions][])('%s: random rows equal the written rows', async (_, options) => {
    const matrix = randomCounts(300, 120, 21, { density: 0.15 });
    const reader = await writeMatrix(matrix, options);
    const rows = randomSubset(300, 60, 5);
    expectRows(await reader.readXRows('RNA', 'data', rows), matrix, rows);
    const all = Array.from({ length: 300 }, (_, i) => i);
    expectRows(await reader.readXRows('RNA', 'data', all), matrix, all);
    // Any order, repeats included: row i of the result is joinids[i].
    const shuffled = [299, 0, 17, 17, 150, 3];
    expectRows(await reader.readXRows('RNA', 'data', shuffled), matrix, shuffled);
    expect((await reader.readXRows('RNA', 'data', [])).indptr).toEqual(Int32Array.of(0));
  });

  it.each([
    ['zstd', 'zstd'],
    ['uncompressed', 'none'],
  ] as [string, StoreCodec][])('%s: column indices as varints of every length (1 to 5 bytes) read back by rows, blocks and genes', async (_, codec) => {
    // 70,000 genes (32-bit deltas): rows whose gaps need 1, 2, 3 and 3+ bytes, an empty row,
    // a row at the last gene only, and random rows.
    const nCols = 70_000;
    const fixed = [
      [0, 1, 2, 127, 255, 256, 16_383 + 256, 16_384 + 16_640, 69_999],
      [],
      [69_999],
      [128],
      [5, 2_097_160, 2_097_161].filter((c) => c < nCols),
      [0, 65_535, 65_536, 65_537],
    ];
    const random = randomCounts(40, nCols, 33, { density: 0.002 });
    const matrix: ReferenceMatrix = { nRows: fixed.length + random.nRows, nCols, rows: [...fixed.map((columns) => ({ columns, values: columns.map((c) => (c % 7) + 1) })), ...random.rows] };
    const reader = await writeMatrix(matrix, { codec, chunkRows: 4, blockRows: 5, companion: true });
    const fragments = reader.manifest.ms.RNA!.X.data!.fragments;
    expect(fragments.map((f) => [f.indexEncoding, f.indexDtype])).toEqual(fragments.map(() => ['varint-delta', 'uint32']));
    expect(reader.manifest.formatVersion).toBe(2);
    const all = Array.from({ length: matrix.nRows }, (_, i) => i);
    expectRows(await reader.readXRows('RNA', 'data', all), matrix, all);
    const some = [0, 2, 5, 17, 45];
    expectRows(await reader.readXRows('RNA', 'data', some), matrix, some);
    const blocks = Array.from(reader.xRowBlocks('RNA', 'data', all, { maxRows: 7 }), (b) => ({ indptr: Int32Array.from(b.indptr), indices: Int32Array.from(b.indices), data: Float64Array.from(b.data as ArrayLike<number>) }));
    const joined = { indptr: [0] as number[], indices: [] as number[], data: [] as number[] };
    for (const b of blocks) {
      for (let r = 1; r < b.indptr.length; r++) joined.indptr.push(joined.indices.length + b.indptr[r]! - b.indptr[0]!);
      joined.indices.push(...b.indices);
      joined.data.push(...b.data);
    }
    expectRows({ indptr: joined.indptr, indices: Int32Array.from(joined.indices), data: joined.data }, matrix, all);
    expectColumns(await reader.readXColumns('RNA', 'data', [0, 128, 65_536, 69_999]), matrix, [0, 128, 65_536, 69_999]);
  });

  it('reads genes whose cells lie far apart in the companion (cell-offset varints of two bytes), across groups', async () => {
    // 5,000 cells (two companion groups of 4,096 and 904): gene 19 only at the cells below,
    // 200 to 2,800 apart; the other genes random.
    const sparse = [0, 200, 3000, 4095, 4096, 4999];
    const base = randomCounts(5000, 19, 44, { density: 0.1 });
    const matrix: ReferenceMatrix = {
      nRows: 5000,
      nCols: 20,
      rows: base.rows.map((row, r) => (sparse.includes(r) ? { columns: [...row.columns, 19], values: [...row.values, (r % 5) + 1] } : row)),
    };
    const reader = await writeMatrix(matrix, { chunkRows: 4, companion: true });
    const fragments = reader.manifest.ms.RNA!.X.data!.fragments;
    expect(fragments.every((f) => f.columns?.indexEncoding === 'varint-delta')).toBe(true);
    expectColumns(await reader.readXColumns('RNA', 'data', [19]), matrix, [19]);
    expectColumns(await reader.readXColumns('RNA', 'data', [0, 3, 18, 19]), matrix, [0, 3, 18, 19]);
    // Cell offsets whose varints never end: a store error naming the companion file.
    const raw = await writeMatrix(matrix, { codec: 'none', chunkRows: 4, companion: true, threads: 0 });
    const companion = raw.manifest.ms.RNA!.X.data!.fragments[0]!.columns!;
    const batches = tableFromIPC(readFileSync(join(raw.dir, companion.indexFile)));
    const path = join(raw.dir, companion.file);
    const bytes = readFileSync(path);
    const from = Number(batches.getChild('rows_offset')!.get(0));
    bytes.fill(0x81, from, from + Number(batches.getChild('rows_length')!.get(0)));
    writeFileSync(path, bytes);
    const damaged = openStore(raw.dir);
    cleanups.unshift(() => damaged.close());
    await expect(damaged.readXColumns('RNA', 'data', [19])).rejects.toMatchObject({ code: 'bad_element', message: `ms/RNA/X/data: a chunk of ${companion.file} holds damaged cell offsets.` });
  });

  it('decodes LEB128 varints up to 32 bits and refuses overlong, oversized or truncated ones', () => {
    const bytes = Uint8Array.of(0x00, 0x7f, 0x80, 0x01, 0xff, 0x7f, 0x80, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f);
    const out = new Uint32Array(6);
    expect(decodeVarints(bytes, bytes.length, 6, out)).toBe(bytes.length);
    expect(Array.from(out)).toEqual([0, 127, 128, 16_383, 16_384, 4_294_967_295]);
    // Past 32 bits, a sixth byte, or a varint cut off by the end.
    expect(decodeVarints(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f), 5, 1, out)).toBe(-1);
    expect(decodeVarints(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 6, 1, out)).toBe(-1);
    expect(decodeVarints(Uint8Array.of(0x05, 0x80), 2, 2, out)).toBe(-1);
    expect(decodeVarints(Uint8Array.of(0x05), 1, 2, out)).toBe(-1);
    // Fewer values than bytes: the count of bytes used tells.
    expect(decodeVarints(Uint8Array.of(0x05, 0x06, 0x07), 3, 2, out)).toBe(2);
  });

  it('skips varints to a row and decodes its columns as running sums, refusing ends past the buffer and columns past 2^31', () => {
    // Entries: 3 | 200 (2 bytes), 1 | 20000 (3 bytes), 0, 7 | 5
    const bytes = Uint8Array.of(0x03, 0xc8, 0x01, 0x01, 0xa0, 0x9c, 0x01, 0x00, 0x07, 0x05, 0xff, 0xff);
    const size = 10;
    expect(skipVarints(bytes, size, 0, 0, 0)).toBe(0);
    expect(skipVarints(bytes, size, 0, 0, 2)).toBe(3);
    expect(skipVarints(bytes, size, 3, 2, 4)).toBe(7);
    expect(skipVarints(bytes, size, 0, 0, 6)).toBe(9);
    expect(skipVarints(bytes, size, 0, 0, 7)).toBe(10);
    expect(skipVarints(bytes, size, 0, 0, 8)).toBe(-1);
    const out = new Int32Array(8).fill(-9);
    expect(decodeVarintColumns(bytes, size, 0, 2, out, 0)).toBe(3);
    expect(decodeVarintColumns(bytes, size, 3, 4, out, 2)).toBe(9);
    expect(Array.from(out.subarray(0, 6))).toEqual([3, 203, 1, 20_001, 20_001, 20_008]);
    // The bytes past `size` (0xff…) are not a varint's: a row running into them is refused.
    expect(decodeVarintColumns(bytes, size, 9, 2, out, 0)).toBe(-1);
    expect(decodeVarintColumns(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x08), 5, 0, 1, out, 0)).toBe(-1);
    expect(decodeVarintColumns(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07), 5, 0, 1, out, 0)).toBe(5);
    expect(out[0]).toBe(2 ** 31 - 1);
  });

  it('stores integer counts narrowly and widens mid-stream when a larger or fractional value arrives', async () => {
    const matrix = randomCounts(200, 50, 8, { density: 0.2, maxValue: 100 });
    matrix.rows[120].values[0] = 3000;
    matrix.rows[170].values[1] = Math.fround(2.5);
    if (matrix.rows[120].columns.length === 0 || matrix.rows[170].columns.length < 2) throw new Error('fixture rows must not be empty');
    const reader = await writeMatrix(matrix, { chunkRows: 8, blockRows: 64 });
    const fragments = reader.manifest.ms.RNA.X.data.fragments;
    expect(fragments.map((f) => f.storedDtype)).toEqual(['uint8', 'uint16', 'float32']);
    expect(fragments.map((f) => f.rowStart)).toEqual([0, 120, 168]);
    expect(fragments.every((f) => f.dtype === 'float32')).toBe(true);
    expect(reader.manifest.encodings).toEqual(expect.arrayContaining(['narrow-values/float32-as-uint8', 'csr-row-chunks/varint-delta-uint16', 'codec/zstd']));
    const all = Array.from({ length: 200 }, (_, i) => i);
    const csr = await reader.readXRows('RNA', 'data', all);
    expect(csr.data).toBeInstanceOf(Float32Array);
    expectRows(csr, matrix, all);
    expectColumns(await reader.readXColumns('RNA', 'data', [0, 1, 49]), matrix, [0, 1, 49]);
  });

  it('keeps float64 and int64 data exact', async () => {
    const matrix = randomCounts(40, 30, 9, { density: 0.3 });
    matrix.rows[3].values = matrix.rows[3].values.map((v) => v + 1e-12);
    const asFloat64 = await writeMatrix(matrix, { makeData: (v) => Float64Array.from(v) });
    const csr = await asFloat64.readXRows('RNA', 'data', [3, 4]);
    expect(csr.data).toBeInstanceOf(Float64Array);
    expectRows(csr, matrix, [3, 4]);
    const ints = randomCounts(40, 30, 10, { density: 0.3 });
    const asInt64 = await writeMatrix(ints, { makeData: (v) => BigInt64Array.from(v, (x) => BigInt(x)) });
    const bigRows = await asInt64.readXRows('RNA', 'data', [0, 39]);
    expect(bigRows.data).toBeInstanceOf(BigInt64Array);
    expectRows(bigRows, ints, [0, 39]);
  });

  it('sorts unsorted column indices within a row', async () => {
    const { dir, cleanup } = tempStoreDir('unsorted');
    cleanups.push(cleanup);
    const writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 2 });
    await writer.appendObsRows(0, { columns: [{ name: 'id', column: { kind: 'string', values: ['a', 'b', 'c'] } }] });
    await writer.appendVarRows('RNA', 0, { columns: [{ name: 'id', column: { kind: 'string', values: ['g0', 'g1', 'g2', 'g3'] } }] });
    await writer.appendXRows('RNA', 'data', { rowStart: 0, nRows: 3, nCols: 4, indptr: Int32Array.of(0, 3, 4, 6), indices: Int32Array.of(3, 0, 2, 1, 2, 0), data: Float32Array.of(30, 0.5, 20, 10, 22, 2) });
    await writer.commit();
    const csr = await openStore(dir).readXRows('RNA', 'data', [0, 1, 2]);
    expect(Array.from(csr.indices)).toEqual([0, 2, 3, 1, 0, 2]);
    expect(Array.from(csr.data as Float32Array)).toEqual([0.5, 20, 30, 10, 2, 22]);
  });

  it('uses 32-bit column indices past 65,536 vars', async () => {
    const nCols = 70_000;
    const matrix: ReferenceMatrix = {
      nRows: 5,
      nCols,
      rows: [
        { columns: [0, 65_535, 65_536, 69_999], values: [1, 2, 3, 4] },
        { columns: [], values: [] },
        { columns: [12], values: [5] },
        { columns: [69_000], values: [6] },
        { columns: [1, 66_000], values: [7, 8] },
      ],
    };
    const reader = await writeMatrix(matrix, { chunkRows: 2 });
    expect(reader.manifest.ms.RNA.X.data.fragments[0].indexDtype).toBe('uint32');
    expectRows(await reader.readXRows('RNA', 'data', [0, 1, 2, 3, 4]), matrix, [0, 1, 2, 3, 4]);
    expectColumns(await reader.readXColumns('RNA', 'data', [69_999, 66_000, 5]), matrix, [69_999, 66_000, 5]);
  });

  it('reports a truncated or damaged fragment as a store error, never a crash', async () => {
    const matrix = randomCounts(200, 40, 3, { density: 0.3 });
    const reader = await writeMatrix(matrix, { chunkRows: 4 });
    const fragment = reader.manifest.ms.RNA.X.data.fragments[0];
    const path = join(reader.dir, fragment.file);
    const bytes = readFileSync(path);
    // Garbage in the middle: values may come back wrong (no checksums in Arrow), but reads end.
    for (let i = Math.floor(bytes.length / 3); i < Math.floor(bytes.length / 3) + 64; i++) bytes[i] ^= 0x5a;
    writeFileSync(path, bytes);
    const damaged = openStore(reader.dir);
    await damaged.readXRows('RNA', 'data', Array.from({ length: 200 }, (_, i) => i)).then(
      (csr) => expect(csr.nRows).toBe(200),
      (err) => expect(err).toBeInstanceOf(CellarError),
    );
    damaged.close();
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const truncated = openStore(reader.dir);
    await expect(truncated.readXRows('RNA', 'data', [199])).rejects.toMatchObject({ code: 'bad_element', message: expect.stringContaining('points outside') });
    truncated.close();
  });

  it('reports column indices whose varints run past their chunk as damaged, by rows, blocks and a full decode', async () => {
    const matrix = randomCounts(40, 300, 6, { density: 0.2 });
    // No companion: gene reads decode whole chunks of rows.
    const reader = await writeMatrix(matrix, { codec: 'none', chunkRows: 4, companion: false });
    const fragment = reader.manifest.ms.RNA!.X.data!.fragments[0]!;
    const x = (reader as unknown as { xReader(m: string, l: string): XLayerReader }).xReader('RNA', 'data');
    const index = (x as unknown as { files: { chunkIndex(f: typeof fragment): { indexOffset: Float64Array; indexLength: Float64Array } } }).files.chunkIndex(fragment);
    // The first chunk's varints all continued (high bit set): none of them ends in its bytes.
    const path = join(reader.dir, fragment.file);
    const bytes = readFileSync(path);
    bytes.fill(0x81, index.indexOffset[0]!, index.indexOffset[0]! + index.indexLength[0]!);
    writeFileSync(path, bytes);
    const message = `ms/RNA/X/data: a chunk of ${fragment.file} holds damaged column indices.`;
    const damaged = openStore(reader.dir);
    cleanups.unshift(() => damaged.close());
    await expect(damaged.readXRows('RNA', 'data', [1])).rejects.toMatchObject({ code: 'bad_element', message });
    expect(() => Array.from(damaged.xRowBlocks('RNA', 'data', [0, 1, 2]))).toThrow(message);
    await expect(damaged.readXColumns('RNA', 'data', [7])).rejects.toMatchObject({ code: 'bad_element', message });
    // Rows of other chunks read as written.
    expectRows(await damaged.readXRows('RNA', 'data', [4, 39]), matrix, [4, 39]);
  });

  it('rejects joinids outside obs', async () => {
    const reader = await writeMatrix(randomCounts(10, 5, 1));
    await expect(reader.readXRows('RNA', 'data', [10])).rejects.toMatchObject({ code: 'bad_element', message: 'ms/RNA/X/data: obs joinid 10 is outside 0..9.' });
    await expect(reader.readXColumns('RNA', 'data', [5])).rejects.toMatchObject({ code: 'bad_element' });
    await expect(reader.readXRows('RNA', 'nope', [1])).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('X row blocks', () => {
  it('streams the requested rows in ascending order within row and entry limits, reusing memory', async () => {
    const matrix = randomCounts(400, 80, 44, { density: 0.2 });
    const reader = await writeMatrix(matrix, { chunkRows: 4 });
    const wanted = randomSubset(400, 150, 9).reverse();
    const seen: number[] = [];
    let buffer: ArrayBufferLike | null = null;
    let blocks = 0;
    for (const block of reader.xRowBlocks('RNA', 'data', wanted, { maxRows: 40, maxEntries: 300 })) {
      blocks++;
      expect(block.nRows).toBeLessThanOrEqual(40);
      expect(block.indices.length <= 300 || block.nRows === 1).toBe(true);
      expect(block.rowStart).toBe(seen.length);
      const rows = Array.from(block.joinids);
      expectRows(block, matrix, rows);
      seen.push(...rows);
      if (buffer && block.indices.length > 0) expect(block.indices.buffer).toBe(buffer);
      if (block.indices.length > 0) buffer ??= block.indices.buffer;
    }
    expect(seen).toEqual([...wanted].sort((a, b) => a - b));
    expect(blocks).toBeGreaterThan(150 / 40);
  });
});

describe('X row reads shared with a second thread', () => {
  it('decode half of a large read in the helper thread into shared memory, equal to the rows written', async () => {
    const matrix = randomCounts(500, 90, 61, { density: 0.2 });
    const reader = await writeMatrix(matrix, { chunkRows: 4, blockRows: 111 });
    const x = (reader as unknown as { xReader(m: string, l: string): XLayerReader }).xReader('RNA', 'data');
    expect(rowDecodeHelper()).not.toBeNull();
    // A helper for every read with entries, however small.
    const helper = () => rowDecodeHelper();
    for (const rows of [randomSubset(500, 200, 3), randomSubset(500, 200, 4).reverse(), [499, 0, 250, 250, 7, 498, 1], Array.from({ length: 500 }, (_, i) => i)]) {
      const csr = await x.readRowsShared(rows, helper);
      expect(csr.indices.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(csr.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expectRows(csr, matrix, rows);
      expect(csr.indptr).toEqual(x.readRows(rows).indptr);
    }
    // Reads below the size where a second thread pays stay on this thread.
    const small = await x.readRowsShared([1, 2, 3], rowDecodeHelperFor);
    expect(small.indices.buffer).toBeInstanceOf(ArrayBuffer);
    expectRows(small, matrix, [1, 2, 3]);
  });

  it('start the helper only for a read worth its start-up; once it runs it takes smaller reads too', async () => {
    vi.resetModules();
    const host = await import('../../src/main/engine/store/x/row-decode-host');
    expect(host.rowDecodeHelperFor(5_000_000)).toBeNull();
    const started = host.rowDecodeHelperFor(20_000_000);
    expect(started).not.toBeNull();
    expect(host.rowDecodeHelperFor(5_000_000)).toBe(started);
    expect(host.rowDecodeHelperFor(1_000_000)).toBeNull();
  });

  it('once running, take reads decoded ahead from 500,000 entries, and open a layer they are told to prepare (one that cannot be opened changes nothing)', async () => {
    vi.resetModules();
    const host = await import('../../src/main/engine/store/x/row-decode-host');
    // Cold (the thread compiles TypeScript from source): only for a large read.
    expect(host.rowDecodeHelperAheadFor(1_000_000)).toBeNull();
    const started = host.rowDecodeHelperFor(20_000_000)!;
    expect(started).not.toBeNull();
    expect(host.rowDecodeHelperAheadFor(600_000)).toBe(started);
    expect(host.rowDecodeHelperAheadFor(400_000)).toBeNull();
    const matrix = randomCounts(400, 60, 12, { density: 0.25 });
    const reader = await writeMatrix(matrix, { chunkRows: 4 });
    const x = (reader as unknown as { xReader(m: string, l: string): XLayerReader }).xReader('RNA', 'data');
    const prepare = (started as unknown as { prepare(layer: XLayerDescription): void }).prepare.bind(started);
    prepare({ ...x.describe(), dir: join(reader.dir, 'no-such-folder') });
    prepare(x.describe());
    const rows = randomSubset(400, 150, 9);
    const csr = await x.readRowsShared(rows, () => started);
    expect(csr.indices.buffer).toBeInstanceOf(SharedArrayBuffer);
    expectRows(csr, matrix, rows);
  });

  it('do not keep a process alive: one that started the helper thread and did nothing else exits', () => {
    const script = "import('./src/main/engine/store/x/row-decode-host.ts').then((m) => { m.rowDecodeHelper(); console.log('started'); })";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8', timeout: 30_000 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('started');
  });

  it('report a damaged fragment found by the helper thread as a store error', async () => {
    const matrix = randomCounts(300, 50, 8, { density: 0.3 });
    const reader = await writeMatrix(matrix, { chunkRows: 4 });
    const fragment = reader.manifest.ms.RNA!.X.data!.fragments[0]!;
    const path = join(reader.dir, fragment.file);
    const bytes = readFileSync(path);
    // Damage the second half of the file: the helper decodes the later rows.
    for (let i = Math.floor(bytes.length * 0.6); i < bytes.length * 0.9; i++) bytes[i] ^= 0x5a;
    writeFileSync(path, bytes);
    const fresh = openStore(reader.dir);
    cleanups.unshift(() => fresh.close());
    const damaged = (fresh as unknown as { xReader(m: string, l: string): XLayerReader }).xReader('RNA', 'data');
    const all = Array.from({ length: 300 }, (_, i) => i);
    await expect(damaged.readRowsShared(all, () => rowDecodeHelper())).rejects.toBeInstanceOf(CellarError);
  });
});

describe('X column reads', () => {
  it.each([
    ['with the column companion', true],
    ['by scanning row chunks', false],
  ])('%s: genes over all cells equal the written values', async (_, companion) => {
    // More than one group of cells (4,096 each, the last shorter) and more than one batch of genes (64 each).
    const matrix = randomCounts(9000, 300, 33, { density: 0.03 });
    const reader = await writeMatrix(matrix, { companion, chunkRows: 4, blockRows: 500 });
    const fragment = reader.manifest.ms.RNA.X.data.fragments[0];
    expect(Boolean(fragment.columns)).toBe(companion);
    if (companion) expect(fragment.columns).toMatchObject({ groupRows: COLUMN_GROUP_ROWS, genesPerBatch: GENES_PER_BATCH, nBatches: 3 * 5 });
    const genes = [299, 0, 257, 256, 255, 12, 12, 63, 64, 127, 128, 295];
    expectColumns(await reader.readXColumns('RNA', 'data', genes), matrix, genes);
  });

  it('a store whose companion has the earlier layout (1,024 cells × 256 genes a batch) reads the same genes', async () => {
    const reader = openStore(join(__dirname, '../fixtures/stores/companion-1024x256'));
    cleanups.unshift(() => reader.close());
    const fragment = reader.manifest.ms.RNA.X.data.fragments[0];
    expect(fragment.columns).toMatchObject({ groupRows: 1024, genesPerBatch: 256, nBatches: 3 * 2 });
    const matrix = randomCounts(2100, 300, 41, { density: 0.02 });
    const genes = [0, 255, 256, 299, 63, 64, 170, 170];
    expectColumns(await reader.readXColumns('RNA', 'data', genes), matrix, genes);
    expectRows(await reader.readXRows('RNA', 'data', [0, 1023, 1024, 2099]), matrix, [0, 1023, 1024, 2099]);
  });

  it.each([
    // 8,192 genes: the group reaches 2^23 entries at 1,024 rows, inside the fourth block of 300.
    { nRows: 1030, nCols: 8192, blockRows: 300, groups: [1024, 6] },
    // 8,000 genes: 1,048 rows (8,384,000 entries) fill a block exactly; the next row does not fit.
    { nRows: 1100, nCols: 8000, blockRows: 1048, groups: [1048, 52] },
  ])('a group of dense rows ends at MAX_GROUP_ENTRIES entries ($nCols genes), and its genes read back whole', async ({ nRows, nCols, blockRows, groups }) => {
    const value = (r: number, c: number) => 1 + ((r * 31 + c * 7) % 97);
    const matrix = {
      nRows,
      nCols,
      rows: Array.from({ length: nRows }, (_, r) => ({
        columns: Array.from({ length: nCols }, (_, c) => c),
        values: Array.from({ length: nCols }, (_, c) => value(r, c)),
      })),
    };
    // One fragment, whatever the cores: encoding threads (or the calling thread helping one) cut the layer where blocks end.
    const reader = await writeMatrix(matrix, { companion: true, chunkRows: 4, blockRows, threads: 0 });
    expect(reader.manifest.ms.RNA.X.data.fragments).toHaveLength(1);
    const companion = reader.manifest.ms.RNA.X.data.fragments[0].columns!;
    const batchesPerGroup = Math.ceil(nCols / GENES_PER_BATCH);
    expect(companion.nBatches).toBe(groups.length * batchesPerGroup);
    // Each group's size, from the batch index (one row per batch).
    const index = tableFromIPC(readFileSync(join(reader.dir, companion.indexFile)));
    const groupRows = Array.from(index.getChild('group_rows')!.toArray() as Int32Array);
    expect(groupRows).toEqual(groups.flatMap((rows) => Array<number>(batchesPerGroup).fill(rows)));
    expect(groups[0]! * nCols).toBeLessThanOrEqual(MAX_GROUP_ENTRIES);
    expect((groups[0]! + 1) * nCols).toBeGreaterThan(MAX_GROUP_ENTRIES);
    const genes = [0, 63, 64, 4000, nCols - 1];
    const csc = await reader.readXColumns('RNA', 'data', genes);
    genes.forEach((gene, j) => {
      const start = Number(csc.indptr[j]);
      expect(Number(csc.indptr[j + 1]) - start).toBe(nRows);
      expect(Array.from(csc.indices.subarray(start, start + nRows))).toEqual(Array.from({ length: nRows }, (_, r) => r));
      expect(Array.from(csc.data.subarray(start, start + nRows) as Float32Array)).toEqual(Array.from({ length: nRows }, (_, r) => value(r, gene)));
    });
  });
});
