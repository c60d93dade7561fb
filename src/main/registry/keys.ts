// Keys: the names users give collections and artifact families. One key names one live thing
// across both tables, so `rename KEY` and `delete KEY` are never ambiguous.
import { CellarError } from '../../shared/errors';
import type { ArtifactRow, CollectionRow, RegistryDb } from './database';

export function checkKey(key: string): string {
  const trimmed = key.trim();
  if (!trimmed) throw new CellarError('usage', 'A key cannot be empty.');
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new CellarError('usage', `The key "${trimmed}" contains control characters.`);
  return trimmed;
}

/** The latest live version of the artifact family the key names. */
export function liveFamilyByKey(registry: RegistryDb, key: string): ArtifactRow | undefined {
  return registry.db.prepare('SELECT * FROM artifact WHERE key = ? AND is_latest = 1 AND deleted_at IS NULL').get(key) as ArtifactRow | undefined;
}

export function liveCollectionByKey(registry: RegistryDb, key: string): CollectionRow | undefined {
  return registry.db.prepare('SELECT * FROM collection WHERE key = ? AND deleted_at IS NULL').get(key) as CollectionRow | undefined;
}

export function assertKeyFree(registry: RegistryDb, key: string): void {
  const collection = liveCollectionByKey(registry, key);
  if (collection) throw new CellarError('already_exists', `A collection named "${key}" already exists (uid ${collection.uid}); choose another key.`);
  const family = liveFamilyByKey(registry, key);
  if (family) {
    throw new CellarError('already_exists', `An ${family.kind === 'store' ? 'array store' : 'artifact'} named "${key}" already exists (uid ${family.uid}); choose another key.`);
  }
}
