// The registry: artifacts (h5ad files and store versions), collections, transforms and runs
// in one SQLite file in the Cellar home. All SQL of the app lives in this folder; this file
// opens the database and composes the per-table modules into the one object callers hold.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CellarError } from '../../shared/errors';
import type {
  ArtifactKind,
  ArtifactRecord,
  CollectionRecord,
  DeleteResult,
  DiskUsage,
  Lineage,
  RegistryListing,
  RunRecord,
  RunStatus,
  TransformName,
  TransformRecord,
} from '../../shared/registry-types';
import {
  addStoreVersion,
  diskUsage,
  dropOlderVersions,
  findArtifact,
  findArtifactByHash,
  getArtifact,
  getArtifactRow,
  getStore,
  listArtifacts,
  listStores,
  registerArtifact,
  registerDatasetFile,
  resolveVersion,
  storeVersions,
  type DatasetFileInput,
  type RegisterArtifactInput,
  type StoreVersionInput,
} from './artifacts';
import {
  addCollectionMembers,
  createCollection,
  findCollection,
  getCollection,
  getCollectionRow,
  listCollectionSummaries,
  listCollections,
  removeCollectionMember,
  type CreateCollectionInput,
} from './collections';
import { openDatabase, registryDb, type OpenDatabaseOptions, type RegistryDb } from './database';
import { buildLineage } from './lineage';
import { consumersOf, deleteItem, rename } from './named-items';
import {
  addRunInputIds,
  closeInterruptedRun,
  failRun,
  finishRun,
  getOrCreateTransform,
  getRun,
  getRunRow,
  insertRun,
  listRuns,
  runningRuns,
  type RunningRun,
  type StartRunInput,
} from './runs';

export const REGISTRY_FILE_NAME = 'registry.sqlite';

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

/** Each write is one transaction, or part of the one atomically() opened. */
export class Registry {
  private readonly tables: RegistryDb;

  constructor(
    readonly home: string,
    readonly dbPath: string,
    private readonly db: Database.Database,
  ) {
    this.tables = registryDb(db, home, dbPath);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs several registry calls (synchronously) as one all-or-nothing write. */
  atomically<T>(work: () => T): T {
    return this.tables.write(work);
  }

  // ── artifacts ────────────────────────────────────────────────────────────

  /** Registers a file or store; a live artifact of the same kind with the same hash and size is returned instead. */
  registerArtifact(input: RegisterArtifactInput): { artifact: ArtifactRecord; existing: boolean } {
    return registerArtifact(this.tables, input);
  }

  /** Registers an h5ad file; a file whose key is taken becomes the next version of that family. */
  registerDatasetFile(input: DatasetFileInput): { artifact: ArtifactRecord; existing: boolean } {
    return registerDatasetFile(this.tables, input);
  }

  findArtifactByHash(hash: string, size: number, kind: ArtifactKind = 'h5ad'): ArtifactRecord | null {
    return findArtifactByHash(this.tables, hash, size, kind);
  }

  /** By uid (that version, deleted ones too), stem or key (the latest live version). */
  findArtifact(ref: string): ArtifactRecord | null {
    return findArtifact(this.tables, ref);
  }

  getArtifact(ref: string): ArtifactRecord {
    return getArtifact(this.tables, ref);
  }

  /** The latest version of a store by key, stem or uid (a uid gives that version). */
  getStore(ref: string): ArtifactRecord {
    return getStore(this.tables, ref);
  }

  listArtifacts(options: { kind?: ArtifactKind; allVersions?: boolean; includeDeleted?: boolean } = {}): ArtifactRecord[] {
    return listArtifacts(this.tables, options);
  }

  /** Adds the next version of a store (same stem, next suffix) and makes it the latest. */
  addStoreVersion(storeRef: string, input: StoreVersionInput): ArtifactRecord {
    return addStoreVersion(this.tables, storeRef, input);
  }

  /** Every version of a store, newest first. */
  versions(storeRef: string, options: { includeDeleted?: boolean } = {}): ArtifactRecord[] {
    return storeVersions(this.tables, storeRef, options);
  }

  /** A store version by its number (1, 2, …) or its uid. */
  resolveVersion(storeRef: string, version: string | number): ArtifactRecord {
    return resolveVersion(this.tables, storeRef, version);
  }

  /** Tombstones every version but the latest (after compact); lineage keeps them. */
  dropOlderVersions(storeRef: string): ArtifactRecord[] {
    return dropOlderVersions(this.tables, storeRef);
  }

  // ── collections ──────────────────────────────────────────────────────────

  createCollection(input: CreateCollectionInput): CollectionRecord {
    return createCollection(this.tables, input);
  }

  /** Appends artifacts to a collection (ones already in it are skipped) and updates its hash. */
  addCollectionMembers(ref: string, memberRefs: string[]): CollectionRecord {
    return addCollectionMembers(this.tables, ref, memberRefs);
  }

  /** Removes one member (by its key or uid) from a collection; the hash is recomputed. */
  removeCollectionMember(ref: string, memberRef: string): { collection: CollectionRecord; removed: ArtifactRecord } {
    return removeCollectionMember(this.tables, ref, memberRef);
  }

  /** By uid (deleted ones too) or key (live only). */
  findCollection(ref: string): CollectionRecord | null {
    return findCollection(this.tables, ref);
  }

  getCollection(ref: string): CollectionRecord {
    return getCollection(this.tables, ref);
  }

  listCollections(options: { includeDeleted?: boolean } = {}): CollectionRecord[] {
    return listCollections(this.tables, options);
  }

  // ── transforms and runs ──────────────────────────────────────────────────

  getOrCreateTransform(name: TransformName | string, version = '1'): TransformRecord {
    return getOrCreateTransform(this.tables, name, version);
  }

  startRun(input: StartRunInput): RunRecord {
    return this.tables.write(() => {
      const uid = insertRun(this.tables, input);
      this.addRunInputs(uid, { artifacts: input.inputArtifacts, collections: input.inputCollections });
      return getRun(this.tables, uid);
    });
  }

  /** Records what a run read, by uid (a specific version), stem or key (the latest version). */
  addRunInputs(runUid: string, inputs: { artifacts?: string[]; collections?: string[] }): void {
    this.tables.write(() => {
      const run = getRunRow(this.tables, runUid);
      const artifactIds = (inputs.artifacts ?? []).map((ref) => getArtifactRow(this.tables, ref).id);
      const collectionIds = (inputs.collections ?? []).map((ref) => getCollectionRow(this.tables, ref).id);
      addRunInputIds(this.tables, run.id, { artifactIds, collectionIds });
    });
  }

  finishRun(runUid: string): RunRecord {
    return finishRun(this.tables, runUid);
  }

  failRun(runUid: string, error: string, status: 'failed' | 'cancelled' = 'failed'): RunRecord {
    return failRun(this.tables, runUid, error, status);
  }

  getRun(uid: string): RunRecord {
    return getRun(this.tables, uid);
  }

  /** Every run still marked running, oldest first, with the process that started it. */
  runningRuns(): RunningRun[] {
    return runningRuns(this.tables);
  }

  /** Ends a run whose process died without ending it; returns the run's status afterwards. */
  closeInterruptedRun(runUid: string, reason: string): RunStatus {
    return closeInterruptedRun(this.tables, runUid, reason);
  }

  /** Newest first. */
  listRuns(limit = 100): RunRecord[] {
    return listRuns(this.tables, limit);
  }

  // ── anything named: rename, delete, usage, listing, lineage ──────────────

  /** Renames a collection, or an artifact/store family (every version carries the key). */
  rename(ref: string, newKey: string): { kind: 'artifact' | 'collection'; uid: string; key: string } {
    return rename(this.tables, ref, newKey);
  }

  /** What would stop deleting ref: one line per consumer. */
  consumersOf(ref: string): string[] {
    return consumersOf(this.tables, ref);
  }

  /** Tombstones a collection, an artifact family (by key or stem) or one version (by uid); files are not touched. */
  delete(ref: string, options: { force?: boolean } = {}): DeleteResult {
    return deleteItem(this.tables, ref, options);
  }

  diskUsage(): DiskUsage {
    return diskUsage(this.tables);
  }

  list(): RegistryListing {
    const collections = listCollectionSummaries(this.tables);
    const stores = listStores(this.tables);
    return { collections, artifacts: listArtifacts(this.tables, { kind: 'h5ad' }), stores };
  }

  /** What made ref, upstream to the imported files, and what was made from it, one step down. */
  lineage(ref: string): Lineage {
    return buildLineage(this.tables, ref);
  }
}
