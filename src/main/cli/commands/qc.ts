import { qcStore } from '../../engine/ops/qc';
import { stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { crashHookFromEnv } from '../crash-hook';

export const spec: CommandSpec = {
  name: 'qc',
  summary: "Add per-cell quality metrics (scanpy's total_counts, n_genes_by_counts, pct_counts_mt, pct_counts_ribo) as obs columns of a new version.",
  usage: 'cellar qc --store KEY [--layer data] [--json]',
  flags: {
    store: { type: 'string', description: 'the store' },
    layer: { type: 'string', description: 'X layer holding counts (default data)' },
  },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar qc needs --store KEY.');
  return withRegistry(ctx, async (registry) => {
    const r = await qcStore({ registry, storeKey, layer: stringFlag(ctx.args, 'layer'), onProgress: (p) => ctx.progress(p.phase, p.done, p.total), checkpoint: crashHookFromEnv() });
    const m = r.qc.median;
    const lines = [
      `Added ${r.qc.columns.join(', ')} to ${r.store.key}: version ${r.store.version}.`,
      `Genes found by symbol (var ${r.qc.symbols}): ${r.qc.genes.mt} mitochondrial (MT-/mt-), ${r.qc.genes.ribo} ribosomal (RPS/RPL).`,
      `Medians per cell: ${m.total_counts} counts, ${m.n_genes_by_counts} genes, ${m.pct_counts_mt.toFixed(2)} % mitochondrial, ${m.pct_counts_ribo.toFixed(2)} % ribosomal.`,
    ];
    if (r.qc.not_counts) lines.push(`Note: layer ${r.qc.layer} does not look like counts (${r.qc.not_counts}); the metrics sum its values as they are.`);
    return { json: r, text: lines.join('\n') };
  });
}
