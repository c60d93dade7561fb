// Content hashes that match lamindb's, so one file gets the same hash there and here.
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CellarError } from '../../shared/errors';
import type { HashType } from '../../shared/registry-types';

export type FileHashType = Exclude<HashType, 'md5-d'>;

const HASH_LENGTH = 22;
export const HASH_CHUNK_SIZE = 50 * 1024 * 1024;
const READ_BUFFER_SIZE = 4 * 1024 * 1024;

export interface FileHash {
  hash: string;
  hashType: FileHashType;
  size: number;
}

export interface FolderHash {
  hash: string;
  hashType: 'md5-d';
}

function toHashString(digest: Buffer): string {
  return digest.toString('base64url').slice(0, HASH_LENGTH);
}

/** md5 of the whole file up to 50 MiB; above that sha1(sha1(first 50 MiB) ‖ sha1(last 50 MiB)). */
export async function hashFile(path: string, signal?: AbortSignal): Promise<FileHash> {
  throwIfAborted(signal, path);
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.allocUnsafe(Math.min(READ_BUFFER_SIZE, Math.max(size, 1)));
    if (size <= HASH_CHUNK_SIZE) {
      const md5 = createHash('md5');
      await feedRange(handle, 0, size, md5, buffer, path, signal);
      return { hash: toHashString(md5.digest()), hashType: 'md5', size };
    }
    const first = createHash('sha1');
    await feedRange(handle, 0, HASH_CHUNK_SIZE, first, buffer, path, signal);
    const last = createHash('sha1');
    await feedRange(handle, size - HASH_CHUNK_SIZE, size, last, buffer, path, signal);
    const combined = createHash('sha1').update(first.digest()).update(last.digest()).digest();
    return { hash: toHashString(combined), hashType: 'sha1-fl', size };
  } finally {
    await handle.close();
  }
}

/** The byte ranges a file's hash reads, and the hashes they feed (see hashFile). */
function hashPlan(size: number): { hashType: FileHashType; ranges: { start: number; end: number; hash: Hash }[]; finish: () => string } {
  if (size <= HASH_CHUNK_SIZE) {
    const md5 = createHash('md5');
    return { hashType: 'md5', ranges: [{ start: 0, end: size, hash: md5 }], finish: () => toHashString(md5.digest()) };
  }
  const first = createHash('sha1');
  const last = createHash('sha1');
  return {
    hashType: 'sha1-fl',
    ranges: [
      { start: 0, end: HASH_CHUNK_SIZE, hash: first },
      { start: size - HASH_CHUNK_SIZE, end: size, hash: last },
    ],
    finish: () => toHashString(createHash('sha1').update(first.digest()).update(last.digest()).digest()),
  };
}

/** Errors of a reflink request that mean "this file system (or this pair of paths) cannot clone". */
const NO_REFLINK = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EPERM', 'EBADF', 'ERR_FS_CP_EINVAL']);

/** Bytes read and written per step of a copy (two buffers: the next read overlaps the last write). */
const COPY_BUFFER_SIZE = 4 * 1024 * 1024;

export interface CopyHash extends FileHash {
  /** True when the copy is a reflink (copy-on-write clone): no data was read or written to copy. */
  cloned: boolean;
}

/**
 * Copies `source` to `target` (created or replaced) and returns the source's hash (the same as
 * hashFile's), reading the source once. Where the file system can clone (btrfs, XFS, APFS, …)
 * the copy is a reflink and only the hashed ranges are read; elsewhere each block is read once,
 * fed to the hash when it lies in a hashed range, and written. On failure `target` may be left
 * behind partly written: the caller removes it. Errors other than "cannot clone" are thrown as
 * they come (ENOSPC, EACCES, …), so the caller can name them.
 */
export async function copyAndHashFile(source: string, target: string, signal?: AbortSignal, onBytes?: (copied: number, size: number) => void): Promise<CopyHash> {
  throwIfAborted(signal, source);
  try {
    await copyFile(source, target, constants.COPYFILE_FICLONE_FORCE);
    const hashed = await hashFile(source, signal);
    onBytes?.(hashed.size, hashed.size);
    return { ...hashed, cloned: true };
  } catch (err) {
    if (!NO_REFLINK.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    await rm(target, { force: true });
  }
  const input = await open(source, 'r');
  try {
    const { size } = await input.stat();
    const plan = hashPlan(size);
    const output = await open(target, 'w');
    const writes: (Promise<unknown> | null)[] = [null, null];
    try {
      const buffers = [0, 1].map(() => Buffer.allocUnsafe(Math.min(COPY_BUFFER_SIZE, Math.max(size, 1))));
      let position = 0;
      for (let step = 0; position < size; step++) {
        throwIfAborted(signal, source);
        const k = step & 1;
        await writes[k];
        const buffer = buffers[k]!;
        const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, size - position), position);
        if (bytesRead === 0) throw new CellarError('io_error', `The file ${source} became shorter while it was being copied.`);
        const end = position + bytesRead;
        for (const range of plan.ranges) {
          const from = Math.max(range.start, position);
          const to = Math.min(range.end, end);
          if (from < to) range.hash.update(buffer.subarray(from - position, to - position));
        }
        const write = writeFully(output, buffer, bytesRead, position);
        write.catch(() => undefined); // awaited before the buffer is reused, or below
        writes[k] = write;
        position = end;
        onBytes?.(position, size);
      }
      await Promise.all(writes);
    } finally {
      await Promise.allSettled(writes);
      await output.close();
    }
    return { hash: plan.finish(), hashType: plan.hashType, size, cloned: false };
  } finally {
    await input.close();
  }
}

async function writeFully(handle: Awaited<ReturnType<typeof open>>, buffer: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await handle.write(buffer, written, length - written, position + written);
    written += bytesWritten;
  }
}

async function feedRange(
  handle: Awaited<ReturnType<typeof open>>,
  start: number,
  end: number,
  hash: Hash,
  buffer: Buffer,
  path: string,
  signal?: AbortSignal,
): Promise<void> {
  let position = start;
  while (position < end) {
    throwIfAborted(signal, path);
    const wanted = Math.min(buffer.length, end - position);
    const { bytesRead } = await handle.read(buffer, 0, wanted, position);
    if (bytesRead === 0) {
      throw new CellarError('io_error', `The file ${path} became shorter while it was being hashed.`);
    }
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

function throwIfAborted(signal: AbortSignal | undefined, path: string): void {
  if (signal?.aborted) throw new CellarError('cancelled', `Hashing ${path} was cancelled.`);
}

/**
 * A folder's hash from its files' hashes: md5 over the concatenated md5 digests of the
 * per-file hash strings, taken in sorted order so the walk order does not matter.
 */
export function hashFolder(files: ReadonlyArray<{ path: string; hash: string }>): FolderHash {
  const sortedHashes = files.map((file) => file.hash).sort(compareCodePoints);
  const outer = createHash('md5');
  for (const fileHash of sortedHashes) outer.update(createHash('md5').update(fileHash, 'utf8').digest());
  return { hash: toHashString(outer.digest()), hashType: 'md5-d' };
}

/** Walks a folder, hashes every file in it and returns the folder hash with total size and file count. */
export async function hashDirectory(
  dir: string,
  signal?: AbortSignal,
): Promise<FolderHash & { size: number; nFiles: number; files: Array<{ path: string } & FileHash> }> {
  const files: Array<{ path: string } & FileHash> = [];
  for (const path of await listFilesRecursively(dir)) {
    files.push({ path, ...(await hashFile(path, signal)) });
  }
  const size = files.reduce((total, file) => total + file.size, 0);
  return { ...hashFolder(files), size, nFiles: files.length, files };
}

async function listFilesRecursively(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFilesRecursively(path)));
    else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) out.push(path);
  }
  return out;
}

/**
 * A collection's hash, independent of member order and of repeated members:
 * md5 of the sorted distinct member hashes joined by ":".
 */
export function hashCollection(memberHashes: ReadonlyArray<string>): string {
  const joined = [...new Set(memberHashes)].sort(compareCodePoints).join(':');
  return toHashString(createHash('md5').update(joined, 'utf8').digest());
}

// Python sorts strings by code point; plain < does the same for the ASCII of base64url hashes.
function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
