// Export a store version (or any query of it) as a folder of Parquet tables for Spark, Dask,
// DuckDB, Polars and pyarrow: obs and each measurement's var with the store's column types and
// soma_joinid, every X layer in SOMA coordinate form split by row ranges, obsm as wide tables,
// and a README saying how the ids join. Written into a hidden sibling folder and renamed into
// place at the end, so a failed or cancelled export leaves nothing behind.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Field, Int32, makeData, makeVector, RecordBatch, Schema, Struct, Table, type Vector } from 'apache-arrow';
import { CellarError } from '../../../shared/errors';
import type { NumericArray, NumericDtype } from '../columns/column-model';
import type { FrameReader, StoreReader } from '../store/store-reader';
import { arrowNumericType, categoryInfo, columnToVector, joinidVector, type CategoryInfo } from '../formats/parquet/column-vectors';
import { exportReadme } from '../formats/parquet/export-readme';
import type { ParquetExportResult, ParquetMatrix, ParquetPart, ParquetTable } from '../formats/parquet/export-layout';

export type { ParquetExportResult } from '../formats/parquet/export-layout';
import { writeParquetFile } from '../formats/parquet/write-parquet';
import { RAW_MEASUREMENT, X_LAYER } from './concatenate';
import { matrixName } from './progress';
import { openQuery, type QueryParams } from './export';
import { takeRows } from '../columns/conversions';
import { allocateTyped } from '../store/format/dtypes';

/** "A few million" non-zeros per X file: big enough to amortize a task, small enough to spread over cores. */
export const DEFAULT_MAX_NNZ_PER_FILE = 4_000_000;
/** Key-value metadata of obs/var files: {column: {categories, ordered}} as JSON. */
export const CATEGORIES_KEY = 'cellar.categories';
/** Row groups inside a part, so one large part still splits across threads. */
const X_ROW_GROUP_ROWS = 1_048_576;
const X_DELTA_COLUMNS = ['soma_dim_0', 'soma_dim_1'];

export interface ParquetExportParams extends Omit<QueryParams, 'layer'> {
  /** The folder to create; it must not exist, or be empty. */
  out: string;
  /** Upper bound on non-zeros per X file (a single larger row still gets a file of its own). */
  maxNnzPerFile?: number;
}

/** Refuses a target that holds anything, or whose parent is missing, before any work. */
export function checkExportTarget(out: string): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new CellarError('already_exists', `${out} exists and is not a folder; choose a new folder for the Parquet export.`);
    if (readdirSync(out).length) throw new CellarError('already_exists', `The folder ${out} is not empty; choose a new or empty folder for the Parquet export.`);
  }
  const parent = dirname(out);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new CellarError('not_found', `The folder ${parent} does not exist; create it first or choose another place for the export.`);
}

export async function exportQueryToParquet(params: ParquetExportParams): Promise<ParquetExportResult> {
  const out = resolve(params.out);
  const maxNnz = params.maxNnzPerFile ?? DEFAULT_MAX_NNZ_PER_FILE;
  if (!Number.isSafeInteger(maxNnz) || maxNnz < 1) throw new CellarError('usage', `The number of non-zeros per file must be a whole number ≥ 1 (got ${maxNnz}).`);
  checkExportTarget(out);
  const q = await openQuery(params);
  const { reader, selection } = q;
  const main = q.spec.measurement;
  const storeRecord = params.registry.getArtifact(q.versionUid);
  const run = params.registry.startRun({
    transform: 'export',
    params: { store: params.storeKey, version: q.version, obs: params.obs ?? null, var: params.var ?? null, format: 'parquet', max_nnz_per_file: maxNnz, out },
    inputArtifacts: [q.versionUid],
  });
  let staging: string | null = null;
  try {
    staging = mkdtempSync(join(dirname(out), `.${basename(out)}.partial-`));
    const metadata = { 'cellar.store': storeRecord.key, 'cellar.store_version': String(q.version), 'cellar.store_version_uid': q.versionUid };
    const tables: ParquetTable[] = [];
    const matrices: ParquetMatrix[] = [];
    const writeFrame = async (name: string, path: string, frame: FrameReader, rows: Uint32Array) => {
      params.signal?.throwIfAborted();
      const { table, categories } = frameTable(frame, rows);
      mkdirSync(dirname(join(staging!, path)), { recursive: true });
      const fileMetadata: Record<string, string> = { ...metadata };
      if (Object.keys(categories).length) fileMetadata[CATEGORIES_KEY] = JSON.stringify(categories);
      await writeParquetFile(join(staging!, path), table, { metadata: fileMetadata });
      tables.push({ name, path, rows: rows.length, columns: table.schema.fields.map((f) => f.name) });
    };

    params.onProgress?.({ phase: 'Writing obs and var', done: 0, total: 1 });
    await writeFrame('obs', 'obs.parquet', reader.obs, selection.obsJoinids);
    // The var filter selects genes of the main measurement; raw keeps its own id space whole.
    const measurements = main !== RAW_MEASUREMENT && reader.measurements.includes(RAW_MEASUREMENT) ? [main, RAW_MEASUREMENT] : [main];
    const varRows = (m: string) => (m === main ? selection.varJoinids : allRows(reader.nVars(m)));
    for (const m of measurements) await writeFrame(`${m} var`, `ms/${m}/var.parquet`, reader.var(m), varRows(m));
    for (const name of reader.obsmNames(main)) {
      params.signal?.throwIfAborted();
      const dense = await reader.readObsm(main, name, selection.obsJoinids);
      const path = `ms/${main}/obsm/${name}.parquet`;
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      const table = denseTable(selection.obsJoinids, dense.shape, dense.values, name);
      await writeParquetFile(join(staging, path), table, { metadata });
      tables.push({ name: `${main} obsm ${name}`, path, rows: selection.obsJoinids.length, columns: table.schema.fields.map((f) => f.name) });
    }

    const layers = measurements.flatMap((m) => reader.layers(m).map((layer) => ({ m, layer })));
    for (const { m, layer } of layers) {
      const keep = m === main && selection.varJoinids.length !== reader.nVars(m) ? columnMask(selection.varJoinids, reader.nVars(m)) : null;
      const matrix = await writeCoordinateParts(reader, m, layer, selection.obsJoinids, keep, staging, maxNnz, metadata, params.signal, (rows) => {
        // Counted per matrix, in cells, as the h5ad export does.
        params.onProgress?.({ phase: `Writing ${matrixName(m === RAW_MEASUREMENT ? 'raw' : layer === X_LAYER ? 'X' : { layer })}`, done: rows, total: selection.obsJoinids.length, unit: 'cells' });
      });
      matrices.push(matrix);
    }

    const result: ParquetExportResult = {
      path: out,
      format: 'parquet',
      n_obs: selection.obsJoinids.length,
      n_vars: selection.varJoinids.length,
      tables,
      matrices,
      store: { key: storeRecord.key, version: q.version, uid: q.versionUid },
      filters: { obs: params.obs?.trim() ? params.obs : null, var: params.var?.trim() ? params.var : null },
      run: { uid: run.uid },
    };
    writeFileSync(join(staging, 'README.md'), exportReadme(result, { mainMeasurement: main, storeObs: reader.nObs, storeVars: reader.nVars(main) }));
    params.signal?.throwIfAborted();
    // The commit point. The target is checked again: something may have appeared there meanwhile.
    checkExportTarget(out);
    if (existsSync(out)) rmdirSync(out);
    renameSync(staging, out);
    staging = null;
    params.registry.finishRun(run.uid);
    return result;
  } catch (err) {
    params.registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    if (params.signal?.aborted) throw new CellarError('cancelled', 'Export cancelled; nothing was written.');
    throw err;
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
    reader.close();
  }
}

function allRows(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

function columnMask(varJoinids: Uint32Array, nVars: number): Uint8Array {
  const keep = new Uint8Array(nVars);
  for (const j of varJoinids) keep[j] = 1;
  return keep;
}

/** soma_joinid, then every stored column in its stored order, for the given rows; and the categoricals' category lists. */
function frameTable(frame: FrameReader, rows: Uint32Array): { table: Table; categories: Record<string, CategoryInfo> } {
  const vectors: Record<string, Vector> = { soma_joinid: joinidVector(rows) };
  const categories: Record<string, CategoryInfo> = {};
  for (const name of frame.columnNames) {
    const column = frame.column(name)!;
    vectors[name] = columnToVector(takeRows(column, rows));
    const info = categoryInfo(column);
    if (info) categories[name] = info;
  }
  return { table: new Table(vectors), categories };
}

/** An n × k embedding as soma_joinid plus one column per component (`pca_1` … `pca_k`). */
function denseTable(rows: Uint32Array, shape: [number, number], values: NumericArray, name: string): Table {
  const [n, k] = shape;
  const vectors: Record<string, Vector> = { soma_joinid: joinidVector(rows) };
  for (let c = 0; c < k; c++) {
    const column = new (values.constructor as Float64ArrayConstructor)(n);
    for (let r = 0; r < n; r++) column[r] = (values as Float64Array)[r * k + c]!;
    vectors[`${name}_${c + 1}`] = makeVector(column);
  }
  return new Table(vectors);
}

/** One part of a coordinate table; the three columns are required (never null). */
function coordinateTable(dim0: BigInt64Array, dim1: BigInt64Array, data: NumericArray, dtype: NumericDtype, length: number): Table {
  const fields = [new Field('soma_dim_0', arrowNumericType('int64'), false), new Field('soma_dim_1', arrowNumericType('int64'), false), new Field('soma_data', arrowNumericType(dtype), false)];
  const children = [dim0, dim1, data].map((values, i) => makeData({ type: fields[i]!.type as Int32, length, nullCount: 0, data: values.subarray(0, length) as Int32Array }));
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return new Table([batch]);
}

/**
 * Streams a layer's rows of the selected cells (ascending obs joinid) into part files of at most
 * `maxNnz` entries each; rows are never split across files, so each file is one joinid range.
 */
async function writeCoordinateParts(
  reader: StoreReader,
  measurement: string,
  layer: string,
  obsJoinids: Uint32Array,
  keep: Uint8Array | null,
  staging: string,
  maxNnz: number,
  metadata: Record<string, string>,
  signal: AbortSignal | undefined,
  onRows: (rows: number) => void,
): Promise<ParquetMatrix> {
  const dtype = reader.manifest.ms[measurement]!.X[layer]!.dtype as NumericDtype;
  const folder = `ms/${measurement}/X/${layer}`;
  mkdirSync(join(staging, folder), { recursive: true });
  const parts: ParquetPart[] = [];
  let capacity = 1024;
  let dim0 = new BigInt64Array(capacity);
  let dim1 = new BigInt64Array(capacity);
  let data = allocateTyped(dtype, capacity);
  let fill = 0;
  let firstRow = -1;
  let lastRow = -1;
  let total = 0;
  const grow = (needed: number) => {
    if (needed <= capacity) return;
    capacity = Math.max(needed, Math.min(maxNnz, capacity * 2));
    const [d0, d1, d] = [new BigInt64Array(capacity), new BigInt64Array(capacity), allocateTyped(dtype, capacity)];
    d0.set(dim0.subarray(0, fill));
    d1.set(dim1.subarray(0, fill));
    (d as Float64Array).set((data as Float64Array).subarray(0, fill));
    [dim0, dim1, data] = [d0, d1, d];
  };
  const flush = async () => {
    const path = `${folder}/part-${String(parts.length).padStart(5, '0')}.parquet`;
    await writeParquetFile(join(staging, path), coordinateTable(dim0, dim1, data, dtype, fill), { rowGroupRows: X_ROW_GROUP_ROWS, metadata, deltaColumns: X_DELTA_COLUMNS });
    parts.push({ path, obsJoinids: fill ? [firstRow, lastRow] : null, nnz: fill });
    total += fill;
    fill = 0;
    firstRow = -1;
  };
  // The low 32 bits of each int64 slot, written without making a BigInt per entry.
  const words = () => [new Uint32Array(dim0.buffer), new Uint32Array(dim1.buffer)] as const;
  let [w0, w1] = words();
  let rowsSeen = 0;
  for (const block of reader.xRowBlocks(measurement, layer, obsJoinids, { maxRows: 4096, maxEntries: 1_000_000 })) {
    signal?.throwIfAborted();
    const values = block.data as Float64Array;
    for (let r = 0; r < block.nRows; r++) {
      const from = block.indptr[r]!;
      const to = block.indptr[r + 1]!;
      let rowNnz = 0;
      if (keep) for (let i = from; i < to; i++) rowNnz += keep[block.indices[i]!]!;
      else rowNnz = to - from;
      if (fill > 0 && fill + rowNnz > maxNnz) {
        await flush();
        signal?.throwIfAborted();
      }
      const before = capacity;
      grow(fill + rowNnz);
      if (capacity !== before) [w0, w1] = words();
      const obsId = block.joinids[r]!;
      for (let i = from; i < to; i++) {
        const varId = block.indices[i]!;
        if (keep && !keep[varId]) continue;
        w0[2 * fill] = obsId;
        w1[2 * fill] = varId;
        (data as Float64Array)[fill] = values[i]!;
        fill++;
      }
      if (firstRow < 0) firstRow = obsId;
      lastRow = obsId;
    }
    rowsSeen += block.nRows;
    onRows(rowsSeen);
  }
  // An empty selection still gets one (empty) file, so a glob over the folder matches.
  if (fill > 0 || parts.length === 0) await flush();
  return { measurement, layer, path: folder, dtype, nnz: total, parts };
}

