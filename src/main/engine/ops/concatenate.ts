// Concatenate a collection of h5ad artifacts into a new store (SPEC §4): plan from
// metadata, then stream obs, var, X / layers / raw.X row blocks (var indices
// remapped per block) and obsm into the store writer, commit, register.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import type { ArtifactRecord } from '../../../shared/registry-types';
import { newArtifactUid } from '../../registry/uid';
import { openDataset } from '../formats/open-dataset';
import type { DatasetFile } from '../formats/source';
import type { Column, CsrBlock, DataFrame, NumericArray } from '../columns/column-model';
import type { DenseHandle, H5adFile, MatrixHandle } from '../formats/h5ad/types';
import { createStoreWriter, type StoreWriter } from '../store/store-writer';
import type { StoreFs } from '../store/io/store-fs';
import { convertColumn, naColumn, takeRows } from '../columns/conversions';
import { describeDataset, planConcatenation, planSummary, type ConcatPlan, type DatasetInfo, type FramePlan, type IdSpace } from './plan';
import type { ProgressFn } from './progress';
import { commitStoreVersion } from './commit-version';
import { storesDir } from './store-records';
import { reconcileOrphanStores } from './reconcile';
import { concatenationMessage } from '../../../shared/version-message';

export const X_LAYER = 'data';
export const RAW_MEASUREMENT = 'raw';

export interface ConcatParams {
  registry: Registry;
  home: string;
  collectionKey: string;
  storeKey: string;
  measurement?: string;
  makeUnique?: boolean;
  /** Gene matching (plan.ts matchVarIds): exact ids or Ensembl ids without versions; outer or inner join; the symbol column. */
  matchGenes?: 'exact' | 'unversioned';
  join?: 'outer' | 'inner';
  symbolColumn?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** File-writing layer of the store (tests inject failures here). */
  fs?: StoreFs;
  /** Test hook: called at named points of the write, to crash or fail there. */
  checkpoint?: (name: string) => void | Promise<void>;
}

export interface StoreResultJson {
  store: { uid: string; key: string; version: number; n_observations: number; n_vars: number };
  run: { uid: string };
}

export type ConcatResult = { plan: ReturnType<typeof planSummary> } | (StoreResultJson & { plan: ReturnType<typeof planSummary> });

/**
 * A member deleted (with --force) or whose file is gone cannot be read: say which, by its
 * key, and how to take it out of the collection.
 */
export function checkMembersPresent(members: ArtifactRecord[], collectionKey: string): void {
  const gone = members.filter((m) => m.deletedAt !== null || !existsSync(m.storagePath));
  if (!gone.length) return;
  const problems = gone.map((m) =>
    m.deletedAt !== null
      ? `${m.key} (uid ${m.uid}) was deleted on ${m.deletedAt}; remove it with: cellar collection remove ${collectionKey} ${m.key}`
      : `${m.key} (uid ${m.uid}): its file ${m.storagePath} is missing${m.isLink ? ' (it was linked in place and has moved or been deleted)' : ''}; restore the file, or remove it with: cellar collection remove ${collectionKey} ${m.key}`,
  );
  const names = gone.map((m) => m.key).join(', ');
  throw new CellarError('not_found', `The collection ${collectionKey} has ${gone.length === 1 ? 'a member that is' : `${gone.length} members that are`} gone: ${names}.`, problems);
}

/**
 * Member files kept open from reading their tables for the plan to copying them, so that each
 * is opened, and its obs and var read, once rather than two or three times (about 20 ms a file
 * at 5,000 cells, more with more cells). Only .h5ad files, whose tables are read when the file
 * opens and whose matrices are read when asked, and only for collections of at most
 * MAX_OPEN_MEMBERS files: an open file holds HDF5's caches (about 8 MB for a 100,000-cell file),
 * and for many files the saving is a small part of the copy. closeAll() must follow, whatever
 * happened.
 */
export class OpenMembers {
  static readonly MAX_OPEN_MEMBERS = 8;
  private readonly files = new Map<string, DatasetFile>();

  /** Keeps `file` open for later use() of `path`; false when it is not kept (the caller closes it). */
  keep(path: string, file: DatasetFile): boolean {
    if (file.format !== 'h5ad' || this.files.size >= OpenMembers.MAX_OPEN_MEMBERS || this.files.has(path)) return false;
    this.files.set(path, file);
    return true;
  }

  /** Runs `use` on the file at `path`: the kept one, or one opened for the call and closed after it. */
  async use<T>(path: string, use: (file: DatasetFile) => T | Promise<T>): Promise<T> {
    const kept = this.files.get(path);
    if (kept) return use(kept);
    const file = await openDataset(path);
    try {
      return await use(file);
    } finally {
      file.close();
    }
  }

  get size(): number {
    return this.files.size;
  }

  closeAll(): void {
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }
}

/** Opens every member and reads its metadata; each file is closed again unless `keepOpen` keeps it (collections of up to MAX_OPEN_MEMBERS files). */
export async function describeMembers(members: ArtifactRecord[], params: Pick<ConcatParams, 'signal' | 'onProgress'> & { collectionKey?: string; keepOpen?: OpenMembers } = {}): Promise<DatasetInfo[]> {
  checkMembersPresent(members, params.collectionKey ?? 'the collection');
  const keepOpen = members.length <= OpenMembers.MAX_OPEN_MEMBERS ? params.keepOpen : undefined;
  const out: DatasetInfo[] = [];
  for (const [i, member] of members.entries()) {
    params.signal?.throwIfAborted();
    // Counted as the file being read (1 of 4), as a user reads the line.
    params.onProgress?.({ phase: `Reading the cell and gene tables of ${member.key}`, done: i + 1, total: members.length });
    const file = await openDataset(member.storagePath);
    let kept = false;
    try {
      out.push(describeDataset(member.key, file, member.uid));
      kept = keepOpen?.keep(member.storagePath, file) ?? false;
    } finally {
      if (!kept) file.close();
    }
  }
  return out;
}

export async function concatenateCollection(params: ConcatParams): Promise<ConcatResult> {
  const files = new OpenMembers();
  try {
    return await concatenateWith(params, files);
  } finally {
    files.closeAll();
  }
}

async function concatenateWith(params: ConcatParams, files: OpenMembers): Promise<ConcatResult> {
  const { registry } = params;
  const collection = registry.getCollection(params.collectionKey);
  if (!collection.members.length) throw new CellarError('usage', `The collection ${collection.key} has no files; import some first.`);
  // A store committed by a writer that died before registering it still owns its key.
  await reconcileOrphanStores(registry, params.home);
  if (registry.findArtifact(params.storeKey) || registry.findCollection(params.storeKey)) {
    throw new CellarError('already_exists', `The key ${params.storeKey} is already used; append to that store or choose another key.`);
  }
  const runInput = { transform: 'concatenate', inputCollections: [collection.uid], inputArtifacts: collection.members.map((m) => m.uid) };
  let datasets: DatasetInfo[];
  try {
    datasets = await describeMembers(collection.members, { collectionKey: collection.key, signal: params.signal, onProgress: params.onProgress, keepOpen: files });
    params.signal?.throwIfAborted();
  } catch (err) {
    // Cancelled before anything was written: lineage still shows the run the user stopped.
    if (params.signal?.aborted && !params.dryRun) {
      const run = registry.startRun({ ...runInput, params: { collection: collection.key, store: params.storeKey, makeUnique: !!params.makeUnique } });
      registry.failRun(run.uid, `The concatenation into ${params.storeKey} was cancelled while reading the files; nothing was written.`, 'cancelled');
    }
    throw err;
  }
  // A store without a single cell has no X layer to query or embed: refuse it up front.
  if (datasets.every((d) => d.nObs === 0)) {
    const files = datasets.map((d) => d.label).join(', ');
    throw new CellarError('preflight_failed', `The collection ${collection.key} has no cells (${files}: 0 cells), so it cannot be concatenated into a store; nothing was written. Add files with cells to it first.`);
  }
  const plan = planConcatenation(datasets, { measurement: params.measurement, makeUnique: params.makeUnique, matchGenes: params.matchGenes, join: params.join, symbolColumn: params.symbolColumn });
  const summary = planSummary(plan);
  if (params.dryRun) return { plan: summary };
  if (plan.problems.length) {
    throw new CellarError('preflight_failed', `The collection ${collection.key} cannot be concatenated as it is (${plan.problems.length} problem${plan.problems.length > 1 ? 's' : ''}).`, plan.problems);
  }

  const run = registry.startRun({ ...runInput, params: { collection: collection.key, store: params.storeKey, measurement: plan.measurement, makeUnique: !!params.makeUnique, matchGenes: plan.genes.naming.match, join: plan.genes.naming.join, symbolColumn: plan.genes.naming.symbolColumn } });
  const { uid, stem } = newArtifactUid();
  const dir = join(storesDir(params.home), stem);
  let committed = false;
  try {
    mkdirSync(storesDir(params.home), { recursive: true });
    const writer = await createStoreWriter({ dir, baseVersion: null, fs: params.fs, storeKey: params.storeKey });
    try {
      await writeDatasets(writer, plan, collection.members, run.uid, 0, { ...params, openMembers: files });
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const { stats, registered: artifact } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta: { runUid: run.uid, transform: 'concatenate', storeKey: params.storeKey, storeUid: uid, datasets: datasetMeta(collection.members, 0) },
      message: concatenationMessage(collection.members.length, plan.nObs, plan.varIds.ids.length),
      measurement: plan.measurement,
      checkpoint: params.checkpoint,
      onSaving: () => params.onProgress?.({ phase: `Saving the store ${params.storeKey}`, done: 0, total: 1 }),
      signal: params.signal,
      onCommitted: (kept) => (committed = kept),
      register: (version) => registry.registerArtifact({ uid, key: params.storeKey, suffix: '', kind: 'store', ...version }).artifact,
    });
    return {
      plan: summary,
      store: { uid: artifact.uid, key: artifact.key, version: artifact.version, n_observations: stats.nObs, n_vars: stats.nVars },
      run: { uid: run.uid },
    };
  } catch (err) {
    // A first write that did not commit (or was cancelled before anything named it) leaves a
    // folder nobody can have read: it goes with the run.
    if (!committed) rmSync(dir, { recursive: true, force: true });
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), params.signal?.aborted ? 'cancelled' : 'failed');
    throw err;
  }
}

/** What writing needs to know of a member file. */
export type MemberFile = Pick<ArtifactRecord, 'uid' | 'key' | 'hash' | 'storagePath'>;

export function datasetMeta(members: MemberFile[], firstPosition: number): { position: number; uid: string; key: string; hash: string }[] {
  return members.map((m, i) => ({ position: firstPosition + i, uid: m.uid, key: m.key, hash: m.hash }));
}

/**
 * Streams every dataset into the writer: obs rows (with obs_id, dataset and
 * cellar_run_uid), new var rows, X / layers / raw.X blocks and obsm rows.
 * `firstPosition` numbers the datasets after those already in the store (append).
 */
export async function writeDatasets(
  writer: StoreWriter,
  plan: ConcatPlan,
  members: MemberFile[],
  runUid: string,
  firstPosition: number,
  params: Pick<ConcatParams, 'signal' | 'onProgress' | 'checkpoint'> & { openMembers?: OpenMembers },
  varBase?: VarBase,
): Promise<void> {
  const measurement = plan.measurement;
  const files = params.openMembers ?? new OpenMembers();
  // Counted in cells: each cell's values are copied once per matrix (X, layers, raw).
  const totalRows = plan.nObs * (1 + plan.layers.length + (plan.raw?.X ? 1 : 0));
  let rowsDone = 0;
  const progress = (phase: string, rows: number) => {
    rowsDone += rows;
    params.onProgress?.({ phase, done: rowsDone, total: totalRows, unit: 'cells' });
  };
  const fileNo = (d: number) => (members.length > 1 ? `, file ${d + 1} of ${members.length}` : '');
  params.onProgress?.({ phase: 'Writing the gene table', done: 0, total: totalRows, unit: 'said' });

  // var first: new genes in first-seen order, values taken from the dataset that introduced them.
  await writeVar(writer, measurement, plan.var, plan.varIds, members, files, 'var', varBase?.main);
  writer.setGeneNaming(measurement, plan.genes.naming);
  if (plan.raw) await writeVar(writer, RAW_MEASUREMENT, plan.raw.var, plan.raw.varIds, members, files, 'raw.var', varBase?.raw);

  for (const [d, member] of members.entries()) {
    params.signal?.throwIfAborted();
    await files.use(member.storagePath, async (file) => {
      const offset = writer.nObs;
      if (offset !== (varBase?.obsOffset ?? 0) + plan.obsOffsets[d]!) throw new CellarError('internal', 'obs rows went out of step while writing.');
      const obsTable = convertFrame(file.obs, plan.obs, d, `${member.key} obs`);
      const n = file.nObs;
      obsTable.push({ name: 'obs_id', column: { kind: 'string', values: plan.obsIds.slice(plan.obsOffsets[d]!, plan.obsOffsets[d + 1]!) } });
      obsTable.push({ name: 'dataset', column: { kind: 'numeric', dtype: 'int32', values: new Int32Array(n).fill(firstPosition + d) } });
      obsTable.push({ name: 'cellar_run_uid', column: { kind: 'category', codes: new Int32Array(n), categories: { kind: 'string', values: [runUid] }, ordered: false } });
      await writer.appendObsRows(offset, { columns: obsTable, nRows: n });

      const remap = plan.varIds.localToGlobal[d]!;
      if (plan.genes.recordPresence) await writer.appendPresenceRows(measurement, presenceRows(firstPosition + d, remap));
      // An inner join leaves some of the file's genes out (remapped to -1): their entries are dropped first.
      const kept = (matrix: MatrixHandle) => (remap.includes(-1) ? withoutColumns(matrix, remap) : matrix);
      progress(`Copying the expression values of ${member.key}${fileNo(d)}`, 0);
      await copyMatrix(writer, measurement, X_LAYER, kept(file.X!), offset, remap, params, (rows) => progress(`Copying the expression values of ${member.key}${fileNo(d)}`, rows));
      for (const layer of plan.layers) {
        // Append: a file without a layer the store has leaves its cells without entries there.
        if (!file.layers.has(layer)) continue;
        await copyMatrix(writer, measurement, layer, kept(file.layers.get(layer)!), offset, remap, params, (rows) => progress(`Copying the layer ${layer} of ${member.key}${fileNo(d)}`, rows));
      }
      if (plan.raw?.X && file.raw?.X) {
        await copyMatrix(writer, RAW_MEASUREMENT, X_LAYER, file.raw.X, offset, plan.raw.varIds.localToGlobal[d]!, params, (rows) => progress(`Copying the raw counts of ${member.key}${fileNo(d)}`, rows));
      }
      for (const { name } of plan.obsm) {
        const handle = file.obsm.get(name) as DenseHandle;
        const values = handle.read() as NumericArray;
        await writer.appendObsmRows(measurement, name, offset, { shape: [handle.shape[0]!, handle.shape[1]!], values: toFloat(values) });
      }
      await params.checkpoint?.(`after-dataset-${d}`);
    });
  }
  if (plan.varm.length) await writeVarm(writer, plan.measurement, plan.varm, plan.varIds, members, files, (file) => file.varm);
  if (plan.raw?.varm?.length) await writeVarm(writer, RAW_MEASUREMENT, plan.raw.varm, plan.raw.varIds, members, files, (file) => file.raw!.varm);
}

/** The presence table's rows for one dataset: every var joinid it measured, ascending. */
function presenceRows(dataset: number, remap: Int32Array): { columns: { name: string; column: Column }[]; nRows: number } {
  const joinids = Int32Array.from(remap.filter((g) => g >= 0)).sort();
  return {
    nRows: joinids.length,
    columns: [
      { name: 'dataset', column: { kind: 'numeric', dtype: 'int32', values: new Int32Array(joinids.length).fill(dataset) } },
      { name: 'var_joinid', column: { kind: 'numeric', dtype: 'int32', values: joinids } },
    ],
  };
}

/**
 * The matrix without the columns `remap` sends to -1, so the copy only sees kept genes. Column
 * numbers stay the file's; a dropped column's entries are left out of indptr, indices and data.
 */
function withoutColumns(matrix: MatrixHandle, remap: Int32Array): MatrixHandle {
  return {
    ...matrix,
    async *rowBlocks(options) {
      for await (const block of matrix.rowBlocks(options)) {
        const indptr = new Float64Array(block.nRows + 1);
        const indices = new Int32Array(block.indices.length);
        const data = new (block.data.constructor as new (n: number) => NumericArray)(block.data.length);
        let k = 0;
        for (let r = 0; r < block.nRows; r++) {
          for (let i = Number(block.indptr[r]); i < Number(block.indptr[r + 1]); i++) {
            const c = block.indices[i]!;
            if (remap[c]! < 0) continue;
            indices[k] = c;
            (data as Float64Array)[k] = (block.data as Float64Array)[i]!;
            k++;
          }
          indptr[r + 1] = k;
        }
        yield { ...block, indptr, indices: indices.subarray(0, k), data: data.subarray(0, k) as NumericArray };
      }
    },
  };
}

/** Where var joinids continue from (append): existing ids and their count per measurement. */
export interface VarBase {
  obsOffset: number;
  main: { existing: number };
  raw?: { existing: number };
}

function convertFrame(frame: DataFrame, fp: FramePlan, d: number, where: string): { name: string; column: Column }[] {
  const byName = new Map(frame.columns.map((c) => [c.name, c.column]));
  return fp.fields.map((field, i) => {
    const source = fp.sources[d]![i]!;
    const column = byName.get(source.sourceName);
    // A column the dataset lacks (append --fill-missing) is all NA.
    if (!column) return { name: field.name, column: naColumn(field, frame.index.length) };
    return { name: field.name, column: convertColumn(column, field, `${where}/${source.sourceName}`) };
  });
}

async function writeVar(writer: StoreWriter, measurement: string, fp: FramePlan, ids: IdSpace, members: MemberFile[], files: OpenMembers, element: string, base?: { existing: number }): Promise<void> {
  const existing = base?.existing ?? 0;
  // Genes new to the store, grouped by the dataset that introduced them (first-seen order).
  for (const [d, member] of members.entries()) {
    const locals: number[] = [];
    for (let g = existing; g < ids.ids.length; g++) if (ids.firstDataset[g] === d) locals.push(ids.firstLocal[g]!);
    if (!locals.length) continue;
    await files.use(member.storagePath, async (file) => {
      const frame = element === 'raw.var' ? file.raw!.var : file.var;
      const idx = Int32Array.from(locals);
      const columns = convertFrame(frame, fp, d, `${member.key} ${element}`).map(({ name, column }) => ({ name, column: takeRows(column, idx) }));
      columns.push({ name: 'var_id', column: { kind: 'string', values: locals.map((l) => frame.index[l]!) } });
      await writer.appendVarRows(measurement, writer.nVars(measurement), { columns, nRows: locals.length });
    });
  }
}

/** varm rows per unified gene, taken from the dataset that introduced the gene. */
async function writeVarm(writer: StoreWriter, measurement: string, entries: { name: string; width: number }[], ids: IdSpace, members: MemberFile[], files: OpenMembers, varmOf: (file: H5adFile) => H5adFile['varm']): Promise<void> {
  const nGenes = ids.ids.length;
  for (const { name, width } of entries) {
    const perDataset: NumericArray[] = [];
    for (const member of members) {
      perDataset.push(await files.use(member.storagePath, (file) => (varmOf(file).get(name) as DenseHandle).read() as NumericArray));
    }
    // float32 everywhere stays float32; anything else is stored as float64.
    const out = perDataset.every((v) => v instanceof Float32Array) ? new Float32Array(nGenes * width) : new Float64Array(nGenes * width);
    for (const [d, values] of perDataset.entries()) {
      for (let g = 0; g < nGenes; g++) {
        if (ids.firstDataset[g] !== d) continue;
        const local = ids.firstLocal[g]!;
        for (let k = 0; k < width; k++) out[g * width + k] = Number(values[local * width + k]);
      }
    }
    await writer.setVarm(measurement, name, { shape: [nGenes, width], values: out });
  }
}

function toFloat(values: NumericArray): Float32Array | Float64Array {
  if (values instanceof Float32Array || values instanceof Float64Array) return values;
  return Float64Array.from(values as ArrayLike<number | bigint>, Number);
}

/** Copies a matrix in row blocks, remapping column indices to var joinids and re-sorting each row. */
export async function copyMatrix(
  writer: StoreWriter,
  measurement: string,
  layer: string,
  matrix: MatrixHandle,
  obsOffset: number,
  remap: Int32Array,
  params: Pick<ConcatParams, 'signal'>,
  onRows: (rows: number) => void,
): Promise<void> {
  let order = new Int32Array(0);
  // The store writer copies what it keeps, so one pair of remap buffers serves every block.
  let remapped = new Int32Array(0);
  let sortedData: NumericArray | null = null;
  const identity = isIdentityRemap(remap);
  for await (const block of matrix.rowBlocks({ maxEntries: 4_000_000, signal: params.signal })) {
    params.signal?.throwIfAborted();
    const nnz = block.indices.length;
    // A block whose columns keep their numbers goes as is.
    let indices = block.indices;
    let data = block.data;
    if (!identity) {
      if (remapped.length < nnz) {
        remapped = new Int32Array(nnz);
        order = new Int32Array(nnz);
      }
      if (!sortedData || sortedData.length < nnz || sortedData.constructor !== data.constructor) sortedData = new (data.constructor as new (n: number) => NumericArray)(remapped.length);
      indices = remapped.subarray(0, nnz);
      for (let i = 0; i < nnz; i++) indices[i] = remap[block.indices[i]!]!;
      data = sortRowsByColumn(block, indices, order, sortedData.subarray(0, nnz));
    }
    const out: CsrBlock = { rowStart: obsOffset + block.rowStart, nRows: block.nRows, nCols: writer.nVars(measurement), indptr: block.indptr, indices, data };
    await writer.appendXRows(measurement, layer, out, params.signal);
    onRows(block.nRows);
  }
}

const identityCache = new WeakMap<Int32Array, boolean>();
function isIdentityRemap(remap: Int32Array): boolean {
  let known = identityCache.get(remap);
  if (known === undefined) {
    known = remap.every((v, i) => v === i);
    identityCache.set(remap, known);
  }
  return known;
}

/** Sorts each row's (index, value) pairs by index in place of `indices`; the reordered data goes to `out`. */
function sortRowsByColumn(block: CsrBlock, indices: Int32Array, order: Int32Array, out: NumericArray): NumericArray {
  const data = block.data;
  for (let r = 0; r < block.nRows; r++) {
    const start = Number(block.indptr[r]);
    const end = Number(block.indptr[r + 1]);
    let sorted = true;
    for (let i = start + 1; i < end; i++) if (indices[i - 1]! > indices[i]!) { sorted = false; break; }
    if (sorted) {
      for (let i = start; i < end; i++) (out as Float32Array)[i] = (data as Float32Array)[i]!;
      continue;
    }
    const len = end - start;
    const idx = order.subarray(0, len);
    for (let i = 0; i < len; i++) idx[i] = start + i;
    idx.sort((a, b) => indices[a]! - indices[b]!);
    const tmp = Int32Array.from(idx, (p) => indices[p]!);
    for (let i = 0; i < len; i++) (out as Float32Array)[start + i] = (data as Float32Array)[idx[i]!]!;
    indices.set(tmp, start);
  }
  return out;
}

export type { H5adFile };
