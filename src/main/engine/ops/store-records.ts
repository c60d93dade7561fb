// A store's records: where stores live, how a committed version becomes a registry
// artifact version (size, n_files, lamindb md5-d hash), the files an append brought, and
// finding a store and its versions by key.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashFile, hashFolder } from '../../registry/hash';
import type { Registry } from '../../registry/registry';
import type { ArtifactRecord } from '../../../shared/registry-types';
import { listManifestVersions, readManifest, manifestFileName, MANIFEST_DIR } from '../store/format/manifest';

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
 * read again, so the cost follows the new data; `written` holds hashes the writer made while
 * writing (CommitResult.contentHashes).
 */
export async function versionStats(dir: string, version: number, measurement?: string, signal?: AbortSignal, written: Record<string, string> = {}): Promise<VersionStats> {
  const manifest = readManifest(dir, version);
  const cachePath = hashesPath(dir, version);
  let cached: Record<string, string> = {};
  if (existsSync(cachePath)) cached = JSON.parse(readFileSync(cachePath, 'utf8')) as Record<string, string>;
  else {
    if (manifest.parentVersion !== null && existsSync(hashesPath(dir, manifest.parentVersion))) {
      cached = JSON.parse(readFileSync(hashesPath(dir, manifest.parentVersion), 'utf8')) as Record<string, string>;
    }
    // The files the writer hashed as it wrote them (CommitResult.contentHashes) are not read again.
    cached = { ...cached, ...written };
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
