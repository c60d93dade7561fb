// The end of every store write (SPEC §4 commit order): data files (already written) →
// manifest (the commit point) → hashes → registry row, with the run finished in the same
// transaction. A process that dies after the commit point leaves a version that
// reconciliation registers (see reconcile.ts).
import type { Registry } from '../../registry/registry';
import type { StoreWriter } from '../store/store-writer';
import { finishRunIfRunning, storeVersionFields, versionStats, withdrawUnregisteredVersion, type VersionStats } from './store-records';

export interface StoreVersionCommit<T> {
  registry: Registry;
  /** The open writer holding the new version's files. */
  writer: StoreWriter;
  runUid: string;
  /** The manifest's meta: which run and transform made the version, and its datasets. */
  meta: Record<string, unknown>;
  /**
   * What the operation did, in words (src/shared/version-message.ts): kept in the manifest's
   * meta, so a version registered by reconciliation carries it too, and in the registry row.
   */
  message: string;
  /** Measurement whose var count the registry records (default: the store's first). */
  measurement?: string;
  /** Test hook: crash tests stop the write at these points. */
  checkpoint?: (step: 'before-commit' | 'after-commit') => void | Promise<void>;
  /** Tells the user the store is being saved, just before the commit point. */
  onSaving?: () => void;
  /**
   * Checked just before the commit point. A cancel after it, before the registry row is
   * written, takes the version back (unless a later version already builds on it).
   */
  signal?: AbortSignal;
  /**
   * Told when the commit point passes (true) and when a cancelled version is taken back
   * (false): whether the write's other files are now named by a manifest.
   */
  onCommitted?: (committed: boolean) => void;
  /** Writes the registry row(s) of the committed version. */
  register: (version: ReturnType<typeof storeVersionFields> & { runUid: string; message: string }) => T;
}

export interface CommittedVersion<T> {
  /** The manifest version the commit made. */
  version: number;
  stats: VersionStats;
  /** What `register` returned. */
  registered: T;
}

/** Commits what the writer holds as a new version and registers it; a failure before the commit point aborts the writer. */
export async function commitStoreVersion<T>(commit: StoreVersionCommit<T>): Promise<CommittedVersion<T>> {
  const { writer, registry, signal } = commit;
  let result;
  try {
    await commit.checkpoint?.('before-commit');
    commit.onSaving?.();
    signal?.throwIfAborted();
    result = await writer.commit({ meta: { ...commit.meta, message: commit.message } });
  } catch (err) {
    await writer.abort();
    throw err;
  }
  commit.onCommitted?.(true);
  await commit.checkpoint?.('after-commit');
  // Cancelled while the version was being hashed: nothing registered it yet, so it is taken back.
  let stats: VersionStats;
  try {
    stats = await versionStats(writer.dir, result.version, commit.measurement, signal, result.contentHashes);
  } catch (err) {
    if (signal?.aborted && withdrawUnregisteredVersion(writer.dir, result)) commit.onCommitted?.(false);
    throw err;
  }
  if (signal?.aborted && withdrawUnregisteredVersion(writer.dir, result)) {
    commit.onCommitted?.(false);
    signal.throwIfAborted();
  }
  const registered = registry.atomically(() => {
    const row = commit.register({ ...storeVersionFields(stats, writer.dir), runUid: commit.runUid, message: commit.message });
    // A concurrent `cellar list` may have registered the committed version (and ended the run) already.
    finishRunIfRunning(registry, commit.runUid);
    return row;
  });
  return { version: result.version, stats, registered };
}
