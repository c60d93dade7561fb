import { deleteItem } from '../../engine/ops/delete-item';
import { reconcileHome } from '../../engine/ops/reconcile';
import { boolFlag, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'delete',
  summary: 'Delete an artifact, collection or store (refused when something was made from it, unless --force). Lineage keeps a tombstone.',
  usage: 'cellar delete KEY [--force] [--json]',
  flags: { force: { type: 'boolean', description: 'delete even though other items were made from it' } },
  positionals: [1, 1],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const ref = ctx.args.positionals[0]!;
  return withRegistry(ctx, async (registry, home) => {
    // A run killed mid-write is not a user of its inputs: end it first so it does not block the delete.
    await reconcileHome(registry, home);
    const result = await deleteItem(registry, home, ref, boolFlag(ctx.args, 'force'));
    const lines = result.deleted.map((d) => `Deleted ${d.kind} ${d.key}${d.kind === 'artifact' ? ` v${d.version}` : ''} (${d.uid}).`);
    if (result.removedFiles.length) lines.push(`Freed ${result.removedFiles.length} managed file(s)/folder(s) in the home.`);
    return { json: result, text: lines.join('\n') };
  });
}
