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
    const label = new Map(lineage.nodes.map((n) => [n.id, `${n.kind === 'run' || n.kind === 'export' || n.kind === 'embedding' ? `${n.kind} ` : ''}${n.label}`]));
    const lines = [`Lineage of ${ref}: ${lineage.nodes.length} nodes, ${lineage.edges.length} edges`];
    // Store versions first, each with what made it, so the story reads before the wiring.
    const versions = lineage.nodes.filter((n) => n.storeKey !== undefined).sort((a, b) => a.storeKey!.localeCompare(b.storeKey!) || a.version! - b.version!);
    for (const n of versions) lines.push(`  ${n.label}: ${n.message ?? '(no run recorded)'}`);
    for (const e of lineage.edges) lines.push(`  ${label.get(e.from) ?? e.from}  →  ${label.get(e.to) ?? e.to}`);
    return { json: lineage, text: lines.join('\n') };
  });
}
