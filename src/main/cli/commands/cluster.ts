import { clusterStore } from '../../engine/ops/cluster';
import { intFlag, numberFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';

export const spec: CommandSpec = {
  name: 'cluster',
  summary: 'Cluster the cells with Leiden on their neighbour graph (made first if missing) and store the clusters as a categorical obs column of a new version.',
  usage: 'cellar cluster --store KEY [--resolution 1] [--name leiden] [--neighbors neighbors] [--seed 0] [--json]',
  flags: {
    store: { type: 'string', description: 'the store' },
    resolution: { type: 'string', description: 'higher gives more, smaller clusters (default 1)' },
    name: { type: 'string', description: 'obs column (default leiden)' },
    neighbors: { type: 'string', description: 'the neighbour graph (default neighbors; made with the defaults of cellar neighbors when missing)' },
    seed: { type: 'string', description: 'random seed (default 0)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar cluster needs --store KEY.');
  const resolution = numberFlag(ctx.args, 'resolution');
  const seed = intFlag(ctx.args, 'seed');
  return withRegistry(ctx, async (registry) => {
    const r = await clusterStore({ registry, storeKey, resolution, seed, name: stringFlag(ctx.args, 'name'), neighbors: stringFlag(ctx.args, 'neighbors'), onProgress: (p) => ctx.progress(p.phase, p.done, p.total), checkpoint: crashHookFromEnv() });
    const c = r.clusters;
    const made = c.graph_computed ? ` The neighbour graph "${c.graph}" was made first and stored too.` : '';
    return { json: r, text: `Added obs column "${c.name}" with ${c.n_clusters} Leiden clusters (resolution ${c.resolution}, modularity ${c.modularity.toFixed(3)}) to ${r.store.key}: version ${r.store.version}.${made}\nCells per cluster: ${c.sizes.join(', ')}.` };
  });
}
