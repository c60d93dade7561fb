// The store writer hashes each file as lamindb would (registry/hash.ts hashFile) while it writes
// it, and versionStats takes those hashes instead of reading a fresh version's files back.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStoreWriter, type CommitResult } from '../../src/main/engine/store';
import { CONTENT_HASH_MAX_BYTES, HashingFileSink, nodeStoreFs } from '../../src/main/engine/store/io/store-fs';
import { HASH_CACHE_DIR, versionStats } from '../../src/main/engine/ops/store-records';
import { HASH_CHUNK_SIZE, hashFile } from '../../src/main/registry/hash';
import { csrBlocks, randomCounts, tempStoreDir } from './store-testkit';

// Every file versionStats reads to hash it (it hashes through registry/hash.ts hashFile).
const hashed = vi.hoisted(() => ({ paths: [] as string[] }));
vi.mock('../../src/main/registry/hash', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/main/registry/hash')>();
  return {
    ...actual,
    hashFile: (path: string, signal?: AbortSignal) => {
      hashed.paths.push(path);
      return actual.hashFile(path, signal);
    },
  };
});

let cleanups: (() => void)[] = [];
beforeEach(() => {
  hashed.paths = [];
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function newDir(): string {
  const { dir, cleanup } = tempStoreDir('content-hashes');
  cleanups.push(cleanup);
  return dir;
}

const matrix1 = randomCounts(600, 70, 1, { density: 0.2 });
const matrix2 = randomCounts(250, 70, 2, { density: 0.2, maxValue: 4000 });
// Small segments, so X is written by the encoding threads too (its bytes forwarded to this thread's files).
const PARALLEL = { threads: 2, minBlockNnz: 0, minSegmentNnz: 300 };

async function writeVersion1(dir: string): Promise<CommitResult> {
  const writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 8, xEncode: PARALLEL });
  await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 600 }, (_, i) => `a${i}`) } }] });
  await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: 70 }, (_, i) => `g${i}`) } }] });
  for (const block of csrBlocks(matrix1, 41, 0)) await writer.appendXRows('RNA', 'data', block);
  return writer.commit();
}

async function appendVersion2(dir: string): Promise<CommitResult> {
  const writer = await createStoreWriter({ dir, baseVersion: 1, xChunkRows: 8 });
  await writer.appendObsRows(600, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 250 }, (_, i) => `b${i}`) } }] });
  for (const block of csrBlocks(matrix2, 30, 600)) await writer.appendXRows('RNA', 'data', block);
  await writer.setObsm('RNA', 'pca', { shape: [850, 2], values: new Float32Array(1700).fill(0.5) });
  return writer.commit({ meta: { step: 'append' } });
}

/** The writer's hashes are hashFile's, for every file the version added and its manifest. */
async function expectHashesOfFiles(dir: string, result: CommitResult): Promise<void> {
  const manifestName = `manifests/${result.manifestPath.split(/[\\/]/).pop()}`;
  expect(Object.keys(result.contentHashes).sort()).toEqual([...result.files, manifestName].sort());
  for (const [name, hash] of Object.entries(result.contentHashes)) {
    const fromDisk = await hashFile(join(dir, name));
    expect(fromDisk.hashType).toBe('md5');
    expect(hash, name).toBe(fromDisk.hash);
  }
}

describe('content hashes made while writing', () => {
  it('uses the limit of md5 hashes that hashFile uses', () => {
    expect(CONTENT_HASH_MAX_BYTES).toBe(HASH_CHUNK_SIZE);
  });

  it('equal the hashes of the files read back, and versionStats reads none of them again', async () => {
    const dir = newDir();
    const v1 = await writeVersion1(dir);
    expect(v1.files.length).toBeGreaterThan(4);
    await expectHashesOfFiles(dir, v1);
    hashed.paths = [];
    const stats1 = await versionStats(dir, 1, undefined, undefined, v1.contentHashes);
    expect(hashed.paths).toEqual([]);

    const v2 = await appendVersion2(dir);
    await expectHashesOfFiles(dir, v2);
    hashed.paths = [];
    // The parent's files from its cached hashes, the new ones from the writer.
    const stats2 = await versionStats(dir, 2, undefined, undefined, v2.contentHashes);
    expect(hashed.paths).toEqual([]);

    // The same statistics as when every file is read and hashed.
    rmSync(join(dir, HASH_CACHE_DIR), { recursive: true });
    const fresh1 = await versionStats(dir, 1);
    expect(hashed.paths.length).toBe(fresh1.nFiles);
    rmSync(join(dir, HASH_CACHE_DIR), { recursive: true });
    hashed.paths = [];
    const fresh2 = await versionStats(dir, 2);
    expect(hashed.paths.length).toBe(fresh2.nFiles);
    expect(fresh1).toEqual(stats1);
    expect(fresh2).toEqual(stats2);
  });

  it("are made up to exactly hashFile's md5 limit, and left to hashFile past it", async () => {
    const dir = newDir();
    mkdirSync(dir, { recursive: true });
    const piece = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < piece.length; i += 97) piece[i] = i & 0xff;
    for (const [name, size] of [['at-limit', CONTENT_HASH_MAX_BYTES], ['past-limit', CONTENT_HASH_MAX_BYTES + 1]] as const) {
      const path = join(dir, name);
      const sink = new HashingFileSink(nodeStoreFs, path);
      let left = size;
      // Pieces that do not divide the limit, so one write crosses it.
      for (let n = 333_333; left > 0; left -= n) sink.write(piece.subarray(0, Math.min(n, left)));
      const written = sink.finish();
      expect(written.size).toBe(size);
      if (size <= HASH_CHUNK_SIZE) expect(written.contentHash).toBe((await hashFile(path)).hash);
      else expect(written.contentHash).toBeNull();
      rmSync(path);
    }
  });
});
