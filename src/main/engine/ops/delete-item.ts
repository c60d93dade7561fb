// Rename and delete: the registry decides what may go (nothing another item was made
// from, unless forced) and keeps a tombstone for lineage; here the managed files of
// deleted items are removed from the home.
import { rm } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import type { Registry } from '../../registry/registry';
import type { DeleteResult } from '../../../shared/registry-types';

function insideHome(home: string, path: string): boolean {
  const rel = relative(home, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export async function deleteItem(registry: Registry, home: string, ref: string, force: boolean): Promise<DeleteResult & { removedFiles: string[] }> {
  const result = registry.delete(ref, { force });
  const removedFiles: string[] = [];
  for (const item of result.deleted) {
    if (item.kind !== 'artifact' || item.isLink || !insideHome(home, item.storagePath)) continue;
    // A store folder holds every version: remove it only when no live version is left.
    const stillUsed = registry.listArtifacts({ allVersions: true }).some((a) => a.storagePath === item.storagePath);
    if (stillUsed) continue;
    await rm(item.storagePath, { recursive: true, force: true });
    removedFiles.push(item.storagePath);
  }
  return { ...result, removedFiles };
}
