import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { toVersionJson, type RegisterArtifactInput } from '../../src/main/registry/artifacts';
import { REGISTRY_FILE_NAME, openRegistry, type Registry } from '../../src/main/registry/registry';

let home: string;
let registry: Registry;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-registry-'));
  registry = openRegistry(home);
});
afterEach(() => {
  registry.close();
  rmSync(home, { recursive: true, force: true });
});

function h5ad(key: string, hash: string, extra: Partial<RegisterArtifactInput> = {}): RegisterArtifactInput {
  return {
    key,
    suffix: '.h5ad',
    kind: 'h5ad',
    size: 1000,
    hash,
    hashType: 'md5',
    nObservations: 10,
    nVars: 5,
    storagePath: join(home, 'storage', `${key}`),
    ...extra,
  };
}

function storeVersion(hash: string, runUid?: string) {
  return { size: 5000, hash, nFiles: 4, nObservations: 30, nVars: 5, storagePath: join(home, 'stores', 'atlas'), runUid };
}

function catchError(work: () => unknown): CellarError {
  try {
    work();
  } catch (e) {
    if (e instanceof CellarError) return e;
    throw e;
  }
  throw new Error('expected a CellarError');
}

/** import a.h5ad + b.h5ad into "pbmc" → concatenate into "atlas" v1 → import c.h5ad → append it (v2). */
function buildChain() {
  const import1 = registry.startRun({ transform: 'import', params: { files: ['a.h5ad', 'b.h5ad'] } });
  const a = registry.registerArtifact(h5ad('a.h5ad', 'hashAAAAAAAAAAAAAAAAAA', { runUid: import1.uid })).artifact;
  const b = registry.registerArtifact(h5ad('b.h5ad', 'hashBBBBBBBBBBBBBBBBBB', { runUid: import1.uid })).artifact;
  const pbmc = registry.createCollection({ key: 'pbmc', members: [a.uid, b.uid], runUid: import1.uid });
  registry.finishRun(import1.uid);

  const concat = registry.startRun({ transform: 'concatenate', inputCollections: ['pbmc'] });
  const v1 = registry.registerArtifact({ ...h5ad('atlas', 'storeV1storeV1storeV1s'), kind: 'store', suffix: '', hashType: 'md5-d', nFiles: 4, runUid: concat.uid }).artifact;
  registry.finishRun(concat.uid);

  const import2 = registry.startRun({ transform: 'import' });
  const c = registry.registerArtifact(h5ad('c.h5ad', 'hashCCCCCCCCCCCCCCCCCC', { runUid: import2.uid })).artifact;
  registry.finishRun(import2.uid);

  const append = registry.startRun({ transform: 'append', inputArtifacts: [c.uid] });
  const v2 = registry.addStoreVersion('atlas', storeVersion('storeV2storeV2storeV2s', append.uid));
  registry.finishRun(append.uid);
  return { a, b, c, pbmc, v1, v2, import1, import2, concat, append };
}

describe('artifacts', () => {
  it('returns the existing artifact when hash and size match a live one', () => {
    const first = registry.registerArtifact(h5ad('one.h5ad', 'sameHashsameHashsameHa'));
    expect(first.existing).toBe(false);
    expect(first.artifact.uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
    expect(first.artifact.version).toBe(1);
    expect(first.artifact.isLatest).toBe(true);
    expect(first.artifact.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const again = registry.registerArtifact(h5ad('copy-of-one.h5ad', 'sameHashsameHashsameHa'));
    expect(again.existing).toBe(true);
    expect(again.artifact.uid).toBe(first.artifact.uid);
    expect(again.artifact.key).toBe('one.h5ad');
    expect(registry.listArtifacts()).toHaveLength(1);

    const otherSize = registry.registerArtifact(h5ad('two.h5ad', 'sameHashsameHashsameHa', { size: 999 }));
    expect(otherSize.existing).toBe(false);
    expect(registry.findArtifactByHash('sameHashsameHashsameHa', 999)?.uid).toBe(otherSize.artifact.uid);
  });

  it('does not dedupe against a deleted artifact', () => {
    const first = registry.registerArtifact(h5ad('one.h5ad', 'hashXhashXhashXhashXha')).artifact;
    registry.delete('one.h5ad');
    const second = registry.registerArtifact(h5ad('one.h5ad', 'hashXhashXhashXhashXha'));
    expect(second.existing).toBe(false);
    expect(second.artifact.uid).not.toBe(first.uid);
  });

  it('refuses a taken key unless asked for a new version of that family', () => {
    const first = registry.registerArtifact(h5ad('data.h5ad', 'hash1hash1hash1hash1ha')).artifact;
    const error = catchError(() => registry.registerArtifact(h5ad('data.h5ad', 'hash2hash2hash2hash2ha')));
    expect(error.code).toBe('already_exists');
    expect(error.message).toContain('"data.h5ad"');

    const second = registry.registerArtifact(h5ad('data.h5ad', 'hash2hash2hash2hash2ha', { ifKeyExists: 'new_version' })).artifact;
    expect(second.stem).toBe(first.stem);
    expect(second.uid).toBe(first.stem + '0001');
    expect(second.version).toBe(2);
    expect(registry.getArtifact(first.uid).isLatest).toBe(false);
    expect(registry.getArtifact('data.h5ad').uid).toBe(second.uid);
    expect(registry.getArtifact(first.stem).uid).toBe(second.uid);
  });

  it('atomically rolls back every call when one fails', () => {
    expect(() =>
      registry.atomically(() => {
        registry.registerArtifact(h5ad('first.h5ad', 'hashFhashFhashFhashFha'));
        registry.createCollection({ key: 'c', members: ['first.h5ad', 'missing.h5ad'] });
      }),
    ).toThrow(/No artifact "missing.h5ad"/);
    expect(registry.findArtifact('first.h5ad')).toBeNull();
    expect(registry.findCollection('c')).toBeNull();
  });

  it('keeps storage paths inside the home relative in the database', () => {
    const inside = registry.registerArtifact(h5ad('in.h5ad', 'hashIhashIhashIhashIha', { storagePath: join(home, 'storage', 'x.h5ad') })).artifact;
    const outside = registry.registerArtifact(h5ad('out.h5ad', 'hashOhashOhashOhashOha', { storagePath: '/data/elsewhere/y.h5ad', isLink: true })).artifact;
    expect(inside.storagePath).toBe(join(home, 'storage', 'x.h5ad'));
    expect(outside.storagePath).toBe('/data/elsewhere/y.h5ad');
    expect(outside.isLink).toBe(true);
    const db = new Database(join(home, REGISTRY_FILE_NAME), { readonly: true });
    try {
      const rows = db.prepare('SELECT key, storage_path FROM artifact ORDER BY key').all();
      expect(rows).toEqual([
        { key: 'in.h5ad', storage_path: 'storage/x.h5ad' },
        { key: 'out.h5ad', storage_path: '/data/elsewhere/y.h5ad' },
      ]);
    } finally {
      db.close();
    }
    const usage = registry.diskUsage();
    expect(usage.managedH5adBytes).toBe(1000);
    expect(usage.linkedH5adBytes).toBe(1000);
    expect(usage.entries.map((e) => e.key).sort()).toEqual(['in.h5ad', 'out.h5ad']);
  });
});

describe('store versions', () => {
  it('numbers versions 1, 2, 3…, keeps the stem, moves is_latest and lists newest first', () => {
    const run0 = registry.startRun({ transform: 'concatenate' });
    const v1 = registry.registerArtifact({ ...h5ad('atlas', 'v1v1v1v1v1v1v1v1v1v1v1'), kind: 'store', suffix: '', hashType: 'md5-d', runUid: run0.uid }).artifact;
    registry.finishRun(run0.uid);
    const made = [v1];
    for (let i = 2; i <= 12; i++) {
      const run = registry.startRun({ transform: 'embed', params: { pca: 10 } });
      made.push(registry.addStoreVersion('atlas', storeVersion(`hash${i}`.padEnd(22, 'x'), run.uid)));
      registry.finishRun(run.uid);
    }
    expect(made.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(made.every((v) => v.stem === v1.stem)).toBe(true);
    expect(made[1].versionSuffix).toBe('0001');
    expect(made[10].versionSuffix).toBe('000A');
    expect(made[11].uid).toBe(v1.stem + '000B');

    const versions = registry.versions('atlas');
    expect(versions.map((v) => v.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(versions.filter((v) => v.isLatest).map((v) => v.version)).toEqual([12]);
    expect(versions[0].run?.transform).toBe('embed');
    expect(versions[11].run).toEqual({ uid: run0.uid, transform: 'concatenate' });
    expect(toVersionJson(versions[0])).toEqual({
      uid: made[11].uid,
      version: 12,
      is_latest: true,
      created_at: made[11].createdAt,
      n_files: 4,
      size: 5000,
      hash: 'hash12xxxxxxxxxxxxxxxx',
      n_observations: 30,
      run: made[11].run,
      // Recorded before messages were: derived from the run's transform and parameters.
      message: 'PCA (10 components of data) as obsm pca',
    });

    expect(registry.resolveVersion('atlas', 3).uid).toBe(made[2].uid);
    expect(registry.resolveVersion('atlas', '3').uid).toBe(made[2].uid);
    expect(registry.resolveVersion('atlas', made[4].uid).version).toBe(5);
    expect(catchError(() => registry.resolveVersion('atlas', 13)).code).toBe('not_found');
    // The run that made a version read the one before it.
    expect(registry.getRun(made[5].run!.uid).inputs.artifacts).toEqual([made[4].uid]);
  });

  it('deleting the latest version hands is_latest back and never reuses its number', () => {
    const { v1, v2 } = buildChain();
    registry.delete(v2.uid);
    expect(registry.getStore('atlas').uid).toBe(v1.uid);
    expect(registry.versions('atlas').map((v) => v.version)).toEqual([1]);
    expect(registry.versions('atlas', { includeDeleted: true }).map((v) => [v.version, v.isLatest, v.deletedAt !== null])).toEqual([
      [2, false, true],
      [1, true, false],
    ]);
    const v3 = registry.addStoreVersion('atlas', storeVersion('storeV3storeV3storeV3s'));
    expect(v3.version).toBe(3);
    expect(v3.versionSuffix).toBe('0002');
  });

  it('dropOlderVersions tombstones all but the latest', () => {
    const { v1, v2 } = buildChain();
    expect(registry.dropOlderVersions('atlas').map((v) => v.uid)).toEqual([v1.uid]);
    expect(registry.versions('atlas').map((v) => v.uid)).toEqual([v2.uid]);
    expect(registry.getArtifact(v1.uid).deletedAt).not.toBeNull();
  });
});

describe('collections, transforms and runs', () => {
  it('keeps members in order with an order-insensitive hash', () => {
    const a = registry.registerArtifact(h5ad('a.h5ad', 'k7iFrf4NoInN9jSQT9WfcQ')).artifact;
    const b = registry.registerArtifact(h5ad('b.h5ad', 'BgIcGoKE2P6SilIQ1Fq4qg')).artifact;
    const c = registry.registerArtifact(h5ad('c.h5ad', 'wG30_9BVzzFgLdXEr-3WUQ')).artifact;
    const collection = registry.createCollection({ key: 'trio', description: 'three', members: ['c.h5ad', a.uid, b.stem] });
    expect(collection.uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
    expect(collection.members.map((m) => m.key)).toEqual(['c.h5ad', 'a.h5ad', 'b.h5ad']);
    // Same value /usr/bin/python3 computes for lamindb's hash_set of these three hashes.
    expect(collection.hash).toBe('ylFaUmcm25bOwBIU_PPi3A');

    const d = registry.registerArtifact(h5ad('d.h5ad', 'hashDhashDhashDhashDha')).artifact;
    const grown = registry.addCollectionMembers('trio', [d.uid, a.uid]);
    expect(grown.members.map((m) => m.uid)).toEqual([c.uid, a.uid, b.uid, d.uid]);
    expect(grown.hash).not.toBe(collection.hash);
    expect(registry.listCollections().map((x) => x.key)).toEqual(['trio']);
    expect(registry.list().collections).toEqual([
      expect.objectContaining({ key: 'trio', nArtifacts: 4, size: 4000, description: 'three' }),
    ]);
  });

  it('keys name one live thing across collections and artifacts', () => {
    registry.registerArtifact(h5ad('shared', 'hashShashShashShashSha'));
    const error = catchError(() => registry.createCollection({ key: 'shared', members: [] }));
    expect(error.code).toBe('already_exists');
    registry.createCollection({ key: 'coll', members: [] });
    expect(catchError(() => registry.createCollection({ key: 'coll', members: [] })).code).toBe('already_exists');
    expect(catchError(() => registry.registerArtifact(h5ad('coll', 'hashThashThashThashTha'))).code).toBe('already_exists');
  });

  it('gets or creates transforms and records run starts, ends, inputs, params and errors', () => {
    const t1 = registry.getOrCreateTransform('import');
    expect(t1.uid).toMatch(/^[0-9A-Za-z]{12}0000$/);
    expect(registry.getOrCreateTransform('import').uid).toBe(t1.uid);
    expect(registry.getOrCreateTransform('import', '2').uid).not.toBe(t1.uid);

    const a = registry.registerArtifact(h5ad('a.h5ad', 'hashAAAAAAAAAAAAAAAAAA')).artifact;
    const run = registry.startRun({ transform: 'export', params: { out: 'x.h5ad', layers: ['data'] }, inputArtifacts: ['a.h5ad'] });
    expect(run.status).toBe('running');
    expect(run.transform.uid).toBe(registry.getOrCreateTransform('export').uid);
    expect(run.inputs.artifacts).toEqual([a.uid]);
    expect(run.params).toEqual({ out: 'x.h5ad', layers: ['data'] });
    const failed = registry.failRun(run.uid, 'disk full');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('disk full');
    expect(failed.finishedAt).not.toBeNull();
    expect(catchError(() => registry.finishRun(run.uid)).message).toMatch(/already ended as failed/);

    const cancelled = registry.startRun({ transform: 'embed' });
    expect(registry.failRun(cancelled.uid, 'cancelled by the user', 'cancelled').status).toBe('cancelled');
    expect(registry.listRuns().map((r) => r.uid)).toEqual([cancelled.uid, run.uid]);
  });
});

describe('lineage', () => {
  it('walks import → concatenate → append upstream from the latest store version', () => {
    const { a, b, c, pbmc, v1, v2, import1, import2, concat, append } = buildChain();
    const lineage = registry.lineage('atlas');
    const nodes = Object.fromEntries(lineage.nodes.map((n) => [n.id, `${n.kind}:${n.label}`]));
    expect(nodes).toEqual({
      [v2.uid]: 'artifact:atlas v2',
      [append.uid]: 'run:append',
      [v1.uid]: 'artifact:atlas v1',
      [concat.uid]: 'run:concatenate',
      [pbmc.uid]: 'collection:pbmc',
      [import1.uid]: 'run:import',
      [a.uid]: 'artifact:a.h5ad',
      [b.uid]: 'artifact:b.h5ad',
      [c.uid]: 'artifact:c.h5ad',
      [import2.uid]: 'run:import',
    });
    const edges = lineage.edges.map((e) => `${e.from}>${e.to}`).sort();
    expect(edges).toEqual(
      [
        `${append.uid}>${v2.uid}`,
        `${v1.uid}>${append.uid}`,
        `${c.uid}>${append.uid}`,
        `${import2.uid}>${c.uid}`,
        `${concat.uid}>${v1.uid}`,
        `${pbmc.uid}>${concat.uid}`,
        `${import1.uid}>${pbmc.uid}`,
        `${import1.uid}>${a.uid}`,
        `${import1.uid}>${b.uid}`,
        `${a.uid}>${pbmc.uid}`,
        `${b.uid}>${pbmc.uid}`,
      ].sort(),
    );
  });

  it('adds the runs that consumed an older version and what they made', () => {
    const { a, b, c, pbmc, v1, v2, import1, concat, append } = buildChain();
    const lineage = registry.lineage(v1.uid);
    // The append's other input (c.h5ad) is shown beside it, without its own history.
    expect(lineage.nodes.map((n) => n.id).sort()).toEqual([a.uid, b.uid, pbmc.uid, v1.uid, v2.uid, c.uid, import1.uid, concat.uid, append.uid].sort());
    const edges = lineage.edges.map((e) => `${e.from}>${e.to}:${e.relation}`);
    expect(edges).toContain(`${v1.uid}>${append.uid}:input`);
    expect(edges).toContain(`${c.uid}>${append.uid}:input`);
    expect(edges).toContain(`${append.uid}>${v2.uid}:output`);
    expect(edges).toHaveLength(10);
  });
});

describe('rename and delete', () => {
  it('renames a store family and a collection', () => {
    const { v1, v2, pbmc } = buildChain();
    expect(registry.rename('atlas', 'atlas-2024')).toEqual({ kind: 'artifact', uid: v2.uid, key: 'atlas-2024' });
    expect(registry.getArtifact(v1.uid).key).toBe('atlas-2024');
    expect(registry.getStore('atlas-2024').uid).toBe(v2.uid);
    expect(catchError(() => registry.getStore('atlas')).code).toBe('not_found');
    expect(registry.rename('pbmc', 'pbmc-renamed').uid).toBe(pbmc.uid);
    expect(registry.getCollection(pbmc.uid).key).toBe('pbmc-renamed');
    expect(catchError(() => registry.rename('a.h5ad', 'b.h5ad')).code).toBe('already_exists');
    expect(catchError(() => registry.rename('a.h5ad', '  ')).code).toBe('usage');
  });

  it('refuses to delete what something else was made from, naming the consumers', () => {
    const { a, v1, concat, append } = buildChain();
    const memberError = catchError(() => registry.delete('a.h5ad'));
    expect(memberError.code).toBe('in_use');
    expect(memberError.message).toBe('Cannot delete artifact "a.h5ad": something else uses it; delete those first or pass --force (lineage keeps a tombstone).');
    expect(memberError.problems).toEqual([expect.stringMatching(/^collection "pbmc" \(uid \w{20}\) contains it$/)]);

    const collectionError = catchError(() => registry.delete('pbmc'));
    expect(collectionError.problems).toEqual([`concatenate run ${concat.uid} made array store "atlas" v1 from it`]);

    const versionError = catchError(() => registry.delete(v1.uid));
    expect(versionError.message).toMatch(/^Cannot delete version 1 of array store "atlas"/);
    expect(versionError.problems).toEqual([`append run ${append.uid} made array store "atlas" v2 from it`]);

    expect(registry.getArtifact(a.uid).deletedAt).toBeNull();
    expect(registry.consumersOf('pbmc')).toHaveLength(1);
  });

  it('a running run blocks deletion; a failed one does not', () => {
    const a = registry.registerArtifact(h5ad('a.h5ad', 'hashAAAAAAAAAAAAAAAAAA')).artifact;
    const b = registry.registerArtifact(h5ad('b.h5ad', 'hashBBBBBBBBBBBBBBBBBB')).artifact;
    const running = registry.startRun({ transform: 'export', inputArtifacts: [b.uid, a.uid] });
    expect(running.inputs.artifacts).toEqual([a.uid, b.uid]);
    expect(catchError(() => registry.delete('a.h5ad')).problems).toEqual([`export run ${running.uid} is still running and reads it`]);
    registry.failRun(running.uid, 'out of memory');
    expect(registry.delete('a.h5ad').deleted).toHaveLength(1);
  });

  it('deletes a whole store, then what it was made from, top down without force', () => {
    buildChain();
    const store = registry.delete('atlas');
    expect(store.deleted.map((d) => d.kind === 'artifact' && d.version)).toEqual([1, 2]);
    expect(registry.delete('pbmc').deleted).toEqual([expect.objectContaining({ kind: 'collection', key: 'pbmc' })]);
    expect(registry.delete('a.h5ad').overridden).toEqual([]);
    expect(registry.list().stores).toEqual([]);
    expect(registry.list().artifacts.map((x) => x.key)).toEqual(['b.h5ad', 'c.h5ad']);
  });

  it('force deletes a consumed artifact and lineage keeps it as a tombstone', () => {
    const { a, pbmc } = buildChain();
    const result = registry.delete('a.h5ad', { force: true });
    expect(result.deleted).toEqual([{ kind: 'artifact', uid: a.uid, key: 'a.h5ad', version: 1, storagePath: join(home, 'storage', 'a.h5ad'), isLink: false }]);
    expect(result.overridden).toHaveLength(1);
    expect(registry.findArtifact('a.h5ad')).toBeNull();
    expect(registry.getArtifact(a.uid).deletedAt).not.toBeNull();
    expect(catchError(() => registry.delete('a.h5ad')).code).toBe('not_found');

    const lineage = registry.lineage('atlas');
    expect(lineage.nodes.find((n) => n.id === a.uid)).toEqual({ id: a.uid, kind: 'artifact', label: 'a.h5ad (deleted)', deleted: true, artifactKind: 'h5ad', message: 'import of a.h5ad' });
    expect(lineage.edges).toContainEqual({ from: a.uid, to: pbmc.uid, relation: 'member' });
    // The tombstone's own lineage is still reachable by uid.
    expect(registry.lineage(a.uid).nodes.map((n) => n.label)).toContain('pbmc');
  });
});

describe('two processes sharing one home', () => {
  it('sees the other connection\'s writes', () => {
    const other = openRegistry(home);
    try {
      const made = other.registerArtifact(h5ad('from-cli.h5ad', 'hashQhashQhashQhashQha')).artifact;
      expect(registry.getArtifact('from-cli.h5ad').uid).toBe(made.uid);
      expect(registry.registerArtifact(h5ad('again.h5ad', 'hashQhashQhashQhashQha')).existing).toBe(true);
    } finally {
      other.close();
    }
  });

  it('waits for another writer instead of failing with SQLITE_BUSY', async () => {
    const require = createRequire(import.meta.url);
    const workerSource = `
      const { parentPort, workerData } = require('node:worker_threads');
      const Database = require(workerData.driver);
      const db = new Database(workerData.dbPath);
      db.pragma('busy_timeout = 5000');
      db.exec('BEGIN IMMEDIATE');
      db.prepare("INSERT INTO transform (uid, name, version, created_at) VALUES ('workerTransf0000', 'annotate', '9', '2024-01-01T00:00:00.000Z')").run();
      parentPort.postMessage('locked');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
      db.exec('COMMIT');
      db.close();
      parentPort.postMessage('released');
    `;
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), dbPath: join(home, REGISTRY_FILE_NAME) },
    });
    const released = new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => m === 'released' && resolve());
      worker.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => m === 'locked' && resolve());
      worker.on('error', reject);
    });
    const started = Date.now();
    const made = registry.registerArtifact(h5ad('while-locked.h5ad', 'hashLhashLhashLhashLha')).artifact;
    expect(Date.now() - started).toBeGreaterThan(100);
    expect(made.key).toBe('while-locked.h5ad');
    await released;
    await worker.terminate();
    expect(registry.getOrCreateTransform('annotate', '9').uid).toBe('workerTransf0000');
  });
});
