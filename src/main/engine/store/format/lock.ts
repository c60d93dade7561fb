// One writer per store: a `.lock` file holding the writer's pid. A lock whose process
// has died is taken over; a live one refuses the second writer. Readers do not lock: each
// open version leaves a lease in `readers/`, so compact keeps the files they read.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import { LOCK_FILE } from './manifest';
import { storeWriteError, type StoreFs } from '../io/store-fs';

export interface StoreLock {
  readonly path: string;
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  createdAt: string;
  /** Tells two locks of one pid apart (the generation a takeover checks). */
  nonce?: string;
}

/**
 * Whether a process with this pid runs on this machine. A zombie (exited, not yet reaped by
 * its parent) is dead: it will never release anything.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** Linux: state Z (zombie) or X (dead) in /proc/PID/stat. Elsewhere: not known, so no. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The command name (field 2) is in parentheses and may hold spaces: the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

// A lock without readable content may be one another writer has just created.
const UNREADABLE_LOCK_GRACE_MS = 60_000;
// A takeover takes milliseconds; a takeover file this old was left by a process that died in it.
const TAKEOVER_GRACE_MS = 10_000;
const TAKEOVER_FILE = `${LOCK_FILE}.takeover`;

function isOlderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(path).mtimeMs > ms;
  } catch {
    return true;
  }
}

function readOwnerText(storeFs: StoreFs, path: string): string | null {
  try {
    return storeFs.readFile(path).toString('utf8');
  } catch {
    return null;
  }
}

function parseOwner(text: string | null): LockOwner | null {
  if (text === null) return null;
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner.pid === 'number' ? owner : null;
  } catch {
    return null;
  }
}

function isStale(owner: LockOwner | null, path: string, graceMs: number): boolean {
  // A lock from another machine (shared folder) cannot be checked, so it is respected.
  return owner === null ? isOlderThan(path, graceMs) : owner.host === hostname() && !isProcessAlive(owner.pid);
}

function writeOwnerFile(storeFs: StoreFs, path: string, owner: LockOwner, what: string): void {
  const fd = storeFs.createExclusive(path);
  try {
    storeFs.write(fd, Buffer.from(JSON.stringify(owner)));
  } catch (err) {
    storeFs.close(fd);
    storeFs.unlink(path);
    throw storeWriteError(err, what);
  }
  storeFs.close(fd);
}

/**
 * Removes the stale lock whose content was `staleText`, atomically with respect to other
 * takers: every takeover holds `.lock.takeover` (O_EXCL) and re-reads the lock under it, so a
 * lock someone else created meanwhile (another generation) is never removed. Returns whether
 * the stale lock is gone.
 */
function removeStaleLock(storeFs: StoreFs, dir: string, staleText: string | null, me: LockOwner): boolean {
  const lockPath = join(dir, LOCK_FILE);
  const takeoverPath = join(dir, TAKEOVER_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeOwnerFile(storeFs, takeoverPath, me, 'the lock file');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeWriteError(err, 'the lock file');
      // Another process is taking over; only a takeover whose process died is cleared.
      const text = readOwnerText(storeFs, takeoverPath);
      if (attempt === 0 && isStale(parseOwner(text), takeoverPath, TAKEOVER_GRACE_MS) && readOwnerText(storeFs, takeoverPath) === text) {
        try {
          storeFs.unlink(takeoverPath);
        } catch {
          // Cleared by someone else.
        }
        continue;
      }
      return false;
    }
    try {
      // Same generation (same bytes) as the lock judged stale: nobody replaced it meanwhile.
      if (readOwnerText(storeFs, lockPath) !== staleText) return false;
      try {
        storeFs.unlink(lockPath);
      } catch {
        return false;
      }
      return true;
    } finally {
      try {
        storeFs.unlink(takeoverPath);
      } catch {
        // Already gone.
      }
    }
  }
  return false;
}

export function acquireStoreLock(storeFs: StoreFs, dir: string, storeKey = basename(dir)): StoreLock {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), createdAt: new Date().toISOString(), nonce: randomBytes(6).toString('hex') };
  const what = `the lock file of store ${storeKey}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeOwnerFile(storeFs, path, me, what);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeWriteError(err, what);
      const text = readOwnerText(storeFs, path);
      const owner = parseOwner(text);
      // A dead writer's lock, or one whose writer died before filling it in.
      if (attempt === 0 && isStale(owner, path, UNREADABLE_LOCK_GRACE_MS) && removeStaleLock(storeFs, dir, text, me)) continue;
      const who = owner ? `pid ${owner.pid}` : 'pid unknown';
      throw new CellarError('locked', `The store ${storeKey} is being written by another process (${who}).`);
    }
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        const owner = parseOwner(readOwnerText(storeFs, path));
        if (owner && owner.pid === me.pid && owner.createdAt === me.createdAt && owner.nonce === me.nonce) storeFs.unlink(path);
      },
    };
  }
  throw new CellarError('locked', `The store ${storeKey} is being written by another process (pid unknown).`);
}

// ── reader leases ────────────────────────────────────────────────────────────

/** Folder of the store holding one empty file per open reader: `<host>~<pid>~<version>~<nonce>`. */
export const READERS_DIR = 'readers';

export interface ReaderLease {
  release(): void;
}

export interface LeaseHolder {
  name: string;
  host: string;
  pid: number;
  /** The version read; null when the reader had not chosen yet (it protects every version). */
  version: number | null;
}

const openLeases = new Set<string>();
let exitHookInstalled = false;

function releaseAllLeases(): void {
  for (const path of openLeases) {
    try {
      fs.unlinkSync(path);
    } catch {
      // Gone already.
    }
  }
  openLeases.clear();
}

/**
 * Registers a reader of `version` (null: the latest, not yet known) in the store, so that a
 * compaction keeps the files it reads. Best effort: on a read-only or full disk the reader
 * goes on without one (a lease is an empty file, so a full disk rarely refuses it).
 */
export function acquireReaderLease(dir: string, version: number | null): ReaderLease {
  const name = [encodeURIComponent(hostname()), process.pid, version ?? 'latest', randomBytes(6).toString('hex')].join('~');
  const path = join(dir, READERS_DIR, name);
  try {
    // Not recursive: a lease never creates the store folder itself.
    if (!fs.existsSync(join(dir, READERS_DIR))) {
      try {
        fs.mkdirSync(join(dir, READERS_DIR));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    fs.closeSync(fs.openSync(path, 'wx'));
  } catch {
    return { release() {} };
  }
  openLeases.add(path);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', releaseAllLeases);
  }
  return {
    release() {
      if (!openLeases.delete(path)) return;
      try {
        fs.unlinkSync(path);
      } catch {
        // Removed by someone who judged it dead; nothing to do.
      }
    },
  };
}

function parseLeaseName(name: string): LeaseHolder | null {
  const parts = name.split('~');
  if (parts.length !== 4 || !/^\d+$/.test(parts[1]!)) return null;
  let host: string;
  try {
    host = decodeURIComponent(parts[0]!);
  } catch {
    return null;
  }
  return { name, host, pid: Number(parts[1]), version: /^\d+$/.test(parts[2]!) ? Number(parts[2]) : null };
}

/**
 * The readers that hold the store open. Leases of dead processes on this machine are
 * ignored (and removed with `removeDead`, by a writer holding the store lock); leases of
 * other machines are respected.
 */
export function liveReaderLeases(dir: string, options: { removeDead?: boolean } = {}): LeaseHolder[] {
  let names: string[];
  try {
    names = fs.readdirSync(join(dir, READERS_DIR));
  } catch {
    return [];
  }
  const live: LeaseHolder[] = [];
  for (const name of names) {
    const holder = parseLeaseName(name);
    if (holder && (holder.host !== hostname() || isProcessAlive(holder.pid))) {
      live.push(holder);
      continue;
    }
    if (!options.removeDead) continue;
    try {
      fs.unlinkSync(join(dir, READERS_DIR, name));
    } catch {
      // Removed meanwhile, or a read-only disk: either way it is not a reader.
    }
  }
  return live;
}
