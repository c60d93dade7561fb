import { concatenateCollection } from '../../engine/ops/concatenate';
import type { PlanEntry } from '../../engine/ops/plan';
import { CellarError } from '../../../shared/errors';
import { boolFlag, choiceFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';
import { formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'concat',
  summary: 'Concatenate a collection of h5ad files into a new versioned array store. --dry-run shows the plan and writes nothing.',
  usage: 'cellar concat --collection KEY --store KEY [--measurement RNA] [--make-unique] [--join outer|inner] [--match-genes exact|unversioned] [--symbol-column COL] [--dry-run] [--json]',
  flags: {
    collection: { type: 'string', description: 'the collection to concatenate (in its order)' },
    store: { type: 'string', description: 'key of the new store' },
    measurement: { type: 'string', description: 'measurement name for X (default RNA)' },
    'make-unique': { type: 'boolean', description: 'suffix duplicate obs ids instead of refusing them' },
    join: { type: 'string', description: 'genes of every dataset (outer, the default) or only those every dataset measured (inner)' },
    'match-genes': { type: 'string', description: 'match var ids exactly (default) or as Ensembl ids without their version (unversioned)' },
    'symbol-column': { type: 'string', description: 'the var column holding gene symbols (default: found by name)' },
    'dry-run': { type: 'boolean', description: 'print the plan only' },
  },
  positionals: [0, 0],
};

export const JOINS = ['outer', 'inner'] as const;
export const GENE_MATCHES = ['exact', 'unversioned'] as const;

/** A dry run whose plan has blocking problems prints the plan and fails (exit 1). */
export function dryRunOutput(plan: Parameters<typeof formatPlan>[0], what: string): CommandOutput {
  const blocking = plan.problems.filter((p) => !p.startsWith('Use --'));
  if (!blocking.length) return { json: { plan }, text: formatPlan(plan) };
  const n = blocking.length;
  const failure = new CellarError('preflight_failed', `${what} (${n} problem${n === 1 ? '' : 's'}); this was a dry run, nothing was written.`, plan.problems);
  return { json: { plan }, text: formatPlan(plan), failure };
}

export function formatPlan(plan: { kept: PlanEntry[]; dropped: PlanEntry[]; converted: PlanEntry[]; added: PlanEntry[]; problems: string[] }): string {
  const section = (title: string, entries: PlanEntry[]) =>
    entries.length ? [`${title}:`, ...entries.map((e) => `  ${e.element}/${e.name}${e.detail ? ` — ${e.detail}` : ''}`)] : [`${title}: nothing`];
  return [
    ...section('Kept', plan.kept),
    ...section('Dropped', plan.dropped),
    ...section('Converted', plan.converted),
    ...section('Added', plan.added),
    ...(plan.problems.length ? ['Problems:', ...plan.problems.map((p) => `  ${p}`)] : []),
  ].join('\n');
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const collectionKey = stringFlag(ctx.args, 'collection');
  const storeKey = stringFlag(ctx.args, 'store');
  if (!collectionKey || !storeKey) throw new UsageError('cellar concat needs --collection KEY and --store KEY.');
  const join = choiceFlag(ctx.args, 'join', JOINS);
  const matchGenes = choiceFlag(ctx.args, 'match-genes', GENE_MATCHES);
  return withRegistry(ctx, async (registry, home) => {
    const result = await concatenateCollection({
      registry,
      home,
      collectionKey,
      storeKey,
      measurement: stringFlag(ctx.args, 'measurement'),
      makeUnique: boolFlag(ctx.args, 'make-unique'),
      join,
      matchGenes,
      symbolColumn: stringFlag(ctx.args, 'symbol-column'),
      dryRun: boolFlag(ctx.args, 'dry-run'),
      onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
      checkpoint: crashHookFromEnv(),
    });
    if (!('store' in result)) return dryRunOutput(result.plan, `The collection ${collectionKey} cannot be concatenated as it is`);
    const { store, run } = result;
    return {
      json: { store, run, plan: result.plan },
      text: `Created store ${store.key} version ${store.version} (${store.uid}): ${formatCount(store.n_observations)} cells × ${formatCount(store.n_vars)} genes, run ${run.uid}.`,
    };
  });
}
