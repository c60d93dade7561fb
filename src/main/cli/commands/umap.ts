import { umapStore } from '../../engine/ops/umap';
import { intFlag, numberFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';

export const spec: CommandSpec = {
  name: 'umap',
  summary: 'Lay the cells out in 2-D with UMAP from their neighbour graph (made first if missing) and store obsm X_umap as a new version.',
  usage: 'cellar umap --store KEY [--neighbors neighbors] [--min-dist 0.5] [--seed 0] [--epochs N] [--name X_umap] [--json]',
  flags: {
    store: { type: 'string', description: 'the store' },
    neighbors: { type: 'string', description: 'the neighbour graph (default neighbors; made with the defaults of cellar neighbors when missing)' },
    'min-dist': { type: 'string', description: 'how tightly points pack, 0 to 1 (default 0.5)' },
    seed: { type: 'string', description: 'random seed (default 0)' },
    epochs: { type: 'string', description: 'optimisation epochs (default 200–500 by size)' },
    name: { type: 'string', description: 'obsm name (default X_umap)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar umap needs --store KEY.');
  const minDist = numberFlag(ctx.args, 'min-dist');
  const seed = intFlag(ctx.args, 'seed');
  const epochs = intFlag(ctx.args, 'epochs', 1);
  return withRegistry(ctx, async (registry) => {
    const r = await umapStore({ registry, storeKey, neighbors: stringFlag(ctx.args, 'neighbors'), minDist, seed, epochs, name: stringFlag(ctx.args, 'name'), onProgress: (p) => ctx.progress(p.phase, p.done, p.total), checkpoint: crashHookFromEnv() });
    const made = r.umap.graph_computed ? ` (neighbour graph "${r.umap.graph}" made first and stored too)` : '';
    return { json: r, text: `Added obsm "${r.umap.name}" (${r.umap.shape.join(' × ')}) to ${r.store.key}: version ${r.store.version}${made}.` };
  });
}
