// Issue 11, deliverable 4 (store items): a zombie writer counts as dead, taking over a
// stale lock is atomic (a lock another taker created meanwhile is never removed), and a
// reader whose lease cannot be written (read-only or full disk) still reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter, nodeStoreFs, openStore, type StoreFs } from '../../src/main/engine/store';
import { acquireReaderLease, acquireStoreLock, isProcessAlive, liveReaderLeases } from '../../src/main/engine/store/format/lock';
import { tempStoreDir } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function newDir(): string {
  const { dir, cleanup } = tempStoreDir('lock');
  cleanups.push(cleanup);
  nodeStoreFs.mkdirp(dir);
  return dir;
}

function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/**
 * A process that has exited but is never reaped: its parent (a `sleep`) does not wait for children.
 * The child lives a second, long enough for the shell to become that `sleep` first (a shell
 * still running would reap it).
 */
async function makeZombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  cleanups.push(() => parent.kill('SIGKILL'));
  const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  // Wait until the child has exited (it becomes a zombie at once; poll its state, no fixed sleep).
  for (let i = 0; i < 2000 && processState(pid) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 5));
  return { pid, parent };
}

describe('liveness', () => {
  it.runIf(process.platform === 'linux')('a zombie is dead, and its lock is taken over', async () => {
    const { pid } = await makeZombie();
    expect(processState(pid)).toBe('Z');
    expect(() => process.kill(pid, 0)).not.toThrow(); // signal 0 alone would call it alive
    expect(isProcessAlive(pid)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
    const dir = newDir();
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid, host: hostname(), createdAt: '2020-01-01T00:00:00.000Z' }));
    const lock = acquireStoreLock(nodeStoreFs, dir, 'zombie');
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it.runIf(process.platform === 'linux')("a zombie reader's lease does not hold the store", async () => {
    const { pid } = await makeZombie();
    const dir = newDir();
    nodeStoreFs.mkdirp(join(dir, 'readers'));
    writeFileSync(join(dir, 'readers', `${encodeURIComponent(hostname())}~${pid}~1~abc`), '');
    expect(liveReaderLeases(dir)).toEqual([]);
    // Ignored, not removed, unless a writer asks for it.
    expect(readdirSync(join(dir, 'readers'))).toHaveLength(1);
    expect(liveReaderLeases(dir, { removeDead: true })).toEqual([]);
    expect(readdirSync(join(dir, 'readers'))).toEqual([]);
  });
});

describe('stale-lock takeover', () => {
  const staleLock = { pid: 2 ** 22 + 12345, host: hostname(), createdAt: '2020-01-01T00:00:00.000Z' };

  it('never removes a lock another taker created after the stale one was read', () => {
    const dir = newDir();
    const lockPath = join(dir, '.lock');
    writeFileSync(lockPath, JSON.stringify(staleLock));
    expect(isProcessAlive(staleLock.pid)).toBe(false);
    let second: ReturnType<typeof acquireStoreLock> | null = null;
    // The first taker reads the stale lock; right then a second taker takes it over completely.
    const racing: StoreFs = {
      ...nodeStoreFs,
      readFile: (path) => {
        const bytes = nodeStoreFs.readFile(path);
        if (path === lockPath && second === null) second = acquireStoreLock(nodeStoreFs, dir, 'raced');
        return bytes;
      },
    };
    expect(() => acquireStoreLock(racing, dir, 'raced')).toThrow(/^The store raced is being written by another process \(pid \d+\)\.$/);
    expect(second).not.toBeNull();
    // The second taker's lock survived the first taker's takeover attempt, and is still its own to release.
    const held = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number; nonce: string };
    expect(held.pid).toBe(process.pid);
    expect(held.nonce).toMatch(/^[0-9a-f]{12}$/);
    expect(existsSync(join(dir, '.lock.takeover'))).toBe(false);
    second!.release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('waits out a takeover in progress instead of removing the lock under it', () => {
    const dir = newDir();
    writeFileSync(join(dir, '.lock'), JSON.stringify(staleLock));
    // Another live process (this one) is in the middle of a takeover.
    writeFileSync(join(dir, '.lock.takeover'), JSON.stringify({ pid: process.pid, host: hostname(), createdAt: new Date().toISOString() }));
    expect(() => acquireStoreLock(nodeStoreFs, dir, 'busy')).toThrow(/being written by another process/);
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8'))).toEqual(staleLock);
  });

  it('clears a takeover file its dead taker left, then takes the stale lock over', () => {
    const dir = newDir();
    writeFileSync(join(dir, '.lock'), JSON.stringify(staleLock));
    writeFileSync(join(dir, '.lock.takeover'), JSON.stringify({ ...staleLock, pid: staleLock.pid + 1 }));
    const lock = acquireStoreLock(nodeStoreFs, dir, 'cleared');
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    expect(existsSync(join(dir, '.lock.takeover'))).toBe(false);
    lock.release();
  });
});

describe('reader leases', () => {
  it('an open reader holds a lease naming its version, released by close', async () => {
    const dir = newDir();
    const writer = await createStoreWriter({ dir, baseVersion: null });
    await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: ['a', 'b'] } }] });
    await writer.commit();
    const reader = openStore(dir);
    expect(liveReaderLeases(dir).map((l) => [l.pid, l.version, l.host])).toEqual([[process.pid, 1, hostname()]]);
    reader.close();
    expect(liveReaderLeases(dir)).toEqual([]);
  });

  it('a reader still reads when its lease cannot be written (as on a full or read-only disk)', async () => {
    const dir = newDir();
    const writer = await createStoreWriter({ dir, baseVersion: null });
    await writer.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: ['a', 'b'] } }] });
    await writer.commit();
    // `readers` is a file: no lease can be created in it.
    writeFileSync(join(dir, 'readers'), '');
    const reader = openStore(dir);
    expect(reader.obs.column('obs_id')).toEqual({ kind: 'string', values: ['a', 'b'] });
    reader.close();
    expect(acquireReaderLease(dir, 1).release()).toBeUndefined();
  });
});
