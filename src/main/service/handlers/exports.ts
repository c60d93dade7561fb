// Exports of a store slice: where the file goes (the save dialog, or the home's exports
// folder in browser mode) and, in browser mode, the list of exports to download again.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { ExportFile } from '../../../shared/contract';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

/**
 * An export's file name from the store key and version: one path segment whatever the
 * key holds (`lab/pbmc` becomes `lab_pbmc`, `../x` cannot leave the exports folder).
 */
export function exportFileName(storeKey: string, version: string | undefined, format: string): string {
  const stem = `${storeKey}${version ? `-v${version}` : ''}`.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+/, '');
  // A Parquet export is a folder of .parquet files, not one file with that suffix.
  return format === 'parquet' ? `${stem || 'store'}-slice-parquet` : `${stem || 'store'}-slice.${format}`;
}

export function exportHandlers({ options, startJob }: ServiceContext): Pick<Handlers, 'export:start' | 'export:list'> {
  // One download reference per export file, however often the list is asked for.
  const offered = new Map<string, string>();
  const exportsDir = () => join(options.home, 'exports');

  return {
    'export:start': async (r) => {
      const defaultName = exportFileName(r.storeKey, r.version, r.format);
      let out: string | null;
      if (options.chooseSavePath) out = await options.chooseSavePath(defaultName);
      else {
        const dir = exportsDir();
        mkdirSync(dir, { recursive: true });
        out = join(dir, `${Date.now().toString(36)}-${defaultName}`);
      }
      if (!out) throw new CellarError('cancelled', 'Export cancelled.');
      const target = out;
      // A folder cannot be downloaded as one file: a Parquet export stays in the home.
      const download = () => (r.format === 'parquet' ? null : (options.offerDownload?.(target) ?? null));
      return startJob('export', `Export ${r.storeKey}`, { ...r, out: target }, (result) => ({ ...result, download: download() }));
    },
    'export:list': () => {
      if (!options.offerDownload || !existsSync(exportsDir())) return [];
      const offer = options.offerDownload;
      const list: ExportFile[] = readdirSync(exportsDir(), { withFileTypes: true })
        .filter((e) => e.isFile() && !e.name.endsWith('.partial'))
        .map((e) => {
          const path = join(exportsDir(), e.name);
          const st = statSync(path);
          let download = offered.get(path);
          if (!download) offered.set(path, (download = offer(path)));
          // Stored as "<time>-<name>": the user knows the file by its name.
          return { name: e.name.replace(/^[0-9a-z]+-/, ''), size: st.size, createdAt: st.mtime.toISOString(), download };
        });
      return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
  };
}
