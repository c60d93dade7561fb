// Differential expression: start the job, page through a finished result, export it as CSV.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { DeResult } from '../../../shared/contract';
import type { Handlers } from '../../ipc/handle';
import { deRowsToArrow, deRowsToCsv, loadDeResult, writeFileAtomically } from '../../engine/ops/de-table';
import type { ServiceContext } from './context';

const MAX_WINDOW_ROWS = 5_000;

export function deHandlers({ options, startJob }: ServiceContext): Pick<Handlers, 'de:start' | 'de:table' | 'de:export'> {
  // A page after page reads the same table: keep the last one parsed.
  let cached: { table: string; result: DeResult } | null = null;
  const load = (table: string): DeResult => {
    if (cached?.table !== table) cached = { table, result: loadDeResult(options.home, table) };
    return cached.result;
  };
  return {
    'de:start': (request) => {
      const selected = request.obsJoinids !== undefined ? (request.groupName ?? `${request.obsJoinids.length} selected cells`) : undefined;
      const side = selected ?? (request.groupby !== undefined ? `${request.groupby} ${request.group ?? ''}` : (request.obs ?? ''));
      return startJob('de', `Differential expression in ${request.storeKey}: ${side}`.trim(), { ...request });
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
      if (options.chooseSavePath) path = await options.chooseSavePath(defaultName);
      else {
        const dir = join(options.home, 'exports');
        mkdirSync(dir, { recursive: true });
        path = join(dir, `${Date.now().toString(36)}-${defaultName}`);
      }
      if (!path) throw new CellarError('cancelled', 'Export cancelled.');
      writeFileAtomically(path, deRowsToCsv(result.results));
      return { path, download: options.offerDownload?.(path) ?? null };
    },
  };
}
