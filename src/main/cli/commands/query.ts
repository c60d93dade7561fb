import { exportQueryToH5ad, obsToArrow, obsToCsv, obsToJson, openQuery, queryObs } from '../../engine/ops/export';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../registry';

export const spec: CommandSpec = {
  name: 'query',
  summary: 'Select cells and genes of a store version by metadata and export them to .h5ad, or print the obs rows.',
  usage: 'cellar query --store KEY [--version V] [--obs FILTER] [--var FILTER] [--layer data] (--out FILE.h5ad | --format csv|json|arrow) [--json]',
  flags: {
    store: { type: 'string', description: 'the store to query' },
    version: { type: 'string', description: 'version number or uid (default: latest)' },
    obs: { type: 'string', description: 'obs filter, e.g. \'cell_type == "B cell" and n_genes > 500\'' },
    var: { type: 'string', description: 'var filter, e.g. \'var_id in ["CD3E", "MS4A1"]\'' },
    layer: { type: 'string', description: 'X layer to export (default data)' },
    measurement: { type: 'string', description: 'measurement (default: the store\'s main one)' },
    out: { type: 'string', description: 'write the slice to this .h5ad file' },
    format: { type: 'string', description: 'print the matching obs rows as csv, json or arrow' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar query needs --store KEY.');
  const out = stringFlag(ctx.args, 'out');
  const format = stringFlag(ctx.args, 'format');
  if (!out === !format) throw new UsageError('cellar query needs exactly one of --out FILE.h5ad or --format csv|json|arrow.');
  if (format && !['csv', 'json', 'arrow'].includes(format)) throw new UsageError(`Unknown --format ${format}; use csv, json or arrow.`);
  if (format && ctx.json) throw new UsageError('--format writes the rows to stdout and cannot be combined with --json.');
  const common = {
    storeKey,
    version: stringFlag(ctx.args, 'version'),
    obs: stringFlag(ctx.args, 'obs'),
    var: stringFlag(ctx.args, 'var'),
    layer: stringFlag(ctx.args, 'layer'),
    measurement: stringFlag(ctx.args, 'measurement'),
  };
  return withRegistry(ctx, async (registry) => {
    if (out) {
      const result = await exportQueryToH5ad({ registry, ...common, out, onProgress: (p) => ctx.progress(p.phase, p.done, p.total) });
      return { json: result, text: `Wrote ${result.n_obs} cells × ${result.n_vars} genes of ${result.store.key} version ${result.store.version} to ${result.path}.` };
    }
    const q = await openQuery({ registry, ...common });
    try {
      const obs = queryObs(q);
      if (format === 'arrow') {
        process.stdout.write(obsToArrow(obs));
        return { json: null, text: '' };
      }
      return { json: null, text: format === 'csv' ? obsToCsv(obs) : JSON.stringify(obsToJson(obs)) };
    } finally {
      q.reader.close();
    }
  });
}
