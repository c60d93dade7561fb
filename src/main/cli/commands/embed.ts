import { embedStore } from '../../engine/ops/embed';
import { boolFlag, intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';

export const spec: CommandSpec = {
  name: 'embed',
  summary: 'Add an embedding to a store as a new version: PCA computed from a layer of X, or an n × k array from a .npy or CSV file.',
  usage: 'cellar embed --store KEY (--pca N [--layer data] [--normalize] [--genes N] [--seed S] | --from FILE.npy|FILE.csv) [--name pca] [--json]',
  flags: {
    store: { type: 'string', description: 'the store' },
    pca: { type: 'string', description: 'number of principal components to compute' },
    layer: { type: 'string', description: 'X layer to compute PCA from (default data)' },
    normalize: { type: 'boolean', description: 'scale each cell to 10,000 counts, then log1p (on the fly)' },
    genes: { type: 'string', description: 'use only the N most variable genes' },
    seed: { type: 'string', description: 'random seed (default 0)' },
    from: { type: 'string', description: 'read the embedding from a .npy or CSV file (n_obs rows)' },
    name: { type: 'string', description: 'obsm name (default pca, or the file name)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar embed needs --store KEY.');
  const n = intFlag(ctx.args, 'pca', 1);
  const from = stringFlag(ctx.args, 'from');
  if ((n === undefined) === (from === undefined)) throw new UsageError('cellar embed needs exactly one of --pca N or --from FILE.');
  return withRegistry(ctx, async (registry) => {
    const r = await embedStore({
      registry,
      storeKey,
      name: stringFlag(ctx.args, 'name'),
      from,
      pca: n === undefined ? undefined : { nComponents: n, layer: stringFlag(ctx.args, 'layer'), normalize: boolFlag(ctx.args, 'normalize'), genes: intFlag(ctx.args, 'genes', 2), seed: intFlag(ctx.args, 'seed', 0) },
      onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
      checkpoint: crashHookFromEnv(),
    });
    const evr = r.embedding.explained_variance_ratio;
    return {
      json: r,
      text: `Added obsm "${r.embedding.name}" (${r.embedding.shape.join(' × ')}) to ${r.store.key}: version ${r.store.version}.${evr ? ` Explained variance ratio: ${evr.slice(0, 5).map((v) => v.toFixed(4)).join(', ')}${evr.length > 5 ? ', …' : ''}.` : ''}`,
    };
  });
}
