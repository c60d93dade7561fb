// One writer per store: a `.lock` file holding the writer's pid. A lock whose process
// has died is taken over; a live one refuses the second writer.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { LOCK_FILE } from './manifest';
import { storeWriteError, type StoreFs } from './storeFs';

export interface StoreLock {
  readonly path: string;
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  createdAt: string;
}

/** Whether a process with this pid runs on this machine. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A lock without readable content may be one another writer has just created.
const UNREADABLE_LOCK_GRACE_MS = 60_000;

function isOlderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return true;
  }
}

function readOwner(storeFs: StoreFs, path: string): LockOwner | null {
  try {
    const owner = JSON.parse(storeFs.readFile(path).toString('utf8')) as LockOwner;
    return typeof owner.pid === 'number' ? owner : null;
  } catch {
    return null;
  }
}

export function acquireStoreLock(storeFs: StoreFs, dir: string, storeKey = basename(dir)): StoreLock {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), createdAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = storeFs.createExclusive(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeWriteError(err, `the lock file of store ${storeKey}`);
      const owner = readOwner(storeFs, path);
      // A lock from another machine (shared folder) cannot be checked, so it is respected.
      const stale = owner === null ? isOlderThan(path, UNREADABLE_LOCK_GRACE_MS) : owner.host === me.host && !isProcessAlive(owner.pid);
      if (attempt === 0 && stale) {
        // A dead writer's lock, or one whose writer died before filling it in.
        try {
          storeFs.unlink(path);
        } catch {
          // Someone else took it over first; the next attempt reports them.
        }
        continue;
      }
      const who = owner ? `pid ${owner.pid}` : 'pid unknown';
      throw new CellarError('locked', `The store ${storeKey} is being written by another process (${who}).`);
    }
    try {
      storeFs.write(fd, Buffer.from(JSON.stringify(me)));
    } catch (err) {
      storeFs.close(fd);
      storeFs.unlink(path);
      throw storeWriteError(err, `the lock file of store ${storeKey}`);
    }
    storeFs.close(fd);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        const owner = readOwner(storeFs, path);
        if (owner && owner.pid === me.pid && owner.createdAt === me.createdAt) storeFs.unlink(path);
      },
    };
  }
  throw new CellarError('locked', `The store ${storeKey} is being written by another process (pid unknown).`);
}
