import type { CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';
import { reconcileHome } from '../../engine/ops/reconcile';

export const spec: CommandSpec = {
  name: 'lineage',
  summary: 'Show where an artifact, collection or store came from (runs and their inputs) and what was made from it.',
  usage: 'cellar lineage KEY [--json]',
  flags: {},
  positionals: [1, 1],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const ref = ctx.args.positionals[0]!;
  return withRegistry(ctx, async (registry, home) => {
    // After a crash, lineage shows the runs as they ended, not as 'running' forever.
    await reconcileHome(registry, home);
    const lineage = registry.lineage(ref);
    const label = new Map(lineage.nodes.map((n) => [n.id, `${n.kind === 'run' ? 'run ' : ''}${n.label}`]));
    const lines = [`Lineage of ${ref}: ${lineage.nodes.length} nodes, ${lineage.edges.length} edges`];
    for (const e of lineage.edges) lines.push(`  ${label.get(e.from) ?? e.from}  →  ${label.get(e.to) ?? e.to}`);
    return { json: lineage, text: lines.join('\n') };
  });
}
