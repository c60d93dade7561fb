// The data files one writer creates: random immutable names under data/, checksummed while
// written, and remembered so a failed write can remove exactly what it made.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RecordBatch, Struct, makeData, type Data, type Schema } from 'apache-arrow';
import type { StoreCodec } from './codecs';
import { StoreIpcFileWriter, type BatchLayout } from './ipc-file-writer';
import { DATA_DIR, type FileEntry } from '../format/manifest';
import { HashingFileSink, storeWriteError, type StoreFs, type WrittenFile } from './store-fs';

/** Where a data file's bytes go as they are made. */
export interface DataFileSink {
  write(bytes: Uint8Array): void;
  abandon(): void;
}

/**
 * What a writer of data files needs: a DataFileSet in the process that owns the store's files,
 * or a stand-in that forwards the bytes to it from an encoding thread (x-encode-worker.ts).
 */
export interface DataFiles {
  open(kind: string): { name: string; sink: DataFileSink };
  finish(name: string, sink: DataFileSink): void;
  writeArrowFile(kind: string, codec: StoreCodec, level: number | undefined, batches: Iterable<RecordBatch>): { name: string; layouts: BatchLayout[] };
}

/** A new, unique data file name `data/<kind>-<random>.arrow`. */
export function newDataFileName(kind: string): string {
  return `${DATA_DIR}/${kind}-${randomBytes(10).toString('hex')}.arrow`;
}

export class DataFileSet implements DataFiles {
  /** Files this writer created (relative paths), finished or not. */
  readonly created: string[] = [];
  /** Finished files and their checksums. */
  readonly entries = new Map<string, FileEntry>();
  /** Finished files' lamindb content hashes, where made while writing (WrittenFile.contentHash). */
  readonly contentHashes = new Map<string, string>();
  bytesWritten = 0;
  private readonly syncs: Promise<void>[] = [];
  private syncFailure: unknown = null;

  constructor(
    readonly storeFs: StoreFs,
    readonly dir: string,
    readonly storeKey: string,
  ) {}

  /** Opens a new, uniquely named file `data/<kind>-<random>.arrow`. */
  open(kind: string): { name: string; sink: HashingFileSink } {
    return this.openNamed(newDataFileName(kind));
  }

  /**
   * Opens a file whose name was chosen elsewhere (by an encoding thread, with newDataFileName).
   * `hashedBy: 'caller'`: the bytes' maker hashes them and hands the checksums to finish().
   */
  openNamed(name: string, hashedBy: 'sink' | 'caller' = 'sink'): { name: string; sink: HashingFileSink } {
    this.created.push(name);
    try {
      return { name, sink: new HashingFileSink(this.storeFs, join(this.dir, name), hashedBy) };
    } catch (err) {
      throw storeWriteError(err, `${name} in store ${this.storeKey}`);
    }
  }

  /** Writes an Arrow IPC file from record batches; returns its name and batch layouts. */
  writeArrowFile(kind: string, codec: StoreCodec, level: number | undefined, batches: Iterable<RecordBatch>): { name: string; layouts: BatchLayout[] } {
    const { name, sink } = this.open(kind);
    try {
      const writer = new StoreIpcFileWriter((bytes) => sink.write(bytes), codec, level);
      for (const batch of batches) writer.write(batch);
      const layouts = writer.batchLayouts;
      writer.finish();
      this.finish(name, sink);
      return { name, layouts };
    } catch (err) {
      sink.abandon();
      throw storeWriteError(err, `${name} in store ${this.storeKey}`);
    }
  }

  /**
   * Records a finished file; its fsync runs on another thread meanwhile (allSynced waits for
   * it). `hashed`: the checksums of its bytes, when their maker took them.
   */
  finish(name: string, sink: HashingFileSink, hashed?: WrittenFile): FileEntry {
    const { written, synced } = sink.finishLater(hashed);
    synced.catch((err: unknown) => {
      this.syncFailure ??= storeWriteError(err, `${name} in store ${this.storeKey}`);
    });
    this.syncs.push(synced);
    const { contentHash, ...entry } = written;
    this.entries.set(name, entry);
    if (contentHash) this.contentHashes.set(name, contentHash);
    this.bytesWritten += entry.size;
    return entry;
  }

  /** Waits until every finished file is on disk; throws the first failure to sync one. */
  async allSynced(): Promise<void> {
    await Promise.allSettled(this.syncs);
    if (this.syncFailure) throw this.syncFailure;
  }

  /** Removes every file this writer created (best effort: the first failure does not stop the rest). */
  removeAll(): void {
    for (const name of this.created) {
      try {
        this.storeFs.unlink(join(this.dir, name));
      } catch {
        // Already gone, or never created; `verify --fix` removes any leftover.
      }
    }
  }
}

/** A record batch of `schema` from column data of equal length. */
export function recordBatchOf(schema: Schema, children: Data[], length: number, metadata?: Map<string, string>): RecordBatch {
  const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, struct, metadata);
}
