// A store's contents (summary, counts, windows of obs/var rows as Arrow) and the work
// that changes or checks it: append, annotate, verify, compact.
import { basename } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { AnnotationPreview, StoreColumn, StoreRef, StoreSummary } from '../../../shared/contract';
import type { ArtifactRecord } from '../../../shared/registry-types';
import { callInWorker } from '../../engine/threads/worker-call';
import type { Preflight } from '../../engine/ops/append';
import { defaultMeasurement, openQuery, queryObs, queryVar, type OpenedQuery } from '../../engine/ops/export';
import { resolveVersionRef } from '../../engine/ops/store-records';
import { resolveStore } from '../../engine/ops/reconcile';
import { columnStats, tableWindow } from '../table-window';
import { openStore, type StoreReader } from '../../engine/store/store-reader';
import { readManifest, type ColumnEntry, type StoreManifest } from '../../engine/store/format/manifest';
import type { Registry } from '../../registry/registry';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

type StoreChannel = 'store:summary' | 'store:count' | 'store:obs-window' | 'store:var-window' | 'store:column-stats' | 'append:preflight' | 'append:start' | 'annotate:preview' | 'annotate:start' | 'store:verify' | 'store:compact';

export function storeHandlers({ options, db, readTimeoutMs, pathOf, startJob }: ServiceContext): Pick<Handlers, StoreChannel> {
  const withQuery = async <T>(request: StoreRef & { obs?: string; var?: string }, work: (q: OpenedQuery) => T | Promise<T>): Promise<T> => {
    const q = await openQuery({ registry: db(), storeKey: request.storeKey, version: request.version, obs: request.obs, var: request.var });
    try {
      return await work(q);
    } finally {
      q.reader.close();
    }
  };

  return {
    'store:summary': (ref) =>
      withStoreVersion(db(), ref, (reader, record, _store, dir) => {
        const ms = defaultMeasurement(reader);
        const m = reader.manifest.ms[ms]!;
        const col = (c: ColumnEntry): StoreColumn => ({ name: c.name, dtype: c.dtype, ...(c.categories ? { categories: c.categories.values } : {}), ...(c.ordered ? { ordered: true } : {}) });
        const summary: StoreSummary = {
          uid: record.uid,
          key: record.key,
          version: record.version,
          isLatest: record.isLatest,
          nObs: reader.nObs,
          nVars: reader.nVars(ms),
          measurement: ms,
          obs: reader.manifest.obs.columns.map(col),
          var: m.var.columns.map(col),
          layers: Object.keys(m.X),
          obsm: Object.entries(m.obsm).map(([name, e]) => {
            const ratio = explainedVarianceOf(dir, reader.manifest, name);
            return { name, width: e.nCols, ...(ratio ? { explainedVarianceRatio: ratio } : {}) };
          }),
          datasets: datasetsOf(reader),
        };
        return summary;
      }),
    'store:count': (r) => withQuery(r, (q) => ({ nObs: q.selection.obsJoinids.length, nVars: q.selection.varJoinids.length })),
    'store:obs-window': (r) => withQuery(r, (q) => tableWindow(queryObs(q), q.selection.obsJoinids, 'obs_id', r)),
    'store:var-window': (r) => withQuery(r, (q) => tableWindow(queryVar(q), q.selection.varJoinids, 'var_id', r)),
    'store:column-stats': ({ table, filter, column, ...ref }) =>
      withQuery({ ...ref, [table]: filter }, (q) => (table === 'obs' ? columnStats(queryObs(q), q.selection.obsJoinids, 'obs_id', column) : columnStats(queryVar(q), q.selection.varJoinids, 'var_id', column))),
    // Reads the new h5ad files: in a worker under the read time limit, never on the main thread.
    'append:preflight': ({ storeKey, fileTokens, fillMissing, addColumns, makeUnique, matchGenes }) =>
      callInWorker<Preflight>('preflightAppend', [options.home, { storeKey, files: fileTokens.map(pathOf), fillMissing, addColumns, makeUnique, matchGenes, readTimeoutMs: options.readTimeoutMs }], {
        timeoutMs: readTimeoutMs() * Math.max(1, fileTokens.length) + 60_000,
        what: `checking the files to append to ${storeKey}`,
      }),
    'append:start': ({ storeKey, fileTokens, fillMissing, addColumns, makeUnique, matchGenes }) => startJob('append', `Append to ${storeKey}`, { storeKey, files: fileTokens.map(pathOf), fillMissing, addColumns, makeUnique, matchGenes }),
    'annotate:preview': ({ storeKey, fileToken }) =>
      callInWorker<AnnotationPreview>('previewAnnotation', [options.home, storeKey, pathOf(fileToken)], { timeoutMs: readTimeoutMs(), what: `reading the annotation table for ${storeKey}` }),
    'annotate:start': ({ storeKey, fileToken }) => {
      const from = pathOf(fileToken);
      return startJob('annotate', `Annotate ${storeKey} from ${basename(from)}`, { storeKey, from });
    },
    'store:verify': ({ storeKey, fix }) => {
      const store = db().getStore(storeKey);
      return startJob('verify', `${fix ? 'Repair' : 'Verify'} ${store.key}`, { storeKey: store.key, fix: !!fix });
    },
    'store:compact': ({ storeKey, confirm }) => {
      const store = db().getStore(storeKey);
      if (confirm !== true) throw new CellarError('usage', `Compacting ${store.key} drops every older version; confirm to go ahead.`);
      return startJob('compact', `Compact ${store.key}`, { storeKey: store.key });
    },
  };
}

/** Opens the store version a reference names, hands it to work, and always closes it. */
export async function withStoreVersion<T>(registry: Registry, ref: StoreRef, work: (reader: StoreReader, record: ArtifactRecord, store: ArtifactRecord, dir: string) => T | Promise<T>): Promise<T> {
  const { store, dir } = await resolveStore(registry, ref.storeKey);
  const record = resolveVersionRef(registry, store, ref.version);
  const reader = openStore(dir, record.version);
  try {
    return await work(reader, record, store, dir);
  } finally {
    reader.close();
  }
}

/**
 * The explained variance of a PCA in obsm: recorded by the version that computed it, so later
 * versions (annotations, appends of other data) look back through their parents for it.
 */
export function explainedVarianceOf(dir: string, manifest: StoreManifest, name: string): number[] | null {
  let current: StoreManifest | null = manifest;
  for (let steps = 0; current && steps < 1_000; steps++) {
    const embedding = current.meta.embedding as { name?: unknown; explainedVarianceRatio?: unknown } | undefined;
    if (embedding?.name === name) {
      const ratio = embedding.explainedVarianceRatio;
      return Array.isArray(ratio) && ratio.every((r) => typeof r === 'number') ? (ratio as number[]) : null;
    }
    if (current.parentVersion === null) return null;
    try {
      current = readManifest(dir, current.parentVersion);
    } catch {
      return null; // compacted away
    }
  }
  return null;
}

/** The files a store version was made from, as its manifest recorded them. */
export function datasetsOf(reader: StoreReader): StoreSummary['datasets'] {
  const recorded = reader.manifest.meta.datasets;
  if (!Array.isArray(recorded)) return [];
  return recorded
    .filter((d): d is { position: number; key: string; uid: string } => !!d && typeof d === 'object' && typeof d.position === 'number' && typeof d.key === 'string' && typeof d.uid === 'string')
    .map(({ position, key, uid }) => ({ position, key, uid }));
}

