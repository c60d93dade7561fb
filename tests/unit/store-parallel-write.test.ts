// X written by encoding threads (store/x/x-parallel-writer.ts) reads back exactly as X written
// in one thread, and a failure while the threads write leaves only the committed version.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import { createStoreWriter, nodeStoreFs, openStore, verifyStore, type StoreFs } from '../../src/main/engine/store';
import { csrBlocks, randomCounts, tempStoreDir, type ReferenceMatrix } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

// Small segments, so that even this small matrix is spread over both threads in several fragments.
const PARALLEL = { threads: 2, minBlockNnz: 0, minSegmentNnz: 300 };

/** Rows 0–299 small counts, 300–449 counts past 255 (a wider stored type), 450–599 fractional values. */
function mixedMatrix(): ReferenceMatrix {
  const parts = [randomCounts(300, 70, 1, { density: 0.2 }), randomCounts(150, 70, 2, { density: 0.2, maxValue: 4000 }), randomCounts(150, 70, 3, { density: 0.2, fractional: true })];
  return { nRows: 600, nCols: 70, rows: parts.flatMap((p) => p.rows) };
}

async function writeStore(dir: string, matrix: ReferenceMatrix, xEncode: typeof PARALLEL | { threads: 0 }, fs?: StoreFs): Promise<void> {
  const writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 4, xEncode, fs });
  try {
    await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: matrix.nRows }, (_, i) => `c${i}`) } }] });
    await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: matrix.nCols }, (_, i) => `g${i}`) } }] });
    const blocks: CsrBlock[] = csrBlocks(matrix, 41, 0);
    for (const block of blocks) await writer.appendXRows('RNA', 'data', block);
    // The same rows again as a second layer: segments of two layers share the threads.
    for (const block of blocks) await writer.appendXRows('RNA', 'counts', block);
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

describe('X written by encoding threads', () => {
  it('reads back every row and gene exactly, in several fragments, and passes verify', async () => {
    const matrix = mixedMatrix();
    const { dir, cleanup } = tempStoreDir('parallel-write');
    cleanups.push(cleanup);
    await writeStore(dir, matrix, PARALLEL);
    const reader = openStore(dir);
    cleanups.unshift(() => reader.close());
    const layer = reader.manifest.ms.RNA!.X.data!;
    expect(layer.fragments.length).toBeGreaterThan(2);
    expect(layer.fragments.map((f) => f.rowStart)).toEqual([...layer.fragments.map((f) => f.rowStart)].sort((a, b) => a - b));
    expect(layer.dtype).toBe('float32');
    const all = Array.from({ length: matrix.nRows }, (_, i) => i);
    for (const name of ['data', 'counts']) {
      const csr = await reader.readXRows('RNA', name, all);
      for (const row of all) {
        const start = csr.indptr[row]!;
        const end = csr.indptr[row + 1]!;
        expect(Array.from(csr.indices.subarray(start, end)), `row ${row}`).toEqual(matrix.rows[row]!.columns);
        expect(Array.from(csr.data.subarray(start, end) as Float32Array), `row ${row}`).toEqual(matrix.rows[row]!.values);
      }
    }
    const genes = [0, 33, 69];
    const csc = await reader.readXColumns('RNA', 'data', genes);
    genes.forEach((gene, j) => {
      const rows = matrix.rows.flatMap((row, r) => (row.columns.includes(gene) ? [r] : []));
      expect(Array.from(csc.indices.subarray(csc.indptr[j]!, csc.indptr[j + 1]!))).toEqual(rows);
    });
    const verified = await verifyStore(dir);
    expect(verified.problems).toEqual([]);
    expect(verified.garbage).toEqual([]);
  });

  it('writes the same values as one thread does', async () => {
    const matrix = mixedMatrix();
    const one = tempStoreDir('parallel-write-one');
    const two = tempStoreDir('parallel-write-two');
    cleanups.push(one.cleanup, two.cleanup);
    await writeStore(one.dir, matrix, { threads: 0 });
    await writeStore(two.dir, matrix, PARALLEL);
    const [a, b] = [openStore(one.dir), openStore(two.dir)];
    cleanups.unshift(() => a.close(), () => b.close());
    const all = Array.from({ length: matrix.nRows }, (_, i) => i);
    const [x, y] = [await a.readXRows('RNA', 'data', all), await b.readXRows('RNA', 'data', all)];
    expect(Array.from(y.indptr)).toEqual(Array.from(x.indptr));
    expect(Array.from(y.indices)).toEqual(Array.from(x.indices));
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(x.data as Float32Array));
  });

  it('leaves no file behind when a write fails while the threads are writing', async () => {
    const { dir, cleanup } = tempStoreDir('parallel-write-full');
    cleanups.push(cleanup);
    // The disk fills up at the second write of X files (their bytes come from the threads).
    const xFiles = new Set<number>();
    let xWrites = 0;
    const fullDisk: StoreFs = {
      ...nodeStoreFs,
      createExclusive: (path) => {
        const fd = nodeStoreFs.createExclusive(path);
        if (/[\\/]x-[0-9a-f]+\.arrow$/.test(path)) xFiles.add(fd);
        return fd;
      },
      write: (fd, bytes) => {
        if (xFiles.has(fd) && ++xWrites === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        nodeStoreFs.write(fd, bytes);
      },
    };
    await expect(writeStore(dir, mixedMatrix(), PARALLEL, fullDisk)).rejects.toMatchObject({ code: 'no_space' });
    // Replies already on their way must not open files after the clean-up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(xWrites).toBeGreaterThanOrEqual(2);
    expect(readdirSync(join(dir, 'data'))).toEqual([]);
  });
});
