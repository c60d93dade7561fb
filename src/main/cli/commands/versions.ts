import { toVersionJson } from '../../registry/artifacts';
import { resolveStore } from '../../engine/ops/reconcile';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { formatBytes, formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'versions',
  summary: 'List every version of a store, newest first: what made it, in words, with size, hash, cell count and the run.',
  usage: 'cellar versions --store KEY [--json]',
  flags: { store: { type: 'string', description: 'the store' } },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar versions needs --store KEY.');
  return withRegistry(ctx, async (registry) => {
    const { store } = await resolveStore(registry, storeKey);
    const versions = registry.versions(store.stem).map(toVersionJson);
    const lines = [`Store ${store.key}:`];
    for (const v of versions) {
      lines.push(`  v${v.version}${v.is_latest ? ' (latest)' : ''}  ${v.message ?? '(no run recorded)'}`);
      lines.push(`      ${v.uid}  ${v.created_at}  ${formatCount(v.n_observations ?? 0)} cells  ${formatCount(v.n_files)} files  ${formatBytes(v.size)}  ${v.hash}  ${v.run ? `${v.run.transform} ${v.run.uid}` : ''}`);
    }
    return { json: versions, text: lines.join('\n') };
  });
}
