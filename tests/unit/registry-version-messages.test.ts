// Schema 3 records what each version's operation did, in words. A registry written by a
// Cellar before that (schema 2) is migrated in place, and its versions read back with
// messages derived from their runs' transforms and parameters, in the same wording.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, readSchemaVersion } from '../../src/main/registry/migrations';
import { REGISTRY_FILE_NAME, openRegistry } from '../../src/main/registry/registry';
import { toVersionJson } from '../../src/main/registry/artifacts';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-version-messages-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

const STEM = 'AbCdEfGhIjKlMnOp';
const T = '2026-01-01T00:00:00.000Z';

/** A schema-2 registry holding a store whose six versions were made by six kinds of run. */
function writeSchemaTwoRegistry(dbPath: string): void {
  const db = new Database(dbPath);
  try {
    migrate(db, dbPath, MIGRATIONS.slice(0, 2));
    expect(readSchemaVersion(db)).toBe(2);
    const transforms = ['import', 'concatenate', 'append', 'embed', 'restore', 'annotate', 'compact'];
    transforms.forEach((name, i) => db.prepare('INSERT INTO transform (id, uid, name, version, created_at) VALUES (?, ?, ?, ?, ?)').run(i + 1, `tf${i}`, name, '1', T));
    const transformId = (name: string) => transforms.indexOf(name) + 1;
    let runId = 0;
    const run = (name: string, params: Record<string, unknown>) => {
      runId++;
      db.prepare("INSERT INTO run (id, uid, transform_id, started_at, finished_at, status, params) VALUES (?, ?, ?, ?, ?, 'completed', ?)").run(runId, `run${runId}`, transformId(name), T, T, JSON.stringify(params));
      return runId;
    };
    let artifactId = 0;
    const artifact = (a: { stem: string; version: number; key: string; kind: 'h5ad' | 'store'; nObs: number; nVars: number; runId: number; latest: boolean }) => {
      artifactId++;
      db.prepare(
        `INSERT INTO artifact (id, uid, stem, version_suffix, version, key, suffix, kind, size, hash, hash_type, n_observations, n_vars, is_latest, storage_path, created_at, run_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 'md5', ?, ?, ?, 'x', ?, ?)`,
      ).run(artifactId, `${a.stem}000${a.version}`, a.stem, `000${a.version}`, a.version, a.key, a.kind === 'store' ? '' : '.h5ad', a.kind, `h${artifactId}`, a.nObs, a.nVars, a.latest ? 1 : 0, T, a.runId);
      return artifactId;
    };
    const input = (run: number, artifact: number) => db.prepare('INSERT INTO run_input_artifact (run_id, artifact_id) VALUES (?, ?)').run(run, artifact);

    const imported = run('import', { files: ['/data/a.h5ad', '/data/b.h5ad'] });
    const a = artifact({ stem: 'fileAAAAAAAAAAAA', version: 1, key: 'a.h5ad', kind: 'h5ad', nObs: 1000, nVars: 2000, runId: imported, latest: true });
    const b = artifact({ stem: 'fileBBBBBBBBBBBB', version: 1, key: 'b.h5ad', kind: 'h5ad', nObs: 500, nVars: 2000, runId: imported, latest: true });
    const concat = run('concatenate', { collection: 'pbmc', store: 'atlas', measurement: 'RNA', makeUnique: false });
    input(concat, a);
    input(concat, b);
    const v1 = artifact({ stem: STEM, version: 1, key: 'atlas', kind: 'store', nObs: 1500, nVars: 2000, runId: concat, latest: false });
    const append = run('append', { store: 'atlas', files: ['/data/new/batch4.h5ad'], fillMissing: false });
    input(append, v1);
    const v2 = artifact({ stem: STEM, version: 2, key: 'atlas', kind: 'store', nObs: 3000, nVars: 2050, runId: append, latest: false });
    const embed = run('embed', { store: 'atlas', name: 'pca', pca: { nComponents: 50, layer: 'data', normalize: true }, from: null });
    input(embed, v2);
    artifact({ stem: STEM, version: 3, key: 'atlas', kind: 'store', nObs: 3000, nVars: 2050, runId: embed, latest: false });
    const restore = run('restore', { store: 'atlas', version: 1 });
    input(restore, v1);
    const v4 = artifact({ stem: STEM, version: 4, key: 'atlas', kind: 'store', nObs: 1500, nVars: 2000, runId: restore, latest: false });
    const annotate = run('annotate', { store: 'atlas', from: '/tables/labels.csv', columns: ['cell_type', 'donor'] });
    input(annotate, v4);
    const v5 = artifact({ stem: STEM, version: 5, key: 'atlas', kind: 'store', nObs: 1500, nVars: 2000, runId: annotate, latest: false });
    const compact = run('compact', { store: 'atlas', version: 5 });
    input(compact, v5);
    artifact({ stem: STEM, version: 6, key: 'atlas', kind: 'store', nObs: 1500, nVars: 2000, runId: compact, latest: true });
  } finally {
    db.close();
  }
}

describe('version messages across the schema-3 migration', () => {
  it('adds the message column and derives the words of older versions from their runs', () => {
    const dbPath = join(home, REGISTRY_FILE_NAME);
    writeSchemaTwoRegistry(dbPath);
    const registry = openRegistry(home);
    try {
      const db = new Database(dbPath, { readonly: true });
      try {
        expect(readSchemaVersion(db)).toBe(3);
        expect((db.prepare('PRAGMA table_info(artifact)').all() as Array<{ name: string }>).map((c) => c.name)).toContain('message');
        // Nothing was written into old rows: the words come from the runs when read.
        expect(db.prepare('SELECT COUNT(*) AS n FROM artifact WHERE message IS NOT NULL').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
      expect(registry.versions(STEM).map((v) => [v.version, toVersionJson(v).message])).toEqual([
        [6, 'compaction of v1–v5'],
        [5, 'annotation from labels.csv: 2 columns'],
        [4, 'restore of v1'],
        [3, 'PCA (50 components of data, normalised) as obsm pca'],
        [2, 'append of batch4.h5ad: +1,500 cells, +50 genes'],
        [1, 'concatenation of 2 files: 1,500 cells × 2,000 genes'],
      ]);
      expect(registry.getArtifact('fileAAAAAAAAAAAA').message).toBe('import of a.h5ad');
    } finally {
      registry.close();
    }
  });

  it('keeps a recorded message as written', () => {
    const registry = openRegistry(home);
    try {
      const run = registry.startRun({ transform: 'concatenate', params: { collection: 'c', store: 's' } });
      const { artifact } = registry.registerArtifact({ key: 's', suffix: '', kind: 'store', size: 1, hash: 'h', hashType: 'md5-d', storagePath: join(home, 's'), runUid: run.uid, message: 'concatenation of 4 files: 200,000 cells × 20,000 genes' });
      expect(registry.getArtifact(artifact.uid).message).toBe('concatenation of 4 files: 200,000 cells × 20,000 genes');
    } finally {
      registry.close();
    }
  });
});
