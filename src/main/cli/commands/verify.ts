import { verifyStore } from '../../engine/store/format/verify';
import { HASH_CACHE_DIR, registryVersionsOf } from '../../engine/ops/store-records';
import { resolveStore } from '../../engine/ops/reconcile';
import { CellarError } from '../../../shared/errors';
import { boolFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { verifyLinkedArtifacts } from '../../engine/ops/verify-links';

export const spec: CommandSpec = {
  name: 'verify',
  summary: 'Check every file of a store against its manifests, each manifest against its files, and the manifests against the registry (and linked h5ad files against their hashes); --fix removes leftovers nothing can still need.',
  usage: 'cellar verify --store KEY [--fix] [--json]',
  flags: {
    store: { type: 'string', description: 'the store to check' },
    fix: { type: 'boolean', description: 'remove leftovers of interrupted writes and compactions (never files a version or a reader may still need)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar verify needs --store KEY.');
  return withRegistry(ctx, async (registry) => {
    const { store, dir } = await resolveStore(registry, storeKey);
    // resolveStore has already registered every committed version the registry had not seen.
    const fix = boolFlag(ctx.args, 'fix');
    const result = await verifyStore(dir, { fix, storeKey: store.key, registry: registryVersionsOf(registry, store.stem), versionCacheDir: HASH_CACHE_DIR });
    const links = await verifyLinkedArtifacts(registry, store.stem);
    const problems = [...result.problems, ...links];
    const json = { store: { uid: store.uid, key: store.key }, ok: problems.length === 0, versions: result.versions, problems, garbage: result.garbage, removed: result.removed, kept: result.kept };
    if (problems.length) {
      // Whatever fix removed is said too: the details list it before the problems it could not repair.
      const removed = result.removed.length ? [`Removed ${result.removed.length} leftover file(s): ${result.removed.join(', ')}`] : [];
      const cannot = fix ? ['verify --fix cannot repair these problems: the files or manifests they name must come back from a copy of the store.'] : [];
      throw new CellarError('hash_mismatch', `The store ${store.key} failed verification (${problems.length} problem${problems.length > 1 ? 's' : ''}).`, [...problems, ...removed, ...result.kept, ...cannot]);
    }
    const lines = [`Store ${store.key}: ${result.versions.length} version(s) verified, every file matches its checksum and its manifest.`];
    if (result.removed.length) lines.push(`Removed ${result.removed.length} leftover file(s): ${result.removed.join(', ')}`);
    if (result.kept.length) lines.push(...result.kept);
    else if (!result.removed.length && result.garbage.length) lines.push(`${result.garbage.length} leftover file(s) from an interrupted write or a compaction: ${result.garbage.join(', ')} (run with --fix to remove them).`);
    return { json, text: lines.join('\n') };
  });
}
