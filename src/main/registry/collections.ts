// Collections: ordered sets of artifacts under one key, hashed from their members' hashes.
import { CellarError } from '../../shared/errors';
import type { ArtifactRecord, CollectionRecord, CollectionSummary } from '../../shared/registry-types';
import { ARTIFACT_SELECT, getLiveArtifactRow, toArtifact, type ArtifactJoinedRow } from './artifacts';
import { nowIso, type ArtifactRow, type CollectionRow, type RegistryDb } from './database';
import { hashCollection } from './hash';
import { assertKeyFree, checkKey } from './keys';
import { madeBy, runIdOrNull } from './runs';
import { newCollectionUid } from './uid';

export interface CreateCollectionInput {
  key: string;
  description?: string | null;
  /** Member artifacts in order, by uid, stem or key. */
  members: string[];
  runUid?: string | null;
}

interface CollectionJoinedRow extends CollectionRow {
  run_uid: string | null;
  transform_name: string | null;
}

const COLLECTION_SELECT = `
  SELECT c.*, r.uid AS run_uid, t.name AS transform_name
  FROM collection c LEFT JOIN run r ON r.id = c.run_id LEFT JOIN transform t ON t.id = r.transform_id`;

export function createCollection(registry: RegistryDb, input: CreateCollectionInput): CollectionRecord {
  const key = checkKey(input.key);
  return registry.write(() => {
    assertKeyFree(registry, key);
    const members = input.members.map((ref) => getLiveArtifactRow(registry, ref));
    const uid = newCollectionUid();
    registry.db
      .prepare('INSERT INTO collection (uid, key, description, hash, created_at, run_id) VALUES (?, ?, ?, ?, ?, ?)')
      .run(uid, key, input.description ?? null, hashCollection(members.map((m) => m.hash)), nowIso(), runIdOrNull(registry, input.runUid));
    const collection = registry.db.prepare('SELECT * FROM collection WHERE uid = ?').get(uid) as CollectionRow;
    appendMembers(registry, collection, members);
    return getCollection(registry, uid);
  });
}

/** Appends artifacts to a collection (ones already in it are skipped) and updates its hash. */
export function addCollectionMembers(registry: RegistryDb, ref: string, memberRefs: string[]): CollectionRecord {
  return registry.write(() => {
    const collection = getLiveCollectionRow(registry, ref);
    appendMembers(registry, collection, memberRefs.map((member) => getLiveArtifactRow(registry, member)));
    const hashes = (
      registry.db
        .prepare('SELECT a.hash FROM collection_artifact ca JOIN artifact a ON a.id = ca.artifact_id WHERE ca.collection_id = ?')
        .all(collection.id) as Array<{ hash: string }>
    ).map((row) => row.hash);
    registry.db.prepare('UPDATE collection SET hash = ? WHERE id = ?').run(hashCollection(hashes), collection.id);
    return getCollection(registry, collection.uid);
  });
}

/**
 * Removes one member (by its key or uid, deleted members included) from a collection;
 * the others keep their order and the hash is recomputed.
 */
export function removeCollectionMember(registry: RegistryDb, ref: string, memberRef: string): { collection: CollectionRecord; removed: ArtifactRecord } {
  return registry.write(() => {
    const collection = getLiveCollectionRow(registry, ref);
    const members = memberRows(registry, collection.id);
    const matches = members.filter((m) => m.uid === memberRef || m.key === memberRef);
    if (matches.length === 0) {
      throw new CellarError('not_found', `The collection "${collection.key}" has no member "${memberRef}"; its members are ${members.map((m) => m.key).join(', ') || 'none'}.`);
    }
    if (matches.length > 1) {
      throw new CellarError('usage', `The collection "${collection.key}" has ${matches.length} members named "${memberRef}"; name the one to remove by its uid (${matches.map((m) => m.uid).join(', ')}).`);
    }
    const member = matches[0]!;
    registry.db.prepare('DELETE FROM collection_artifact WHERE collection_id = ? AND artifact_id = ?').run(collection.id, member.id);
    const hashes = members.filter((m) => m.id !== member.id).map((m) => m.hash);
    registry.db.prepare('UPDATE collection SET hash = ? WHERE id = ?').run(hashCollection(hashes), collection.id);
    return { collection: getCollection(registry, collection.uid), removed: toArtifact(registry, member) };
  });
}

/** By uid (deleted ones too) or key (live only). */
export function findCollection(registry: RegistryDb, ref: string): CollectionRecord | null {
  const row = findCollectionRow(registry, ref);
  return row ? toCollection(registry, row) : null;
}

export function getCollection(registry: RegistryDb, ref: string): CollectionRecord {
  const found = findCollection(registry, ref);
  if (!found) throw new CellarError('not_found', `No collection "${ref}" in the registry at ${registry.dbPath}.`);
  return found;
}

export function listCollections(registry: RegistryDb, options: { includeDeleted?: boolean } = {}): CollectionRecord[] {
  const rows = registry.db
    .prepare(`${COLLECTION_SELECT} ${options.includeDeleted ? '' : 'WHERE c.deleted_at IS NULL'} ORDER BY c.key`)
    .all() as CollectionJoinedRow[];
  return rows.map((row) => toCollection(registry, row));
}

/** Live collections with their member count and total size, without the members themselves. */
export function listCollectionSummaries(registry: RegistryDb): CollectionSummary[] {
  return (
    registry.db
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
}

export function getCollectionRow(registry: RegistryDb, ref: string): CollectionRow {
  const row = findCollectionRow(registry, ref);
  if (!row) throw new CellarError('not_found', `No collection "${ref}" in the registry at ${registry.dbPath}.`);
  return row;
}

/** The member artifacts (deleted ones too) in their recorded order. */
export function memberRows(registry: RegistryDb, collectionId: number): ArtifactJoinedRow[] {
  return registry.db
    .prepare(`${ARTIFACT_SELECT} JOIN collection_artifact ca ON ca.artifact_id = a.id WHERE ca.collection_id = ? ORDER BY ca.position`)
    .all(collectionId) as ArtifactJoinedRow[];
}

function findCollectionRow(registry: RegistryDb, ref: string): CollectionJoinedRow | undefined {
  return (
    (registry.db.prepare(`${COLLECTION_SELECT} WHERE c.uid = ?`).get(ref) as CollectionJoinedRow | undefined) ??
    (registry.db.prepare(`${COLLECTION_SELECT} WHERE c.key = ? AND c.deleted_at IS NULL`).get(ref) as CollectionJoinedRow | undefined)
  );
}

function getLiveCollectionRow(registry: RegistryDb, ref: string): CollectionRow {
  const row = getCollectionRow(registry, ref);
  if (row.deleted_at) throw new CellarError('not_found', `The collection "${row.key}" (uid ${row.uid}) was deleted on ${row.deleted_at}.`);
  return row;
}

function appendMembers(registry: RegistryDb, collection: CollectionRow, members: ArtifactRow[]): void {
  const top = registry.db.prepare('SELECT MAX(position) AS position FROM collection_artifact WHERE collection_id = ?').get(collection.id) as {
    position: number | null;
  };
  let position = (top.position ?? -1) + 1;
  const insert = registry.db.prepare('INSERT OR IGNORE INTO collection_artifact (collection_id, artifact_id, position) VALUES (?, ?, ?)');
  for (const member of members) {
    if (insert.run(collection.id, member.id, position).changes > 0) position++;
  }
}

function toCollection(registry: RegistryDb, row: CollectionRow & Partial<Pick<CollectionJoinedRow, 'run_uid' | 'transform_name'>>): CollectionRecord {
  const run = madeBy(registry, row);
  return {
    uid: row.uid,
    key: row.key,
    description: row.description,
    hash: row.hash,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    run,
    members: memberRows(registry, row.id).map((member) => toArtifact(registry, member)),
  };
}
