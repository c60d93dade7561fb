import { resolve } from 'node:path';
import { inspectInWorker } from '../../engine/formats/inspect-in-worker';
import type { CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';

export const spec: CommandSpec = {
  name: 'inspect',
  summary: 'Show what a dataset holds (.h5ad, 10x .h5, 10x Matrix Market folder, .loom): shape, X encoding, obs/var columns, obsm, layers, uns, raw, and for 10x files the feature types.',
  usage: 'cellar inspect FILE.h5ad|FILE.h5|FOLDER|FILE.loom [--json]',
  flags: {},
  positionals: [1, 1],
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  // Untrusted files are read in a worker under a time limit (SPEC §7). The thread starts
  // first: the text formatter's modules (every format's reader) load while it boots.
  const [report, { formatDatasetInspect }] = await Promise.all([inspectInWorker(resolve(ctx.args.positionals[0]!)), import('../../engine/formats/inspect-dataset')]);
  return { json: report, text: formatDatasetInspect(report) };
}
