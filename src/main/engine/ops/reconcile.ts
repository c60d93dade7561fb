// Settling what a killed process left (SPEC §4 commit order): versions committed but never
// registered are registered, runs whose process is gone end, folders nothing names go.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import type { RunningRun } from '../../registry/runs';
import type { ArtifactRecord, RunStatus } from '../../../shared/registry-types';
import { isProcessAlive } from '../store/format/lock';
import { listManifestVersions, readManifest, LOCK_FILE, MANIFEST_DIR } from '../store/format/manifest';
import { managedStorageDir } from './import';
import { finishRunIfRunning, registerAppendedFiles, storesDir, storeVersionFields, versionStats, type AppendedFile } from './store-records';

// ── who is still working ─────────────────────────────────────────────────────

/** alive / gone: known; unknown: another machine's process, or a run recorded before Cellar kept the pid. */
export type ProcessState = 'alive' | 'gone' | 'unknown';

function processState(pid: number | null, host: string | null): ProcessState {
  if (pid === null || host === null || host !== hostname()) return 'unknown';
  return isProcessAlive(pid) ? 'alive' : 'gone';
}

/** Whether the process that started a run is still working. */
export function runOwnerState(run: Pick<RunningRun, 'pid' | 'host'>): ProcessState {
  return processState(run.pid, run.host);
}

// Same grace as the store lock: a lock without content may be one a writer has just created.
const UNREADABLE_LOCK_GRACE_MS = 60_000;

/** The holder of a store folder's write lock; 'none' when there is no lock. */
function lockHolderState(dir: string): ProcessState | 'none' {
  const path = join(dir, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'unknown';
  }
  try {
    const owner = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (typeof owner.pid === 'number' && typeof owner.host === 'string') return processState(owner.pid, owner.host);
  } catch {
    // Falls through to the age check.
  }
  try {
    return Date.now() - statSync(path).mtimeMs > UNREADABLE_LOCK_GRACE_MS ? 'gone' : 'unknown';
  } catch {
    return 'none';
  }
}

/** A committed version whose writer is still alive: that writer registers it itself. */
function writerStillWorking(registry: Registry, runUid: string | null): boolean {
  if (!runUid) return false;
  const run = registry.runningRuns().find((r) => r.uid === runUid);
  return run !== undefined && runOwnerState(run) === 'alive';
}

// ── reconciliation ───────────────────────────────────────────────────────────

function highestRegistered(registry: Registry, stem: string): number {
  return registry.versions(stem, { includeDeleted: true }).reduce((m, v) => Math.max(m, v.version), 0);
}

/**
 * Registers committed manifests the registry has not seen (a writer died after its commit
 * point), in order. A version whose writer is still alive is left to that writer, and so is
 * every later one, so registry numbers keep following manifest numbers.
 */
export async function reconcileStore(registry: Registry, store: ArtifactRecord): Promise<ArtifactRecord> {
  const dir = store.storagePath;
  if (!existsSync(join(dir, MANIFEST_DIR))) throw new CellarError('not_found', `The store ${store.key} has no data at ${dir}.`);
  const highest = highestRegistered(registry, store.stem);
  for (const version of listManifestVersions(dir)) {
    if (version <= highest) continue;
    const manifest = readManifest(dir, version);
    const runUid = typeof manifest.meta.runUid === 'string' && runExists(registry, manifest.meta.runUid) ? manifest.meta.runUid : null;
    if (writerStillWorking(registry, runUid)) break;
    const stats = await versionStats(dir, version);
    const appended = manifest.meta.transform === 'append' && runUid ? appendedFilesOf(manifest.meta) : null;
    registry.atomically(() => {
      // Another process may have registered it while this one was hashing.
      if (highestRegistered(registry, store.stem) >= version) return;
      if (appended) registerAppendedFiles(registry, runUid!, appended);
      registry.addStoreVersion(store.stem, {
        ...storeVersionFields(stats, dir),
        runUid,
        message: typeof manifest.meta.message === 'string' ? manifest.meta.message : null,
        description: typeof manifest.meta.description === 'string' ? manifest.meta.description : null,
        // restore named its source version as its input when it started.
        previousVersionIsInput: manifest.meta.transform !== 'restore',
      });
      // A compaction that died after its commit point: the versions it replaced are retired
      // with its registration, as compact itself does (their files go at the next compact or verify --fix).
      if (manifest.meta.transform === 'compact') registry.dropOlderVersions(store.stem);
    });
    if (runUid) finishRunIfRunning(registry, runUid);
  }
  return registry.getStore(store.stem);
}

/**
 * Whether a store folder that no registry row names and that has no committed manifest is
 * what a first write (concatenate) left when its process died. A live lock holder, or,
 * before the lock exists, a concatenate run whose process may still be working, keeps it.
 */
function abandonedFirstWrite(registry: Registry, dir: string): boolean {
  const lock = lockHolderState(dir);
  if (lock !== 'none') return lock === 'gone';
  return !registry.runningRuns().some((r) => r.transform === 'concatenate' && runOwnerState(r) !== 'gone');
}

/**
 * Registers stores whose first write committed a manifest but died before its registry
 * row (the folder is under home/stores and no registry version points at it). The store's
 * uid and key come from its manifest's meta; later versions follow via reconcileStore.
 * A folder without a committed manifest whose writer is gone is removed: nothing can
 * read it and nothing else names it.
 */
export async function reconcileOrphanStores(registry: Registry, home: string): Promise<ArtifactRecord[]> {
  const root = storesDir(home);
  if (!existsSync(root)) return [];
  const known = new Set(registry.listArtifacts({ kind: 'store', allVersions: true, includeDeleted: true }).map((a) => resolve(a.storagePath)));
  const recovered: ArtifactRecord[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const dir = resolve(root, entry.name);
    if (!entry.isDirectory() || known.has(dir)) continue;
    const versions = listManifestVersions(dir);
    if (!versions.length) {
      if (abandonedFirstWrite(registry, dir)) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    let meta: Record<string, unknown>;
    try {
      meta = readManifest(dir, versions[0]!).meta;
    } catch {
      continue; // verify reports unreadable manifests; listing must not fail on them
    }
    const uid = typeof meta.storeUid === 'string' ? meta.storeUid : null;
    const key = typeof meta.storeKey === 'string' ? meta.storeKey : null;
    if (!uid || !key || registry.findArtifact(uid) || registry.findArtifact(key) || registry.findCollection(key)) continue;
    const runUid = typeof meta.runUid === 'string' && runExists(registry, meta.runUid) ? meta.runUid : null;
    if (writerStillWorking(registry, runUid)) continue;
    const stats = await versionStats(dir, versions[0]!);
    // registerArtifact returns the existing row when another process registered it meanwhile.
    const { artifact } = registry.registerArtifact({
      uid,
      key,
      suffix: '',
      kind: 'store',
      ...storeVersionFields(stats, dir),
      runUid,
      message: typeof meta.message === 'string' ? meta.message : null,
    });
    if (runUid) finishRunIfRunning(registry, runUid);
    recovered.push(await reconcileStore(registry, artifact));
  }
  return recovered;
}

/** A run whose process died while it was marked running, and how it ended up. */
export interface SettledRun {
  uid: string;
  transform: string;
  status: RunStatus;
}

function hasUnregisteredVersions(registry: Registry, store: ArtifactRecord): boolean {
  try {
    const onDisk = listManifestVersions(store.storagePath);
    return onDisk.length > 0 && onDisk[onDisk.length - 1]! > highestRegistered(registry, store.stem);
  } catch {
    return false;
  }
}

/**
 * Ends every run still marked running whose process is gone (killed, crashed, power cut):
 * completed when its output committed (the version is registered and linked to it first),
 * failed otherwise (the file copies it made in the home's storage and no artifact names
 * are removed). Runs of live processes, of other machines and of unknown processes are
 * left alone. Stores never seen by the registry are recovered by reconcileOrphanStores,
 * which reconcileHome runs first.
 */
export async function settleInterruptedRuns(registry: Registry): Promise<SettledRun[]> {
  const gone = registry.runningRuns().filter((run) => runOwnerState(run) === 'gone');
  if (!gone.length) return [];
  for (const store of registry.listArtifacts({ kind: 'store' })) {
    if (!hasUnregisteredVersions(registry, store)) continue;
    try {
      await reconcileStore(registry, store);
    } catch {
      // A damaged store is verify's to report; it must not keep other runs from settling.
    }
  }
  const settled = gone.map((run) => ({
    uid: run.uid,
    transform: run.transform,
    status: registry.closeInterruptedRun(run.uid, `Interrupted: the process that ran it (pid ${run.pid} on ${run.host}) ended before the run finished; nothing it wrote was committed.`),
  }));
  for (const run of settled) if (run.status === 'failed') removeUnregisteredCopies(registry, run.uid);
  return settled;
}

/** Copies a failed import or append made in the home's storage (named after its run) that no artifact names. */
function removeUnregisteredCopies(registry: Registry, runUid: string): void {
  const storage = managedStorageDir(registry.home);
  let names: string[];
  try {
    names = readdirSync(storage).filter((name) => name.startsWith(`${runUid}-`));
  } catch {
    return;
  }
  if (!names.length) return;
  const named = new Set(registry.listArtifacts({ allVersions: true, includeDeleted: true }).map((a) => resolve(a.storagePath)));
  for (const name of names) {
    const path = resolve(storage, name);
    if (!named.has(path)) rmSync(path, { force: true });
  }
}

/** Brings the registry in line with the home after processes died mid-write (SPEC §4 commit order). */
export async function reconcileHome(registry: Registry, home: string = registry.home): Promise<{ recovered: ArtifactRecord[]; settled: SettledRun[] }> {
  const recovered = await reconcileOrphanStores(registry, home);
  const settled = await settleInterruptedRuns(registry);
  return { recovered, settled };
}

function runExists(registry: Registry, runUid: string): boolean {
  try {
    registry.getRun(runUid);
    return true;
  } catch {
    return false;
  }
}

function appendedFilesOf(meta: Record<string, unknown>): AppendedFile[] | null {
  const list = meta.appended;
  if (!Array.isArray(list)) return null;
  const valid = list.every((f: Partial<AppendedFile> | null) => f !== null && typeof f === 'object' && typeof f.uid === 'string' && typeof f.existing === 'boolean' && (f.existing || (typeof f.key === 'string' && typeof f.hash === 'string' && typeof f.size === 'number' && typeof f.storagePath === 'string')));
  return valid ? (list as AppendedFile[]) : null;
}

/** The store's registry record (reconciled with its folder) and its folder. */
export async function resolveStore(registry: Registry, key: string): Promise<{ store: ArtifactRecord; dir: string }> {
  let found = registry.findArtifact(key);
  if (!found) {
    // Its first version may have committed without being registered (a writer that died).
    await reconcileOrphanStores(registry, registry.home);
    found = registry.findArtifact(key);
  }
  if (!found || found.kind !== 'store') {
    throw new CellarError('not_found', `There is no store called ${key}. Run "cellar list" to see the stores.`);
  }
  await reconcileStore(registry, found);
  // Runs killed mid-write would otherwise stay "running" and hold up deletes.
  await settleInterruptedRuns(registry);
  const store = registry.getStore(found.stem);
  return { store, dir: store.storagePath };
}
