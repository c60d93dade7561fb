// Issue 11, deliverable 4: a registry write on a full disk says so ("The disk is full: …",
// code no_space) instead of "Unexpected error: database or disk is full", and rolls back.
// The full disk is SQLite's own page limit on the registry's connection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { openRegistry } from '../../src/main/registry/registry';

let home: string;
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('registry on a full disk', () => {
  it('a write that does not fit fails with no_space naming the registry, and records nothing', () => {
    home = mkdtempSync(join(tmpdir(), 'cellar-registry-full-'));
    const registry = openRegistry(home);
    try {
      const db = (registry as unknown as { db: Database.Database }).db;
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 2}`);
      let thrown: unknown = null;
      let started = 0;
      for (let i = 0; i < 10_000 && thrown === null; i++) {
        try {
          registry.startRun({ transform: 'import', params: { padding: 'x'.repeat(2000), i } });
          started++;
        } catch (err) {
          thrown = err;
        }
      }
      expect(thrown).toBeInstanceOf(CellarError);
      expect(thrown).toMatchObject({ code: 'no_space', message: `The disk is full: could not write the registry (${join(home, 'registry.sqlite')}); nothing was recorded.` });
      // The failed transaction left no half-written run; reads still work.
      expect(registry.listRuns(100_000)).toHaveLength(started);
    } finally {
      registry.close();
    }
  });
});
