import { DEFAULT_MAX_NNZ_PER_FILE, exportQueryToParquet } from '../../engine/ops/export-parquet';
import { intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'export',
  summary: [
    'Write a store version, or the cells and genes a query selects, as a folder of Parquet tables',
    'for DuckDB, Spark, Dask, Polars or pyarrow: obs.parquet, ms/<measurement>/var.parquet (RNA, and raw',
    'when the store has it), every X layer as ms/<measurement>/X/<layer>/part-NNNNN.parquet in coordinate',
    'form (soma_dim_0 = obs soma_joinid, soma_dim_1 = var soma_joinid, soma_data), obsm tables, and a',
    'README.md saying how the ids join. DIR must not exist or be empty; nothing is left if the export fails.',
    '',
    'Filters are those of `cellar query` (tiledbsoma value_filter grammar).',
  ].join('\n'),
  usage: 'cellar export --store KEY [--version V] [--obs FILTER] [--var FILTER] --format parquet [--part-nnz N] DIR [--json]',
  flags: {
    store: { type: 'string', description: 'the store to export' },
    version: { type: 'string', description: 'version number or uid (default: latest)' },
    obs: { type: 'string', description: 'obs filter, e.g. \'cell_type == "B cell"\'' },
    var: { type: 'string', description: 'var filter, e.g. \'var_id in ["CD3E", "MS4A1"]\'' },
    measurement: { type: 'string', description: 'measurement the var filter applies to (default: the store\'s main one)' },
    format: { type: 'string', description: 'parquet (the only format for now; `cellar query --out` writes .h5ad)' },
    'part-nnz': { type: 'string', description: `most non-zeros in one X file (default ${DEFAULT_MAX_NNZ_PER_FILE.toLocaleString('en')})` },
  },
  positionals: [1, 1],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar export needs --store KEY.');
  const format = stringFlag(ctx.args, 'format');
  if (format === undefined) throw new UsageError('cellar export needs --format parquet.');
  if (format !== 'parquet') throw new UsageError(`Unknown --format ${format}; cellar export writes parquet (use cellar query --out FILE.h5ad for h5ad).`);
  const maxNnzPerFile = intFlag(ctx.args, 'part-nnz', 1);
  const out = ctx.args.positionals[0]!;
  // Ctrl-C cancels: the partial folder is removed before the command exits.
  const stop = new AbortController();
  const cancel = () => stop.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  try {
    return await withRegistry(ctx, async (registry) => {
      const result = await exportQueryToParquet({
        registry,
        storeKey,
        version: stringFlag(ctx.args, 'version'),
        obs: stringFlag(ctx.args, 'obs'),
        var: stringFlag(ctx.args, 'var'),
        measurement: stringFlag(ctx.args, 'measurement'),
        out,
        maxNnzPerFile,
        signal: stop.signal,
        onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
      });
      const files = result.matrices.reduce((n, x) => n + x.parts.length, 0) + result.tables.length;
      return {
        json: result,
        text: `Wrote ${result.n_obs} cells × ${result.n_vars} genes of ${result.store.key} version ${result.store.version} to ${result.path} (${files} Parquet files; see README.md there).`,
      };
    });
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}
