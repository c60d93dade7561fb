// Artifacts: registered h5ad files and array store versions. A family shares a stem (and a
// key); each version adds a suffix, and exactly one live version of a family is the latest.
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CellarError } from '../../shared/errors';
import type { ArtifactKind, ArtifactRecord, DiskUsage, HashType, VersionJson } from '../../shared/registry-types';
import { nowIso, type ArtifactRow, type RegistryDb } from './database';
import { assertKeyFree, checkKey, liveFamilyByKey } from './keys';
import { addRunInputIds, madeBy, runIdOrNull } from './runs';
import { deriveVersionMessage } from '../../shared/version-message';
import { FIRST_VERSION_SUFFIX, UID_LENGTHS, incrementBase62, isBase62, newArtifactUid } from './uid';

export interface RegisterArtifactInput {
  key: string;
  description?: string | null;
  /** File suffix such as ".h5ad"; empty for stores. */
  suffix: string;
  kind: ArtifactKind;
  size: number;
  hash: string;
  hashType: HashType;
  nFiles?: number;
  nObservations?: number | null;
  nVars?: number | null;
  storagePath: string;
  isLink?: boolean;
  tag?: string | null;
  /** The run that made it. */
  runUid?: string | null;
  /** What that run did, in words (src/shared/version-message.ts). */
  message?: string | null;
  /** A uid made beforehand with newArtifactUid() (e.g. to name the managed copy); used for a new family only. */
  uid?: string;
  /** When a live artifact already has this key: refuse (default) or add a new version to its family. */
  ifKeyExists?: 'error' | 'new_version';
}

export interface StoreVersionInput {
  size: number;
  hash: string;
  hashType?: HashType;
  nFiles: number;
  nObservations?: number | null;
  nVars?: number | null;
  storagePath: string;
  runUid?: string | null;
  /** What the operation did, in words (src/shared/version-message.ts). */
  message?: string | null;
  description?: string | null;
  tag?: string | null;
  /**
   * Record the version this one supersedes as an input of runUid (default true: append,
   * embed, annotate and compact build on it). restore passes false and names its source itself.
   */
  previousVersionIsInput?: boolean;
}

export interface ArtifactJoinedRow extends ArtifactRow {
  run_uid: string | null;
  transform_name: string | null;
}

export const ARTIFACT_SELECT = `
  SELECT a.*, r.uid AS run_uid, t.name AS transform_name
  FROM artifact a LEFT JOIN run r ON r.id = a.run_id LEFT JOIN transform t ON t.id = r.transform_id`;

/** Registers a file or store; a live artifact of the same kind with the same hash and size is returned instead. */
export function registerArtifact(registry: RegistryDb, input: RegisterArtifactInput): { artifact: ArtifactRecord; existing: boolean } {
  const key = checkKey(input.key);
  return registry.write(() => {
    const same = findArtifactRowByHash(registry, input.hash, input.size, input.kind);
    if (same) return { artifact: toArtifact(registry, same), existing: true };

    const runId = runIdOrNull(registry, input.runUid);
    const family = liveFamilyByKey(registry, key);
    let uid: string;
    let stem: string;
    let versionSuffix: string;
    let version: number;
    if (family) {
      if ((input.ifKeyExists ?? 'error') === 'error' || family.kind !== input.kind) {
        throw new CellarError('already_exists', `An ${family.kind === 'store' ? 'array store' : 'artifact'} named "${key}" already exists (uid ${family.uid}); choose another key or rename it first.`);
      }
      ({ uid, stem, versionSuffix, version } = nextVersionOf(registry, family.stem));
    } else {
      assertKeyFree(registry, key);
      if (input.uid !== undefined) {
        if (input.uid.length !== UID_LENGTHS.artifact.full || !isBase62(input.uid) || !input.uid.endsWith(FIRST_VERSION_SUFFIX)) {
          throw new CellarError('internal', `"${input.uid}" is not a fresh artifact uid.`);
        }
        uid = input.uid;
        stem = uid.slice(0, UID_LENGTHS.artifact.stem);
        versionSuffix = FIRST_VERSION_SUFFIX;
      } else {
        ({ uid, stem, versionSuffix } = newArtifactUid());
      }
      version = 1;
    }
    if (family) registry.db.prepare('UPDATE artifact SET is_latest = 0 WHERE stem = ?').run(family.stem);
    insertArtifact(registry, {
      uid,
      stem,
      versionSuffix,
      version,
      key,
      description: input.description ?? null,
      suffix: input.suffix,
      kind: input.kind,
      size: input.size,
      hash: input.hash,
      hashType: input.hashType,
      nFiles: input.nFiles ?? 1,
      nObservations: input.nObservations ?? null,
      nVars: input.nVars ?? null,
      storagePath: input.storagePath,
      isLink: input.isLink ?? false,
      tag: input.tag ?? null,
      runId,
      message: input.message ?? null,
    });
    return { artifact: getArtifact(registry, uid), existing: false };
  });
}

/** A user's h5ad file (import, append): one file, kept or linked; its key may already name a family. */
export type DatasetFileInput = Omit<RegisterArtifactInput, 'kind' | 'nFiles' | 'ifKeyExists'> & { nFiles?: number };

/**
 * Registers a dataset (an .h5ad, a 10x .h5, a Matrix Market folder of nFiles files, a .loom);
 * one whose key is taken becomes the next version of that family.
 */
export function registerDatasetFile(registry: RegistryDb, input: DatasetFileInput): { artifact: ArtifactRecord; existing: boolean } {
  return registerArtifact(registry, { ...input, kind: 'h5ad', nFiles: input.nFiles ?? 1, ifKeyExists: 'new_version' });
}

export function findArtifactByHash(registry: RegistryDb, hash: string, size: number, kind: ArtifactKind = 'h5ad'): ArtifactRecord | null {
  const row = findArtifactRowByHash(registry, hash, size, kind);
  return row ? toArtifact(registry, row) : null;
}

/** By uid (that version, deleted ones too), stem or key (the latest live version). */
export function findArtifact(registry: RegistryDb, ref: string): ArtifactRecord | null {
  const row = findArtifactRow(registry, ref);
  return row ? toArtifact(registry, row) : null;
}

export function getArtifact(registry: RegistryDb, ref: string): ArtifactRecord {
  const found = findArtifact(registry, ref);
  if (!found) throw new CellarError('not_found', `No artifact "${ref}" in the registry at ${registry.dbPath}.`);
  return found;
}

/** The latest version of a store by key, stem or uid (a uid gives that version). */
export function getStore(registry: RegistryDb, ref: string): ArtifactRecord {
  const found = findArtifact(registry, ref);
  if (!found || found.kind !== 'store') throw new CellarError('not_found', `No array store "${ref}" in the registry at ${registry.dbPath}.`);
  return found;
}

export function listArtifacts(registry: RegistryDb, options: { kind?: ArtifactKind; allVersions?: boolean; includeDeleted?: boolean } = {}): ArtifactRecord[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (options.kind) {
    where.push('a.kind = ?');
    params.push(options.kind);
  }
  if (!options.allVersions) where.push('a.is_latest = 1');
  if (!options.includeDeleted) where.push('a.deleted_at IS NULL');
  const sql = `${ARTIFACT_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY a.key, a.version DESC`;
  return (registry.db.prepare(sql).all(...params) as ArtifactJoinedRow[]).map((row) => toArtifact(registry, row));
}

/** The latest live version of every store, with how many live versions it has. */
export function listStores(registry: RegistryDb): Array<ArtifactRecord & { nVersions: number }> {
  const countVersions = registry.db.prepare('SELECT COUNT(*) AS n FROM artifact WHERE stem = ? AND deleted_at IS NULL');
  return listArtifacts(registry, { kind: 'store' }).map((store) => ({
    ...store,
    nVersions: (countVersions.get(store.stem) as { n: number }).n,
  }));
}

export function diskUsage(registry: RegistryDb): DiskUsage {
  const entries = listArtifacts(registry, { allVersions: true }).map((a) => ({
    uid: a.uid,
    key: a.key,
    kind: a.kind,
    version: a.version,
    size: a.size,
    isLink: a.isLink,
    storagePath: a.storagePath,
  }));
  const h5ad = entries.filter((e) => e.kind === 'h5ad');
  return {
    entries,
    managedH5adBytes: h5ad.filter((e) => !e.isLink).reduce((sum, e) => sum + e.size, 0),
    linkedH5adBytes: h5ad.filter((e) => e.isLink).reduce((sum, e) => sum + e.size, 0),
  };
}

/** Adds the next version of a store (same stem, next suffix) and makes it the latest. */
export function addStoreVersion(registry: RegistryDb, storeRef: string, input: StoreVersionInput): ArtifactRecord {
  return registry.write(() => {
    const current = getStoreRow(registry, storeRef);
    if (current.deleted_at) throw new CellarError('not_found', `The array store "${current.key}" (uid ${current.uid}) was deleted on ${current.deleted_at}.`);
    const runId = runIdOrNull(registry, input.runUid);
    const next = nextVersionOf(registry, current.stem);
    const latest = registry.db.prepare('SELECT * FROM artifact WHERE stem = ? AND is_latest = 1').get(current.stem) as ArtifactRow;
    if (runId !== null && (input.previousVersionIsInput ?? true)) addRunInputIds(registry, runId, { artifactIds: [latest.id] });
    registry.db.prepare('UPDATE artifact SET is_latest = 0 WHERE stem = ?').run(current.stem);
    insertArtifact(registry, {
      ...next,
      key: latest.key,
      description: input.description !== undefined ? input.description : latest.description,
      suffix: latest.suffix,
      kind: 'store',
      size: input.size,
      hash: input.hash,
      hashType: input.hashType ?? 'md5-d',
      nFiles: input.nFiles,
      nObservations: input.nObservations ?? null,
      nVars: input.nVars ?? null,
      storagePath: input.storagePath,
      isLink: false,
      tag: input.tag ?? null,
      runId,
      message: input.message ?? null,
    });
    return getArtifact(registry, next.uid);
  });
}

/** Every version of a store, newest first. */
export function storeVersions(registry: RegistryDb, storeRef: string, options: { includeDeleted?: boolean } = {}): ArtifactRecord[] {
  const store = getStoreRow(registry, storeRef);
  const rows = registry.db
    .prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? ${options.includeDeleted ? '' : 'AND a.deleted_at IS NULL'} ORDER BY a.version DESC`)
    .all(store.stem) as ArtifactJoinedRow[];
  return rows.map((row) => toArtifact(registry, row));
}

/** A store version by its number (1, 2, …) or its uid. */
export function resolveVersion(registry: RegistryDb, storeRef: string, version: string | number): ArtifactRecord {
  const store = getStoreRow(registry, storeRef);
  const text = String(version).trim();
  const row = /^\d+$/.test(text)
    ? (registry.db.prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? AND a.version = ?`).get(store.stem, Number(text)) as ArtifactJoinedRow | undefined)
    : (registry.db.prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? AND a.uid = ?`).get(store.stem, text) as ArtifactJoinedRow | undefined);
  if (!row) throw new CellarError('not_found', `The array store "${store.key}" has no version "${text}".`);
  if (row.deleted_at) throw new CellarError('not_found', `Version ${row.version} of the array store "${store.key}" was deleted on ${row.deleted_at}.`);
  return toArtifact(registry, row);
}

/** Tombstones every version but the latest (after compact); lineage keeps them. */
export function dropOlderVersions(registry: RegistryDb, storeRef: string): ArtifactRecord[] {
  return registry.write(() => {
    const store = getStoreRow(registry, storeRef);
    const older = registry.db
      .prepare('SELECT uid FROM artifact WHERE stem = ? AND is_latest = 0 AND deleted_at IS NULL')
      .all(store.stem) as Array<{ uid: string }>;
    registry.db.prepare('UPDATE artifact SET deleted_at = ? WHERE stem = ? AND is_latest = 0 AND deleted_at IS NULL').run(nowIso(), store.stem);
    return older.map(({ uid }) => getArtifact(registry, uid));
  });
}

/** After versions of a family were deleted, the newest one still live becomes its latest. */
export function moveLatestToNewestLive(registry: RegistryDb, stem: string): void {
  const newestLive = registry.db
    .prepare('SELECT id FROM artifact WHERE stem = ? AND deleted_at IS NULL ORDER BY version DESC LIMIT 1')
    .get(stem) as { id: number } | undefined;
  if (!newestLive) return;
  registry.db.prepare('UPDATE artifact SET is_latest = 0 WHERE stem = ?').run(stem);
  registry.db.prepare('UPDATE artifact SET is_latest = 1 WHERE id = ?').run(newestLive.id);
}

function findArtifactRow(registry: RegistryDb, ref: string): ArtifactJoinedRow | undefined {
  return (
    (registry.db.prepare(`${ARTIFACT_SELECT} WHERE a.uid = ?`).get(ref) as ArtifactJoinedRow | undefined) ??
    (registry.db.prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? AND a.is_latest = 1 AND a.deleted_at IS NULL`).get(ref) as ArtifactJoinedRow | undefined) ??
    (registry.db.prepare(`${ARTIFACT_SELECT} WHERE a.key = ? AND a.is_latest = 1 AND a.deleted_at IS NULL`).get(ref) as ArtifactJoinedRow | undefined)
  );
}

export function getArtifactRow(registry: RegistryDb, ref: string): ArtifactRow {
  const row = findArtifactRow(registry, ref);
  if (!row) throw new CellarError('not_found', `No artifact "${ref}" in the registry at ${registry.dbPath}.`);
  return row;
}

export function getLiveArtifactRow(registry: RegistryDb, ref: string): ArtifactRow {
  const row = getArtifactRow(registry, ref);
  if (row.deleted_at) throw new CellarError('not_found', `The artifact "${row.key}" (uid ${row.uid}) was deleted on ${row.deleted_at}.`);
  return row;
}

export function toArtifact(registry: RegistryDb, row: ArtifactRow & Partial<Pick<ArtifactJoinedRow, 'run_uid' | 'transform_name'>>): ArtifactRecord {
  const run = madeBy(registry, row);
  return {
    uid: row.uid,
    stem: row.stem,
    versionSuffix: row.version_suffix,
    version: row.version,
    tag: row.tag,
    key: row.key,
    description: row.description,
    suffix: row.suffix,
    kind: row.kind,
    size: row.size,
    hash: row.hash,
    hashType: row.hash_type,
    nFiles: row.n_files,
    nObservations: row.n_observations,
    nVars: row.n_vars,
    isLatest: row.is_latest === 1,
    storagePath: absolutePath(registry, row.storage_path),
    isLink: row.is_link === 1,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    run,
    message: versionMessage(registry, row),
  };
}

/**
 * What the run that made a row did, in words: as recorded at commit time, or, for rows
 * written before messages were recorded (schema < 3), rebuilt from the run's transform and
 * parameters with the same wording.
 */
export function versionMessage(registry: RegistryDb, row: ArtifactRow): string | null {
  if (row.message) return row.message;
  if (row.run_id === null) return null;
  const run = registry.db
    .prepare('SELECT r.params, t.name FROM run r JOIN transform t ON t.id = r.transform_id WHERE r.id = ?')
    .get(row.run_id) as { params: string; name: string };
  let params: Record<string, unknown> = {};
  try {
    params = JSON.parse(run.params) as Record<string, unknown>;
  } catch {
    // An unreadable parameter record still leaves the transform's name.
  }
  const previous = registry.db
    .prepare('SELECT n_observations, n_vars FROM artifact WHERE stem = ? AND version < ? ORDER BY version DESC LIMIT 1')
    .get(row.stem, row.version) as { n_observations: number | null; n_vars: number | null } | undefined;
  const inputFiles = registry.db
    .prepare("SELECT COUNT(*) AS n FROM run_input_artifact i JOIN artifact a ON a.id = i.artifact_id WHERE i.run_id = ? AND a.kind = 'h5ad'")
    .get(row.run_id) as { n: number };
  // A compaction replaced every version since the one an earlier compaction made (or since v1).
  const earlierCompaction = registry.db
    .prepare("SELECT MAX(a.version) AS v FROM artifact a JOIN run r ON r.id = a.run_id JOIN transform t ON t.id = r.transform_id WHERE a.stem = ? AND a.version < ? AND t.name = 'compact'")
    .get(row.stem, row.version) as { v: number | null };
  return deriveVersionMessage({
    transform: run.name,
    params,
    nCells: row.n_observations,
    nGenes: row.n_vars,
    previous: previous ? { nCells: previous.n_observations, nGenes: previous.n_vars } : null,
    nInputFiles: inputFiles.n,
    key: row.key,
    firstVersion: earlierCompaction.v ?? 1,
  });
}

/** The `cellar versions --json` shape of one version. */
export function toVersionJson(artifact: ArtifactRecord): VersionJson {
  return {
    uid: artifact.uid,
    version: artifact.version,
    is_latest: artifact.isLatest,
    created_at: artifact.createdAt,
    n_files: artifact.nFiles,
    size: artifact.size,
    hash: artifact.hash,
    n_observations: artifact.nObservations,
    run: artifact.run,
    message: artifact.message,
  };
}

/** Storage paths inside the home are stored relative to it; others as they are. */
export function absolutePath(registry: RegistryDb, stored: string): string {
  return isAbsolute(stored) ? stored : join(registry.home, ...stored.split('/'));
}

function storedPath(registry: RegistryDb, path: string): string {
  const absolute = resolve(path);
  const inside = relative(registry.home, absolute);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside.split(sep).join('/') : absolute;
}

function findArtifactRowByHash(registry: RegistryDb, hash: string, size: number, kind: ArtifactKind): ArtifactJoinedRow | undefined {
  return registry.db
    .prepare(`${ARTIFACT_SELECT} WHERE a.hash = ? AND a.size = ? AND a.kind = ? AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1`)
    .get(hash, size, kind) as ArtifactJoinedRow | undefined;
}

function getStoreRow(registry: RegistryDb, ref: string): ArtifactRow {
  const row = findArtifactRow(registry, ref);
  if (!row || row.kind !== 'store') throw new CellarError('not_found', `No array store "${ref}" in the registry at ${registry.dbPath}.`);
  return row;
}

/** Next suffix and number after every version ever made, deleted ones included, so none is reused. */
function nextVersionOf(registry: RegistryDb, stem: string): { uid: string; stem: string; versionSuffix: string; version: number } {
  const top = registry.db
    .prepare('SELECT MAX(version_suffix) AS suffix, MAX(version) AS version FROM artifact WHERE stem = ?')
    .get(stem) as { suffix: string | null; version: number | null };
  if (top.suffix === null || top.version === null) throw new CellarError('not_found', `No artifact family with stem ${stem}.`);
  const versionSuffix = incrementBase62(top.suffix);
  return { uid: stem + versionSuffix, stem, versionSuffix, version: top.version + 1 };
}

/** A new artifact row: the record's own fields, and the id of the run that made it. */
type NewArtifactRow = Omit<ArtifactRecord, 'isLatest' | 'createdAt' | 'deletedAt' | 'run'> & { runId: number | null };

function insertArtifact(registry: RegistryDb, a: NewArtifactRow): void {
  registry.db
    .prepare(
      `INSERT INTO artifact (uid, stem, version_suffix, version, tag, key, description, suffix, kind, size, hash, hash_type,
         n_files, n_observations, n_vars, is_latest, storage_path, is_link, created_at, run_id, message)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
    )
    .run(
      a.uid,
      a.stem,
      a.versionSuffix,
      a.version,
      a.tag,
      a.key,
      a.description,
      a.suffix,
      a.kind,
      a.size,
      a.hash,
      a.hashType,
      a.nFiles,
      a.nObservations,
      a.nVars,
      storedPath(registry, a.storagePath),
      a.isLink ? 1 : 0,
      nowIso(),
      a.runId,
      a.message,
    );
}
