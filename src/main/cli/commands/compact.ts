import { compactStore } from '../../engine/ops/versioning';
import { crashHookFromEnv } from '../crash-hook';
import { boolFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'compact',
  summary: 'Rewrite the latest version of a store into fresh files and drop every older version. Needs --yes.',
  usage: 'cellar compact --store KEY --yes [--json]',
  flags: { store: { type: 'string', description: 'the store' }, yes: { type: 'boolean', description: 'confirm: older versions become unreadable' } },
  positionals: [0, 0],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar compact needs --store KEY.');
  if (!boolFlag(ctx.args, 'yes')) throw new UsageError('cellar compact drops every older version of the store; run it again with --yes to confirm.');
  return withRegistry(ctx, async (registry) => {
    const r = await compactStore({ registry, storeKey, onProgress: (p) => ctx.progress(p.phase, p.done, p.total), checkpoint: crashHookFromEnv() });
    const removed = r.deferred ? `old files kept for now: ${r.deferred}` : `${r.removed_files} file(s) removed`;
    return { json: r, text: `Compacted ${r.store.key}: version ${r.store.version} rewritten, ${r.dropped_versions} older version(s) dropped, ${removed}.` };
  });
}
