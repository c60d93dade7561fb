import { extname } from 'node:path';
import { preferBaselineWasm } from '../../engine/formats/h5ad/h5';
import { importFiles } from '../../engine/ops/import';
import { boolFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'import',
  summary: 'Register datasets (.h5ad, 10x .h5, 10x Matrix Market folders, .loom) in the home (copied into managed storage unless --link) and add them, in order, to a collection.',
  usage: 'cellar import FILE.h5ad|FILE.h5|FOLDER|FILE.loom... --collection KEY [--description TEXT] [--link] [--json]',
  flags: {
    collection: { type: 'string', description: 'collection to add the files to (created if new)' },
    description: { type: 'string', description: 'description for the artifacts and a new collection' },
    link: { type: 'boolean', description: 'register the files in place instead of copying them' },
  },
  positionals: [1, Number.MAX_SAFE_INTEGER],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const collectionKey = stringFlag(ctx.args, 'collection');
  if (!collectionKey) throw new UsageError('cellar import needs --collection KEY.');
  // Importing .h5ad files reads only their summaries through HDF5 (10x files may be read through).
  if (ctx.args.positionals.every((file) => extname(file).toLowerCase() === '.h5ad')) preferBaselineWasm();
  return withRegistry(ctx, async (registry, home) => {
    const result = await importFiles({
      registry,
      home,
      files: ctx.args.positionals,
      collectionKey,
      description: stringFlag(ctx.args, 'description'),
      link: boolFlag(ctx.args, 'link'),
      onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
    });
    const lines = [`Collection ${result.collection.key} (${result.collection.uid})`];
    for (const a of result.artifacts) lines.push(`  ${a.existing ? 'already registered' : 'imported'}: ${a.key}  ${a.uid}  ${a.n_observations === null || a.n_observations === undefined ? '?' : formatCount(a.n_observations)} cells  hash ${a.hash}`);
    return { json: result, text: lines.join('\n') };
  });
}
