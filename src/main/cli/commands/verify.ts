import { verifyStore } from '../../engine/store/verify';
import { resolveStore } from '../../engine/ops/store-registry';
import { CellarError } from '../../../shared/errors';
import { boolFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../registry';
import { verifyLinkedArtifacts } from '../../engine/ops/verify-links';

export const spec: CommandSpec = {
  name: 'verify',
  summary: 'Check every file of a store against its manifests (and linked h5ad files against their hashes); --fix removes leftovers of interrupted writes.',
  usage: 'cellar verify --store KEY [--fix] [--json]',
  flags: {
    store: { type: 'string', description: 'the store to check' },
    fix: { type: 'boolean', description: 'remove files no manifest names (leftovers of an interrupted write)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar verify needs --store KEY.');
  return withRegistry(ctx, async (registry) => {
    const { store, dir } = await resolveStore(registry, storeKey);
    const result = await verifyStore(dir, { fix: boolFlag(ctx.args, 'fix'), storeKey: store.key });
    const links = await verifyLinkedArtifacts(registry, store.stem);
    const problems = [...result.problems, ...links];
    const json = { store: { uid: store.uid, key: store.key }, ok: problems.length === 0, versions: result.versions, problems, garbage: result.garbage, removed: result.removed };
    if (problems.length) throw new CellarError('hash_mismatch', `The store ${store.key} failed verification (${problems.length} problem${problems.length > 1 ? 's' : ''}).`, problems);
    const lines = [`Store ${store.key}: ${result.versions.length} version(s) verified, every file matches its checksum.`];
    if (result.removed.length) lines.push(`Removed ${result.removed.length} leftover file(s): ${result.removed.join(', ')}`);
    else if (result.garbage.length) lines.push(`${result.garbage.length} leftover file(s) from an interrupted write: ${result.garbage.join(', ')} (run with --fix to remove them).`);
    return { json, text: lines.join('\n') };
  });
}
