import { UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'collection',
  summary: 'Change a collection\'s membership. "remove KEY FILEKEY" takes a file out of the collection (the file itself stays registered; a member deleted with --force is removed the same way).',
  usage: 'cellar collection remove KEY FILEKEY [--json]',
  flags: {},
  positionals: [3, 3],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const [action, key, member] = ctx.args.positionals as [string, string, string];
  if (action !== 'remove') throw new UsageError(`Unknown action "${action}" for "cellar collection". Usage: ${spec.usage}`);
  return withRegistry(ctx, async (registry) => {
    const { collection, removed } = registry.removeCollectionMember(key, member);
    const left = collection.members.map((m) => m.key);
    return {
      json: { collection: { uid: collection.uid, key: collection.key, hash: collection.hash, members: left }, removed: { uid: removed.uid, key: removed.key } },
      text: `Removed ${removed.key} from the collection ${collection.key}; it now has ${left.length} member${left.length === 1 ? '' : 's'}${left.length ? `: ${left.join(', ')}` : ''}.`,
    };
  });
}
