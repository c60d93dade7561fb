import { resolve } from 'node:path';
import type { DeMethod, DeResult } from '../../../shared/de-types';
import { DE_METHODS, differentialExpression } from '../../engine/ops/differential-expression';
import { deRowsToCsv, writeFileAtomically } from '../../engine/ops/de-table';
import { intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';
import { withRegistry } from '../with-registry';

export const spec: CommandSpec = {
  name: 'de',
  summary: [
    'Differential expression between two groups of cells of a store version, ranked best first (highest score).',
    'A group is an obs filter (the query --obs grammar) or a value of an obs column; the reference is another',
    'filter or value, or every other cell. Counts are log-normalised per cell on the fly (10,000 per cell, log1p);',
    'a layer that is not counts is tested as it is (the result says so). Wilcoxon: rank-sum z with tie correction',
    '(two-sided, normal approximation); t-test: Welch. logfc = log2 of the ratio of the groups\' mean normalised',
    'expression (+1e-9); pct_in / pct_out = fraction of cells with a value > 0; padj = Benjamini-Hochberg.',
  ].join('\n'),
  usage:
    'cellar de --store KEY [--version N] (--obs FILTER [--reference-obs FILTER] | --groupby COL --group A [--reference B]) [--method wilcoxon|t-test] [--layer L] [--top N] [--json] [--out table.csv]',
  flags: {
    store: { type: 'string', description: 'the store' },
    version: { type: 'string', description: 'version number or uid (default: latest)' },
    obs: { type: 'string', description: 'the group: an obs filter, e.g. \'cell_type == "B cell"\'' },
    'reference-obs': { type: 'string', description: 'the reference: another obs filter (default: every other cell)' },
    groupby: { type: 'string', description: 'the obs column whose values name the groups' },
    group: { type: 'string', description: 'the value of --groupby whose cells form the group' },
    reference: { type: 'string', description: 'the value of --groupby whose cells form the reference (default: every other cell)' },
    method: { type: 'string', description: 'wilcoxon (default) or t-test' },
    layer: { type: 'string', description: 'X layer to test (default data)' },
    top: { type: 'string', description: 'keep only the N best genes (default: every gene; the text table shows 20)' },
    out: { type: 'string', description: 'also write the genes to this CSV file' },
  },
  positionals: [0, 0],
};

const SHOWN_BY_DEFAULT = 20;

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const storeKey = stringFlag(ctx.args, 'store');
  if (!storeKey) throw new UsageError('cellar de needs --store KEY.');
  const method = stringFlag(ctx.args, 'method') ?? 'wilcoxon';
  if (!(DE_METHODS as readonly string[]).includes(method)) throw new UsageError(`Unknown --method ${method}; use wilcoxon or t-test.`);
  const top = intFlag(ctx.args, 'top', 1);
  const out = stringFlag(ctx.args, 'out');
  if (out !== undefined && !out.trim()) throw new UsageError('--out needs a file name, e.g. --out genes.csv.');
  return withRegistry(ctx, async (registry) => {
    const result = await differentialExpression({
      registry,
      storeKey,
      version: stringFlag(ctx.args, 'version'),
      obs: stringFlag(ctx.args, 'obs'),
      referenceObs: stringFlag(ctx.args, 'reference-obs'),
      groupby: stringFlag(ctx.args, 'groupby'),
      group: stringFlag(ctx.args, 'group'),
      reference: stringFlag(ctx.args, 'reference'),
      method: method as DeMethod,
      layer: stringFlag(ctx.args, 'layer'),
      onProgress: (p) => ctx.progress(p.phase, p.done, p.total),
    });
    const kept: DeResult = top === undefined ? result : { ...result, results: result.results.slice(0, top) };
    const path = out === undefined ? undefined : resolve(out);
    if (path) writeFileAtomically(path, deRowsToCsv(kept.results));
    return { json: path ? { ...kept, out: path } : kept, text: describe(kept, top ?? SHOWN_BY_DEFAULT, path) };
  });
}

function describe(r: DeResult, shown: number, path: string | undefined): string {
  const test = r.method === 'wilcoxon' ? 'Wilcoxon rank-sum' : "Welch's t-test";
  const lines = [
    `${test} on ${r.values === 'log-normalized' ? 'log-normalised' : 'stored'} values of layer ${r.layer}, ${r.store.key} version ${r.store.version}:`,
    `  group     ${r.group.label} (${r.group.n_cells} cells)`,
    `  reference ${r.reference.label} (${r.reference.n_cells} cells)`,
    ...r.notices.map((n) => `Note: ${n}`),
    '',
  ];
  const rows = r.results.slice(0, shown).map((g) => [g.gene, g.symbol ?? '', g.logfc.toFixed(3), g.pval.toExponential(2), g.padj.toExponential(2), g.pct_in.toFixed(3), g.pct_out.toFixed(3), g.score.toFixed(3)]);
  const header = ['gene', 'symbol', 'logfc', 'pval', 'padj', 'pct_in', 'pct_out', 'score'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  for (const row of [header, ...rows]) lines.push(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  if (r.results.length > shown) lines.push(`… ${r.results.length - shown} more gene(s)${path ? '' : '; --out FILE.csv writes them all, --top N shows more'}.`);
  if (path) lines.push(`Wrote ${r.results.length} gene(s) to ${path}.`);
  return lines.join('\n');
}
