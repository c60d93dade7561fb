import type { CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { join } from 'node:path';
import { storeDiskUsage } from '../../engine/ops/store-records';
import { reconcileHome } from '../../engine/ops/reconcile';
import { managedStorageDir } from '../../engine/ops/import';
import { uploadedBytes } from '../../serve/uploads';
import { formatBytes, formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'list',
  summary: 'List collections, h5ad artifacts and stores in the home, with their sizes.',
  usage: 'cellar list [--json]',
  flags: {},
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  return withRegistry(ctx, async (registry, home) => {
    // Stores whose writer died after committing are shown (and registered) like any other;
    // runs whose process died end, and a first write that never committed is removed.
    await reconcileHome(registry, home);
    const listing = registry.list();
    const uploadsDir = join(managedStorageDir(home), 'uploads');
    const stores = listing.stores.map((s) => ({ ...s, diskBytes: storeDiskUsage(s.storagePath) }));
    const json = {
      collections: listing.collections.map((c) => ({ uid: c.uid, key: c.key, description: c.description, n_artifacts: c.nArtifacts, size: c.size, hash: c.hash, created_at: c.createdAt })),
      artifacts: listing.artifacts.map((a) => ({ uid: a.uid, key: a.key, kind: a.kind, size: a.size, hash: a.hash, n_observations: a.nObservations, version: a.version, is_link: a.isLink, storage_path: a.storagePath, created_at: a.createdAt })),
      stores: stores.map((s) => ({ uid: s.uid, key: s.key, version: s.version, n_versions: s.nVersions, n_observations: s.nObservations, n_vars: s.nVars, size: s.size, disk_bytes: s.diskBytes, hash: s.hash, created_at: s.createdAt })),
      // Files uploaded in the browser and not imported (yet): they use disk until a server removes them.
      uploads: { path: uploadsDir, disk_bytes: uploadedBytes(uploadsDir) },
    };
    const lines: string[] = ['Collections:'];
    for (const c of json.collections) lines.push(`  ${c.key}  ${c.n_artifacts} file(s)  ${formatBytes(c.size)}`);
    if (!json.collections.length) lines.push('  (none)');
    lines.push('Artifacts:');
    for (const a of json.artifacts) lines.push(`  ${a.key}  ${a.uid}  ${a.n_observations === null || a.n_observations === undefined ? '?' : formatCount(a.n_observations)} cells  ${formatBytes(a.size)}${a.is_link ? '  (linked)' : ''}`);
    if (!json.artifacts.length) lines.push('  (none)');
    lines.push('Stores:');
    for (const s of json.stores) lines.push(`  ${s.key}  v${s.version} of ${s.n_versions}  ${formatCount(s.n_observations ?? 0)} cells × ${formatCount(s.n_vars ?? 0)} genes  latest ${formatBytes(s.size)}, on disk ${formatBytes(s.disk_bytes)}`);
    if (!json.stores.length) lines.push('  (none)');
    if (json.uploads.disk_bytes) lines.push(`Uploads not imported: ${formatBytes(json.uploads.disk_bytes)} in ${uploadsDir}`);
    return { json, text: lines.join('\n') };
  });
}
