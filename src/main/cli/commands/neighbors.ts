import { neighborsStore } from '../../engine/ops/neighbors';
import type { KnnMetric } from '../../engine/graph/knn';
import { intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';

export const spec: CommandSpec = {
  name: 'neighbors',
  summary: 'Find the k nearest neighbours of every cell on an embedding and store the graph as a new version.',
  usage: 'cellar neighbors --store KEY [--embedding pca] [--k 15] [--metric euclidean|cosine] [--name neighbors] [--seed S] [--json]',
  flags: {
    store: { type: 'string', description: 'the store' },
    embedding: { type: 'string', description: 'obsm embedding to measure distances in (default pca, else X_pca)' },
    k: { type: 'string', description: 'neighbours per cell, the cell itself included (default 15)' },
    metric: { type: 'string', description: 'euclidean (default) or cosine' },
    name: { type: 'string', description: 'name of the graph (default neighbors)' },
    seed: { type: 'string', description: 'random seed (default 0)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar neighbors needs --store KEY.');
  const metric = stringFlag(ctx.args, 'metric');
  if (metric !== undefined && metric !== 'euclidean' && metric !== 'cosine') throw new UsageError(`Option --metric must be euclidean or cosine (got "${metric}").`);
  const k = intFlag(ctx.args, 'k');
  const seed = intFlag(ctx.args, 'seed');
  return withRegistry(ctx, async (registry) => {
    const r = await neighborsStore({
      registry,
      storeKey,
      embedding: stringFlag(ctx.args, 'embedding'),
      k,
      metric: metric as KnnMetric | undefined,
      name: stringFlag(ctx.args, 'name'),
      seed,
      onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
      checkpoint: crashHookFromEnv(),
    });
    return { json: r, text: `Added the ${r.graph.k}-neighbour graph "${r.graph.name}" (${r.graph.metric}, on ${r.graph.embedding}) to ${r.store.key}: version ${r.store.version}.` };
  });
}
