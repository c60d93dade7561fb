import { restoreVersion } from '../../engine/ops/versioning';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'restore',
  summary: 'Make an old version of a store the latest again (a new version naming the old files; nothing is copied).',
  usage: 'cellar restore --store KEY VERSION [--json]',
  flags: { store: { type: 'string', description: 'the store' } },
  positionals: [1, 1],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar restore needs --store KEY.');
  return withRegistry(ctx, async (registry) => {
    const r = await restoreVersion({ registry, storeKey, version: ctx.args.positionals[0]! });
    return { json: r, text: `Restored: ${r.store.key} version ${r.store.version} now holds what version ${ctx.args.positionals[0]} held (${formatCount(r.store.n_observations)} cells).` };
  });
}
