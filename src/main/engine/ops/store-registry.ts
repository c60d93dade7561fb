// The glue between a store folder's manifests and the registry: where stores live,
// how a committed version becomes a registry artifact version (size, n_files,
// lamindb md5-d hash), and reconciliation of versions committed by a process that
// died before it could register them (SPEC §4 commit order).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CellarError } from '../../../shared/errors';
import { hashFile, hashFolder } from '../../registry/hash';
import type { ArtifactRecord, Registry } from '../../registry/registry';
import { listManifestVersions, readManifest, manifestFileName, MANIFEST_DIR } from '../store/manifest';

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
export async function versionStats(dir: string, version: number, measurement?: string): Promise<VersionStats> {
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
    hashes[name] = cached[name] ?? (await hashFile(path)).hash;
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

/** Registers committed manifests the registry has not seen (a writer died after its commit point). */
export async function reconcileStore(registry: Registry, store: ArtifactRecord): Promise<ArtifactRecord> {
  const dir = store.storagePath;
  if (!existsSync(join(dir, MANIFEST_DIR))) throw new CellarError('not_found', `The store ${store.key} has no data at ${dir}.`);
  const registered = registry.versions(store.stem, { includeDeleted: true });
  const highest = registered.reduce((m, v) => Math.max(m, v.version), 0);
  let latest = registry.getStore(store.stem);
  for (const version of listManifestVersions(dir)) {
    if (version <= highest) continue;
    const manifest = readManifest(dir, version);
    const stats = await versionStats(dir, version);
    const runUid = typeof manifest.meta.runUid === 'string' ? manifest.meta.runUid : null;
    if (runUid) finishRunIfRunning(registry, runUid);
    latest = registry.addStoreVersion(store.stem, {
      size: stats.size,
      hash: stats.hash,
      hashType: 'md5-d',
      nFiles: stats.nFiles,
      nObservations: stats.nObs,
      nVars: stats.nVars,
      storagePath: dir,
      runUid,
      description: typeof manifest.meta.description === 'string' ? manifest.meta.description : null,
    });
  }
  return latest;
}

/**
 * Registers stores whose first write committed a manifest but died before its registry
 * row (the folder is under home/stores and no registry version points at it). The store's
 * uid and key come from its manifest's meta; later versions follow via reconcileStore.
 * Folders without a committed manifest are an interrupted first write and are left alone.
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
    if (!versions.length) continue;
    let meta: Record<string, unknown>;
    try {
      meta = readManifest(dir, versions[0]!).meta;
    } catch {
      continue; // verify reports unreadable manifests; listing must not fail on them
    }
    const uid = typeof meta.storeUid === 'string' ? meta.storeUid : null;
    const key = typeof meta.storeKey === 'string' ? meta.storeKey : null;
    if (!uid || !key || registry.findArtifact(uid) || registry.findArtifact(key) || registry.findCollection(key)) continue;
    const stats = await versionStats(dir, versions[0]!);
    const runUid = typeof meta.runUid === 'string' ? meta.runUid : null;
    if (runUid) finishRunIfRunning(registry, runUid);
    const { artifact } = registry.registerArtifact({
      uid,
      key,
      suffix: '',
      kind: 'store',
      size: stats.size,
      hash: stats.hash,
      hashType: 'md5-d',
      nFiles: stats.nFiles,
      nObservations: stats.nObs,
      nVars: stats.nVars,
      storagePath: dir,
      runUid: runUid && runExists(registry, runUid) ? runUid : null,
    });
    recovered.push(await reconcileStore(registry, artifact));
  }
  return recovered;
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
  const store = await reconcileStore(registry, found);
  return { store, dir: store.storagePath };
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
