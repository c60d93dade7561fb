// The glue between a store folder's manifests and the registry: where stores live,
// how a committed version becomes a registry artifact version (size, n_files,
// lamindb md5-d hash), and reconciliation of versions committed by a process that
// died before it could register them (SPEC §4 commit order).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { hashFile, hashFolder } from '../../registry/hash';
import type { Registry } from '../../registry/registry';
import type { RunningRun } from '../../registry/runs';
import type { ArtifactRecord, RunStatus } from '../../../shared/registry-types';
import { isProcessAlive } from '../store/format/lock';
import { listManifestVersions, readManifest, manifestFileName, LOCK_FILE, MANIFEST_DIR } from '../store/format/manifest';
import { managedStorageDir } from './import';

export function storesDir(home: string): string {
  return join(home, 'stores');
}

export interface VersionStats {
  size: number;
  nFiles: number;
  hash: string;
  nObs: number;
  nVars: number;
}

/** The registry fields every store version carries, from its statistics. */
export function storeVersionFields(stats: VersionStats, dir: string) {
  return { size: stats.size, hash: stats.hash, hashType: 'md5-d' as const, nFiles: stats.nFiles, nObservations: stats.nObs, nVars: stats.nVars, storagePath: dir };
}

/** Per-file lamindb hashes of one version, cached beside its manifest (computed once per file). */
function hashesPath(dir: string, version: number): string {
  return join(dir, HASH_CACHE_DIR, manifestFileName(version));
}

/** Beside, not inside, the store's own folders: a cache that verify and compact may ignore. */
export const HASH_CACHE_DIR = 'hash-cache';

/**
 * Size, file count and lamindb `md5-d` hash of one version: the folder hash over the
 * files it reads plus its manifest. Files already hashed for the parent version are not
 * read again, so the cost follows the new data.
 */
export async function versionStats(dir: string, version: number, measurement?: string, signal?: AbortSignal): Promise<VersionStats> {
  const manifest = readManifest(dir, version);
  const cachePath = hashesPath(dir, version);
  let cached: Record<string, string> = {};
  if (existsSync(cachePath)) cached = JSON.parse(readFileSync(cachePath, 'utf8')) as Record<string, string>;
  else if (manifest.parentVersion !== null && existsSync(hashesPath(dir, manifest.parentVersion))) {
    cached = JSON.parse(readFileSync(hashesPath(dir, manifest.parentVersion), 'utf8')) as Record<string, string>;
  }
  const names = [...Object.keys(manifest.files), `${MANIFEST_DIR}/${manifestFileName(version)}`];
  const hashes: Record<string, string> = {};
  let size = 0;
  for (const name of names) {
    const path = join(dir, name);
    size += statSync(path).size;
    hashes[name] = cached[name] ?? (await hashFile(path, signal)).hash;
  }
  if (!existsSync(cachePath)) {
    mkdirSync(join(dir, HASH_CACHE_DIR), { recursive: true });
    // Per-process temp name: a reconciling command may hash the same version at the same time.
    const temp = `${cachePath}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(hashes));
    renameSync(temp, cachePath);
  }
  const ms = measurement ?? Object.keys(manifest.ms)[0];
  return {
    size,
    nFiles: names.length,
    hash: hashFolder(names.map((name) => ({ path: name, hash: hashes[name]! }))).hash,
    nObs: manifest.obs.nRows,
    nVars: ms ? (manifest.ms[ms]?.var.nRows ?? 0) : 0,
  };
}

function runExists(registry: Registry, runUid: string): boolean {
  try {
    registry.getRun(runUid);
    return true;
  } catch {
    return false;
  }
}

/** A run whose process died after its commit point is finished by whoever registers its version. */
export function finishRunIfRunning(registry: Registry, runUid: string): void {
  try {
    const run = registry.getRun(runUid);
    if (run.status === 'running') registry.finishRun(runUid);
  } catch {
    // The run row may be gone; the version still deserves registering.
  }
}

/**
 * Takes back a version committed by a write the user cancelled before anything registered
 * it: its manifest, its cached hashes and the files only it added. Refused (false) when a
 * later version already builds on it.
 */
export function withdrawUnregisteredVersion(dir: string, commit: { version: number; files: string[] }): boolean {
  const versions = listManifestVersions(dir);
  if (versions[versions.length - 1] !== commit.version) return false;
  rmSync(join(dir, MANIFEST_DIR, manifestFileName(commit.version)), { force: true });
  rmSync(hashesPath(dir, commit.version), { force: true });
  for (const name of commit.files) rmSync(join(dir, name), { force: true });
  return true;
}

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

// ── appended files ───────────────────────────────────────────────────────────

/**
 * What an append's manifest records of each file it appended (meta.appended), so that a
 * version whose writer died after the commit point registers the same lineage as one
 * registered by the writer itself.
 */
export interface AppendedFile {
  /** The registered artifact's uid, or the one reserved for a new artifact. */
  uid: string;
  /** Already registered (same hash and size) when the append ran. */
  existing: boolean;
  key: string;
  /** Where the user's file was. */
  source: string;
  suffix: string;
  size: number;
  hash: string;
  hashType: 'md5' | 'sha1-fl' | 'md5-d';
  /** 1, or 3 for a Matrix Market folder (absent in manifests written before folders could be appended). */
  nFiles?: number;
  nObservations: number | null;
  nVars: number | null;
  /** The managed copy, relative to the home when it lies inside it. */
  storagePath: string;
}

function appendedFilesOf(meta: Record<string, unknown>): AppendedFile[] | null {
  const list = meta.appended;
  if (!Array.isArray(list)) return null;
  const valid = list.every((f: Partial<AppendedFile> | null) => f !== null && typeof f === 'object' && typeof f.uid === 'string' && typeof f.existing === 'boolean' && (f.existing || (typeof f.key === 'string' && typeof f.hash === 'string' && typeof f.size === 'number' && typeof f.storagePath === 'string')));
  return valid ? (list as AppendedFile[]) : null;
}

/**
 * Registers the files of an append (new ones through an import run of their own, which
 * the append then consumes: a DAG, no cycle) and records them as inputs of the append
 * run. Call inside registry.atomically together with the new store version.
 */
export function registerAppendedFiles(registry: Registry, appendRunUid: string, files: AppendedFile[]): string[] {
  const fresh = files.filter((f) => !f.existing);
  const importRun = fresh.length ? registry.startRun({ transform: 'import', params: { files: fresh.map((f) => f.source), via: 'append' } }) : null;
  const uids = files.map((f) => {
    if (f.existing) return f.uid;
    const { artifact } = registry.registerDatasetFile({
      uid: f.uid,
      key: f.key,
      suffix: f.suffix,
      size: f.size,
      hash: f.hash,
      hashType: f.hashType,
      nFiles: f.nFiles ?? 1,
      nObservations: f.nObservations,
      nVars: f.nVars,
      storagePath: resolve(registry.home, f.storagePath),
      runUid: importRun!.uid,
    });
    // A file whose key was taken became the next version of that family, under another uid.
    return artifact.uid;
  });
  if (importRun) registry.finishRun(importRun.uid);
  registry.addRunInputs(appendRunUid, { artifacts: uids.filter((uid) => registry.findArtifact(uid) !== null) });
  return uids;
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

/** The store's versions as the registry holds them: readable ones and retired ones (what verify checks the manifests against). */
export function registryVersionsOf(registry: Registry, stem: string): { live: number[]; retired: number[] } {
  const rows = registry.versions(stem, { includeDeleted: true });
  return { live: rows.filter((r) => r.deletedAt === null).map((r) => r.version).sort((a, b) => a - b), retired: rows.filter((r) => r.deletedAt !== null).map((r) => r.version).sort((a, b) => a - b) };
}

/** Bytes on disk of a store folder (all versions; shared files counted once). */
export function storeDiskUsage(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

/** A version given as a number ("2") or a uid; the store's latest when absent. */
export function resolveVersionRef(registry: Registry, store: ArtifactRecord, ref: string | undefined): ArtifactRecord {
  if (ref === undefined || ref === '') return store;
  return registry.resolveVersion(store.stem, /^\d+$/.test(ref) ? Number(ref) : ref);
}
