// X written by encoding threads (store/x/x-parallel-writer.ts) reads back exactly as X written
// in one thread, and a failure while the threads write leaves only the committed version.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import { createStoreWriter, nodeStoreFs, openStore, verifyStore, type StoreFs } from '../../src/main/engine/store';
import type { XEncodeSettings } from '../../src/main/engine/store/x/x-parallel-writer';
import { FileHasher, HashingFileSink } from '../../src/main/engine/store/io/store-fs';
import { hashFile } from '../../src/main/registry/hash';
import { csrBlocks, randomCounts, tempStoreDir, type ReferenceMatrix } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

// Small segments, so that even this small matrix is spread over both threads in several fragments.
const PARALLEL = { threads: 2, minBlockNnz: 0, minSegmentNnz: 300 };
// One encoding thread (two cores): with a block queued for it, the calling thread encodes the next itself.
const HELPED = { threads: 1, helpQueue: 1, minBlockNnz: 0, minSegmentNnz: 300 };
// One encoding thread that the calling thread only waits for.
const WAITED = { threads: 1, helpQueue: 0, minBlockNnz: 0, minSegmentNnz: 300 };

/** Rows 0–299 small counts, 300–449 counts past 255 (a wider stored type), 450–599 fractional values. */
function mixedMatrix(): ReferenceMatrix {
  const parts = [randomCounts(300, 70, 1, { density: 0.2 }), randomCounts(150, 70, 2, { density: 0.2, maxValue: 4000 }), randomCounts(150, 70, 3, { density: 0.2, fractional: true })];
  return { nRows: 600, nCols: 70, rows: parts.flatMap((p) => p.rows) };
}

async function writeStore(dir: string, matrix: ReferenceMatrix, xEncode: Partial<XEncodeSettings>, fs?: StoreFs): Promise<Record<string, string>> {
  const writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 4, xEncode, fs });
  try {
    await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: matrix.nRows }, (_, i) => `c${i}`) } }] });
    await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: matrix.nCols }, (_, i) => `g${i}`) } }] });
    const blocks: CsrBlock[] = csrBlocks(matrix, 41, 0);
    for (const block of blocks) await writer.appendXRows('RNA', 'data', block);
    // The same rows again as a second layer: segments of two layers share the threads.
    for (const block of blocks) await writer.appendXRows('RNA', 'counts', block);
    return (await writer.commit()).contentHashes;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Writes the mixed matrix with these settings and checks every row, three genes and verify; returns X's fragment count. */
async function writeAndCheck(name: string, xEncode: Partial<XEncodeSettings>): Promise<number> {
  const matrix = mixedMatrix();
  const { dir, cleanup } = tempStoreDir(name);
  cleanups.push(cleanup);
  const contentHashes = await writeStore(dir, matrix, xEncode);
  // The lamindb hashes taken while writing (by the encoding threads for their files) are those of the files on disk.
  const xFiles = readdirSync(join(dir, 'data')).filter((name) => /^x(col|colidx|idx)?-/.test(name));
  expect(xFiles.length).toBeGreaterThan(4);
  for (const name of xFiles) expect(contentHashes[`data/${name}`], name).toBe((await hashFile(join(dir, 'data', name))).hash);
  const reader = openStore(dir);
  cleanups.unshift(() => reader.close());
  const layer = reader.manifest.ms.RNA!.X.data!;
  expect(layer.fragments.map((f) => f.rowStart)).toEqual([...layer.fragments.map((f) => f.rowStart)].sort((a, b) => a - b));
  // Fragments tile the rows: each starts where the one before ends.
  layer.fragments.forEach((f, i) => expect(f.rowStart).toBe(i === 0 ? 0 : layer.fragments[i - 1]!.rowStart + layer.fragments[i - 1]!.nRows));
  expect(layer.fragments.reduce((n, f) => n + f.nRows, 0)).toBe(matrix.nRows);
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
  return layer.fragments.length;
}

describe('X written by encoding threads', () => {
  it('reads back every row and gene exactly, in several fragments, and passes verify', async () => {
    expect(await writeAndCheck('parallel-write', PARALLEL)).toBeGreaterThan(2);
  });

  it('with one encoding thread helped by the calling thread: exact, and cut into more fragments than when it waits', async () => {
    const waited = await writeAndCheck('parallel-write-waited', WAITED);
    const helped = await writeAndCheck('parallel-write-helped', HELPED);
    // Waiting, the thread writes the layer as one segment: a fragment per stored type (3 here).
    expect(waited).toBe(3);
    expect(helped).toBeGreaterThan(waited);
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

  it.each([
    ['two threads', PARALLEL],
    ['one thread helped by the calling thread', HELPED],
  ])('leaves no file behind when a write fails while the threads are writing (%s)', async (_, settings) => {
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
    await expect(writeStore(dir, mixedMatrix(), settings, fullDisk)).rejects.toMatchObject({ code: 'no_space' });
    // Replies already on their way must not open files after the clean-up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(xWrites).toBeGreaterThanOrEqual(2);
    expect(readdirSync(join(dir, 'data'))).toEqual([]);
  });
});

describe('a data file hashed by the thread that made its bytes', () => {
  it('is finished with the checksums of exactly what was written, or not at all', () => {
    const { dir, cleanup } = tempStoreDir('caller-hashed');
    mkdirSync(dir, { recursive: true });
    cleanups.push(cleanup);
    const bytes = new TextEncoder().encode('some bytes of a fragment');
    const hasher = new FileHasher();
    hasher.update(bytes);
    const hashed = hasher.digest();
    const sink = new HashingFileSink(nodeStoreFs, join(dir, 'ok.arrow'), 'caller');
    sink.write(bytes);
    expect(sink.finish(hashed)).toEqual(hashed);
    // The same checksums a sink takes itself.
    const own = new HashingFileSink(nodeStoreFs, join(dir, 'own.arrow'));
    own.write(bytes);
    expect(own.finish()).toEqual(hashed);
    const short = new HashingFileSink(nodeStoreFs, join(dir, 'short.arrow'), 'caller');
    short.write(bytes.subarray(0, 4));
    expect(() => short.finish(hashed)).toThrow(/24 bytes were hashed but 4 written/);
    const unhashed = new HashingFileSink(nodeStoreFs, join(dir, 'unhashed.arrow'), 'caller');
    unhashed.write(bytes);
    expect(() => unhashed.finish()).toThrow(/no checksum was given/);
  });
});
