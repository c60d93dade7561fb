// Files registered with --link live outside the home: report the ones that moved or changed.
import { existsSync } from 'node:fs';
import { hashDataset } from './dataset-files';
import type { Registry } from '../../registry/registry';

/** Problems with the linked h5ad files a store was made from (lineage inputs). */
export async function verifyLinkedArtifacts(registry: Registry, storeRef: string): Promise<string[]> {
  const problems: string[] = [];
  const lineage = registry.lineage(storeRef);
  for (const node of lineage.nodes) {
    if (node.kind !== 'artifact') continue;
    const artifact = registry.findArtifact(node.id);
    if (!artifact || !artifact.isLink || artifact.deletedAt) continue;
    if (!existsSync(artifact.storagePath)) {
      problems.push(`The linked file ${artifact.key} was moved or deleted (expected at ${artifact.storagePath}).`);
      continue;
    }
    const h = await hashDataset(artifact.storagePath);
    if (h.hash !== artifact.hash || h.size !== artifact.size) problems.push(`The linked file ${artifact.key} at ${artifact.storagePath} changed since it was imported (hash ${h.hash}, registered ${artifact.hash}).`);
  }
  return problems;
}
