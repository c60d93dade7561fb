// Fixed row blocks of a store layer (optionally a column subset), and PCA reading them: on the
// calling thread, or with each worker thread reading its own partitions from the store.
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter, openStore, type StoreReader } from '../../src/main/engine/store';
import { LayerBlockReader, rowBlocksAhead } from '../../src/main/engine/store/x/layer-blocks';
import { XLayerFiles } from '../../src/main/engine/store/x/layer-files';
import { CLAIMED_BY_HELPER, CLAIMED_HERE, DECODED_BY_HELPER, decodeSortedRows, decodeUnlessClaimed, type RowDecodeHelper, type RowDecodeRequest } from '../../src/main/engine/store/x/row-reads';
import { layerRowSource } from '../../src/main/engine/ops/embed';
import { randomizedPca } from '../../src/main/engine/linalg/pca';
import { livePcaWorkerCount } from '../../src/main/engine/linalg/pca-executors';
import type { CsrRowBlock, RowBlockSource } from '../../src/main/engine/linalg/csr';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import { csrBlocks, randomCounts, tempStoreDir, type ReferenceMatrix } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

async function storeOf(matrix: ReferenceMatrix, makeData?: (values: number[]) => CsrBlock['data']): Promise<StoreReader> {
  const { dir, cleanup } = tempStoreDir('layer-blocks');
  cleanups.push(cleanup);
  const writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 16 });
  await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: matrix.nRows }, (_, i) => `c${i}`) } }] });
  await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: matrix.nCols }, (_, i) => `g${i}`) } }] });
  // Two write blocks of different sizes: the layer's fragments need not line up with read blocks.
  for (const block of csrBlocks(matrix, 333, 0, makeData)) await writer.appendXRows('RNA', 'data', block);
  await writer.commit();
  const reader = openStore(dir);
  cleanups.unshift(() => reader.close());
  return reader;
}

/** The reference rows [start, end) restricted to `columns` (renumbered), as plain arrays. */
function expectedRows(matrix: ReferenceMatrix, start: number, end: number, columns?: number[]): { columns: number[]; values: number[] }[] {
  const rows = [];
  for (let r = start; r < end; r++) {
    const row = matrix.rows[r];
    if (!columns) rows.push({ columns: row.columns, values: row.values });
    else {
      const kept = row.columns.map((c, k) => [columns.indexOf(c), row.values[k]]).filter(([p]) => p >= 0);
      rows.push({ columns: kept.map(([p]) => p), values: kept.map(([, v]) => v) });
    }
  }
  return rows;
}

function rowsOf(block: { nRows: number; indptr: ArrayLike<number>; indices: Int32Array; data: ArrayLike<number | bigint> }): { columns: number[]; values: number[] }[] {
  return Array.from({ length: block.nRows }, (_, r) => {
    const start = Number(block.indptr[r]);
    const end = Number(block.indptr[r + 1]);
    return { columns: Array.from(block.indices.subarray(start, end)), values: Array.from({ length: end - start }, (_, k) => Number(block.data[start + k])) };
  });
}

describe('LayerBlockReader', () => {
  const matrix = randomCounts(1000, 60, 21, { density: 0.2 });

  it('reads fixed blocks of rows, the last one shorter, equal to the rows written', async () => {
    const reader = await storeOf(matrix);
    const blocks = new LayerBlockReader(reader.layerBlockSpec('RNA', 'data', 128));
    expect(blocks.blockCount).toBe(8);
    const seen: number[] = [];
    for (const block of blocks.blocks()) {
      seen.push(block.rowStart);
      expect(block.nCols).toBe(60);
      expect(block.nRows).toBe(Math.min(128, 1000 - block.rowStart));
      expect(rowsOf(block)).toEqual(expectedRows(matrix, block.rowStart, block.rowStart + block.nRows));
    }
    expect(seen).toEqual([0, 128, 256, 384, 512, 640, 768, 896]);
    blocks.close();
  });

  it('reads only the wanted blocks, and keeps only the given columns renumbered in order', async () => {
    const reader = await storeOf(matrix);
    const columns = [0, 3, 4, 17, 40, 59];
    const blocks = new LayerBlockReader(reader.layerBlockSpec('RNA', 'data', 100, Uint32Array.from(columns)));
    const seen: number[] = [];
    for (const block of blocks.blocks((b) => b % 3 === 1)) {
      seen.push(block.rowStart);
      expect(block.nCols).toBe(6);
      expect(rowsOf(block)).toEqual(expectedRows(matrix, block.rowStart, block.rowStart + block.nRows, columns));
    }
    expect(seen).toEqual([100, 400, 700]);
    blocks.close();
  });

  it('reads across fragments of several versions and rows that have no entry in the layer', async () => {
    const { dir, cleanup } = tempStoreDir('layer-blocks-versions');
    cleanups.push(cleanup);
    const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `c${from + i}`);
    // Version 1: rows 0–599 with X; version 2: rows 600–799 without X; version 3: rows 800–999 with X.
    let writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 4 });
    await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: ids(0, 600) } }] });
    await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: 60 }, (_, i) => `g${i}`) } }] });
    const first = { ...matrix, nRows: 600, rows: matrix.rows.slice(0, 600) };
    for (const block of csrBlocks(first, 250, 0)) await writer.appendXRows('RNA', 'data', block);
    await writer.commit();
    writer = await createStoreWriter({ dir, baseVersion: 1, xChunkRows: 4 });
    await writer.appendObsRows(600, { columns: [{ name: 'obs_id', column: { kind: 'string', values: ids(600, 200) } }] });
    await writer.commit();
    writer = await createStoreWriter({ dir, baseVersion: 2, xChunkRows: 4 });
    await writer.appendObsRows(800, { columns: [{ name: 'obs_id', column: { kind: 'string', values: ids(800, 200) } }] });
    const last = { ...matrix, nRows: 200, rows: matrix.rows.slice(800, 1000) };
    for (const block of csrBlocks(last, 90, 800)) await writer.appendXRows('RNA', 'data', block);
    await writer.commit();
    const reader = openStore(dir);
    cleanups.unshift(() => reader.close());
    expect(reader.manifest.ms.RNA!.X.data!.fragments.length).toBe(2);
    const expected = (start: number, end: number, columns?: number[]) => expectedRows(matrix, start, end, columns).map((row, i) => (start + i >= 600 && start + i < 800 ? { columns: [], values: [] } : row));
    for (const columns of [undefined, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59]]) {
      const blocks = new LayerBlockReader(reader.layerBlockSpec('RNA', 'data', 150, columns && Uint32Array.from(columns)));
      let rows = 0;
      for (const block of blocks.blocks()) {
        expect(rowsOf(block)).toEqual(expected(block.rowStart, block.rowStart + block.nRows, columns));
        rows += block.nRows;
      }
      expect(rows).toBe(1000);
      blocks.close();
    }
  });

  it('keeps given columns of an int64 layer too, exactly', async () => {
    const reader = await storeOf(matrix, (values) => BigInt64Array.from(values, (v) => BigInt(v)));
    const columns = [1, 4, 9, 16, 25, 36, 49];
    const blocks = new LayerBlockReader(reader.layerBlockSpec('RNA', 'data', 128, Uint32Array.from(columns)));
    let rows = 0;
    for (const block of blocks.blocks()) {
      expect(block.data).toBeInstanceOf(BigInt64Array);
      expect(rowsOf(block)).toEqual(expectedRows(matrix, block.rowStart, block.rowStart + block.nRows, columns));
      rows += block.nRows;
    }
    expect(rows).toBe(1000);
    blocks.close();
  });

  it('refuses columns that are not ascending var joinids of the layer', async () => {
    const reader = await storeOf(matrix);
    expect(() => new LayerBlockReader(reader.layerBlockSpec('RNA', 'data', 100, Uint32Array.from([5, 2])))).toThrow(/ascending var joinids below 60/);
    expect(() => new LayerBlockReader(reader.layerBlockSpec('RNA', 'data', 100, Uint32Array.from([5, 60])))).toThrow(/ascending var joinids below 60/);
  });
});

describe('rowBlocksAhead', () => {
  const matrix = randomCounts(700, 40, 5, { density: 0.3 });

  /**
   * The layer's files for this thread, and a helper that decodes as the helper thread does (on
   * this thread, from files of its own), recording the first row of each block it is asked for.
   */
  function filesAndRecordingHelper(reader: StoreReader): { files: XLayerFiles; helper: RowDecodeHelper; asked: number[] } {
    const spec = reader.layerBlockSpec('RNA', 'data', 1);
    const files = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    cleanups.unshift(() => files.close());
    const helperFiles = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    cleanups.unshift(() => helperFiles.close());
    const asked: number[] = [];
    const helper = {
      async decode(r: RowDecodeRequest) {
        asked.push(r.from);
        decodeSortedRows(helperFiles, r.sorted, r.starts, r.from, r.to, r.indices, r.data);
      },
    };
    return { files, helper, asked };
  }

  it('yields the same blocks as rowBlocks, each decoded by the helper one block ahead', async () => {
    const reader = await storeOf(matrix);
    const { files, helper, asked } = filesAndRecordingHelper(reader);
    const joinids = Array.from({ length: 300 }, (_, i) => (i * 7) % 700).sort((a, b) => a - b);
    const seen: { rowStart: number; rows: ReturnType<typeof rowsOf> }[] = [];
    for await (const block of rowBlocksAhead(files, joinids, () => helper, { maxRows: 64, maxEntries: 500 })) {
      seen.push({ rowStart: block.rowStart, rows: rowsOf(block) });
      // The next block is already asked for while this one is handled.
      if (block.rowStart + block.nRows < joinids.length) expect(asked.length).toBe(seen.length + 1);
    }
    // Each xRowBlocks block is valid until the next: read it out at once.
    const expected = Array.from(reader.xRowBlocks('RNA', 'data', joinids, { maxRows: 64, maxEntries: 500 }), (b) => ({ rowStart: b.rowStart, rows: rowsOf(b) }));
    expect(seen).toEqual(expected);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.flatMap((b) => b.rows)).toEqual(joinids.map((j) => expectedRows(matrix, j, j + 1)[0]));
  });

  it('with more slots, asks for that many blocks less one ahead, and yields the same blocks', async () => {
    const reader = await storeOf(matrix);
    const { files, helper, asked } = filesAndRecordingHelper(reader);
    const joinids = Array.from({ length: 700 }, (_, i) => i);
    const seen: ReturnType<typeof rowsOf>[] = [];
    let blocks = 0;
    for await (const block of rowBlocksAhead(files, joinids, () => helper, { maxRows: 50, slots: 4 })) {
      blocks++;
      // Block b is handed out with blocks up to b + 3 asked for (never more than there are).
      expect(asked.length).toBe(Math.min(blocks + 3, 14));
      seen.push(rowsOf(block));
    }
    expect(blocks).toBe(14);
    expect(asked).toEqual(Array.from({ length: 14 }, (_, b) => b * 50));
    expect(seen.flat()).toEqual(expectedRows(matrix, 0, 700));
  });

  it('decoding here too: each block goes to the thread that claims it first, and the blocks are the same', async () => {
    const reader = await storeOf(matrix);
    const spec = reader.layerBlockSpec('RNA', 'data', 1);
    const files = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    cleanups.unshift(() => files.close());
    const helperFiles = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    cleanups.unshift(() => helperFiles.close());
    const joinids = Array.from({ length: 330 }, (_, i) => (i * 13) % 700).sort((a, b) => a - b);
    const expected = Array.from(reader.xRowBlocks('RNA', 'data', joinids, { maxRows: 30, maxEntries: 400 }), (b) => ({ rowStart: b.rowStart, rows: rowsOf(b) }));
    const n = expected.length;
    expect(n).toBeGreaterThan(6);
    /**
     * A helper that takes up the requests for blocks `atOnce` picks as soon as they are made
     * (ahead of this thread) and the others only on a later turn of the event loop, as a thread
     * still starting would: by then this thread has claimed and decoded them. With `slow`, the
     * blocks it takes at once are claimed at once but decoded only two turns later (the helper
     * busy with them when this thread wants them).
     */
    const run = async (atOnce: (block: number) => boolean, slow = false) => {
      let claims: Int32Array | undefined;
      const decodedByHelper: number[] = [];
      const late: Promise<void>[] = [];
      const decode = (r: RowDecodeRequest) => {
        decodedByHelper.push(r.claim!);
        decodeSortedRows(helperFiles, r.sorted, r.starts, r.from, r.to, r.indices, r.data);
      };
      const later = (work: () => void, turns = 1) => {
        const done = new Promise<void>((resolve) => {
          const turn = (left: number) => setImmediate(() => (left > 1 ? turn(left - 1) : resolve(work())));
          turn(turns);
        });
        late.push(done);
        return done;
      };
      const helper = {
        async decode(r: RowDecodeRequest) {
          claims = r.claims;
          if (!atOnce(r.claim!)) return later(() => decodeUnlessClaimed(r, () => decode(r)));
          if (!slow) return decodeUnlessClaimed(r, () => decode(r));
          // Claimed now, decoded two turns later (what decodeUnlessClaimed does, split in two):
          // after the requests for the next blocks have had their turn.
          if (Atomics.compareExchange(r.claims!, r.claim!, 0, CLAIMED_BY_HELPER) !== 0) return;
          return later(() => {
            decode(r);
            Atomics.store(r.claims!, r.claim!, DECODED_BY_HELPER);
          }, 2);
        },
      };
      const seen: { rowStart: number; rows: ReturnType<typeof rowsOf> }[] = [];
      for await (const block of rowBlocksAhead(files, joinids, () => helper, { maxRows: 30, maxEntries: 400, decodeHere: true })) seen.push({ rowStart: block.rowStart, rows: rowsOf(block) });
      await Promise.all(late);
      return { seen, claims: Array.from(claims!), decodedByHelper: decodedByHelper.sort((x, y) => x - y) };
    };
    const everyThird = (b: number) => b % 3 === 0;
    // A helper that keeps up takes every block (each is asked for ahead); one still starting
    // takes none; one that keeps up with some blocks takes those and this thread the rest.
    const keepsUp = await run(() => true);
    const starting = await run(() => false);
    const some = await run(everyThird);
    // A helper still decoding block b when this thread wants it: this thread decodes b + 1 and
    // b + 2 meanwhile (without that, they would be left to the helper after its block b).
    const busy = await run(everyThird, true);
    const byEveryThird = Array.from({ length: n }, (_, b) => (everyThird(b) ? DECODED_BY_HELPER : CLAIMED_HERE));
    expect(keepsUp.claims).toEqual(Array.from({ length: n }, () => DECODED_BY_HELPER));
    expect(keepsUp.decodedByHelper).toEqual(Array.from({ length: n }, (_, b) => b));
    expect(starting.claims).toEqual(Array.from({ length: n }, () => CLAIMED_HERE));
    expect(starting.decodedByHelper).toEqual([]);
    expect(some.claims).toEqual(byEveryThird);
    expect(busy.claims).toEqual(byEveryThird);
    expect(busy.decodedByHelper).toEqual(Array.from({ length: n }, (_, b) => b).filter(everyThird));
    for (const { seen } of [keepsUp, starting, some, busy]) {
      expect(seen).toEqual(expected);
      expect(seen.flatMap((b) => b.rows)).toEqual(joinids.map((j) => expectedRows(matrix, j, j + 1)[0]));
    }
  });

  it('surfaces a failed decode at its block, and an early stop waits for the decodes still under way', async () => {
    const reader = await storeOf(matrix);
    const spec = reader.layerBlockSpec('RNA', 'data', 1);
    const files = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    cleanups.unshift(() => files.close());
    const joinids = Array.from({ length: 700 }, (_, i) => i);
    const failing = { decode: async (r: RowDecodeRequest) => (r.from === 100 ? Promise.reject(new Error('block 2 is damaged')) : undefined) };
    const handed: number[] = [];
    await expect(
      (async () => {
        for await (const block of rowBlocksAhead(files, joinids, () => failing, { maxRows: 50, slots: 4 })) handed.push(block.rowStart);
      })(),
    ).rejects.toThrow('block 2 is damaged');
    expect(handed).toEqual([0, 50]);
    // Stopping after the first block: the three blocks asked for ahead are waited for first.
    const settled: number[] = [];
    const slow = {
      decode: (r: RowDecodeRequest) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            settled.push(r.from);
            resolve();
          }, 5),
        ),
    };
    for await (const block of rowBlocksAhead(files, joinids, () => slow, { maxRows: 50, slots: 4 })) {
      expect(block.rowStart).toBe(0);
      break;
    }
    expect(settled).toEqual([0, 50, 100, 150]);
  });

  it('decodes on the calling thread when no helper is offered', async () => {
    const reader = await storeOf(matrix);
    const spec = reader.layerBlockSpec('RNA', 'data', 1);
    const files = new XLayerFiles(spec.dir, spec.label, spec.layer, spec.nObs, spec.nVars);
    cleanups.unshift(() => files.close());
    const rows = [];
    for await (const block of rowBlocksAhead(files, [5, 1, 600], () => null, { maxRows: 2 })) rows.push(...rowsOf(block));
    expect(rows).toEqual([1, 5, 600].map((j) => expectedRows(matrix, j, j + 1)[0]));
  });
});

describe('PCA of a store layer', () => {
  // Cell-type structure so that the leading components are well separated.
  const matrix = randomCounts(2400, 80, 5, { density: 0.15, maxValue: 30 });
  for (let r = 0; r < matrix.nRows; r++) {
    const type = r % 4;
    matrix.rows[r].values = matrix.rows[r].values.map((v, k) => (matrix.rows[r].columns[k] % 4 === type ? v * 5 : v));
  }

  /** The same matrix and the same row blocks, from memory. */
  function inMemory(columns?: number[]): RowBlockSource {
    const nCols = columns ? columns.length : matrix.nCols;
    return {
      nRows: matrix.nRows,
      nCols,
      *rowBlocks(): Iterable<CsrRowBlock> {
        for (let start = 0; start < matrix.nRows; start += 300) {
          const rows = expectedRows(matrix, start, Math.min(matrix.nRows, start + 300), columns);
          const indptr = new Int32Array(rows.length + 1);
          rows.forEach((row, i) => (indptr[i + 1] = indptr[i] + row.columns.length));
          yield { rowStart: start, nRows: rows.length, nCols, indptr, indices: Int32Array.from(rows.flatMap((r) => r.columns)), data: Float32Array.from(rows.flatMap((r) => r.values)) };
        }
      },
    };
  }

  for (const columns of [undefined, [1, 2, 5, 8, 13, 21, 34, 40, 41, 42, 55, 70, 79]]) {
    it(`gives identical results whether the workers read the store, are sent its blocks, or read memory (${columns ? 'column subset' : 'all columns'})`, async () => {
      const reader = await storeOf(matrix);
      const source = () => layerRowSource(reader, 'RNA', 'data', { rowsPerBlock: 300, columns: columns && Uint32Array.from(columns) });
      expect(source().workerBlocks).toBeDefined();
      const options = { nComponents: 5, seed: 4 };
      const reference = await randomizedPca(inMemory(columns), { ...options, threads: 1 });
      const inline = await randomizedPca(source(), { ...options, threads: 1 });
      const workersRead = await randomizedPca(source(), { ...options, threads: 2 });
      const workersStream = await randomizedPca(source(), { ...options, threads: 2, memoryBudgetBytes: 1 });
      const { workerBlocks: _, ...sent } = source();
      const workersSent = await randomizedPca(sent, { ...options, threads: 2 });
      for (const other of [inline, workersRead, workersStream, workersSent]) {
        expect(other.scores).toEqual(reference.scores);
        expect(other.explainedVariance).toEqual(reference.explainedVariance);
      }
      expect(reference.scores.length).toBe(2400 * 5);
      expect(reference.explainedVariance[0]).toBeGreaterThan(reference.explainedVariance[1]);
      expect(livePcaWorkerCount()).toBe(0);
    });
  }

  it('keeps only the selected genes after one more read when just they fit, with the same results everywhere', async () => {
    const reader = await storeOf(matrix);
    const source = () => layerRowSource(reader, 'RNA', 'data', { rowsPerBlock: 300 });
    // The whole layer (~29,000 entries, 8 bytes each) does not fit; its 20 most variable genes do.
    const options = { nComponents: 4, seed: 2, genes: 20, normalize: true, memoryBudgetBytes: 120_000 };
    const reference = await randomizedPca(inMemory(), { ...options, threads: 1, memoryBudgetBytes: undefined });
    for (const threads of [1, 2]) {
      const result = await randomizedPca(source(), { ...options, threads });
      expect(result.genesUsed).toEqual(reference.genesUsed);
      expect(result.scores).toEqual(reference.scores);
      expect(result.explainedVariance).toEqual(reference.explainedVariance);
    }
    expect(livePcaWorkerCount()).toBe(0);
  });

  it('reports progress of a pass the workers read themselves, up to every row', async () => {
    const reader = await storeOf(matrix);
    const statistics: number[] = [];
    await randomizedPca(layerRowSource(reader, 'RNA', 'data', { rowsPerBlock: 300 }), {
      nComponents: 3,
      threads: 2,
      onProgress: (p) => {
        if (p.phase === 'statistics') statistics.push(p.done);
      },
    });
    expect(statistics.length).toBeGreaterThanOrEqual(2);
    expect(statistics[statistics.length - 1]).toBe(2400);
    expect([...statistics].sort((a, b) => a - b)).toEqual(statistics);
  });
});
