import { resolve } from 'node:path';
import { inspectInWorker } from '../../engine/formats/inspect-in-worker';
import { formatInspect } from '../../engine/formats/h5ad/inspect';
import type { CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';

export const spec: CommandSpec = {
  name: 'inspect',
  summary: 'Show what an .h5ad file holds: shape, X encoding, obs/var columns, obsm, layers, uns and raw.',
  usage: 'cellar inspect FILE.h5ad [--json]',
  flags: {},
  positionals: [1, 1],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  // Untrusted files are read in a worker under a time limit (SPEC §7).
  const report = await inspectInWorker(resolve(ctx.args.positionals[0]!));
  return { json: report, text: formatInspect(report) };
}
