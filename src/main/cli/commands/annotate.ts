import { annotateStore } from '../../engine/ops/annotate';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';

export const spec: CommandSpec = {
  name: 'annotate',
  summary: 'Add or replace obs columns from a CSV/TSV with an obs_id column, as a new version. Cells missing from the table get NA.',
  usage: 'cellar annotate --store KEY --from FILE.csv [--json]',
  flags: { store: { type: 'string', description: 'the store' }, from: { type: 'string', description: 'CSV or TSV keyed by obs_id' } },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  const from = stringFlag(ctx.args, 'from');
  if (!storeKey || !from) throw new UsageError('cellar annotate needs --store KEY and --from FILE.csv.');
  return withRegistry(ctx, async (registry) => {
    const r = await annotateStore({ registry, storeKey, from, checkpoint: crashHookFromEnv() });
    return {
      json: r,
      text: `Annotated ${r.n_matched} cells of ${r.store.key} (${r.n_missing} without a row get NA): ${r.columns.map((c) => `${c.name} (${c.dtype}${c.replaced ? ', replaced' : ''})`).join(', ')}. Version ${r.store.version}.`,
    };
  });
}
