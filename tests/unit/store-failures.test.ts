import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter, nodeStoreFs, openStore, type StoreFs } from '../../src/main/engine/store';
import { HashingFileSink } from '../../src/main/engine/store/io/store-fs';
import { csrBlocks, randomCounts, snapshotFolder, tempStoreDir } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

type Operation = 'createExclusive' | 'write' | 'fsync' | 'rename' | 'fsyncDir';

/** node:fs that counts every operation; the n-th call of `operation` fails like a full disk. */
function failingFs(operation: Operation, failOn: number, counts: Record<Operation, number>): StoreFs {
  const step = (name: Operation) => {
    counts[name]++;
    if (name === operation && counts[name] === failOn) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, ${name}`), { code: 'ENOSPC' });
    }
  };
  return {
    ...nodeStoreFs,
    createExclusive: (path) => (step('createExclusive'), nodeStoreFs.createExclusive(path)),
    write: (fd, bytes) => (step('write'), nodeStoreFs.write(fd, bytes)),
    fsync: (fd) => (step('fsync'), nodeStoreFs.fsync(fd)),
    // Data files are synced on another thread: its failure reaches the commit.
    fsyncLater: async (fd) => {
      step('fsync');
      await nodeStoreFs.fsyncLater!(fd);
    },
    rename: (from, to) => (step('rename'), nodeStoreFs.rename(from, to)),
    fsyncDir: (path) => (step('fsyncDir'), nodeStoreFs.fsyncDir(path)),
  };
}

const matrix1 = randomCounts(120, 40, 1, { density: 0.2 });
const matrix2 = randomCounts(90, 40, 2, { density: 0.2 });

async function makeVersion1(dir: string): Promise<void> {
  const writer = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 8 });
  await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 120 }, (_, i) => `a${i}`) } }] });
  await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: 40 }, (_, i) => `g${i}`) } }] });
  for (const block of csrBlocks(matrix1, 50, 0)) await writer.appendXRows('RNA', 'data', block);
  await writer.commit();
}

/** The append of version 2, through `fs`. */
async function appendVersion2(dir: string, fs: StoreFs): Promise<void> {
  const writer = await createStoreWriter({ dir, baseVersion: 1, fs, xChunkRows: 8 });
  await writer.appendObsRows(120, { columns: [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 90 }, (_, i) => `b${i}`) } }] });
  for (const block of csrBlocks(matrix2, 30, 120)) await writer.appendXRows('RNA', 'data', block);
  await writer.setObsm('RNA', 'pca', { shape: [210, 2], values: new Float32Array(420).fill(0.5) });
  await writer.commit({ meta: { step: 'append' } });
}

function newDir(): string {
  const { dir, cleanup } = tempStoreDir('failures');
  cleanups.push(cleanup);
  return dir;
}

describe('a disk that fills up mid-write', () => {
  it('knows how many operations an append makes (so the failure points below are real)', async () => {
    const dir = newDir();
    await makeVersion1(dir);
    const counts: Record<Operation, number> = { createExclusive: 0, write: 0, fsync: 0, rename: 0, fsyncDir: 0 };
    await appendVersion2(dir, failingFs('write', -1, counts));
    // Lock, x, xidx, xcol, xcolidx, obs, obsm, the temp manifest.
    expect(counts.createExclusive).toBe(8);
    expect(counts.write).toBeGreaterThanOrEqual(8);
    expect(counts.rename).toBe(1);
    expect(openStore(dir).version).toBe(2);
  });

  it.each([
    ['the lock file', 'createExclusive', 1],
    ['the first data file', 'createExclusive', 2],
    ['a later data file', 'createExclusive', 5],
    ['the first write', 'write', 2],
    ['a middle write', 'write', 4],
    ['the manifest write', 'write', 'last'],
    ['a data fsync', 'fsync', 1],
    ['the manifest fsync', 'fsync', 'last'],
    ['the folder fsync before the manifest', 'fsyncDir', 1],
    ['the rename that commits', 'rename', 1],
  ] as [string, Operation, number | 'last'][])('failing at %s leaves version 1 intact and no partial manifest', async (_, operation, at) => {
    const dir = newDir();
    await makeVersion1(dir);
    let failOn = at;
    if (at === 'last') {
      const counts: Record<Operation, number> = { createExclusive: 0, write: 0, fsync: 0, rename: 0, fsyncDir: 0 };
      const probe = newDir();
      await makeVersion1(probe);
      await appendVersion2(probe, failingFs(operation, -1, counts));
      failOn = counts[operation];
    }
    const before = snapshotFolder(dir);
    const counts: Record<Operation, number> = { createExclusive: 0, write: 0, fsync: 0, rename: 0, fsyncDir: 0 };
    const attempt = appendVersion2(dir, failingFs(operation, failOn as number, counts));
    await expect(attempt).rejects.toMatchObject({ code: 'no_space', message: expect.stringMatching(/^The disk is full: could not write /) });
    expect(counts[operation]).toBeGreaterThanOrEqual(failOn as number);
    // Exactly the files of version 1 remain, unchanged; no temp manifest, no lock.
    expect(snapshotFolder(dir)).toEqual(before);
    expect(readdirSync(join(dir, 'manifests'))).toEqual(['v000001.json']);
    const reader = openStore(dir);
    expect(reader.version).toBe(1);
    const csr = await reader.readXRows('RNA', 'data', [0, 119]);
    expect(Array.from(csr.indices.subarray(0, Number(csr.indptr[1])))).toEqual(matrix1.rows[0].columns);
    // And the store can be written again.
    await appendVersion2(dir, nodeStoreFs);
    expect(openStore(dir).nObs).toBe(210);
  });
});

it('keeps the new version when only the final folder fsync after the commit rename fails', async () => {
  const dir = newDir();
  await makeVersion1(dir);
  const counts: Record<Operation, number> = { createExclusive: 0, write: 0, fsync: 0, rename: 0, fsyncDir: 0 };
  await expect(appendVersion2(dir, failingFs('fsyncDir', 2, counts))).rejects.toMatchObject({ code: 'no_space' });
  // The rename is the commit point: version 2 exists and reads fully.
  expect(readdirSync(join(dir, 'manifests')).sort()).toEqual(['v000001.json', 'v000002.json']);
  const reader = openStore(dir);
  expect(reader.version).toBe(2);
  expect((await reader.readObsm('RNA', 'pca')).shape).toEqual([210, 2]);
  expect(existsSync(join(dir, '.lock'))).toBe(false);
});

describe('the store lock', () => {
  it('refuses a second writer while the first is open and frees the store on commit', async () => {
    const dir = newDir();
    const first = await createStoreWriter({ dir, baseVersion: null, storeKey: 'pbmc' });
    await expect(createStoreWriter({ dir, baseVersion: null, storeKey: 'pbmc' })).rejects.toMatchObject({
      code: 'locked',
      message: `The store pbmc is being written by another process (pid ${process.pid}).`,
    });
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await first.appendObsRows(0, { columns: [{ name: 'x', column: { kind: 'numeric', dtype: 'int32', values: Int32Array.of(1) } }] });
    await first.commit();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    const second = await createStoreWriter({ dir, baseVersion: 1 });
    await second.abort();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('refuses while another live process holds the lock', async () => {
    const dir = newDir();
    await makeVersion1(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: child.pid, host: hostname(), createdAt: new Date().toISOString() }));
      await expect(createStoreWriter({ dir, baseVersion: 1, storeKey: 'atlas' })).rejects.toMatchObject({
        code: 'locked',
        message: `The store atlas is being written by another process (pid ${child.pid}).`,
      });
    } finally {
      child.kill();
    }
  });

  it('takes over the lock of a writer that died', async () => {
    const dir = newDir();
    await makeVersion1(dir);
    const dead = spawnSync(process.execPath, ['-e', '0']);
    expect(dead.pid).toBeGreaterThan(0);
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: dead.pid, host: hostname(), createdAt: '2020-01-01T00:00:00.000Z' }));
    const writer = await createStoreWriter({ dir, baseVersion: 1 });
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    await writer.abort();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });
});

it('writes the manifest only once every data file it names is synced (the syncs run on other threads)', async () => {
  const dir = newDir();
  await makeVersion1(dir);
  const events: string[] = [];
  let pending = 0;
  const slowSyncs: StoreFs = {
    ...nodeStoreFs,
    fsyncLater: async (fd) => {
      pending++;
      await new Promise((resolve) => setTimeout(resolve, 40));
      await nodeStoreFs.fsyncLater!(fd);
      pending--;
      events.push('data synced');
    },
    rename: (from, to) => {
      events.push(`rename with ${pending} syncs pending`);
      nodeStoreFs.rename(from, to);
    },
  };
  await appendVersion2(dir, slowSyncs);
  expect(events.filter((e) => e === 'data synced').length).toBeGreaterThanOrEqual(4);
  expect(events[events.length - 1]).toBe('rename with 0 syncs pending');
  expect(openStore(dir).version).toBe(2);
});

it('syncs in place once 64 files are being synced on other threads, and those syncs still settle', async () => {
  const dir = newDir();
  mkdirSync(dir, { recursive: true });
  const releases: (() => void)[] = [];
  let inPlace = 0;
  const heldSyncs: StoreFs = {
    ...nodeStoreFs,
    fsync: (fd) => {
      inPlace++;
      nodeStoreFs.fsync(fd);
    },
    fsyncLater: (fd) =>
      new Promise<void>((resolve, reject) => {
        releases.push(() => nodeStoreFs.fsyncLater!(fd).then(resolve, reject));
      }),
  };
  const synced: Promise<void>[] = [];
  for (let i = 0; i < 66; i++) {
    const sink = new HashingFileSink(heldSyncs, join(dir, `f${i}.arrow`));
    sink.write(Uint8Array.of(i));
    const finished = sink.finishLater();
    expect(finished.written.size).toBe(1);
    synced.push(finished.synced);
  }
  expect(releases.length).toBe(64);
  expect(inPlace).toBe(2);
  for (const release of releases) release();
  await Promise.all(synced);
  // Every descriptor is closed once synced: a new file still opens, and the next syncs go to other threads again.
  const after = new HashingFileSink(heldSyncs, join(dir, 'after.arrow'));
  after.write(Uint8Array.of(1));
  const last = after.finishLater();
  expect(releases.length).toBe(65);
  releases[64]!();
  await last.synced;
  expect(inPlace).toBe(2);
});
