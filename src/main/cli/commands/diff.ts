import { diffVersions, formatDiff } from '../../engine/ops/versioning';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'diff',
  summary: 'Show what changed between two versions of a store: cells, genes, columns, categories, obsm, neighbour graphs (obsp), layers, files.',
  usage: 'cellar diff --store KEY A B [--json]',
  flags: { store: { type: 'string', description: 'the store' } },
  positionals: [2, 2],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar diff needs --store KEY.');
  const [a, b] = ctx.args.positionals as [string, string];
  return withRegistry(ctx, async (registry) => {
    const d = await diffVersions({ registry, storeKey, a, b });
    return { json: d, text: formatDiff(d) };
  });
}
