// Differential expression in the service: the job (run in a worker by job-entry), and the
// handlers that page through a finished result and export it as CSV.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../shared/errors';
import type { DeJobResult, DeMethod, DeResult, JobSnapshot, RequestOf } from '../../shared/contract';
import type { Registry } from '../registry/registry';
import type { Handlers, Validators } from '../ipc/handle';
import { DE_METHODS, differentialExpression } from '../engine/ops/differential-expression';
import { deRowsToArrow, deRowsToCsv, loadDeResult, saveDeResult, writeFileAtomically } from '../engine/ops/de-table';
import type { ProgressFn } from '../engine/ops/progress';

/** Genes carried in the job's result itself; the rest is read through de:table. */
const TOP_IN_RESULT = 50;
const MAX_WINDOW_ROWS = 5_000;

export async function runDeJob(ctx: { registry: Registry; home: string; signal: AbortSignal; onProgress: ProgressFn }, params: RequestOf<'de:start'>): Promise<DeJobResult> {
  const result = await differentialExpression({ ...params, registry: ctx.registry, signal: ctx.signal, onProgress: ctx.onProgress });
  const table = saveDeResult(ctx.home, result);
  const { results, ...summary } = result;
  return { ...summary, top: results.slice(0, TOP_IN_RESULT), table };
}

export interface DeServiceDeps {
  home: string;
  startJob(kind: 'de', title: string, params: Record<string, unknown>): JobSnapshot;
  chooseSavePath?: (defaultName: string) => Promise<string | null>;
  offerDownload?: (path: string) => string;
}

type DeChannels = 'de:start' | 'de:table' | 'de:export';

export function deHandlers(deps: DeServiceDeps): Pick<Handlers, DeChannels> {
  // A page after page reads the same table: keep the last one parsed.
  let cached: { table: string; result: DeResult } | null = null;
  const load = (table: string): DeResult => {
    if (cached?.table !== table) cached = { table, result: loadDeResult(deps.home, table) };
    return cached.result;
  };
  return {
    'de:start': (request) => {
      const side = request.groupby !== undefined ? `${request.groupby} ${request.group ?? ''}` : (request.obs ?? '');
      return deps.startJob('de', `Differential expression in ${request.storeKey}: ${side}`.trim(), { ...request });
    },
    'de:table': ({ table, offset, limit }) => {
      const rows = load(table).results;
      const start = Math.max(0, Math.min(Math.floor(offset), rows.length));
      const end = Math.min(rows.length, start + Math.max(0, Math.min(Math.floor(limit), MAX_WINDOW_ROWS)));
      return { total: rows.length, offset: start, arrow: deRowsToArrow(rows.slice(start, end)) };
    },
    'de:export': async ({ table }) => {
      const result = load(table);
      // One path segment whatever the store key holds (as the store exports are named).
      const defaultName = `${`${result.store.key}-v${result.store.version}`.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+/, '') || 'store'}-de.csv`;
      let path: string | null;
      if (deps.chooseSavePath) path = await deps.chooseSavePath(defaultName);
      else {
        const dir = join(deps.home, 'exports');
        mkdirSync(dir, { recursive: true });
        path = join(dir, `${Date.now().toString(36)}-${defaultName}`);
      }
      if (!path) throw new CellarError('cancelled', 'Export cancelled.');
      writeFileAtomically(path, deRowsToCsv(result.results));
      return { path, download: deps.offerDownload?.(path) ?? null };
    },
  };
}

type Check = <T>(channel: string, shape: Record<string, 'string' | 'string?' | 'number' | 'number?'>, extra?: (p: Record<string, unknown>) => void) => (payload: unknown) => T;

export function deValidators(check: Check): Pick<Validators, DeChannels> {
  return {
    'de:start': check(
      'de:start',
      { storeKey: 'string', version: 'string?', obs: 'string?', referenceObs: 'string?', groupby: 'string?', group: 'string?', reference: 'string?', method: 'string?', layer: 'string?' },
      (p) => {
        if (p.method !== undefined && !DE_METHODS.includes(p.method as DeMethod)) throw new CellarError('usage', 'de:start: "method" must be wilcoxon or t-test.');
      },
    ),
    'de:table': check('de:table', { table: 'string', offset: 'number', limit: 'number' }),
    'de:export': check('de:export', { table: 'string' }),
  };
}
