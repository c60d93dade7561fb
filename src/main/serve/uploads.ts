// Where browser uploads land: one folder per running server (uploads/<session>/), so a
// server only ever removes its own files or those of a server that is gone. File tokens
// live in the server's memory, so a dead server's uploads can never be used again.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';

const OWNER_FILE = 'owner.json';
const FALLBACK_NAME = 'upload.h5ad';
const MAX_NAME_LENGTH = 120;

/** A file name from a browser reduced to one harmless path segment (its extension kept). */
export function safeUploadName(raw: string): string {
  const last = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = last
    .normalize('NFC')
    .replace(/[^\p{L}\p{N} ._()+-]+/gu, '_')
    .replace(/^[\s.]+/, '')
    .trim();
  if (!cleaned.replace(/[._\s]/g, '')) return FALLBACK_NAME;
  if (cleaned.length <= MAX_NAME_LENGTH) return cleaned;
  const ext = extname(cleaned).slice(0, 16);
  return cleaned.slice(0, MAX_NAME_LENGTH - ext.length) + ext;
}

/** The path of `name` inside `dir`, or an error when it would resolve anywhere else. */
export function pathInside(dir: string, ...parts: string[]): string {
  const root = resolve(dir);
  const full = resolve(root, ...parts);
  const rel = relative(root, full);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new RangeError(`${parts.join('/')} is not inside ${root}.`);
  return full;
}

export interface UploadSession {
  dir: string;
  root: string;
}

/** Creates this server's upload folder and records who owns it. */
export function openUploadSession(root: string): UploadSession {
  mkdirSync(root, { recursive: true });
  const dir = pathInside(root, `session-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir);
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }));
  return { dir, root };
}

export function closeUploadSession(session: UploadSession): void {
  rmSync(session.dir, { recursive: true, force: true });
}

/**
 * Removes what no live server can still use: folders of servers that are gone (their
 * process is dead), and anything without an owner (partial files, older layouts) once it
 * is older than `graceMs`. Returns what was removed.
 */
export function removeAbandonedUploads(root: string, graceMs: number, now = Date.now()): { entries: number; bytes: number } {
  let entries = 0;
  let bytes = 0;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return { entries, bytes };
  }
  for (const name of names) {
    const path = join(root, name);
    if (!isAbandoned(path, graceMs, now)) continue;
    bytes += uploadedBytes(path);
    rmSync(path, { recursive: true, force: true });
    entries++;
  }
  return { entries, bytes };
}

function isAbandoned(path: string, graceMs: number, now: number): boolean {
  try {
    const owner = JSON.parse(readFileSync(join(path, OWNER_FILE), 'utf8')) as { pid?: unknown; host?: unknown };
    if (owner.host === hostname() && typeof owner.pid === 'number') return !processIsAlive(owner.pid);
  } catch {
    // No readable owner: judged by age below.
  }
  try {
    return now - statSync(path).mtimeMs > graceMs;
  } catch {
    return false;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie has exited; it only waits for its parent to notice.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Bytes of every uploaded (or partly uploaded) file under `path`; 0 when it does not exist. */
export function uploadedBytes(path: string): number {
  let total = 0;
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.size;
  for (const name of readdirSync(path)) if (name !== OWNER_FILE) total += uploadedBytes(join(path, name));
  return total;
}

