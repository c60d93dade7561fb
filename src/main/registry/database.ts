// Opening the registry database, writing to it, and the shapes of its rows.
import Database from 'better-sqlite3';
import { CellarError } from '../../shared/errors';
import { migrate } from './migrations';

export interface OpenDatabaseOptions {
  /** A better-sqlite3 binary built for another ABI (the Electron build keeps its own). */
  nativeBinding?: string;
  /** How long a writer waits for another process's lock before giving up. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/**
 * SQLite could not create or grow a file beside the database: on a full disk, the WAL's
 * shared-memory index (`-shm`) cannot grow, so even reading fails ("disk I/O error").
 */
function cannotGrowFiles(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(IOERR|FULL|CANTOPEN)/.test(code);
}

export function openDatabase(dbPath: string, options: OpenDatabaseOptions = {}): Database.Database {
  try {
    return openDatabaseWith(dbPath, options, false);
  } catch (err) {
    if (!cannotGrowFiles(err)) throw err;
    // Exclusive locking keeps the WAL index in this process's memory, so a full disk can still be
    // read (list, query, verify); a write then fails as "The disk is full". Other processes wait meanwhile.
    return openDatabaseWith(dbPath, options, true);
  }
}

function openDatabaseWith(dbPath: string, options: OpenDatabaseOptions, exclusive: boolean): Database.Database {
  let db: Database.Database;
  try {
    // The desktop app runs on Electron's ABI and passes its own build of the module.
    const nativeBinding = options.nativeBinding ?? process.env.CELLAR_SQLITE_BINDING;
    db = new Database(dbPath, nativeBinding ? { nativeBinding } : {});
  } catch (err) {
    throw new CellarError('io_error', `The registry at ${dbPath} cannot be opened: ${(err as Error).message}.`);
  }
  try {
    // busy_timeout first: switching to WAL itself may wait for another process.
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, dbPath);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof CellarError) throw err;
    const message = (err as Error).message;
    if (/not a database|malformed/i.test(message)) {
      throw new CellarError('io_error', `The registry at ${dbPath} is not a readable SQLite database (${message}).`);
    }
    if (/locked|busy/i.test(message)) {
      throw new CellarError('locked', `The registry at ${dbPath} is busy in another process; try again.`);
    }
    if (exclusive && cannotGrowFiles(err)) throw new CellarError('no_space', `The disk is full: the registry at ${dbPath} cannot be opened (${message}).`);
    throw err;
  }
}

/** The open database, the home its relative storage paths are under, and its one way to write. */
export interface RegistryDb {
  readonly db: Database.Database;
  readonly home: string;
  readonly dbPath: string;
  /** Runs work as one all-or-nothing write; nested calls join the outer one. */
  write<T>(work: () => T): T;
}

export function registryDb(db: Database.Database, home: string, dbPath: string): RegistryDb {
  return {
    db,
    home,
    dbPath,
    // Writes take the lock up front so two processes never deadlock upgrading a read lock.
    write<T>(work: () => T): T {
      try {
        return db.transaction(work).immediate();
      } catch (err) {
        // SQLITE_FULL: the disk (or the database's page limit) is full; the transaction rolled back.
        if ((err as { code?: unknown }).code === 'SQLITE_FULL') throw new CellarError('no_space', `The disk is full: could not write the registry (${dbPath}); nothing was recorded.`);
        throw err;
      }
    },
  };
}

/** Every *_at column holds an ISO-8601 UTC timestamp. */
export function nowIso(): string {
  return new Date().toISOString();
}

export interface ArtifactRow {
  id: number;
  uid: string;
  stem: string;
  version_suffix: string;
  version: number;
  tag: string | null;
  key: string;
  description: string | null;
  suffix: string;
  kind: 'h5ad' | 'store';
  size: number;
  hash: string;
  hash_type: 'md5' | 'sha1-fl' | 'md5-d';
  n_files: number;
  n_observations: number | null;
  n_vars: number | null;
  is_latest: number;
  storage_path: string;
  is_link: number;
  created_at: string;
  run_id: number | null;
  deleted_at: string | null;
  /** What the operation that made it did, in words; NULL for rows from before schema 3. */
  message: string | null;
}

export interface CollectionRow {
  id: number;
  uid: string;
  key: string;
  description: string | null;
  hash: string;
  created_at: string;
  run_id: number | null;
  deleted_at: string | null;
}

export interface TransformRow {
  id: number;
  uid: string;
  name: string;
  version: string;
  created_at: string;
}

export interface RunRow {
  id: number;
  uid: string;
  transform_id: number;
  started_at: string;
  finished_at: string | null;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  params: string;
  error: string | null;
  /** The process that started the run (null for runs recorded before schema 2). */
  pid: number | null;
  host: string | null;
}
