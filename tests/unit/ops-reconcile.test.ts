// Reconciliation after processes die mid-write (SPEC §4 commit order): runs whose process
// is gone end (completed when their output committed, failed otherwise), runs of live,
// foreign or unknown processes are left alone, a version committed by a live writer is
// left for that writer to register, and a first write that never committed is removed
// only when no live process can still be writing it.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStoreWriter } from '../../src/main/engine/store/store-writer';
import { finishRunIfRunning, registerAppendedFiles, storesDir, versionStats, type AppendedFile } from '../../src/main/engine/ops/store-records';
import { reconcileHome, reconcileOrphanStores, reconcileStore, resolveStore, settleInterruptedRuns } from '../../src/main/engine/ops/reconcile';
import { REGISTRY_FILE_NAME, openRegistry, type Registry } from '../../src/main/registry/registry';
import { newArtifactUid } from '../../src/main/registry/uid';

let home: string;
let registry: Registry;
const children: ChildProcess[] = [];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cellar-reconcile-'));
  registry = openRegistry(home);
});
afterEach(() => {
  registry.close();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  expect(pid).toBeGreaterThan(0);
  return pid;
}

/** A live process that is not Cellar, standing in for a busy writer. */
function liveProcess(): ChildProcess {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  children.push(child);
  expect(child.pid).toBeGreaterThan(0);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Says which process runs a run, as a run started by that process would record. */
function setOwner(runUid: string, pid: number | null, host: string | null): void {
  const db = new Database(join(home, REGISTRY_FILE_NAME));
  try {
    db.prepare('UPDATE run SET pid = ?, host = ? WHERE uid = ?').run(pid, host, runUid);
  } finally {
    db.close();
  }
}

/** Commits one version (two more cells) as a writer would, without registering it. */
async function commitVersion(dir: string, baseVersion: number | null, meta: Record<string, unknown>): Promise<number> {
  const writer = await createStoreWriter({ dir, baseVersion });
  const first = writer.nObs;
  await writer.appendObsRows(first, { columns: [{ name: 'obs_id', column: { kind: 'string', values: [`c${first}`, `c${first + 1}`] } }] });
  return (await writer.commit({ meta })).version;
}

/** A store "atlas" whose version 1 a completed concatenate run registered. */
async function registeredStore(): Promise<{ stem: string; uid: string; dir: string; concatRun: string }> {
  const run = registry.startRun({ transform: 'concatenate', params: { store: 'atlas' } });
  const { uid, stem } = newArtifactUid();
  const dir = join(storesDir(home), stem);
  await commitVersion(dir, null, { runUid: run.uid, transform: 'concatenate', storeKey: 'atlas', storeUid: uid });
  const stats = await versionStats(dir, 1);
  registry.registerArtifact({ uid, key: 'atlas', suffix: '', kind: 'store', size: stats.size, hash: stats.hash, hashType: 'md5-d', nFiles: stats.nFiles, nObservations: stats.nObs, storagePath: dir, runUid: run.uid });
  registry.finishRun(run.uid);
  return { stem, uid, dir, concatRun: run.uid };
}

const versionsOf = (stem: string) => registry.versions(stem).map((v) => [v.version, v.run?.transform ?? null]);

describe('runs whose process died', () => {
  it('a live first writer keeps its committed version to itself; once it is gone the version is registered and its run completed', async () => {
    const run = registry.startRun({ transform: 'concatenate', params: { store: 'atlas' } });
    const { uid, stem } = newArtifactUid();
    const dir = join(storesDir(home), stem);
    await commitVersion(dir, null, { runUid: run.uid, transform: 'concatenate', storeKey: 'atlas', storeUid: uid });

    // This process started the run: it is alive, so it registers the store itself.
    expect(await reconcileHome(registry)).toEqual({ recovered: [], settled: [] });
    expect(registry.findArtifact('atlas')).toBeNull();
    expect(registry.getRun(run.uid).status).toBe('running');
    expect(existsSync(dir)).toBe(true);

    setOwner(run.uid, deadPid(), hostname());
    const { recovered, settled } = await reconcileHome(registry);
    expect(recovered.map((s) => [s.uid, s.key, s.version, s.nObservations])).toEqual([[uid, 'atlas', 1, 2]]);
    expect(settled).toEqual([]);
    const after = registry.getRun(run.uid);
    expect([after.status, after.error, after.outputs.artifacts]).toEqual(['completed', null, [uid]]);
    expect(after.finishedAt).not.toBeNull();
  });

  it('a version committed by a live writer is registered once, by that writer; one whose writer died is registered by the next reader', async () => {
    const { stem, dir } = await registeredStore();
    const embed = registry.startRun({ transform: 'embed', params: { store: 'atlas' } });
    expect(await commitVersion(dir, 1, { runUid: embed.uid, transform: 'embed', storeKey: 'atlas' })).toBe(2);

    // Between the writer's commit point and its registry row: readers leave version 2 alone.
    expect((await resolveStore(registry, 'atlas')).store.version).toBe(1);
    expect(registry.getRun(embed.uid).status).toBe('running');
    const stats = await versionStats(dir, 2);
    registry.addStoreVersion(stem, { size: stats.size, hash: stats.hash, nFiles: stats.nFiles, nObservations: stats.nObs, storagePath: dir, runUid: embed.uid });
    finishRunIfRunning(registry, embed.uid);
    await reconcileStore(registry, registry.getStore('atlas'));
    expect(versionsOf(stem)).toEqual([
      [2, 'embed'],
      [1, 'concatenate'],
    ]);

    const annotate = registry.startRun({ transform: 'annotate', params: { store: 'atlas' } });
    await commitVersion(dir, 2, { runUid: annotate.uid, transform: 'annotate', storeKey: 'atlas' });
    setOwner(annotate.uid, deadPid(), hostname());
    const { store } = await resolveStore(registry, 'atlas');
    expect([store.version, store.nObservations, store.run?.uid]).toEqual([3, 6, annotate.uid]);
    expect(versionsOf(stem)).toEqual([
      [3, 'annotate'],
      [2, 'embed'],
      [1, 'concatenate'],
    ]);
    const run = registry.getRun(annotate.uid);
    expect(run.status).toBe('completed');
    expect(run.inputs.artifacts).toEqual([registry.resolveVersion(stem, 2).uid]);
    expect(run.outputs.artifacts).toEqual([store.uid]);
  });

  it('a run killed before its commit point fails; runs of live, foreign and unknown processes stay running', async () => {
    const holder = liveProcess();
    const start = (name: string) => registry.startRun({ transform: 'embed', params: { store: name } }).uid;
    const [dead, live, foreign, unknown, mine] = ['dead', 'live', 'foreign', 'unknown', 'mine'].map(start) as [string, string, string, string, string];
    const deadOwner = deadPid();
    setOwner(dead, deadOwner, hostname());
    setOwner(live, holder.pid!, hostname());
    setOwner(foreign, deadOwner, `not-${hostname()}`);
    setOwner(unknown, null, null);
    // Copies an append makes in the home's storage are named after its run.
    const storage = join(home, 'storage');
    mkdirSync(storage, { recursive: true });
    const copies = [`${dead}-0.h5ad`, `${dead}-1.h5ad.partial`, `${live}-0.h5ad`, `${unknown}-0.h5ad`];
    for (const name of copies) writeFileSync(join(storage, name), 'h5ad bytes');

    expect(await settleInterruptedRuns(registry)).toEqual([{ uid: dead, transform: 'embed', status: 'failed' }]);
    expect(readdirSync(storage).sort()).toEqual(copies.slice(2).sort());
    const failed = registry.getRun(dead);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`Interrupted: the process that ran it (pid ${deadOwner} on ${hostname()}) ended before the run finished; nothing it wrote was committed.`);
    expect(failed.finishedAt).not.toBeNull();
    expect([live, foreign, unknown, mine].map((uid) => registry.getRun(uid).status)).toEqual(['running', 'running', 'running', 'running']);

    // Settling again changes nothing; once the live holder dies its run fails too.
    expect(await settleInterruptedRuns(registry)).toEqual([]);
    await kill(holder);
    expect(await settleInterruptedRuns(registry)).toEqual([{ uid: live, transform: 'embed', status: 'failed' }]);
    expect(readdirSync(storage)).toEqual([`${unknown}-0.h5ad`]);
    expect([foreign, unknown, mine].map((uid) => registry.getRun(uid).status)).toEqual(['running', 'running', 'running']);
  });

  it('a dead run that registered its outputs before dying ends completed', async () => {
    const run = registry.startRun({ transform: 'import', params: { files: ['a.h5ad'] } });
    const { artifact } = registry.registerArtifact({ key: 'a.h5ad', suffix: '.h5ad', kind: 'h5ad', size: 10, hash: 'hashAAAAAAAAAAAAAAAAAA', hashType: 'md5', storagePath: join(home, 'a.h5ad'), runUid: run.uid });
    setOwner(run.uid, deadPid(), hostname());
    expect(await settleInterruptedRuns(registry)).toEqual([{ uid: run.uid, transform: 'import', status: 'completed' }]);
    expect(registry.getRun(run.uid)).toMatchObject({ status: 'completed', error: null, outputs: { artifacts: [artifact.uid], collections: [] } });
  });

  it('a restore committed by a dead writer is registered with its source as its only input', async () => {
    const { stem, dir } = await registeredStore();
    const v1 = registry.getStore('atlas');
    const v2run = registry.startRun({ transform: 'annotate' });
    await commitVersion(dir, 1, { runUid: v2run.uid, transform: 'annotate', storeKey: 'atlas' });
    setOwner(v2run.uid, deadPid(), hostname());
    await resolveStore(registry, 'atlas');
    const restore = registry.startRun({ transform: 'restore', params: { store: 'atlas', version: 1 }, inputArtifacts: [v1.uid] });
    await commitVersion(dir, 1, { runUid: restore.uid, transform: 'restore', storeKey: 'atlas', restoredFrom: 1 });
    setOwner(restore.uid, deadPid(), hostname());
    const { store } = await resolveStore(registry, 'atlas');
    expect(versionsOf(stem)).toEqual([
      [3, 'restore'],
      [2, 'annotate'],
      [1, 'concatenate'],
    ]);
    expect(registry.getRun(restore.uid)).toMatchObject({ status: 'completed', inputs: { artifacts: [v1.uid] }, outputs: { artifacts: [store.uid] } });
  });
});

describe('store folders of a first write that never committed', () => {
  /** What a concatenate leaves when it dies before its first commit: data files, no manifest. */
  function leftover(name: string, lock: { pid: number; host: string } | 'unreadable' | null): string {
    const dir = join(storesDir(home), name);
    mkdirSync(join(dir, 'data'), { recursive: true });
    mkdirSync(join(dir, 'manifests'), { recursive: true });
    writeFileSync(join(dir, 'data', 'obs-0001.arrow'), 'partial');
    if (lock === 'unreadable') writeFileSync(join(dir, '.lock'), '');
    else if (lock) writeFileSync(join(dir, '.lock'), JSON.stringify({ ...lock, createdAt: new Date().toISOString() }));
    return dir;
  }

  it('is removed when its lock holder is gone, kept while a live, foreign or just-started writer may own it', async () => {
    const holder = liveProcess();
    const { dir: registered } = await registeredStore();
    const dead = leftover('dead-writer', { pid: deadPid(), host: hostname() });
    const live = leftover('live-writer', { pid: holder.pid!, host: hostname() });
    const foreign = leftover('foreign-writer', { pid: deadPid(), host: `not-${hostname()}` });
    const fresh = leftover('lock-being-written', 'unreadable');
    expect(await reconcileOrphanStores(registry, home)).toEqual([]);
    expect([dead, live, foreign, fresh, registered].map(existsSync)).toEqual([false, true, true, true, true]);

    await kill(holder);
    await reconcileOrphanStores(registry, home);
    expect([live, foreign, fresh, registered].map(existsSync)).toEqual([false, true, true, true]);
    expect(registry.versions('atlas').map((v) => v.version)).toEqual([1]);
  });

  it('without a lock, is kept while a concatenate run may still be about to take it, and removed after', async () => {
    const concat = registry.startRun({ transform: 'concatenate', params: { store: 'next' } });
    const unlocked = leftover('unlocked', null);
    await reconcileHome(registry);
    expect(existsSync(unlocked)).toBe(true);
    expect(registry.getRun(concat.uid).status).toBe('running');

    setOwner(concat.uid, deadPid(), hostname());
    const { settled } = await reconcileHome(registry);
    expect(existsSync(unlocked)).toBe(false);
    expect(settled).toEqual([{ uid: concat.uid, transform: 'concatenate', status: 'failed' }]);
  });
});

describe('registerAppendedFiles', () => {
  it('imports new files through their own run and makes every file an input of the append run', async () => {
    const { dir } = await registeredStore();
    const known = registry.registerArtifact({ key: 'known.h5ad', suffix: '.h5ad', kind: 'h5ad', size: 10, hash: 'hashKKKKKKKKKKKKKKKKKK', hashType: 'md5', storagePath: join(home, 'known.h5ad') }).artifact;
    // A new file whose key an artifact already has becomes that family's next version.
    registry.registerArtifact({ key: 'taken.h5ad', suffix: '.h5ad', kind: 'h5ad', size: 10, hash: 'hashTTTTTTTTTTTTTTTTTT', hashType: 'md5', storagePath: join(home, 'taken.h5ad') });
    const append = registry.startRun({ transform: 'append', params: { store: 'atlas' }, inputArtifacts: ['atlas'] });
    const file = (key: string, hash: string): AppendedFile => ({
      uid: newArtifactUid().uid,
      existing: false,
      key,
      source: `/elsewhere/${key}`,
      suffix: '.h5ad',
      size: 20,
      hash,
      hashType: 'md5',
      nObservations: 7,
      nVars: 3,
      storagePath: `storage/${key}`,
    });
    const fresh = file('new.h5ad', 'hashNNNNNNNNNNNNNNNNNN');
    const taken = file('taken.h5ad', 'hashSSSSSSSSSSSSSSSSSS');
    const uids = registry.atomically(() =>
      registerAppendedFiles(registry, append.uid, [{ ...fresh, uid: known.uid, existing: true, key: 'known.h5ad' }, fresh, taken]),
    );
    const tookVersion = registry.getArtifact('taken.h5ad');
    expect(tookVersion.version).toBe(2);
    expect(uids).toEqual([known.uid, fresh.uid, tookVersion.uid]);
    const made = registry.getArtifact(fresh.uid);
    expect([made.key, made.storagePath, made.nObservations, made.nVars, made.run?.transform]).toEqual(['new.h5ad', join(home, 'storage', 'new.h5ad'), 7, 3, 'import']);
    const importRun = registry.getRun(made.run!.uid);
    expect(importRun).toMatchObject({ status: 'completed', params: { files: ['/elsewhere/new.h5ad', '/elsewhere/taken.h5ad'], via: 'append' } });
    expect(importRun.outputs.artifacts).toEqual([fresh.uid, tookVersion.uid]);
    expect([...registry.getRun(append.uid).inputs.artifacts].sort()).toEqual([registry.getStore('atlas').uid, known.uid, fresh.uid, tookVersion.uid].sort());
    expect(existsSync(dir)).toBe(true);
  });
});
