// What a ref names across the tables (a collection, an artifact family or one version),
// and what works on any of them: rename, what still uses it, delete.
import { CellarError } from '../../shared/errors';
import type { ArtifactKind, DeleteResult, DeletedItem } from '../../shared/registry-types';
import { absolutePath, moveLatestToNewestLive } from './artifacts';
import { nowIso, type ArtifactRow, type CollectionRow, type RegistryDb, type RunRow } from './database';
import { assertKeyFree, checkKey, liveCollectionByKey, liveFamilyByKey } from './keys';

type NamedItem =
  | { kind: 'artifact'; row: ArtifactRow; scope: 'version' | 'family' }
  | { kind: 'collection'; row: CollectionRow };

/** Uids find deleted items too (lineage of a tombstone); keys and stems find live ones. */
export function resolveAny(registry: RegistryDb, ref: string): NamedItem {
  const byUid = registry.db.prepare('SELECT * FROM artifact WHERE uid = ?').get(ref) as ArtifactRow | undefined;
  if (byUid) return { kind: 'artifact', row: byUid, scope: 'version' };
  const collectionByUid = registry.db.prepare('SELECT * FROM collection WHERE uid = ?').get(ref) as CollectionRow | undefined;
  if (collectionByUid) return { kind: 'collection', row: collectionByUid };
  const byStem = registry.db.prepare('SELECT * FROM artifact WHERE stem = ? AND is_latest = 1 AND deleted_at IS NULL').get(ref) as ArtifactRow | undefined;
  if (byStem) return { kind: 'artifact', row: byStem, scope: 'family' };
  const family = liveFamilyByKey(registry, ref);
  if (family) return { kind: 'artifact', row: family, scope: 'family' };
  const collection = liveCollectionByKey(registry, ref);
  if (collection) return { kind: 'collection', row: collection };
  throw new CellarError('not_found', `Nothing named "${ref}" in the registry at ${registry.dbPath}.`);
}

/** Renames a collection, or an artifact/store family (every version carries the key). */
export function rename(registry: RegistryDb, ref: string, newKey: string): { kind: 'artifact' | 'collection'; uid: string; key: string } {
  const key = checkKey(newKey);
  return registry.write(() => {
    const target = resolveLive(registry, ref);
    if (target.kind === 'collection') {
      if (target.row.key !== key) {
        assertKeyFree(registry, key);
        registry.db.prepare('UPDATE collection SET key = ? WHERE id = ?').run(key, target.row.id);
      }
      return { kind: 'collection' as const, uid: target.row.uid, key };
    }
    if (target.row.key !== key) {
      assertKeyFree(registry, key);
      registry.db.prepare('UPDATE artifact SET key = ? WHERE stem = ?').run(key, target.row.stem);
    }
    return { kind: 'artifact' as const, uid: target.row.uid, key };
  });
}

/** What would stop deleting ref: one line per consumer. */
export function consumersOf(registry: RegistryDb, ref: string): string[] {
  const target = resolveLive(registry, ref);
  const { artifactIds, collectionIds } = deletionSet(registry, target);
  return findConsumers(registry, artifactIds, collectionIds);
}

/**
 * Tombstones a collection, an artifact family (by key or stem) or one version (by uid).
 * Refused while a live collection or run uses it, unless forced; lineage keeps the tombstone.
 * Files are not touched: the caller removes managed copies it no longer needs.
 */
export function deleteItem(registry: RegistryDb, ref: string, options: { force?: boolean } = {}): DeleteResult {
  return registry.write(() => {
    const target = resolveLive(registry, ref);
    const { artifactIds, collectionIds } = deletionSet(registry, target);
    const consumers = findConsumers(registry, artifactIds, collectionIds);
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
      const row = registry.db.prepare('SELECT * FROM artifact WHERE id = ?').get(id) as ArtifactRow;
      registry.db.prepare('UPDATE artifact SET deleted_at = ? WHERE id = ?').run(now, id);
      deleted.push({ kind: 'artifact', uid: row.uid, key: row.key, version: row.version, storagePath: absolutePath(registry, row.storage_path), isLink: row.is_link === 1 });
    }
    for (const id of collectionIds) {
      const row = registry.db.prepare('SELECT * FROM collection WHERE id = ?').get(id) as CollectionRow;
      registry.db.prepare('UPDATE collection SET deleted_at = ? WHERE id = ?').run(now, id);
      deleted.push({ kind: 'collection', uid: row.uid, key: row.key });
    }
    if (target.kind === 'artifact') moveLatestToNewestLive(registry, target.row.stem);
    return { deleted, overridden: consumers };
  });
}

function resolveLive(registry: RegistryDb, ref: string): NamedItem {
  const target = resolveAny(registry, ref);
  if (target.row.deleted_at) {
    throw new CellarError('not_found', `"${ref}" (uid ${target.row.uid}) was already deleted on ${target.row.deleted_at}.`);
  }
  return target;
}

function deletionSet(registry: RegistryDb, target: NamedItem): { artifactIds: number[]; collectionIds: number[] } {
  if (target.kind === 'collection') return { artifactIds: [], collectionIds: [target.row.id] };
  if (target.scope === 'version') return { artifactIds: [target.row.id], collectionIds: [] };
  const ids = registry.db.prepare('SELECT id FROM artifact WHERE stem = ? AND deleted_at IS NULL ORDER BY version').all(target.row.stem) as Array<{ id: number }>;
  return { artifactIds: ids.map((r) => r.id), collectionIds: [] };
}

/**
 * Live users outside the deletion set: collections holding a deleted artifact, running runs,
 * and finished runs that still have a live output. Failed runs and runs whose outputs are
 * all gone hold nothing up.
 */
function findConsumers(registry: RegistryDb, artifactIds: number[], collectionIds: number[]): string[] {
  const doomedArtifacts = new Set(artifactIds);
  const doomedCollections = new Set(collectionIds);
  const consumers: string[] = [];
  const seenRuns = new Set<number>();
  const holding = registry.db.prepare(
    'SELECT c.id, c.uid, c.key FROM collection_artifact ca JOIN collection c ON c.id = ca.collection_id WHERE ca.artifact_id = ? AND c.deleted_at IS NULL',
  );
  const runsOfArtifact = registry.db.prepare(
    'SELECT r.*, t.name AS transform_name FROM run_input_artifact i JOIN run r ON r.id = i.run_id JOIN transform t ON t.id = r.transform_id WHERE i.artifact_id = ?',
  );
  const runsOfCollection = registry.db.prepare(
    'SELECT r.*, t.name AS transform_name FROM run_input_collection i JOIN run r ON r.id = i.run_id JOIN transform t ON t.id = r.transform_id WHERE i.collection_id = ?',
  );
  const liveArtifactOutputs = registry.db.prepare('SELECT id, key, kind, version FROM artifact WHERE run_id = ? AND deleted_at IS NULL');
  const liveCollectionOutputs = registry.db.prepare('SELECT id, key FROM collection WHERE run_id = ? AND deleted_at IS NULL');

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

function describeArtifactRow(row: ArtifactRow, scope: 'version' | 'family'): string {
  if (row.kind === 'store') return scope === 'version' ? `version ${row.version} of array store "${row.key}"` : `array store "${row.key}"`;
  return `artifact "${row.key}"`;
}
