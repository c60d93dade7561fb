// Every byte the store writer puts on disk goes through StoreFs, so tests can inject
// failures (a full disk) at any write, and a different backend could be plugged in.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { CellarError, isDiskFull } from '../../../../shared/errors';

export interface StoreFs {
  mkdirp(path: string): void;
  /** Creates a new file for writing; fails if it exists. Returns a descriptor. */
  createExclusive(path: string): number;
  /** Writes all of `bytes` at the current end of the file. */
  write(fd: number, bytes: Uint8Array): void;
  fsync(fd: number): void;
  /** fsync on another thread; settles when the file's bytes are on disk. Without it, files are synced in place. */
  fsyncLater?(fd: number): Promise<void>;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Makes a directory's entries (new or renamed files) durable. */
  fsyncDir(path: string): void;
  readFile(path: string): Buffer;
  exists(path: string): boolean;
}

export const nodeStoreFs: StoreFs = {
  mkdirp: (path) => void fs.mkdirSync(path, { recursive: true }),
  createExclusive: (path) => fs.openSync(path, 'wx'),
  write: (fd, bytes) => {
    let done = 0;
    while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
  },
  fsync: (fd) => fs.fsyncSync(fd),
  fsyncLater: (fd) => new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve()))),
  close: (fd) => fs.closeSync(fd),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  fsyncDir: (path) => {
    const fd = fs.openSync(path, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  readFile: (path) => fs.readFileSync(path),
  exists: (path) => fs.existsSync(path),
};

/** Turns a failed file operation into an error a user can act on. */
export function storeWriteError(err: unknown, what: string): CellarError {
  if (err instanceof CellarError) return err;
  if (isDiskFull(err)) {
    return new CellarError('no_space', `The disk is full: could not write ${what}.`);
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new CellarError('io_error', `Could not write ${what}: ${reason}`);
}

export interface WrittenFile {
  size: number;
  sha256: string;
  /**
   * The file's lamindb content hash (registry/hash.ts hashFile: md5, base64url, 22 characters),
   * made while writing when the file ends at most CONTENT_HASH_MAX_BYTES long, so registering the
   * version need not read it back; otherwise null.
   */
  contentHash: string | null;
}

/** hashFile's md5 limit (HASH_CHUNK_SIZE there); larger files are hashed from disk afterwards. */
export const CONTENT_HASH_MAX_BYTES = 50 * 1024 * 1024;

const SINK_BUFFER_BYTES = 4 << 20;
// A writer opens a file per fragment, companion and frame: their buffers are reused, not
// allocated fresh for each file (first touches of new memory cost more than the copying).
const MAX_POOLED_SINK_BUFFERS = 8;
const sinkBuffers: Buffer[] = [];
/** Files being synced on other threads (each holds its descriptor open until then). */
const MAX_SYNCS_IN_FLIGHT = 64;
let syncsInFlight = 0;
const EMPTY_BUFFER = Buffer.alloc(0);

/**
 * The checksums of a file's bytes, fed as they are made: the manifest's sha256, and the
 * lamindb content hash (md5) while the file stays within CONTENT_HASH_MAX_BYTES.
 */
export class FileHasher {
  private readonly hash: Hash = createHash('sha256');
  private md5: Hash | null = createHash('md5');
  size = 0;

  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.size += bytes.byteLength;
    if (this.md5) {
      // Past hashFile's md5 limit the file gets its other hash, from disk.
      if (this.size > CONTENT_HASH_MAX_BYTES) this.md5 = null;
      else this.md5.update(bytes);
    }
  }

  digest(): WrittenFile {
    const contentHash = this.md5 ? this.md5.digest().toString('base64url').slice(0, 22) : null;
    return { size: this.size, sha256: this.hash.digest('hex'), contentHash };
  }
}

/**
 * A file being written: buffers small writes, hashes every byte as it goes (the manifest's
 * checksum costs no second read), and fsyncs on finish. A sink made with `hashedBy: 'caller'`
 * leaves the hashing to whoever makes the bytes (an encoding thread, which hashes them as it
 * forwards them) and takes the result at finish.
 */
export class HashingFileSink {
  private readonly fd: number;
  private readonly hasher: FileHasher | null;
  private pending = sinkBuffers.pop() ?? Buffer.allocUnsafeSlow(SINK_BUFFER_BYTES);
  private pendingBytes = 0;
  private size = 0;
  private closed = false;

  constructor(
    private readonly storeFs: StoreFs,
    readonly path: string,
    hashedBy: 'sink' | 'caller' = 'sink',
  ) {
    this.fd = storeFs.createExclusive(path);
    this.hasher = hashedBy === 'sink' ? new FileHasher() : null;
  }

  get bytesWritten(): number {
    return this.size;
  }

  write(bytes: Uint8Array): void {
    this.hasher?.update(bytes);
    this.size += bytes.byteLength;
    if (bytes.byteLength >= SINK_BUFFER_BYTES / 2) {
      this.flush();
      this.storeFs.write(this.fd, bytes);
      return;
    }
    if (this.pendingBytes + bytes.byteLength > SINK_BUFFER_BYTES) this.flush();
    this.pending.set(bytes, this.pendingBytes);
    this.pendingBytes += bytes.byteLength;
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    this.storeFs.write(this.fd, chunk);
  }

  /**
   * Flushes, fsyncs and closes the file. `hashed`: the checksums its maker took of the bytes
   * (required for a sink hashed by the caller, and their size must be what was written).
   */
  finish(hashed?: WrittenFile): WrittenFile {
    const written = this.checksums(hashed);
    this.flush();
    this.storeFs.fsync(this.fd);
    this.closed = true;
    this.releaseBuffer();
    this.storeFs.close(this.fd);
    return written;
  }

  /**
   * Flushes and has the file synced and closed on another thread (where the StoreFs can, and
   * while fewer than MAX_SYNCS_IN_FLIGHT are; else here, as finish does): `synced` settles once
   * it is on disk. The data a manifest names is awaited before the manifest is written.
   */
  finishLater(hashed?: WrittenFile): { written: WrittenFile; synced: Promise<void> } {
    const written = this.checksums(hashed);
    this.flush();
    this.closed = true;
    this.releaseBuffer();
    const { storeFs, fd } = this;
    if (!storeFs.fsyncLater || syncsInFlight >= MAX_SYNCS_IN_FLIGHT) {
      try {
        storeFs.fsync(fd);
      } finally {
        storeFs.close(fd);
      }
      return { written, synced: Promise.resolve() };
    }
    syncsInFlight++;
    const synced = storeFs.fsyncLater(fd).finally(() => {
      syncsInFlight--;
      storeFs.close(fd);
    });
    return { written, synced };
  }

  private checksums(hashed: WrittenFile | undefined): WrittenFile {
    const written = this.hasher ? this.hasher.digest() : hashed;
    if (!written || written.size !== this.size) {
      this.abandon();
      throw new CellarError('internal', `${this.path}: ${written ? `${written.size} bytes were hashed but ${this.size} written` : 'no checksum was given for its bytes'}.`);
    }
    return written;
  }

  /** Closes without syncing (the caller removes the file). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseBuffer();
    try {
      this.storeFs.close(this.fd);
    } catch {
      // The descriptor is already unusable; the file itself is removed by the caller.
    }
  }

  /** Hands the write buffer to the next sink; this one writes nothing more. */
  private releaseBuffer(): void {
    if (sinkBuffers.length < MAX_POOLED_SINK_BUFFERS) sinkBuffers.push(this.pending);
    this.pending = EMPTY_BUFFER;
    this.pendingBytes = 0;
  }
}
