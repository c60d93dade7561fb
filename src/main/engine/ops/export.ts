// Query a store version and export the slice: an h5ad that anndata reads (obs/var
// indexes restored from obs_id/var_id, X from the chosen layer, obsm), or the obs
// rows as CSV / JSON / Arrow.
import { resolve } from 'node:path';
import { tableToIPC, type Table } from 'apache-arrow';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import type { CsrBlock, DataFrame, MatrixSource, NumericArray, NumericDtype } from '../h5ad/types';
import { writeH5ad } from '../h5ad/writer';
import { openStore, type StoreReader } from '../store/reader';
import { frameRows, OBS_ID, resolveQuery, selectColumns, VAR_ID, type QuerySelection, type QuerySpec } from '../store/query';
import { X_LAYER } from './concatenate';
import type { ProgressFn } from './progress';
import { stringAt } from './convert';
import { resolveStore, resolveVersionRef } from './store-registry';
import { frameToArrow } from './arrow-frame';

export const EXPORT_ROWS_PER_BLOCK = 16_384;

export interface QueryParams {
  registry: Registry;
  storeKey: string;
  version?: string;
  obs?: string;
  var?: string;
  layer?: string;
  measurement?: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface OpenedQuery {
  reader: StoreReader;
  selection: QuerySelection;
  spec: QuerySpec;
  layer: string;
  versionUid: string;
  version: number;
}

/** Resolves the store and version, parses the filters and selects the rows. */
export async function openQuery(params: QueryParams): Promise<OpenedQuery> {
  const { store, dir } = await resolveStore(params.registry, params.storeKey);
  const record = resolveVersionRef(params.registry, store, params.version);
  const reader = openStore(dir, record.version);
  try {
    const measurement = params.measurement ?? defaultMeasurement(reader);
    const layer = params.layer ?? X_LAYER;
    if (!reader.layers(measurement).includes(layer)) {
      throw new CellarError('not_found', `The store ${store.key} has no layer "${layer}"; it has ${reader.layers(measurement).join(', ') || 'none'}.`);
    }
    const spec = { measurement, obs: params.obs, var: params.var };
    return { reader, selection: resolveQuery(reader, spec), spec, layer, versionUid: record.uid, version: record.version };
  } catch (err) {
    reader.close();
    throw err;
  }
}

export function defaultMeasurement(reader: StoreReader): string {
  const main = reader.measurements.filter((m) => m !== 'raw');
  return main[0] ?? reader.measurements[0] ?? 'RNA';
}

export function queryObs(q: OpenedQuery): DataFrame {
  return frameRows(q.reader.obs, q.selection.obsJoinids, OBS_ID);
}

export function queryVar(q: OpenedQuery): DataFrame {
  return frameRows(q.reader.var(q.spec.measurement), q.selection.varJoinids, VAR_ID);
}

/** The X slice as CSR row blocks of bounded size (rows and columns re-indexed from 0). */
export function queryMatrix(q: OpenedQuery, signal?: AbortSignal, onRows?: (done: number, total: number) => void): MatrixSource {
  const { obsJoinids, varJoinids } = q.selection;
  const nVars = q.reader.nVars(q.spec.measurement);
  const dtype = q.reader.manifest.ms[q.spec.measurement]!.X[q.layer]!.dtype as NumericDtype;
  return {
    shape: [obsJoinids.length, varJoinids.length],
    dtype,
    async *rowBlocks(): AsyncIterable<CsrBlock> {
      for (let start = 0; start < obsJoinids.length; start += EXPORT_ROWS_PER_BLOCK) {
        signal?.throwIfAborted();
        const ids = obsJoinids.subarray(start, Math.min(obsJoinids.length, start + EXPORT_ROWS_PER_BLOCK));
        const csr = await q.reader.readXRows(q.spec.measurement, q.layer, ids);
        const sliced = selectColumns(csr, varJoinids, nVars);
        yield { rowStart: start, nRows: ids.length, nCols: varJoinids.length, indptr: sliced.indptr, indices: sliced.indices, data: sliced.data };
        onRows?.(start + ids.length, obsJoinids.length);
      }
    },
  };
}

export interface ExportParams extends QueryParams {
  out: string;
}

export interface ExportResult {
  path: string;
  n_obs: number;
  n_vars: number;
  store: { key: string; version: number; uid: string };
  run: { uid: string };
}

export async function exportQueryToH5ad(params: ExportParams): Promise<ExportResult> {
  const out = resolve(params.out);
  const q = await openQuery(params);
  const run = params.registry.startRun({
    transform: 'export',
    params: { store: params.storeKey, version: q.version, obs: params.obs ?? null, var: params.var ?? null, layer: q.layer, out },
    inputArtifacts: [q.versionUid],
  });
  try {
    const obsm = new Map<string, { shape: [number, number]; values: NumericArray }>();
    for (const name of q.reader.obsmNames(q.spec.measurement)) {
      const dense = await q.reader.readObsm(q.spec.measurement, name, q.selection.obsJoinids);
      obsm.set(name, { shape: dense.shape, values: dense.values });
    }
    await writeH5ad(
      out,
      {
        obs: queryObs(q),
        var: queryVar(q),
        X: queryMatrix(q, params.signal, (done, total) => params.onProgress?.({ phase: 'Writing X', done, total })),
        obsm,
      },
      { signal: params.signal },
    );
    params.registry.finishRun(run.uid);
    const store = params.registry.getArtifact(q.versionUid);
    return {
      path: out,
      n_obs: q.selection.obsJoinids.length,
      n_vars: q.selection.varJoinids.length,
      store: { key: store.key, version: q.version, uid: q.versionUid },
      run: { uid: run.uid },
    };
  } catch (err) {
    params.registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  } finally {
    q.reader.close();
  }
}

/** The obs rows of a query as CSV (RFC 4180 quoting), with obs_id first. */
export function obsToCsv(frame: DataFrame): string {
  const quote = (s: string | null) => (s === null ? '' : /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [[OBS_ID, ...frame.columns.map((c) => c.name)].map(quote).join(',')];
  for (let i = 0; i < frame.index.length; i++) {
    lines.push([quote(frame.index[i]!), ...frame.columns.map((c) => quote(stringAt(c.column, i)))].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The obs rows as JSON records; NA → null, numbers stay numbers. */
export function obsToJson(frame: DataFrame): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < frame.index.length; i++) {
    const row: Record<string, unknown> = { [OBS_ID]: frame.index[i] };
    for (const { name, column } of frame.columns) {
      const s = stringAt(column, i);
      if (s === null) row[name] = null;
      else if (column.kind === 'numeric' || column.kind === 'nullable-int') {
        const v = column.values[i]!;
        row[name] = typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : Number.isFinite(v) ? v : String(v);
      } else if (column.kind === 'bool' || column.kind === 'nullable-bool') row[name] = column.values[i] === 1;
      else row[name] = s;
    }
    out.push(row);
  }
  return out;
}

export function obsToArrow(frame: DataFrame): Uint8Array {
  const table: Table = frameToArrow(frame, OBS_ID);
  return tableToIPC(table, 'stream');
}
