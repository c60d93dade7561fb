// The registry's schema history: an ordered list, applied in one transaction and
// recorded in PRAGMA user_version. Add a migration by appending; never edit a shipped one.
import type Database from 'better-sqlite3';
import { CellarError } from '../../shared/errors';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'artifacts, collections, transforms and runs',
    up(db) {
      db.exec(`
        CREATE TABLE transform (
          id INTEGER PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          version TEXT NOT NULL,
          created_at TEXT NOT NULL,
          UNIQUE (name, version)
        );

        CREATE TABLE run (
          id INTEGER PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          transform_id INTEGER NOT NULL REFERENCES transform(id),
          started_at TEXT NOT NULL,
          finished_at TEXT,
          status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
          params TEXT NOT NULL DEFAULT '{}',
          error TEXT
        );
        CREATE INDEX run_transform ON run(transform_id);

        CREATE TABLE artifact (
          id INTEGER PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          stem TEXT NOT NULL,
          version_suffix TEXT NOT NULL,
          version INTEGER NOT NULL,
          tag TEXT,
          key TEXT NOT NULL,
          description TEXT,
          suffix TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('h5ad', 'store')),
          size INTEGER NOT NULL,
          hash TEXT NOT NULL,
          hash_type TEXT NOT NULL CHECK (hash_type IN ('md5', 'sha1-fl', 'md5-d')),
          n_files INTEGER NOT NULL DEFAULT 1,
          n_observations INTEGER,
          n_vars INTEGER,
          is_latest INTEGER NOT NULL DEFAULT 1,
          storage_path TEXT NOT NULL,
          is_link INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL,
          run_id INTEGER REFERENCES run(id),
          deleted_at TEXT,
          UNIQUE (stem, version_suffix),
          UNIQUE (stem, version)
        );
        CREATE INDEX artifact_hash ON artifact(hash);
        CREATE INDEX artifact_key ON artifact(key);
        CREATE INDEX artifact_stem ON artifact(stem);
        CREATE INDEX artifact_run ON artifact(run_id);
        CREATE UNIQUE INDEX artifact_one_latest_per_stem ON artifact(stem) WHERE is_latest = 1;
        CREATE UNIQUE INDEX artifact_live_key ON artifact(key) WHERE is_latest = 1 AND deleted_at IS NULL;

        CREATE TABLE collection (
          id INTEGER PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          key TEXT NOT NULL,
          description TEXT,
          hash TEXT NOT NULL,
          created_at TEXT NOT NULL,
          run_id INTEGER REFERENCES run(id),
          deleted_at TEXT
        );
        CREATE INDEX collection_hash ON collection(hash);
        CREATE INDEX collection_key ON collection(key);
        CREATE INDEX collection_run ON collection(run_id);
        CREATE UNIQUE INDEX collection_live_key ON collection(key) WHERE deleted_at IS NULL;

        CREATE TABLE collection_artifact (
          collection_id INTEGER NOT NULL REFERENCES collection(id),
          artifact_id INTEGER NOT NULL REFERENCES artifact(id),
          position INTEGER NOT NULL,
          PRIMARY KEY (collection_id, position),
          UNIQUE (collection_id, artifact_id)
        );
        CREATE INDEX collection_artifact_artifact ON collection_artifact(artifact_id);

        CREATE TABLE run_input_artifact (
          run_id INTEGER NOT NULL REFERENCES run(id),
          artifact_id INTEGER NOT NULL REFERENCES artifact(id),
          PRIMARY KEY (run_id, artifact_id)
        );
        CREATE INDEX run_input_artifact_artifact ON run_input_artifact(artifact_id);

        CREATE TABLE run_input_collection (
          run_id INTEGER NOT NULL REFERENCES run(id),
          collection_id INTEGER NOT NULL REFERENCES collection(id),
          PRIMARY KEY (run_id, collection_id)
        );
        CREATE INDEX run_input_collection_collection ON run_input_collection(collection_id);
      `);
    },
  },
  {
    version: 2,
    name: 'the process that runs each run',
    up(db) {
      // Lets reconciliation tell a run whose process died (SIGKILL, power cut) from one still working.
      db.exec(`
        ALTER TABLE run ADD COLUMN pid INTEGER;
        ALTER TABLE run ADD COLUMN host TEXT;
      `);
    },
  },
  {
    version: 3,
    name: 'what each version did, in words',
    up(db) {
      // Rows written before this stay NULL: their message is derived from their run when read,
      // so one wording (src/shared/version-message.ts) serves old and new versions alike.
      db.exec('ALTER TABLE artifact ADD COLUMN message TEXT;');
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

export function readSchemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the latest schema in one immediate transaction, so a second
 * process opening the same home waits and then finds the work already done.
 */
export function migrate(db: Database.Database, dbPath: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const known = migrations.length;
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`Migration "${migration.name}" is out of order.`);
  });
  const run = db.transaction(() => {
    const current = readSchemaVersion(db);
    if (current > known) {
      throw new CellarError(
        'newer_registry',
        `The registry at ${dbPath} was made by a newer Cellar (schema ${current}, this Cellar knows up to ${known})`,
      );
    }
    for (const migration of migrations.slice(current)) migration.up(db);
    if (current !== known) db.pragma(`user_version = ${known}`);
  });
  run.immediate();
}
