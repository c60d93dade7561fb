// Query a store version and export the slice: a complete h5ad that anndata reads
// (obs/var indexes restored from obs_id/var_id, X from the chosen layer, the other
// layers, raw with raw.var and raw.varm, obsm, varm rows of the selected genes,
// compressed), or the obs rows as CSV / JSON / Arrow.
import { resolve } from 'node:path';
import { tableToIPC, type Table } from 'apache-arrow';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import type { CsrBlock, DataFrame, NumericArray, NumericDtype } from '../columns/column-model';
import type { AnnDataToWrite, MatrixSource } from '../formats/h5ad/types';
import { writeH5ad } from '../formats/h5ad/writer';
import { startLoadingH5wasm } from '../formats/h5ad/h5';
import { openStore, type StoreReader } from '../store/store-reader';
import { frameRows, OBS_ID, resolveQuery, selectColumns, VAR_ID, type QuerySelection, type QuerySpec } from '../store/query';
import { RAW_MEASUREMENT, X_LAYER } from './concatenate';
import { matrixName, type ProgressFn } from './progress';
import { isAscending, stringAt } from '../columns/conversions';
import { resolveVersionRef } from './store-records';
import { resolveStore } from './reconcile';
import { frameToArrow } from '../columns/arrow-frame';
import { notMeasuredPairs } from '../store/genes';

export const EXPORT_ROWS_PER_BLOCK = 16_384;
/** Non-zeros per block: small enough that reading the next block and writing this one overlap often. */
const EXPORT_BLOCK_ENTRIES = 2_000_000;

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

/**
 * Resolves the store and version, parses the filters and selects the rows. `prepareRows`: the
 * selected X rows will be read soon; a large read's helper thread gets ready meanwhile.
 */
export async function openQuery(params: QueryParams, options: { prepareRows?: boolean } = {}): Promise<OpenedQuery> {
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
    const selection = resolveQuery(reader, spec);
    if (options.prepareRows) reader.prepareRowReads(measurement, layer, selection.obsJoinids.length);
    return { reader, selection, spec, layer, versionUid: record.uid, version: record.version };
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

/**
 * A matrix read from the store. `close` ends a read started ahead of time (prefetch) that was
 * not iterated to its end, e.g. when the export failed before writing X; it may always be called.
 */
export interface StoreMatrix extends MatrixSource {
  close(): Promise<void>;
}

/** The X slice as CSR row blocks of bounded size (rows and columns re-indexed from 0). */
export function queryMatrix(q: OpenedQuery, signal?: AbortSignal, onRows?: (done: number, total: number) => void, prefetch = false, decodeHere = false): StoreMatrix {
  return storeMatrix(q.reader, q.spec.measurement, q.layer, q.selection.obsJoinids, q.selection.varJoinids, signal, onRows, prefetch, decodeHere);
}

/**
 * Rows `obsJoinids` × columns `varJoinids` (null: every column) of a stored layer, as row blocks.
 * `prefetch`: the read starts now and the first iteration continues it. A large read is decoded
 * by the helper thread, its first block while the caller does other work (writes obs and var);
 * a smaller one decodes its first block on this thread at once.
 */
function storeMatrix(
  reader: StoreReader,
  measurement: string,
  layer: string,
  obsJoinids: Uint32Array,
  varJoinids: Uint32Array | null,
  signal?: AbortSignal,
  onRows?: (done: number, total: number) => void,
  prefetch = false,
  decodeHere = false,
): StoreMatrix {
  const nVars = reader.nVars(measurement);
  const nCols = varJoinids ? varJoinids.length : nVars;
  const dtype = reader.manifest.ms[measurement]!.X[layer]!.dtype as NumericDtype;
  const ascending = isAscending(obsJoinids);
  async function* blocks(): AsyncGenerator<CsrBlock> {
    if (ascending) {
      // Block after block into the same buffers (the writer copies each block before asking
      // for the next): new arrays per block cost more in first touches of memory than decoding.
      // A large read is decoded by a helper thread one block ahead of the writer.
      for await (const block of reader.xRowBlocksAhead(measurement, layer, obsJoinids, { maxRows: EXPORT_ROWS_PER_BLOCK, maxEntries: EXPORT_BLOCK_ENTRIES, decodeHere })) {
        signal?.throwIfAborted();
        const sliced = varJoinids ? selectColumns({ ...block, shape: [block.nRows, nVars] }, varJoinids, nVars) : block;
        yield { rowStart: block.rowStart, nRows: block.nRows, nCols, indptr: sliced.indptr, indices: sliced.indices, data: sliced.data };
        onRows?.(block.rowStart + block.nRows, obsJoinids.length);
      }
      return;
    }
    for (let start = 0; start < obsJoinids.length; start += EXPORT_ROWS_PER_BLOCK) {
      signal?.throwIfAborted();
      const ids = obsJoinids.subarray(start, Math.min(obsJoinids.length, start + EXPORT_ROWS_PER_BLOCK));
      const csr = await reader.readXRows(measurement, layer, ids);
      const sliced = varJoinids ? selectColumns(csr, varJoinids, nVars) : csr;
      const base = Number(sliced.indptr[0]);
      // readXRows may hand back offsets that do not start at 0: rebase them for the writer.
      const indptr = base === 0 ? sliced.indptr : Float64Array.from(sliced.indptr as ArrayLike<number>, (v) => Number(v) - base);
      const nnz = Number(sliced.indptr[ids.length]) - base;
      yield { rowStart: start, nRows: ids.length, nCols, indptr, indices: sliced.indices.subarray(base, base + nnz), data: sliced.data.subarray(base, base + nnz) as NumericArray };
      onRows?.(start + ids.length, obsJoinids.length);
    }
  }
  // Every column kept: the stored entries of the rows are exactly what is written (counted
  // from the chunk indexes before the read starts, so a failure here leaves no read running).
  const exact = varJoinids && varJoinids.length !== nVars ? {} : { nnz: reader.xRowsEntries(measurement, layer, obsJoinids), nnzExact: true };
  // A read started now: its first block is asked for at once (marked handled: a failure
  // surfaces when the writer gets to it).
  let started: { iterator: AsyncGenerator<CsrBlock>; first: Promise<IteratorResult<CsrBlock>> } | null = null;
  if (prefetch && ascending) {
    const iterator = blocks();
    const first = iterator.next();
    first.catch(() => undefined);
    started = { iterator, first };
  }
  return {
    shape: [obsJoinids.length, nCols],
    dtype,
    ...exact,
    async *rowBlocks(): AsyncIterable<CsrBlock> {
      const early = started;
      started = null;
      if (!early) {
        yield* blocks();
        return;
      }
      try {
        let next = await early.first;
        while (!next.done) {
          yield next.value;
          next = await early.iterator.next();
        }
      } finally {
        await early.iterator.return(undefined);
      }
    },
    async close(): Promise<void> {
      const early = started;
      started = null;
      if (!early) return;
      // Waits for the first block (settled: its failure was not this caller's to report), then
      // ends the read, which waits for the blocks the helper is still writing.
      await early.first.catch(() => undefined);
      await early.iterator.return(undefined).catch(() => undefined);
    },
  };
}

export type ExportCompression = 'gzip' | 'lzf' | 'none';
export const EXPORT_COMPRESSIONS: readonly ExportCompression[] = ['gzip', 'lzf', 'none'];

export interface ExportParams extends QueryParams {
  out: string;
  /** Layers written besides X (default: every other layer of the store). */
  layers?: string[];
  /** Default gzip. */
  compression?: ExportCompression;
}

export interface ExportResult {
  path: string;
  n_obs: number;
  n_vars: number;
  /** What the file holds besides obs, var and X. */
  layers: string[];
  obsm: string[];
  varm: string[];
  raw: { n_vars: number; varm: string[] } | null;
  compression: ExportCompression;
  store: { key: string; version: number; uid: string };
  run: { uid: string };
}

type DenseMap = Map<string, { shape: [number, number]; values: NumericArray }>;

async function readDenseAll(names: string[], read: (name: string) => Promise<{ shape: [number, number]; values: NumericArray }>): Promise<DenseMap> {
  const out: DenseMap = new Map();
  for (const name of names) {
    const dense = await read(name);
    out.set(name, { shape: dense.shape, values: dense.values });
  }
  return out;
}

/** Which matrix of the h5ad is being written, as a biologist names it. */
function writingPhase(matrixPath: string): string {
  if (matrixPath === '/X') return `Writing ${matrixName('X')}`;
  if (matrixPath === '/raw/X') return `Writing ${matrixName('raw')}`;
  return `Writing ${matrixName({ layer: matrixPath.replace(/^\/layers\//, '') })}`;
}

export async function exportQueryToH5ad(params: ExportParams): Promise<ExportResult> {
  const out = resolve(params.out);
  const compression = params.compression ?? 'gzip';
  if (!EXPORT_COMPRESSIONS.includes(compression)) throw new CellarError('usage', `Unknown compression "${String(compression)}"; use gzip, lzf or none.`);
  // An lzf file is written through the HDF5 library: it compiles while the store is opened and
  // the query evaluated. Uncompressed and gzip files are written without it.
  if (compression === 'lzf') startLoadingH5wasm();
  const q = await openQuery(params, { prepareRows: true });
  const { reader, spec, selection } = q;
  const m = spec.measurement;
  const otherLayers = reader.layers(m).filter((l) => l !== q.layer);
  if (params.layers) {
    const unknown = params.layers.filter((l) => !reader.layers(m).includes(l));
    if (unknown.length) {
      reader.close();
      throw new CellarError('not_found', `The store has no layer ${unknown.map((l) => `"${l}"`).join(', ')}; it has ${reader.layers(m).join(', ')}.`);
    }
  }
  const layers = params.layers ? otherLayers.filter((l) => params.layers!.includes(l)) : otherLayers;
  const hasRaw = m !== RAW_MEASUREMENT && reader.measurements.includes(RAW_MEASUREMENT) && reader.layers(RAW_MEASUREMENT).includes(X_LAYER);
  const run = params.registry.startRun({
    transform: 'export',
    params: { store: params.storeKey, version: q.version, obs: params.obs ?? null, var: params.var ?? null, layer: q.layer, layers, compression, out },
    inputArtifacts: [q.versionUid],
  });
  let X: StoreMatrix | null = null;
  try {
    // X is read from now on, while obs, var and the rest are written. Without lzf the writer's
    // work per block is light (writes; gzip deflates in the thread pool): this thread decodes
    // blocks too, each block going to whichever thread claims it first (rowBlocksAhead).
    const decodeHere = compression !== 'lzf';
    X = queryMatrix(q, params.signal, undefined, true, decodeHere);
    const obsm = await readDenseAll(reader.obsmNames(m), (name) => reader.readObsm(m, name, selection.obsJoinids));
    const varm = await readDenseAll(reader.varmNames(m), (name) => reader.readVarm(m, name, selection.varJoinids));
    const layerSources = new Map<string, MatrixSource>(layers.map((l) => [l, storeMatrix(reader, m, l, selection.obsJoinids, selection.varJoinids, params.signal, undefined, false, decodeHere)]));
    let raw: AnnDataToWrite['raw'] = null;
    if (hasRaw) {
      const rawVars = reader.var(RAW_MEASUREMENT);
      const allRaw = Uint32Array.from({ length: rawVars.nRows }, (_, i) => i);
      raw = {
        X: storeMatrix(reader, RAW_MEASUREMENT, X_LAYER, selection.obsJoinids, null, params.signal, undefined, false, decodeHere),
        var: frameRows(rawVars, allRaw, VAR_ID),
        varm: await readDenseAll(reader.varmNames(RAW_MEASUREMENT), (name) => reader.readVarm(RAW_MEASUREMENT, name)),
      };
    }
    // X cannot tell "not measured" from 0, so the pairs a dataset never measured go beside it.
    const notMeasured = notMeasuredPairs(reader, m, selection.obsJoinids, selection.varJoinids);
    await writeH5ad(
      out,
      {
        obs: queryObs(q),
        var: queryVar(q),
        X,
        layers: layerSources,
        obsm,
        varm,
        raw,
        ...(notMeasured?.dataset.length ? { uns: { cellar_not_measured: notMeasured } } : {}),
      },
      { signal: params.signal, compression, onProgress: (done, total, matrix) => params.onProgress?.(matrix ? { phase: writingPhase(matrix.path), done: matrix.rows, total: matrix.nRows, unit: 'cells' } : { phase: done > 0 && done >= total ? 'Finishing the file' : 'Writing the cell and gene tables', done, total, unit: 'said' }) },
    );
    params.registry.finishRun(run.uid);
    const store = params.registry.getArtifact(q.versionUid);
    return {
      path: out,
      n_obs: selection.obsJoinids.length,
      n_vars: selection.varJoinids.length,
      layers,
      obsm: [...obsm.keys()],
      varm: [...varm.keys()],
      raw: raw ? { n_vars: raw.var.index.length, varm: [...(raw.varm?.keys() ?? [])] } : null,
      compression,
      store: { key: store.key, version: q.version, uid: q.versionUid },
      run: { uid: run.uid },
    };
  } catch (err) {
    params.registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  } finally {
    // A read still under way (the export failed before X was written) ends before its files close.
    await X?.close();
    reader.close();
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
