import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, readSchemaVersion, type Migration } from '../../src/main/registry/migrations';
import { REGISTRY_FILE_NAME, openRegistry } from '../../src/main/registry/registry';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-migrations-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

function tableNames(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('registry migrations', () => {
  it('builds the whole schema from an empty home, in WAL mode with foreign keys on', () => {
    const nested = join(home, 'a', 'b');
    const registry = openRegistry(nested);
    const dbPath = join(nested, REGISTRY_FILE_NAME);
    expect(registry.dbPath).toBe(dbPath);
    registry.close();
    expect(tableNames(dbPath)).toEqual([
      'artifact',
      'collection',
      'collection_artifact',
      'run',
      'run_input_artifact',
      'run_input_collection',
      'transform',
    ]);
    const db = new Database(dbPath);
    try {
      expect(readSchemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('opening twice does not re-run migrations', () => {
    openRegistry(home).close();
    const again = openRegistry(home);
    again.close();
    const db = new Database(join(home, REGISTRY_FILE_NAME));
    try {
      expect(readSchemaVersion(db)).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('refuses a registry from a newer Cellar with the exact message', () => {
    openRegistry(home).close();
    const dbPath = join(home, REGISTRY_FILE_NAME);
    const db = new Database(dbPath);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 3}`);
    db.close();
    let error: unknown;
    try {
      openRegistry(home);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CellarError);
    expect((error as CellarError).code).toBe('newer_registry');
    expect((error as CellarError).message).toBe(
      `The registry at ${dbPath} was made by a newer Cellar (schema ${LATEST_SCHEMA_VERSION + 3}, this Cellar knows up to ${LATEST_SCHEMA_VERSION})`,
    );
  });

  it('applies pending migrations in one transaction: a failing one leaves nothing behind', () => {
    const db = new Database(':memory:');
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'adds a table', up: (d) => d.exec('CREATE TABLE extra (id INTEGER)') },
      { version: MIGRATIONS.length + 2, name: 'fails', up: (d) => d.exec('CREATE TABLE broken (') },
    ];
    expect(() => migrate(db, ':memory:', broken)).toThrow();
    expect(readSchemaVersion(db)).toBe(0);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('upgrades an older schema by running only the newer migrations', () => {
    const db = new Database(':memory:');
    migrate(db, ':memory:', MIGRATIONS);
    const extended: Migration[] = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'adds a column', up: (d) => d.exec('ALTER TABLE artifact ADD COLUMN note TEXT') },
    ];
    migrate(db, ':memory:', extended);
    expect(readSchemaVersion(db)).toBe(MIGRATIONS.length + 1);
    const columns = (db.prepare('PRAGMA table_info(artifact)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns).toContain('note');
    db.close();
  });
});
