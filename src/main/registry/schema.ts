// Opening the registry database and the shapes of its rows.
import Database from 'better-sqlite3';
import { CellarError } from '../../shared/errors';
import { migrate } from './migrations';

export interface OpenDatabaseOptions {
  /** A better-sqlite3 binary built for another ABI (the Electron build keeps its own). */
  nativeBinding?: string;
  /** How long a writer waits for another process's lock before giving up. */
  busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export function openDatabase(dbPath: string, options: OpenDatabaseOptions = {}): Database.Database {
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
    throw err;
  }
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
