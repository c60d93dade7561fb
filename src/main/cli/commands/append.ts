import { appendToStore } from '../../engine/ops/append';
import { boolFlag, choiceFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { dryRunOutput, GENE_MATCHES } from './concat';
import { crashHookFromEnv } from '../crash-hook';
import { formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'append',
  summary: 'Append datasets (.h5ad, 10x .h5, 10x Matrix Market folders, .loom) to a store as a new version, after a preflight that reports every problem at once. --dry-run prints the preflight only.',
  usage: 'cellar append --store KEY FILE.h5ad|FILE.h5|FOLDER|FILE.loom... [--fill-missing] [--add-columns] [--make-unique] [--match-genes exact|unversioned] [--dry-run] [--json]',
  flags: {
    store: { type: 'string', description: 'the store to append to' },
    'fill-missing': { type: 'boolean', description: 'fill obs columns (and obsm rows: NaN) the files lack instead of refusing' },
    'add-columns': { type: 'boolean', description: 'add obs columns the store lacks as new columns (NA for its cells) instead of dropping them' },
    'make-unique': { type: 'boolean', description: 'suffix duplicate obs ids instead of refusing them' },
    'match-genes': { type: 'string', description: "match var ids exactly or without their Ensembl version (default: as the store was made)" },
    'dry-run': { type: 'boolean', description: 'print the preflight and write nothing' },
  },
  positionals: [1, Number.MAX_SAFE_INTEGER],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar append needs --store KEY.');
  const matchGenes = choiceFlag(ctx.args, 'match-genes', GENE_MATCHES);
  return withRegistry(ctx, async (registry, home) => {
    const result = await appendToStore({
      registry,
      home,
      storeKey,
      files: ctx.args.positionals,
      fillMissing: boolFlag(ctx.args, 'fill-missing'),
      addColumns: boolFlag(ctx.args, 'add-columns'),
      makeUnique: boolFlag(ctx.args, 'make-unique'),
      matchGenes,
      dryRun: boolFlag(ctx.args, 'dry-run'),
      onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
      checkpoint: crashHookFromEnv(),
    });
    if (!('store' in result)) return dryRunOutput(result.plan, `The files cannot be appended to ${storeKey}`);
    const { store, run } = result;
    return {
      json: { store, run, plan: result.plan },
      text: `Appended ${formatCount(result.plan.n_new_obs)} cells (${formatCount(result.plan.n_new_vars)} new genes): store ${store.key} is now version ${store.version} with ${formatCount(store.n_observations)} cells × ${formatCount(store.n_vars)} genes (run ${run.uid}).`,
    };
  });
}
