import type { CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'rename',
  summary: 'Give an artifact, collection or store a new key.',
  usage: 'cellar rename KEY NEWKEY [--json]',
  flags: {},
  positionals: [2, 2],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const [from, to] = ctx.args.positionals as [string, string];
  return withRegistry(ctx, async (registry) => {
    const renamed = registry.rename(from, to);
    return { json: renamed, text: `Renamed ${renamed.kind} ${from} to ${renamed.key}.` };
  });
}
