import { describeGeneNames, setSymbolColumn } from '../../engine/ops/gene-names';
import { intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { formatCount } from '../../../shared/format-number';

export const spec: CommandSpec = {
  name: 'genes',
  summary: 'How a store names its genes (symbol column, id matching, join, presence table); find genes by id or symbol prefix; change the symbol column (a new version).',
  usage: 'cellar genes --store KEY [--version V] [--search PREFIX [--limit N]] [--symbol-column COL|none] [--json]',
  flags: {
    store: { type: 'string', description: 'the store' },
    version: { type: 'string', description: 'version number or uid (default: the latest)' },
    search: { type: 'string', description: 'genes whose id or symbol starts with this (case-insensitive)' },
    limit: { type: 'string', description: 'at most this many genes (default 20)' },
    'symbol-column': { type: 'string', description: 'make this var column the symbol column ("none": no symbols), as a new version' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar genes needs --store KEY.');
  const column = stringFlag(ctx.args, 'symbol-column');
  const search = stringFlag(ctx.args, 'search');
  const limit = intFlag(ctx.args, 'limit', 1);
  if (column !== undefined && (search !== undefined || stringFlag(ctx.args, 'version') !== undefined)) throw new UsageError('--symbol-column changes the latest version; it does not combine with --search or --version.');
  return withRegistry(ctx, async (registry) => {
    if (column !== undefined) {
      const r = await setSymbolColumn({ registry, storeKey, column: column === 'none' ? null : column });
      return { json: r, text: `Store ${r.store.key} is now version ${r.store.version}: gene symbols are ${r.symbol_column ? `in var column ${r.symbol_column}` : 'not set'} (run ${r.run.uid}).` };
    }
    const r = await describeGeneNames({ registry, storeKey, version: stringFlag(ctx.args, 'version'), search, limit });
    const lines = [
      `Store ${r.store.key} version ${r.store.version}: ${formatCount(r.n_vars)} genes`,
      `  symbols: ${r.symbol_column ? `var column ${r.symbol_column}` : 'none'} (text var columns: ${r.var_columns.join(', ') || 'none'})`,
      `  ids matched ${r.match === 'exact' ? 'exactly' : 'without their Ensembl version'}, ${r.join} join`,
      `  feature presence: ${r.presence ? 'recorded (genes a dataset never measured read "not measured")' : 'not recorded (written by an older Cellar)'}`,
    ];
    // A search prints only its genes (id, tab, symbol), for scripts.
    if (r.hits) return { json: r, text: r.hits.length ? r.hits.map((h) => `${h.id}\t${h.symbol ?? ''}`).join('\n') : `No gene id or symbol of ${r.store.key} starts with ${search}.` };
    return { json: r, text: lines.join('\n') };
  });
}
