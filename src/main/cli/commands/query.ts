import { EXPORT_COMPRESSIONS, exportQueryToH5ad, type ExportCompression, obsToArrow, obsToCsv, obsToJson, openQuery, queryObs } from '../../engine/ops/export';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'query',
  summary: [
    'Select cells and genes of a store version by metadata and export them to .h5ad, or print the obs rows.',
    'The .h5ad holds obs and var (indexes from obs_id / var_id), X from --layer, the other layers (or --layers a,b),',
    'raw (raw.X rows of the selected cells, raw.var, raw.varm), obsm, and varm rows of the selected genes.',
    '',
    'Filters use the tiledbsoma value_filter grammar: == != < <= > >=, in / not in [..], and, or, not, parentheses.',
    'Missing values (NA, NaN) fail every comparison, != included, as in SQL: `donor != "d1"` does not match',
    'cells whose donor is NA. Test for them with isna(col) and notna(col), e.g. `donor != "d1" or isna(donor)`.',
  ].join('\n'),
  usage: 'cellar query --store KEY [--version V] [--obs FILTER] [--var FILTER] [--layer data] [--layers a,b] (--out FILE.h5ad [--compression gzip|lzf|none] | --format csv|json|arrow) [--json]',
  flags: {
    store: { type: 'string', description: 'the store to query' },
    version: { type: 'string', description: 'version number or uid (default: latest)' },
    obs: { type: 'string', description: 'obs filter, e.g. \'cell_type == "B cell" and n_genes > 500\'' },
    var: { type: 'string', description: 'var filter, e.g. \'var_id in ["CD3E", "MS4A1"]\'; gene == "TP53" or gene in [...] names genes by id, else symbol' },
    layer: { type: 'string', description: 'layer exported as X (default data)' },
    layers: { type: 'string', description: 'other layers to export, comma-separated (default: all)' },
    compression: { type: 'string', description: 'compression of the .h5ad: gzip (default), lzf or none' },
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
  const compression = stringFlag(ctx.args, 'compression');
  if (compression !== undefined && !(EXPORT_COMPRESSIONS as readonly string[]).includes(compression)) throw new UsageError(`Unknown --compression ${compression}; use gzip, lzf or none.`);
  const layersFlag = stringFlag(ctx.args, 'layers');
  if (!out && (compression !== undefined || layersFlag !== undefined)) throw new UsageError('--compression and --layers apply to --out FILE.h5ad only.');
  const layers = layersFlag === undefined ? undefined : layersFlag.split(',').map((l) => l.trim()).filter((l) => l !== '');
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
      const result = await exportQueryToH5ad({ registry, ...common, out, layers, compression: compression as ExportCompression | undefined, onProgress: (p) => ctx.progress(p.phase, p.done, p.total) });
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
