// The registry: artifacts (h5ad files and store versions), collections, transforms and runs
// in one SQLite file in the Cellar home. All SQL of the app lives in this folder.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CellarError } from '../../shared/errors';
import { hashCollection } from './hash';
import { openDatabase, type ArtifactRow, type CollectionRow, type OpenDatabaseOptions, type RunRow, type TransformRow } from './database';
import { FIRST_VERSION_SUFFIX, UID_LENGTHS, incrementBase62, isBase62, newArtifactUid, newCollectionUid, newRunUid, newTransformUid } from './uid';
import type {
  ArtifactKind,
  ArtifactRecord,
  CollectionRecord,
  CollectionSummary,
  DeleteResult,
  DeletedItem,
  DiskUsage,
  HashType,
  Lineage,
  LineageEdge,
  LineageNode,
  RegistryListing,
  RunRecord,
  RunRef,
  RunStatus,
  TransformName,
  TransformRecord,
  VersionJson,
} from './types';

export * from './types';

export const REGISTRY_FILE_NAME = 'registry.sqlite';

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
  description?: string | null;
  tag?: string | null;
  /**
   * Record the version this one supersedes as an input of runUid (default true: append,
   * embed, annotate and compact build on it). restore passes false and names its source itself.
   */
  previousVersionIsInput?: boolean;
}

/** A run still marked running and the process that started it (null: recorded before that was kept). */
export interface RunningRun {
  uid: string;
  transform: string;
  startedAt: string;
  params: Record<string, unknown>;
  pid: number | null;
  host: string | null;
}

export interface CreateCollectionInput {
  key: string;
  description?: string | null;
  /** Member artifacts in order, by uid, stem or key. */
  members: string[];
  runUid?: string | null;
}

export interface StartRunInput {
  transform: TransformName | string;
  transformVersion?: string;
  params?: Record<string, unknown>;
  /** Artifacts read by the run, by uid (a specific version), stem or key (the latest version). */
  inputArtifacts?: string[];
  inputCollections?: string[];
}

type Resolved =
  | { kind: 'artifact'; row: ArtifactRow; scope: 'version' | 'family' }
  | { kind: 'collection'; row: CollectionRow };

interface ArtifactJoinedRow extends ArtifactRow {
  run_uid: string | null;
  transform_name: string | null;
}

interface CollectionJoinedRow extends CollectionRow {
  run_uid: string | null;
  transform_name: string | null;
}

const ARTIFACT_SELECT = `
  SELECT a.*, r.uid AS run_uid, t.name AS transform_name
  FROM artifact a LEFT JOIN run r ON r.id = a.run_id LEFT JOIN transform t ON t.id = r.transform_id`;

const COLLECTION_SELECT = `
  SELECT c.*, r.uid AS run_uid, t.name AS transform_name
  FROM collection c LEFT JOIN run r ON r.id = c.run_id LEFT JOIN transform t ON t.id = r.transform_id`;

export function openRegistry(home: string, options: OpenDatabaseOptions = {}): Registry {
  const absoluteHome = resolve(home);
  try {
    mkdirSync(absoluteHome, { recursive: true });
  } catch (err) {
    throw new CellarError('io_error', `The Cellar home ${absoluteHome} cannot be created: ${(err as Error).message}.`);
  }
  const dbPath = join(absoluteHome, REGISTRY_FILE_NAME);
  return new Registry(absoluteHome, dbPath, openDatabase(dbPath, options));
}

export class Registry {
  constructor(
    readonly home: string,
    readonly dbPath: string,
    private readonly db: Database.Database,
  ) {}

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs several registry calls (synchronously) as one all-or-nothing write. */
  atomically<T>(work: () => T): T {
    return this.write(work);
  }

  // ── artifacts ────────────────────────────────────────────────────────────

  /** Registers a file or store; a live artifact of the same kind with the same hash and size is returned instead. */
  registerArtifact(input: RegisterArtifactInput): { artifact: ArtifactRecord; existing: boolean } {
    const key = checkKey(input.key);
    return this.write(() => {
      const same = this.findArtifactRowByHash(input.hash, input.size, input.kind);
      if (same) return { artifact: this.toArtifact(same), existing: true };

      const runId = this.runIdOrNull(input.runUid);
      const family = this.liveFamilyByKey(key);
      let uid: string;
      let stem: string;
      let versionSuffix: string;
      let version: number;
      if (family) {
        if ((input.ifKeyExists ?? 'error') === 'error' || family.kind !== input.kind) {
          throw new CellarError('already_exists', `An ${family.kind === 'store' ? 'array store' : 'artifact'} named "${key}" already exists (uid ${family.uid}); choose another key or rename it first.`);
        }
        ({ uid, stem, versionSuffix, version } = this.nextVersionOf(family.stem));
      } else {
        this.assertKeyFree(key);
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
      if (family) this.db.prepare('UPDATE artifact SET is_latest = 0 WHERE stem = ?').run(family.stem);
      this.insertArtifact({
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
      });
      return { artifact: this.getArtifact(uid), existing: false };
    });
  }

  findArtifactByHash(hash: string, size: number, kind: ArtifactKind = 'h5ad'): ArtifactRecord | null {
    const row = this.findArtifactRowByHash(hash, size, kind);
    return row ? this.toArtifact(row) : null;
  }

  /** By uid (that version, deleted ones too), stem or key (the latest live version). */
  findArtifact(ref: string): ArtifactRecord | null {
    const row = this.findArtifactRow(ref);
    return row ? this.toArtifact(row) : null;
  }

  getArtifact(ref: string): ArtifactRecord {
    const found = this.findArtifact(ref);
    if (!found) throw new CellarError('not_found', `No artifact "${ref}" in the registry at ${this.dbPath}.`);
    return found;
  }

  /** The latest version of a store by key, stem or uid (a uid gives that version). */
  getStore(ref: string): ArtifactRecord {
    const found = this.findArtifact(ref);
    if (!found || found.kind !== 'store') throw new CellarError('not_found', `No array store "${ref}" in the registry at ${this.dbPath}.`);
    return found;
  }

  listArtifacts(options: { kind?: ArtifactKind; allVersions?: boolean; includeDeleted?: boolean } = {}): ArtifactRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.kind) {
      where.push('a.kind = ?');
      params.push(options.kind);
    }
    if (!options.allVersions) where.push('a.is_latest = 1');
    if (!options.includeDeleted) where.push('a.deleted_at IS NULL');
    const sql = `${ARTIFACT_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY a.key, a.version DESC`;
    return (this.db.prepare(sql).all(...params) as ArtifactJoinedRow[]).map((row) => this.toArtifact(row));
  }

  /** Adds the next version of a store (same stem, next suffix) and makes it the latest. */
  addStoreVersion(storeRef: string, input: StoreVersionInput): ArtifactRecord {
    return this.write(() => {
      const current = this.getStoreRow(storeRef);
      if (current.deleted_at) throw new CellarError('not_found', `The array store "${current.key}" (uid ${current.uid}) was deleted on ${current.deleted_at}.`);
      const runId = this.runIdOrNull(input.runUid);
      const next = this.nextVersionOf(current.stem);
      const latest = this.db.prepare('SELECT * FROM artifact WHERE stem = ? AND is_latest = 1').get(current.stem) as ArtifactRow;
      if (runId !== null && (input.previousVersionIsInput ?? true)) {
        this.db.prepare('INSERT OR IGNORE INTO run_input_artifact (run_id, artifact_id) VALUES (?, ?)').run(runId, latest.id);
      }
      this.db.prepare('UPDATE artifact SET is_latest = 0 WHERE stem = ?').run(current.stem);
      this.insertArtifact({
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
      });
      return this.getArtifact(next.uid);
    });
  }

  /** Every version of a store, newest first. */
  versions(storeRef: string, options: { includeDeleted?: boolean } = {}): ArtifactRecord[] {
    const store = this.getStoreRow(storeRef);
    const rows = this.db
      .prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? ${options.includeDeleted ? '' : 'AND a.deleted_at IS NULL'} ORDER BY a.version DESC`)
      .all(store.stem) as ArtifactJoinedRow[];
    return rows.map((row) => this.toArtifact(row));
  }

  /** A store version by its number (1, 2, …) or its uid. */
  resolveVersion(storeRef: string, version: string | number): ArtifactRecord {
    const store = this.getStoreRow(storeRef);
    const text = String(version).trim();
    const row = /^\d+$/.test(text)
      ? (this.db.prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? AND a.version = ?`).get(store.stem, Number(text)) as ArtifactJoinedRow | undefined)
      : (this.db.prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? AND a.uid = ?`).get(store.stem, text) as ArtifactJoinedRow | undefined);
    if (!row) throw new CellarError('not_found', `The array store "${store.key}" has no version "${text}".`);
    if (row.deleted_at) throw new CellarError('not_found', `Version ${row.version} of the array store "${store.key}" was deleted on ${row.deleted_at}.`);
    return this.toArtifact(row);
  }

  /** Tombstones every version but the latest (after compact); lineage keeps them. */
  dropOlderVersions(storeRef: string): ArtifactRecord[] {
    return this.write(() => {
      const store = this.getStoreRow(storeRef);
      const older = this.db
        .prepare('SELECT uid FROM artifact WHERE stem = ? AND is_latest = 0 AND deleted_at IS NULL')
        .all(store.stem) as Array<{ uid: string }>;
      this.db.prepare('UPDATE artifact SET deleted_at = ? WHERE stem = ? AND is_latest = 0 AND deleted_at IS NULL').run(nowIso(), store.stem);
      return older.map(({ uid }) => this.getArtifact(uid));
    });
  }

  // ── collections ──────────────────────────────────────────────────────────

  createCollection(input: CreateCollectionInput): CollectionRecord {
    const key = checkKey(input.key);
    return this.write(() => {
      this.assertKeyFree(key);
      const members = input.members.map((ref) => this.getLiveArtifactRow(ref));
      const uid = newCollectionUid();
      this.db
        .prepare('INSERT INTO collection (uid, key, description, hash, created_at, run_id) VALUES (?, ?, ?, ?, ?, ?)')
        .run(uid, key, input.description ?? null, hashCollection(members.map((m) => m.hash)), nowIso(), this.runIdOrNull(input.runUid));
      const collection = this.db.prepare('SELECT * FROM collection WHERE uid = ?').get(uid) as CollectionRow;
      this.appendMembers(collection, members);
      return this.getCollection(uid);
    });
  }

  /** Appends artifacts to a collection (ones already in it are skipped) and updates its hash. */
  addCollectionMembers(ref: string, memberRefs: string[]): CollectionRecord {
    return this.write(() => {
      const collection = this.getLiveCollectionRow(ref);
      this.appendMembers(collection, memberRefs.map((member) => this.getLiveArtifactRow(member)));
      const hashes = (
        this.db
          .prepare('SELECT a.hash FROM collection_artifact ca JOIN artifact a ON a.id = ca.artifact_id WHERE ca.collection_id = ?')
          .all(collection.id) as Array<{ hash: string }>
      ).map((row) => row.hash);
      this.db.prepare('UPDATE collection SET hash = ? WHERE id = ?').run(hashCollection(hashes), collection.id);
      return this.getCollection(collection.uid);
    });
  }

  /**
   * Removes one member (by its key or uid, deleted members included) from a collection;
   * the others keep their order and the hash is recomputed.
   */
  removeCollectionMember(ref: string, memberRef: string): { collection: CollectionRecord; removed: ArtifactRecord } {
    return this.write(() => {
      const collection = this.getLiveCollectionRow(ref);
      const members = this.memberRows(collection.id);
      const matches = members.filter((m) => m.uid === memberRef || m.key === memberRef);
      if (matches.length === 0) {
        throw new CellarError('not_found', `The collection "${collection.key}" has no member "${memberRef}"; its members are ${members.map((m) => m.key).join(', ') || 'none'}.`);
      }
      if (matches.length > 1) {
        throw new CellarError('usage', `The collection "${collection.key}" has ${matches.length} members named "${memberRef}"; name the one to remove by its uid (${matches.map((m) => m.uid).join(', ')}).`);
      }
      const member = matches[0]!;
      this.db.prepare('DELETE FROM collection_artifact WHERE collection_id = ? AND artifact_id = ?').run(collection.id, member.id);
      const hashes = members.filter((m) => m.id !== member.id).map((m) => m.hash);
      this.db.prepare('UPDATE collection SET hash = ? WHERE id = ?').run(hashCollection(hashes), collection.id);
      return { collection: this.getCollection(collection.uid), removed: this.toArtifact(member) };
    });
  }

  /** By uid (deleted ones too) or key (live only). */
  findCollection(ref: string): CollectionRecord | null {
    const row = this.findCollectionRow(ref);
    return row ? this.toCollection(row) : null;
  }

  getCollection(ref: string): CollectionRecord {
    const found = this.findCollection(ref);
    if (!found) throw new CellarError('not_found', `No collection "${ref}" in the registry at ${this.dbPath}.`);
    return found;
  }

  listCollections(options: { includeDeleted?: boolean } = {}): CollectionRecord[] {
    const rows = this.db
      .prepare(`${COLLECTION_SELECT} ${options.includeDeleted ? '' : 'WHERE c.deleted_at IS NULL'} ORDER BY c.key`)
      .all() as CollectionJoinedRow[];
    return rows.map((row) => this.toCollection(row));
  }

  // ── transforms and runs ──────────────────────────────────────────────────

  getOrCreateTransform(name: TransformName | string, version = '1'): TransformRecord {
    return this.write(() => toTransform(this.transformRow(name, version)));
  }

  startRun(input: StartRunInput): RunRecord {
    return this.write(() => {
      const transform = this.transformRow(input.transform, input.transformVersion ?? '1');
      const uid = newRunUid();
      this.db
        .prepare("INSERT INTO run (uid, transform_id, started_at, status, params, pid, host) VALUES (?, ?, ?, 'running', ?, ?, ?)")
        .run(uid, transform.id, nowIso(), JSON.stringify(input.params ?? {}), process.pid, hostname());
      this.addRunInputs(uid, { artifacts: input.inputArtifacts, collections: input.inputCollections });
      return this.getRun(uid);
    });
  }

  addRunInputs(runUid: string, inputs: { artifacts?: string[]; collections?: string[] }): void {
    this.write(() => {
      const run = this.getRunRow(runUid);
      const addArtifact = this.db.prepare('INSERT OR IGNORE INTO run_input_artifact (run_id, artifact_id) VALUES (?, ?)');
      for (const ref of inputs.artifacts ?? []) addArtifact.run(run.id, this.getArtifactRow(ref).id);
      const addCollection = this.db.prepare('INSERT OR IGNORE INTO run_input_collection (run_id, collection_id) VALUES (?, ?)');
      for (const ref of inputs.collections ?? []) addCollection.run(run.id, this.getCollectionRow(ref).id);
    });
  }

  finishRun(runUid: string): RunRecord {
    return this.endRun(runUid, 'completed', null);
  }

  failRun(runUid: string, error: string, status: 'failed' | 'cancelled' = 'failed'): RunRecord {
    return this.endRun(runUid, status, error);
  }

  getRun(uid: string): RunRecord {
    const row = this.getRunRow(uid);
    const transform = this.db.prepare('SELECT * FROM transform WHERE id = ?').get(row.transform_id) as TransformRow;
    const uidsOf = (sql: string) => (this.db.prepare(sql).all(row.id) as Array<{ uid: string }>).map((r) => r.uid);
    return {
      uid: row.uid,
      transform: toTransform(transform),
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      status: row.status,
      params: JSON.parse(row.params) as Record<string, unknown>,
      error: row.error,
      inputs: {
        artifacts: uidsOf('SELECT a.uid FROM run_input_artifact i JOIN artifact a ON a.id = i.artifact_id WHERE i.run_id = ? ORDER BY a.id'),
        collections: uidsOf('SELECT c.uid FROM run_input_collection i JOIN collection c ON c.id = i.collection_id WHERE i.run_id = ? ORDER BY c.id'),
      },
      outputs: {
        artifacts: uidsOf('SELECT uid FROM artifact WHERE run_id = ? ORDER BY id'),
        collections: uidsOf('SELECT uid FROM collection WHERE run_id = ? ORDER BY id'),
      },
    };
  }

  /** Every run still marked running, oldest first, with the process that started it. */
  runningRuns(): RunningRun[] {
    const rows = this.db
      .prepare("SELECT r.*, t.name AS transform_name FROM run r JOIN transform t ON t.id = r.transform_id WHERE r.status = 'running' ORDER BY r.id")
      .all() as Array<RunRow & { transform_name: string }>;
    return rows.map((row) => ({
      uid: row.uid,
      transform: row.transform_name,
      startedAt: row.started_at,
      params: JSON.parse(row.params) as Record<string, unknown>,
      pid: row.pid,
      host: row.host,
    }));
  }

  /**
   * Ends a run whose process died without ending it: completed when it registered an
   * output before dying, else failed with `reason`. A run that already ended is left as
   * it is (another process settled it first). Returns the run's status afterwards.
   */
  closeInterruptedRun(runUid: string, reason: string): RunStatus {
    return this.write(() => {
      const run = this.getRunRow(runUid);
      if (run.status !== 'running') return run.status;
      const made =
        this.db.prepare('SELECT 1 FROM artifact WHERE run_id = ? LIMIT 1').get(run.id) !== undefined ||
        this.db.prepare('SELECT 1 FROM collection WHERE run_id = ? LIMIT 1').get(run.id) !== undefined;
      const status: RunStatus = made ? 'completed' : 'failed';
      this.db.prepare('UPDATE run SET status = ?, finished_at = ?, error = ? WHERE id = ?').run(status, nowIso(), made ? null : reason, run.id);
      return status;
    });
  }

  /** Newest first. */
  listRuns(limit = 100): RunRecord[] {
    const rows = this.db.prepare('SELECT uid FROM run ORDER BY id DESC LIMIT ?').all(limit) as Array<{ uid: string }>;
    return rows.map(({ uid }) => this.getRun(uid));
  }

  // ── rename, delete, usage, listing ───────────────────────────────────────

  /** Renames a collection, or an artifact/store family (every version carries the key). */
  rename(ref: string, newKey: string): { kind: 'artifact' | 'collection'; uid: string; key: string } {
    const key = checkKey(newKey);
    return this.write(() => {
      const target = this.resolveLive(ref);
      if (target.kind === 'collection') {
        if (target.row.key !== key) {
          this.assertKeyFree(key);
          this.db.prepare('UPDATE collection SET key = ? WHERE id = ?').run(key, target.row.id);
        }
        return { kind: 'collection' as const, uid: target.row.uid, key };
      }
      if (target.row.key !== key) {
        this.assertKeyFree(key);
        this.db.prepare('UPDATE artifact SET key = ? WHERE stem = ?').run(key, target.row.stem);
      }
      return { kind: 'artifact' as const, uid: target.row.uid, key };
    });
  }

  /** What would stop deleting ref: one line per consumer. */
  consumersOf(ref: string): string[] {
    const target = this.resolveLive(ref);
    const { artifactIds, collectionIds } = this.deletionSet(target);
    return this.findConsumers(artifactIds, collectionIds);
  }

  /**
   * Tombstones a collection, an artifact family (by key or stem) or one version (by uid).
   * Refused while a live collection or run uses it, unless forced; lineage keeps the tombstone.
   * Files are not touched: the caller removes managed copies it no longer needs.
   */
  delete(ref: string, options: { force?: boolean } = {}): DeleteResult {
    return this.write(() => {
      const target = this.resolveLive(ref);
      const { artifactIds, collectionIds } = this.deletionSet(target);
      const consumers = this.findConsumers(artifactIds, collectionIds);
      const label = target.kind === 'collection' ? `collection "${target.row.key}"` : describeArtifactRow(target.row, target.scope);
      if (consumers.length && !options.force) {
        throw new CellarError(
          'in_use',
          `Cannot delete ${label}: ${consumers.length === 1 ? 'something else uses' : `${consumers.length} other items use`} it; delete those first or pass --force (lineage keeps a tombstone).`,
          consumers,
        );
      }
      const now = nowIso();
      const deleted: DeletedItem[] = [];
      for (const id of artifactIds) {
        const row = this.db.prepare('SELECT * FROM artifact WHERE id = ?').get(id) as ArtifactRow;
        this.db.prepare('UPDATE artifact SET deleted_at = ? WHERE id = ?').run(now, id);
        deleted.push({ kind: 'artifact', uid: row.uid, key: row.key, version: row.version, storagePath: this.absolutePath(row.storage_path), isLink: row.is_link === 1 });
      }
      for (const id of collectionIds) {
        const row = this.db.prepare('SELECT * FROM collection WHERE id = ?').get(id) as CollectionRow;
        this.db.prepare('UPDATE collection SET deleted_at = ? WHERE id = ?').run(now, id);
        deleted.push({ kind: 'collection', uid: row.uid, key: row.key });
      }
      if (target.kind === 'artifact') this.moveLatestToNewestLive(target.row.stem);
      return { deleted, overridden: consumers };
    });
  }

  diskUsage(): DiskUsage {
    const entries = this.listArtifacts({ allVersions: true }).map((a) => ({
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

  list(): RegistryListing {
    const collections = (
      this.db
        .prepare(
          `SELECT c.uid, c.key, c.description, c.hash, c.created_at, COUNT(a.id) AS n_artifacts, COALESCE(SUM(a.size), 0) AS size
           FROM collection c LEFT JOIN collection_artifact ca ON ca.collection_id = c.id LEFT JOIN artifact a ON a.id = ca.artifact_id
           WHERE c.deleted_at IS NULL GROUP BY c.id ORDER BY c.key`,
        )
        .all() as Array<{ uid: string; key: string; description: string | null; hash: string; created_at: string; n_artifacts: number; size: number }>
    ).map(
      (row): CollectionSummary => ({
        uid: row.uid,
        key: row.key,
        description: row.description,
        hash: row.hash,
        createdAt: row.created_at,
        nArtifacts: row.n_artifacts,
        size: row.size,
      }),
    );
    const countVersions = this.db.prepare('SELECT COUNT(*) AS n FROM artifact WHERE stem = ? AND deleted_at IS NULL');
    const stores = this.listArtifacts({ kind: 'store' }).map((store) => ({
      ...store,
      nVersions: (countVersions.get(store.stem) as { n: number }).n,
    }));
    return { collections, artifacts: this.listArtifacts({ kind: 'h5ad' }), stores };
  }

  // ── lineage ──────────────────────────────────────────────────────────────

  /**
   * The upstream walk through each run's inputs (and each collection's members), plus the
   * runs that consumed the starting item and what they made. Edges go input → run → output.
   */
  lineage(ref: string): Lineage {
    const start = this.resolveAny(ref);
    const nodes = new Map<string, LineageNode>();
    const edges = new Map<string, LineageEdge>();
    const addEdge = (from: string, to: string, relation: LineageEdge['relation']) => {
      edges.set(`${from}\u0000${to}`, { from, to, relation });
    };
    const runRowById = this.db.prepare('SELECT * FROM run WHERE id = ?');
    const inputArtifactIds = this.db.prepare('SELECT artifact_id FROM run_input_artifact WHERE run_id = ? ORDER BY artifact_id');
    const inputCollectionIds = this.db.prepare('SELECT collection_id FROM run_input_collection WHERE run_id = ? ORDER BY collection_id');
    const artifactRowById = this.db.prepare('SELECT * FROM artifact WHERE id = ?');
    const collectionRowById = this.db.prepare('SELECT * FROM collection WHERE id = ?');
    const transformName = this.db.prepare('SELECT name FROM transform WHERE id = ?');

    const visitRun = (run: RunRow): void => {
      if (nodes.has(run.uid)) return;
      const name = (transformName.get(run.transform_id) as { name: string }).name;
      nodes.set(run.uid, {
        id: run.uid,
        kind: 'run',
        label: run.status === 'completed' ? name : `${name} (${run.status})`,
        deleted: false,
        status: run.status,
      });
      for (const { artifact_id } of inputArtifactIds.all(run.id) as Array<{ artifact_id: number }>) {
        const input = artifactRowById.get(artifact_id) as ArtifactRow;
        visitArtifact(input);
        addEdge(input.uid, run.uid, 'input');
      }
      for (const { collection_id } of inputCollectionIds.all(run.id) as Array<{ collection_id: number }>) {
        const input = collectionRowById.get(collection_id) as CollectionRow;
        visitCollection(input);
        addEdge(input.uid, run.uid, 'input');
      }
    };
    const visitArtifact = (artifact: ArtifactRow): void => {
      if (nodes.has(artifact.uid)) return;
      nodes.set(artifact.uid, {
        id: artifact.uid,
        kind: 'artifact',
        label: withTombstone(artifact.kind === 'store' ? `${artifact.key} v${artifact.version}` : artifact.key, artifact.deleted_at),
        deleted: artifact.deleted_at !== null,
        artifactKind: artifact.kind,
      });
      if (artifact.run_id !== null) {
        const run = runRowById.get(artifact.run_id) as RunRow;
        visitRun(run);
        addEdge(run.uid, artifact.uid, 'output');
      }
    };
    const visitCollection = (collection: CollectionRow): void => {
      if (nodes.has(collection.uid)) return;
      nodes.set(collection.uid, {
        id: collection.uid,
        kind: 'collection',
        label: withTombstone(collection.key, collection.deleted_at),
        deleted: collection.deleted_at !== null,
      });
      if (collection.run_id !== null) {
        const run = runRowById.get(collection.run_id) as RunRow;
        visitRun(run);
        addEdge(run.uid, collection.uid, 'output');
      }
      for (const member of this.memberRows(collection.id)) {
        visitArtifact(member);
        addEdge(member.uid, collection.uid, 'member');
      }
    };

    const startUid = start.row.uid;
    if (start.kind === 'artifact') visitArtifact(start.row);
    else visitCollection(start.row);

    // Downstream, one step: who consumed the starting item and what they made.
    const consumerRuns = (
      start.kind === 'artifact'
        ? this.db.prepare('SELECT r.* FROM run_input_artifact i JOIN run r ON r.id = i.run_id WHERE i.artifact_id = ? ORDER BY r.id')
        : this.db.prepare('SELECT r.* FROM run_input_collection i JOIN run r ON r.id = i.run_id WHERE i.collection_id = ? ORDER BY r.id')
    ).all(start.row.id) as RunRow[];
    for (const run of consumerRuns) {
      if (!nodes.has(run.uid)) {
        const name = (transformName.get(run.transform_id) as { name: string }).name;
        nodes.set(run.uid, { id: run.uid, kind: 'run', label: run.status === 'completed' ? name : `${name} (${run.status})`, deleted: false, status: run.status });
      }
      addEdge(startUid, run.uid, 'input');
      for (const output of this.db.prepare('SELECT * FROM artifact WHERE run_id = ? ORDER BY id').all(run.id) as ArtifactRow[]) {
        addOutputNode(nodes, output.uid, 'artifact', withTombstone(output.kind === 'store' ? `${output.key} v${output.version}` : output.key, output.deleted_at), output.deleted_at, output.kind);
        addEdge(run.uid, output.uid, 'output');
      }
      for (const output of this.db.prepare('SELECT * FROM collection WHERE run_id = ? ORDER BY id').all(run.id) as CollectionRow[]) {
        addOutputNode(nodes, output.uid, 'collection', withTombstone(output.key, output.deleted_at), output.deleted_at);
        addEdge(run.uid, output.uid, 'output');
      }
    }
    if (start.kind === 'artifact') {
      const containing = this.db
        .prepare('SELECT c.* FROM collection_artifact ca JOIN collection c ON c.id = ca.collection_id WHERE ca.artifact_id = ? ORDER BY c.id')
        .all(start.row.id) as CollectionRow[];
      for (const collection of containing) {
        addOutputNode(nodes, collection.uid, 'collection', withTombstone(collection.key, collection.deleted_at), collection.deleted_at);
        addEdge(startUid, collection.uid, 'member');
      }
    }
    return { nodes: [...nodes.values()], edges: [...edges.values()] };
  }

  // ── internals ────────────────────────────────────────────────────────────

  /** Writes take the lock up front so two processes never deadlock upgrading a read lock. */
  private write<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } catch (err) {
      // SQLITE_FULL: the disk (or the database's page limit) is full; the transaction rolled back.
      if ((err as { code?: unknown }).code === 'SQLITE_FULL') throw new CellarError('no_space', `The disk is full: could not write the registry (${this.dbPath}); nothing was recorded.`);
      throw err;
    }
  }

  private insertArtifact(a: {
    uid: string;
    stem: string;
    versionSuffix: string;
    version: number;
    key: string;
    description: string | null;
    suffix: string;
    kind: ArtifactKind;
    size: number;
    hash: string;
    hashType: HashType;
    nFiles: number;
    nObservations: number | null;
    nVars: number | null;
    storagePath: string;
    isLink: boolean;
    tag: string | null;
    runId: number | null;
  }): void {
    this.db
      .prepare(
        `INSERT INTO artifact (uid, stem, version_suffix, version, tag, key, description, suffix, kind, size, hash, hash_type,
           n_files, n_observations, n_vars, is_latest, storage_path, is_link, created_at, run_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
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
        this.storedPath(a.storagePath),
        a.isLink ? 1 : 0,
        nowIso(),
        a.runId,
      );
  }

  /** Next suffix and number after every version ever made, deleted ones included, so none is reused. */
  private nextVersionOf(stem: string): { uid: string; stem: string; versionSuffix: string; version: number } {
    const top = this.db
      .prepare('SELECT MAX(version_suffix) AS suffix, MAX(version) AS version FROM artifact WHERE stem = ?')
      .get(stem) as { suffix: string | null; version: number | null };
    if (top.suffix === null || top.version === null) throw new CellarError('not_found', `No artifact family with stem ${stem}.`);
    const versionSuffix = incrementBase62(top.suffix);
    return { uid: stem + versionSuffix, stem, versionSuffix, version: top.version + 1 };
  }

  private moveLatestToNewestLive(stem: string): void {
    const newestLive = this.db
      .prepare('SELECT id FROM artifact WHERE stem = ? AND deleted_at IS NULL ORDER BY version DESC LIMIT 1')
      .get(stem) as { id: number } | undefined;
    if (!newestLive) return;
    this.db.prepare('UPDATE artifact SET is_latest = 0 WHERE stem = ?').run(stem);
    this.db.prepare('UPDATE artifact SET is_latest = 1 WHERE id = ?').run(newestLive.id);
  }

  private findArtifactRowByHash(hash: string, size: number, kind: ArtifactKind): ArtifactJoinedRow | undefined {
    return this.db
      .prepare(`${ARTIFACT_SELECT} WHERE a.hash = ? AND a.size = ? AND a.kind = ? AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1`)
      .get(hash, size, kind) as ArtifactJoinedRow | undefined;
  }

  private findArtifactRow(ref: string): ArtifactJoinedRow | undefined {
    return (
      (this.db.prepare(`${ARTIFACT_SELECT} WHERE a.uid = ?`).get(ref) as ArtifactJoinedRow | undefined) ??
      (this.db.prepare(`${ARTIFACT_SELECT} WHERE a.stem = ? AND a.is_latest = 1 AND a.deleted_at IS NULL`).get(ref) as ArtifactJoinedRow | undefined) ??
      (this.db.prepare(`${ARTIFACT_SELECT} WHERE a.key = ? AND a.is_latest = 1 AND a.deleted_at IS NULL`).get(ref) as ArtifactJoinedRow | undefined)
    );
  }

  private getArtifactRow(ref: string): ArtifactRow {
    const row = this.findArtifactRow(ref);
    if (!row) throw new CellarError('not_found', `No artifact "${ref}" in the registry at ${this.dbPath}.`);
    return row;
  }

  private getLiveArtifactRow(ref: string): ArtifactRow {
    const row = this.getArtifactRow(ref);
    if (row.deleted_at) throw new CellarError('not_found', `The artifact "${row.key}" (uid ${row.uid}) was deleted on ${row.deleted_at}.`);
    return row;
  }

  private getStoreRow(ref: string): ArtifactRow {
    const row = this.findArtifactRow(ref);
    if (!row || row.kind !== 'store') throw new CellarError('not_found', `No array store "${ref}" in the registry at ${this.dbPath}.`);
    return row;
  }

  private liveFamilyByKey(key: string): ArtifactRow | undefined {
    return this.db.prepare('SELECT * FROM artifact WHERE key = ? AND is_latest = 1 AND deleted_at IS NULL').get(key) as ArtifactRow | undefined;
  }

  private findCollectionRow(ref: string): CollectionJoinedRow | undefined {
    return (
      (this.db.prepare(`${COLLECTION_SELECT} WHERE c.uid = ?`).get(ref) as CollectionJoinedRow | undefined) ??
      (this.db.prepare(`${COLLECTION_SELECT} WHERE c.key = ? AND c.deleted_at IS NULL`).get(ref) as CollectionJoinedRow | undefined)
    );
  }

  private getCollectionRow(ref: string): CollectionRow {
    const row = this.findCollectionRow(ref);
    if (!row) throw new CellarError('not_found', `No collection "${ref}" in the registry at ${this.dbPath}.`);
    return row;
  }

  private getLiveCollectionRow(ref: string): CollectionRow {
    const row = this.getCollectionRow(ref);
    if (row.deleted_at) throw new CellarError('not_found', `The collection "${row.key}" (uid ${row.uid}) was deleted on ${row.deleted_at}.`);
    return row;
  }

  private memberRows(collectionId: number): ArtifactJoinedRow[] {
    return this.db
      .prepare(
        `${ARTIFACT_SELECT} JOIN collection_artifact ca ON ca.artifact_id = a.id WHERE ca.collection_id = ? ORDER BY ca.position`,
      )
      .all(collectionId) as ArtifactJoinedRow[];
  }

  private appendMembers(collection: CollectionRow, members: ArtifactRow[]): void {
    const top = this.db.prepare('SELECT MAX(position) AS position FROM collection_artifact WHERE collection_id = ?').get(collection.id) as {
      position: number | null;
    };
    let position = (top.position ?? -1) + 1;
    const insert = this.db.prepare('INSERT OR IGNORE INTO collection_artifact (collection_id, artifact_id, position) VALUES (?, ?, ?)');
    for (const member of members) {
      if (insert.run(collection.id, member.id, position).changes > 0) position++;
    }
  }

  /** Keys name one live thing across collections and artifact families, so `rename KEY` and `delete KEY` are never ambiguous. */
  private assertKeyFree(key: string): void {
    const collection = this.db.prepare('SELECT uid FROM collection WHERE key = ? AND deleted_at IS NULL').get(key) as { uid: string } | undefined;
    if (collection) throw new CellarError('already_exists', `A collection named "${key}" already exists (uid ${collection.uid}); choose another key.`);
    const family = this.liveFamilyByKey(key);
    if (family) {
      throw new CellarError('already_exists', `An ${family.kind === 'store' ? 'array store' : 'artifact'} named "${key}" already exists (uid ${family.uid}); choose another key.`);
    }
  }

  /** Uids find deleted items too (lineage of a tombstone); keys and stems find live ones. */
  private resolveAny(ref: string): Resolved {
    const byUid = this.db.prepare('SELECT * FROM artifact WHERE uid = ?').get(ref) as ArtifactRow | undefined;
    if (byUid) return { kind: 'artifact', row: byUid, scope: 'version' };
    const collectionByUid = this.db.prepare('SELECT * FROM collection WHERE uid = ?').get(ref) as CollectionRow | undefined;
    if (collectionByUid) return { kind: 'collection', row: collectionByUid };
    const byStem = this.db.prepare('SELECT * FROM artifact WHERE stem = ? AND is_latest = 1 AND deleted_at IS NULL').get(ref) as ArtifactRow | undefined;
    if (byStem) return { kind: 'artifact', row: byStem, scope: 'family' };
    const family = this.liveFamilyByKey(ref);
    if (family) return { kind: 'artifact', row: family, scope: 'family' };
    const collection = this.db.prepare('SELECT * FROM collection WHERE key = ? AND deleted_at IS NULL').get(ref) as CollectionRow | undefined;
    if (collection) return { kind: 'collection', row: collection };
    throw new CellarError('not_found', `Nothing named "${ref}" in the registry at ${this.dbPath}.`);
  }

  private resolveLive(ref: string): Resolved {
    const target = this.resolveAny(ref);
    if (target.row.deleted_at) {
      throw new CellarError('not_found', `"${ref}" (uid ${target.row.uid}) was already deleted on ${target.row.deleted_at}.`);
    }
    return target;
  }

  private deletionSet(target: Resolved): { artifactIds: number[]; collectionIds: number[] } {
    if (target.kind === 'collection') return { artifactIds: [], collectionIds: [target.row.id] };
    if (target.scope === 'version') return { artifactIds: [target.row.id], collectionIds: [] };
    const ids = this.db.prepare('SELECT id FROM artifact WHERE stem = ? AND deleted_at IS NULL ORDER BY version').all(target.row.stem) as Array<{ id: number }>;
    return { artifactIds: ids.map((r) => r.id), collectionIds: [] };
  }

  /**
   * Live users outside the deletion set: collections holding a deleted artifact, running runs,
   * and finished runs that still have a live output. Failed runs and runs whose outputs are
   * all gone hold nothing up.
   */
  private findConsumers(artifactIds: number[], collectionIds: number[]): string[] {
    const doomedArtifacts = new Set(artifactIds);
    const doomedCollections = new Set(collectionIds);
    const consumers: string[] = [];
    const seenRuns = new Set<number>();
    const holding = this.db.prepare(
      'SELECT c.id, c.uid, c.key FROM collection_artifact ca JOIN collection c ON c.id = ca.collection_id WHERE ca.artifact_id = ? AND c.deleted_at IS NULL',
    );
    const runsOfArtifact = this.db.prepare(
      'SELECT r.*, t.name AS transform_name FROM run_input_artifact i JOIN run r ON r.id = i.run_id JOIN transform t ON t.id = r.transform_id WHERE i.artifact_id = ?',
    );
    const runsOfCollection = this.db.prepare(
      'SELECT r.*, t.name AS transform_name FROM run_input_collection i JOIN run r ON r.id = i.run_id JOIN transform t ON t.id = r.transform_id WHERE i.collection_id = ?',
    );
    const liveArtifactOutputs = this.db.prepare('SELECT id, key, kind, version FROM artifact WHERE run_id = ? AND deleted_at IS NULL');
    const liveCollectionOutputs = this.db.prepare('SELECT id, key FROM collection WHERE run_id = ? AND deleted_at IS NULL');

    const considerRun = (run: RunRow & { transform_name: string }) => {
      if (seenRuns.has(run.id)) return;
      seenRuns.add(run.id);
      if (run.status === 'running') {
        consumers.push(`${run.transform_name} run ${run.uid} is still running and reads it`);
        return;
      }
      if (run.status !== 'completed') return;
      const outputs = [
        ...(liveArtifactOutputs.all(run.id) as Array<{ id: number; key: string; kind: ArtifactKind; version: number }>)
          .filter((o) => !doomedArtifacts.has(o.id))
          .map((o) => (o.kind === 'store' ? `array store "${o.key}" v${o.version}` : `artifact "${o.key}"`)),
        ...(liveCollectionOutputs.all(run.id) as Array<{ id: number; key: string }>)
          .filter((o) => !doomedCollections.has(o.id))
          .map((o) => `collection "${o.key}"`),
      ];
      if (outputs.length) consumers.push(`${run.transform_name} run ${run.uid} made ${outputs.join(', ')} from it`);
    };

    for (const id of artifactIds) {
      for (const c of holding.all(id) as Array<{ id: number; uid: string; key: string }>) {
        if (!doomedCollections.has(c.id)) consumers.push(`collection "${c.key}" (uid ${c.uid}) contains it`);
      }
      for (const run of runsOfArtifact.all(id) as Array<RunRow & { transform_name: string }>) considerRun(run);
    }
    for (const id of collectionIds) {
      for (const run of runsOfCollection.all(id) as Array<RunRow & { transform_name: string }>) considerRun(run);
    }
    return [...new Set(consumers)];
  }

  private transformRow(name: string, version: string): TransformRow {
    const existing = this.db.prepare('SELECT * FROM transform WHERE name = ? AND version = ?').get(name, version) as TransformRow | undefined;
    if (existing) return existing;
    this.db.prepare('INSERT INTO transform (uid, name, version, created_at) VALUES (?, ?, ?, ?)').run(newTransformUid(), name, version, nowIso());
    return this.db.prepare('SELECT * FROM transform WHERE name = ? AND version = ?').get(name, version) as TransformRow;
  }

  private getRunRow(uid: string): RunRow {
    const row = this.db.prepare('SELECT * FROM run WHERE uid = ?').get(uid) as RunRow | undefined;
    if (!row) throw new CellarError('not_found', `No run "${uid}" in the registry at ${this.dbPath}.`);
    return row;
  }

  private runIdOrNull(runUid: string | null | undefined): number | null {
    return runUid ? this.getRunRow(runUid).id : null;
  }

  private endRun(runUid: string, status: RunStatus, error: string | null): RunRecord {
    return this.write(() => {
      const run = this.getRunRow(runUid);
      if (run.status !== 'running') {
        throw new CellarError('internal', `Run ${runUid} already ended as ${run.status}.`);
      }
      this.db.prepare('UPDATE run SET status = ?, finished_at = ?, error = ? WHERE id = ?').run(status, nowIso(), error, run.id);
      return this.getRun(runUid);
    });
  }

  private storedPath(path: string): string {
    const absolute = resolve(path);
    const inside = relative(this.home, absolute);
    return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside.split(sep).join('/') : absolute;
  }

  private absolutePath(stored: string): string {
    return isAbsolute(stored) ? stored : join(this.home, ...stored.split('/'));
  }

  private toArtifact(row: ArtifactRow & Partial<Pick<ArtifactJoinedRow, 'run_uid' | 'transform_name'>>): ArtifactRecord {
    let run: RunRef | null = null;
    if (row.run_id !== null) {
      if (row.run_uid && row.transform_name) run = { uid: row.run_uid, transform: row.transform_name };
      else run = this.runRef(row.run_id);
    }
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
      storagePath: this.absolutePath(row.storage_path),
      isLink: row.is_link === 1,
      createdAt: row.created_at,
      deletedAt: row.deleted_at,
      run,
    };
  }

  private toCollection(row: CollectionRow & Partial<Pick<CollectionJoinedRow, 'run_uid' | 'transform_name'>>): CollectionRecord {
    let run: RunRef | null = null;
    if (row.run_id !== null) {
      if (row.run_uid && row.transform_name) run = { uid: row.run_uid, transform: row.transform_name };
      else run = this.runRef(row.run_id);
    }
    return {
      uid: row.uid,
      key: row.key,
      description: row.description,
      hash: row.hash,
      createdAt: row.created_at,
      deletedAt: row.deleted_at,
      run,
      members: this.memberRows(row.id).map((member) => this.toArtifact(member)),
    };
  }

  private runRef(runId: number): RunRef {
    const row = this.db
      .prepare('SELECT r.uid, t.name FROM run r JOIN transform t ON t.id = r.transform_id WHERE r.id = ?')
      .get(runId) as { uid: string; name: string };
    return { uid: row.uid, transform: row.name };
  }
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
  };
}

function toTransform(row: TransformRow): TransformRecord {
  return { uid: row.uid, name: row.name, version: row.version, createdAt: row.created_at };
}

function nowIso(): string {
  return new Date().toISOString();
}

function checkKey(key: string): string {
  const trimmed = key.trim();
  if (!trimmed) throw new CellarError('usage', 'A key cannot be empty.');
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new CellarError('usage', `The key "${trimmed}" contains control characters.`);
  return trimmed;
}

function withTombstone(label: string, deletedAt: string | null): string {
  return deletedAt ? `${label} (deleted)` : label;
}

function describeArtifactRow(row: ArtifactRow, scope: 'version' | 'family'): string {
  if (row.kind === 'store') return scope === 'version' ? `version ${row.version} of array store "${row.key}"` : `array store "${row.key}"`;
  return `artifact "${row.key}"`;
}

function addOutputNode(
  nodes: Map<string, LineageNode>,
  id: string,
  kind: 'artifact' | 'collection',
  label: string,
  deletedAt: string | null,
  artifactKind?: ArtifactKind,
): void {
  if (nodes.has(id)) return;
  nodes.set(id, { id, kind, label, deleted: deletedAt !== null, ...(artifactKind ? { artifactKind } : {}) });
}
