import { INSPECT_FILE_MODULE, sourceFile } from '../../engine/paths';
import { resolve } from 'node:path';
import { callInWorker } from '../../engine/jobs/worker-host';
import { formatInspect, type InspectReport } from '../../engine/h5ad/inspect';
import type { CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';

export const spec: CommandSpec = {
  name: 'inspect',
  summary: 'Show what an .h5ad file holds: shape, X encoding, obs/var columns, obsm, layers, uns and raw.',
  usage: 'cellar inspect FILE.h5ad [--json]',
  flags: {},
  positionals: [1, 1],
};

const READ_TIMEOUT_MS = Number(process.env.CELLAR_READ_TIMEOUT_MS ?? 120_000);

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const file = resolve(ctx.args.positionals[0]!);
  // Untrusted files are read in a worker under a time limit (SPEC §7).
  const report = await callInWorker<InspectReport>(
    sourceFile(INSPECT_FILE_MODULE),
    'inspectFile',
    [file],
    { timeoutMs: READ_TIMEOUT_MS, what: `reading ${file}` },
  );
  return { json: report, text: formatInspect(report) };
}
