import { resolve } from 'node:path';
import { inspectInWorker } from '../../engine/formats/inspect-in-worker';
import { inspectsHere } from '../../engine/formats/inspect-here';
import { readTimeoutFromEnv } from '../../engine/threads/worker-call';
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
  const path = resolve(ctx.args.positionals[0]!);
  // Untrusted files are read under a time limit (SPEC §7): an .h5ad in this thread under V8's
  // watchdog (the command ends after it), other formats in a task thread, which starts first
  // so the text formatter's modules (every format's reader) load while it boots.
  const timeoutMs = readTimeoutFromEnv();
  if (inspectsHere(path)) {
    const { inspectHere } = await import('../../engine/formats/inspect-here');
    const report = await inspectHere(path, timeoutMs);
    const { formatDatasetInspect } = await import('../../engine/formats/inspect-dataset');
    return { json: report, text: formatDatasetInspect(report) };
  }
  const [report, { formatDatasetInspect }] = await Promise.all([inspectInWorker(path, { timeoutMs }), import('../../engine/formats/inspect-dataset')]);
  return { json: report, text: formatDatasetInspect(report) };
}
