// The store writer: adds immutable data files for one new version and commits it by
// writing its manifest (temp file, fsync, rename = the commit point, fsync the folder).
// Any failure before the rename removes every file this writer created; the versions
// already committed are never touched.
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { CsrBlock, NumericDtype } from '../columns/column-model';
import { DEFAULT_ZSTD_LEVEL, registerArrowCodecs, type StoreCodec } from './io/codecs';
import { DataFileSet } from './io/data-files';
import { writeDenseRows, type DenseArray } from './frames/dense-codec';
import { dtypeOfArray, promoteDtypes } from './format/dtypes';
import { FrameWriter, type TableSlice } from './frames/frame-writer';
import { acquireStoreLock, type StoreLock } from './format/lock';
import {
  DATA_DIR,
  MANIFEST_DIR,
  emptyManifest,
  emptyMeasurement,
  listManifestVersions,
  manifestFileName,
  readManifest,
  referencedFiles,
  type DenseEntry,
  type GraphEntry,
  type FileEntry,
  type GeneNaming,
  type LayerEntry,
  type MeasurementEntry,
  type StoreManifest,
  type XFragment,
} from './format/manifest';
import { HashingFileSink, nodeStoreFs, storeWriteError, type StoreFs } from './io/store-fs';
import { ParallelXLayerWriter, XEncodePool, defaultXEncodeSettings, type XEncodeSettings } from './x/x-parallel-writer';
import { releaseColumnScratch } from './x/x-column-writer';

/**
 * What readers of a layer get: numpy's promotion of its fragments' dtypes, except that
 * integer data mixed with floats contributes only the type its values need (stored
 * narrowly), so int32 counts next to float32 give float32, not float64. Integers alone
 * stay integers.
 */
export function layerDtype(fragments: Pick<XFragment, 'dtype' | 'storedDtype'>[]): NumericDtype | undefined {
  if (!fragments.length) return undefined;
  const isFloat = (d: NumericDtype) => d === 'float32' || d === 'float64';
  const anyFloat = fragments.some((f) => isFloat(f.dtype));
  let dtype: NumericDtype | undefined;
  for (const f of fragments) {
    const contributes = anyFloat && !isFloat(f.dtype) ? f.storedDtype : f.dtype;
    dtype = dtype === undefined ? contributes : promoteDtypes(dtype, contributes);
  }
  return dtype;
}

/** Chosen by measurement (docs/store-format.md): ZSTD level 1, 4-cell chunks. */
export const DEFAULT_X_CODEC: StoreCodec = 'zstd';
export const DEFAULT_X_CHUNK_ROWS = 4;
const MAX_FRAGMENT_ROWS = 262_144;

export interface StoreWriterOptions {
  dir: string;
  /** Version the new one builds on (its files are kept and referenced), or null for an empty store. */
  baseVersion: number | null;
  fs?: StoreFs;
  /** Names the store in messages (default: the folder name). */
  storeKey?: string;
  xCodec?: StoreCodec;
  xCodecLevel?: number;
  xChunkRows?: number;
  /** Codec for obs/var/obsm/varm files. */
  frameCodec?: StoreCodec;
  /** Also store X transposed per group of cells, for fast gene reads (default true). */
  xColumnCompanion?: boolean;
  /** How X is spread over encoding threads (x/x-parallel-writer.ts; tests force small segments). */
  xEncode?: Partial<XEncodeSettings>;
}

export interface CommitResult {
  version: number;
  manifestPath: string;
  /** Files this version added (relative to the store folder). */
  files: string[];
  bytesWritten: number;
  manifest: StoreManifest;
  /**
   * lamindb content hashes (registry/hash.ts hashFile) of the added files and the manifest, by
   * path in the store, for those hashed while written (see WrittenFile.contentHash).
   */
  contentHashes: Record<string, string>;
}

export interface StoreWriter {
  readonly dir: string;
  readonly baseVersion: number | null;
  /** obs rows: the base's plus those appended so far. */
  readonly nObs: number;
  nVars(measurement: string): number;
  /** Appends obs rows; firstJoinid must equal nObs. */
  appendObsRows(firstJoinid: number, table: TableSlice): Promise<void>;
  /** Adds or replaces whole obs columns (one value per obs row). */
  setObsColumns(table: TableSlice): Promise<void>;
  dropObsColumns(names: string[]): Promise<void>;
  appendVarRows(measurement: string, firstJoinid: number, table: TableSlice): Promise<void>;
  setVarColumns(measurement: string, table: TableSlice): Promise<void>;
  /** Adds rows to the feature presence table (columns dataset, var_joinid; see docs/store-format.md). */
  appendPresenceRows(measurement: string, table: TableSlice): Promise<void>;
  /** Records how the measurement's genes are named and matched. */
  setGeneNaming(measurement: string, naming: GeneNaming): void;
  /**
   * Appends X rows: block.rowStart is the obs joinid of its first row; column indices are var joinids.
   * With `signal`, a cancel also stops the encoding threads (and fails the commit that waits for them).
   */
  appendXRows(measurement: string, layer: string, block: CsrBlock, signal?: AbortSignal): Promise<void>;
  appendObsmRows(measurement: string, name: string, firstJoinid: number, array: DenseArray): Promise<void>;
  /** Stores a whole n_obs × k array under `name` (replacing one of that name). */
  setObsm(measurement: string, name: string, array: DenseArray): Promise<void>;
  appendVarmRows(measurement: string, name: string, firstJoinid: number, array: DenseArray): Promise<void>;
  setVarm(measurement: string, name: string, array: DenseArray): Promise<void>;
  /** Stores a whole kNN graph over every cell under `name` (replacing one of that name). */
  setObsp(measurement: string, name: string, graph: KnnGraphArrays): Promise<void>;
  commit(options?: { meta?: Record<string, unknown> }): Promise<CommitResult>;
  /** Gives up: removes this writer's files and releases the lock. */
  abort(): Promise<void>;
}

/** A kNN graph as written: row-major n_obs × k neighbour joinids and distances. */
export interface KnnGraphArrays {
  k: number;
  metric: GraphEntry['metric'];
  embedding: string;
  indices: Int32Array;
  distances: Float32Array;
}

interface DenseState {
  entry: DenseEntry;
}

function cloneMeasurement(measurement: MeasurementEntry): MeasurementEntry {
  return JSON.parse(JSON.stringify(measurement)) as MeasurementEntry;
}

export async function createStoreWriter(options: StoreWriterOptions): Promise<StoreWriter> {
  registerArrowCodecs();
  const storeFs = options.fs ?? nodeStoreFs;
  const dir = options.dir;
  const storeKey = options.storeKey ?? basename(dir);
  try {
    storeFs.mkdirp(join(dir, DATA_DIR));
    storeFs.mkdirp(join(dir, MANIFEST_DIR));
  } catch (err) {
    throw storeWriteError(err, `the folder of store ${storeKey}`);
  }
  const lock = acquireStoreLock(storeFs, dir, storeKey);
  try {
    const base = options.baseVersion === null ? null : readManifest(dir, options.baseVersion);
    return new StoreWriterImpl(options, storeFs, storeKey, lock, base);
  } catch (err) {
    lock.release();
    throw err;
  }
}

class StoreWriterImpl implements StoreWriter {
  readonly dir: string;
  readonly baseVersion: number | null;
  private readonly files: DataFileSet;
  private readonly obs: FrameWriter;
  private readonly vars = new Map<string, FrameWriter>();
  private readonly presence = new Map<string, FrameWriter>();
  private readonly measurements: Record<string, MeasurementEntry>;
  private readonly layers = new Map<string, { measurement: string; layer: string; writer: ParallelXLayerWriter }>();
  private readonly encodePool: XEncodePool | null;
  private readonly xEncode: XEncodeSettings;
  private readonly dense = new Map<string, DenseState>();
  private readonly graphs = new Map<string, { measurement: string; name: string; entry: GraphEntry }>();
  private state: 'open' | 'committed' | 'failed' = 'open';
  private readonly xCodec: StoreCodec;
  private readonly xLevel: number | undefined;
  private readonly xChunkRows: number;
  private readonly frameCodec: StoreCodec;
  private readonly columnCompanion: boolean;

  constructor(
    options: StoreWriterOptions,
    private readonly storeFs: StoreFs,
    private readonly storeKey: string,
    private readonly lock: StoreLock,
    private readonly base: StoreManifest | null,
  ) {
    this.dir = options.dir;
    this.baseVersion = options.baseVersion;
    this.xCodec = options.xCodec ?? DEFAULT_X_CODEC;
    this.xLevel = options.xCodecLevel ?? (this.xCodec === 'zstd' ? DEFAULT_ZSTD_LEVEL : undefined);
    this.xChunkRows = options.xChunkRows ?? DEFAULT_X_CHUNK_ROWS;
    if (!Number.isInteger(this.xChunkRows) || this.xChunkRows < 1) throw new CellarError('internal', 'xChunkRows must be a positive integer.');
    this.frameCodec = options.frameCodec ?? 'zstd';
    this.columnCompanion = options.xColumnCompanion ?? true;
    this.files = new DataFileSet(storeFs, this.dir, storeKey);
    this.xEncode = { ...defaultXEncodeSettings(), ...options.xEncode };
    this.encodePool = this.xEncode.threads > 0 ? new XEncodePool(this.files, this.xEncode.threads, this.xEncode.helpQueue) : null;
    const start = base ?? { ...emptyManifest(), version: 0, parentVersion: null, createdAt: '' };
    this.obs = new FrameWriter('obs', 'obs', start.obs, this.files, this.frameCodec);
    this.measurements = {};
    for (const [name, measurement] of Object.entries(start.ms)) this.measurements[name] = cloneMeasurement(measurement);
  }

  get nObs(): number {
    return this.obs.nRows;
  }

  nVars(measurement: string): number {
    return this.vars.get(measurement)?.nRows ?? this.measurements[measurement]?.var.nRows ?? 0;
  }

  private measurement(name: string): MeasurementEntry {
    this.measurements[name] ??= emptyMeasurement();
    return this.measurements[name];
  }

  private varWriter(measurement: string): FrameWriter {
    let writer = this.vars.get(measurement);
    if (!writer) {
      writer = new FrameWriter(`ms/${measurement}/var`, 'var', this.measurement(measurement).var, this.files, this.frameCodec);
      this.vars.set(measurement, writer);
    }
    return writer;
  }

  /** Runs a step; any failure aborts the whole write so no half-made version can be committed. */
  private async step<T>(what: string, action: () => T | Promise<T>): Promise<T> {
    if (this.state !== 'open') {
      throw new CellarError('internal', `The writer of store ${this.storeKey} is already ${this.state === 'committed' ? 'committed' : 'aborted after an error'}.`);
    }
    try {
      return await action();
    } catch (err) {
      this.fail();
      throw passAbort(err) ?? storeWriteError(err, `${what} of store ${this.storeKey}`);
    }
  }

  private fail(): void {
    this.state = 'failed';
    for (const { writer } of this.layers.values()) writer.abandon();
    // Stopped before the files go: no thread can open another one after the removal.
    this.encodePool?.close();
    releaseColumnScratch();
    this.files.removeAll();
    this.lock.release();
  }

  appendObsRows(firstJoinid: number, table: TableSlice): Promise<void> {
    return this.step('obs', () => this.obs.appendRows(firstJoinid, table));
  }

  setObsColumns(table: TableSlice): Promise<void> {
    return this.step('obs', () => this.obs.setColumns(table));
  }

  dropObsColumns(names: string[]): Promise<void> {
    return this.step('obs', () => this.obs.dropColumns(names));
  }

  appendVarRows(measurement: string, firstJoinid: number, table: TableSlice): Promise<void> {
    return this.step(`ms/${measurement}/var`, () => this.varWriter(measurement).appendRows(firstJoinid, table));
  }

  setVarColumns(measurement: string, table: TableSlice): Promise<void> {
    return this.step(`ms/${measurement}/var`, () => this.varWriter(measurement).setColumns(table));
  }

  appendPresenceRows(measurement: string, table: TableSlice): Promise<void> {
    return this.step(`ms/${measurement}/presence`, () => {
      let writer = this.presence.get(measurement);
      if (!writer) {
        const base = this.measurement(measurement).presence ?? { nRows: 0, columns: [] };
        writer = new FrameWriter(`ms/${measurement}/presence`, 'presence', base, this.files, this.frameCodec);
        this.presence.set(measurement, writer);
      }
      writer.appendRows(writer.nRows, table);
    });
  }

  setGeneNaming(measurement: string, naming: GeneNaming): void {
    this.measurement(measurement).genes = { ...naming };
  }

  appendXRows(measurement: string, layer: string, block: CsrBlock, signal?: AbortSignal): Promise<void> {
    return this.step(`ms/${measurement}/X/${layer}`, () => {
      const key = JSON.stringify([measurement, layer]);
      let entry = this.layers.get(key);
      if (!entry) {
        const options = { codec: this.xCodec, level: this.xLevel, chunkRows: this.xChunkRows, maxFragmentRows: MAX_FRAGMENT_ROWS, columnCompanion: this.columnCompanion };
        const writer = new ParallelXLayerWriter(`ms/${measurement}/X/${layer}`, this.files, options, this.encodePool, this.xEncode);
        entry = { measurement, layer, writer };
        this.layers.set(key, entry);
      }
      return entry.writer.append(block, signal);
    });
  }

  private denseState(measurement: string, kind: 'obsm' | 'varm', name: string): { key: string; state: DenseState | undefined } {
    const key = JSON.stringify([measurement, kind, name]);
    let state = this.dense.get(key);
    if (!state) {
      const existing = this.measurements[measurement]?.[kind][name];
      if (existing) {
        state = { entry: JSON.parse(JSON.stringify(existing)) as DenseEntry };
        this.dense.set(key, state);
      }
    }
    return { key, state };
  }

  private writeDense(measurement: string, kind: 'obsm' | 'varm', name: string, firstRow: number, array: DenseArray, replace: boolean): void {
    const label = `ms/${measurement}/${kind}/${name}`;
    const { key, state } = this.denseState(measurement, kind, name);
    const [, k] = array.shape;
    if (!replace && state) {
      if (state.entry.nCols !== k) {
        throw new CellarError('shape_mismatch', `${label} has ${state.entry.nCols} columns in the store; the new rows have ${k}.`);
      }
      const covered = state.entry.pieces.reduce((end, piece) => Math.max(end, piece.rowStart + piece.nRows), 0);
      if (firstRow < covered) throw new CellarError('shape_mismatch', `${label}: rows from ${firstRow} are already stored.`);
    }
    const piece = writeDenseRows(this.files, kind, this.frameCodec, undefined, firstRow, array);
    const pieceDtype = dtypeOfArray(array.values);
    if (replace || !state) {
      this.dense.set(key, { entry: { dtype: pieceDtype, nCols: k, pieces: [piece] } });
    } else {
      state.entry.dtype = promoteDtypes(state.entry.dtype, pieceDtype);
      state.entry.pieces.push(piece);
    }
  }

  appendObsmRows(measurement: string, name: string, firstJoinid: number, array: DenseArray): Promise<void> {
    return this.step(`ms/${measurement}/obsm/${name}`, () => this.writeDense(measurement, 'obsm', name, firstJoinid, array, false));
  }

  setObsm(measurement: string, name: string, array: DenseArray): Promise<void> {
    return this.step(`ms/${measurement}/obsm/${name}`, () => {
      if (array.shape[0] !== this.nObs) {
        throw new CellarError('shape_mismatch', `The embedding ${name} has ${array.shape[0]} rows; the store has ${this.nObs} cells.`);
      }
      this.writeDense(measurement, 'obsm', name, 0, array, true);
    });
  }

  appendVarmRows(measurement: string, name: string, firstJoinid: number, array: DenseArray): Promise<void> {
    return this.step(`ms/${measurement}/varm/${name}`, () => this.writeDense(measurement, 'varm', name, firstJoinid, array, false));
  }

  setVarm(measurement: string, name: string, array: DenseArray): Promise<void> {
    return this.step(`ms/${measurement}/varm/${name}`, () => {
      if (array.shape[0] !== this.nVars(measurement)) {
        throw new CellarError('shape_mismatch', `varm ${name} has ${array.shape[0]} rows; measurement ${measurement} has ${this.nVars(measurement)} vars.`);
      }
      this.writeDense(measurement, 'varm', name, 0, array, true);
    });
  }

  setObsp(measurement: string, name: string, graph: KnnGraphArrays): Promise<void> {
    return this.step(`ms/${measurement}/obsp/${name}`, () => {
      const n = this.nObs;
      const { k } = graph;
      if (!Number.isInteger(k) || k < 1 || graph.indices.length !== n * k || graph.distances.length !== n * k) {
        throw new CellarError('shape_mismatch', `The graph ${name} needs ${n} × ${k} neighbours and distances; got ${graph.indices.length} and ${graph.distances.length} values.`);
      }
      for (let i = 0; i < graph.indices.length; i++) {
        const j = graph.indices[i]!;
        if (j < -1 || j >= n) throw new CellarError('shape_mismatch', `The graph ${name} names cell ${j}; the store has ${n} cells.`);
      }
      const indices = writeDenseRows(this.files, 'obsp', this.frameCodec, undefined, 0, { shape: [n, k], values: graph.indices });
      const distances = writeDenseRows(this.files, 'obsp', this.frameCodec, undefined, 0, { shape: [n, k], values: graph.distances });
      this.graphs.set(JSON.stringify([measurement, name]), {
        measurement,
        name,
        entry: { kind: 'knn', k, metric: graph.metric, embedding: graph.embedding, indices: { dtype: 'int32', nCols: k, pieces: [indices] }, distances: { dtype: 'float32', nCols: k, pieces: [distances] } },
      });
    });
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.fail();
  }

  /** Assembles the new manifest from the base and everything written. */
  private buildManifest(version: number, meta: Record<string, unknown>, layerFragments: XFragment[][]): StoreManifest {
    const obs = this.obs.finish();
    for (const [name, writer] of this.vars) this.measurement(name).var = writer.finish();
    for (const [name, writer] of this.presence) this.measurement(name).presence = writer.finish();
    for (const [i, { measurement, layer }] of [...this.layers.values()].entries()) {
      const fragments = layerFragments[i]!;
      const target = this.measurement(measurement);
      const existing: LayerEntry | undefined = target.X[layer];
      const all = [...(existing?.fragments ?? []), ...fragments];
      const dtype = layerDtype(all);
      if (!dtype) continue;
      target.X[layer] = { dtype, nnz: all.reduce((sum, f) => sum + f.nnz, 0), fragments: all };
    }
    for (const [key, state] of this.dense) {
      const [measurement, kind, name] = JSON.parse(key) as [string, 'obsm' | 'varm', string];
      this.measurement(measurement)[kind][name] = state.entry;
    }
    // A graph inherited from the base describes the base's cells only: once cells are appended
    // it no longer is a graph of this version, so it is left out (and recomputed on demand).
    if (this.base && obs.nRows !== this.base.obs.nRows) for (const m of Object.values(this.measurements)) delete m.obsp;
    for (const { measurement, name, entry } of this.graphs.values()) (this.measurement(measurement).obsp ??= {})[name] = entry;
    this.validate(obs.nRows);
    const manifest: StoreManifest = {
      ...emptyManifest(),
      version,
      parentVersion: this.baseVersion,
      createdAt: new Date().toISOString(),
      meta,
      obs,
      ms: this.measurements,
    };
    manifest.encodings = encodingsOf(manifest);
    const baseFiles = this.base?.files ?? {};
    for (const name of referencedFiles(manifest)) {
      const entry: FileEntry | undefined = this.files.entries.get(name) ?? baseFiles[name];
      if (!entry) throw new CellarError('internal', `Store file ${name} is referenced but was never written.`);
      manifest.files[name] = entry;
    }
    return manifest;
  }

  private validate(nObs: number): void {
    for (const [name, measurement] of Object.entries(this.measurements)) {
      const nVars = measurement.var.nRows;
      for (const [layer, entry] of Object.entries(measurement.X)) {
        const fragments: XFragment[] = [...entry.fragments].sort((a, b) => a.rowStart - b.rowStart);
        let end = 0;
        for (const fragment of fragments) {
          if (fragment.rowStart < end) throw new CellarError('shape_mismatch', `ms/${name}/X/${layer}: obs row ${fragment.rowStart} is written twice.`);
          end = fragment.rowStart + fragment.nRows;
          if (end > nObs) throw new CellarError('shape_mismatch', `ms/${name}/X/${layer} has rows up to ${end - 1} but obs has ${nObs} rows.`);
          if (fragment.nCols > nVars) throw new CellarError('shape_mismatch', `ms/${name}/X/${layer} has ${fragment.nCols} columns but var has ${nVars} rows.`);
        }
      }
      for (const [kind, limit] of [['obsm', nObs], ['varm', nVars]] as const) {
        for (const [key, entry] of Object.entries(measurement[kind])) {
          for (const piece of entry.pieces) {
            if (piece.rowStart + piece.nRows > limit) {
              throw new CellarError('shape_mismatch', `ms/${name}/${kind}/${key} has rows up to ${piece.rowStart + piece.nRows - 1} but ${kind === 'obsm' ? 'obs' : 'var'} has ${limit} rows.`);
            }
          }
        }
      }
    }
  }

  commit(options: { meta?: Record<string, unknown> } = {}): Promise<CommitResult> {
    let renamed = false;
    const run = async (): Promise<CommitResult> => {
      // The encoding threads' last fragments, then the threads go.
      const layerFragments: XFragment[][] = [];
      for (const { writer } of this.layers.values()) layerFragments.push(await writer.finish());
      this.encodePool?.close();
      releaseColumnScratch();
      const versions = listManifestVersions(this.dir);
      const version = (versions.length ? versions[versions.length - 1] : 0) + 1;
      const manifest = this.buildManifest(version, options.meta ?? {}, layerFragments);
      // Files made and then replaced within this write are not part of any version.
      for (const name of this.files.created) {
        if (!(name in manifest.files)) this.removeQuietly(name);
      }
      // Every data file the manifest names is on disk before the manifest is.
      await this.files.allSynced();
      this.storeFs.fsyncDir(join(this.dir, DATA_DIR));
      const finalName = join(MANIFEST_DIR, manifestFileName(version));
      const tempName = join(MANIFEST_DIR, `.${manifestFileName(version)}.${randomBytes(6).toString('hex')}.tmp`);
      this.files.created.push(tempName);
      const sink = new HashingFileSink(this.storeFs, join(this.dir, tempName));
      let manifestHash: string | null = null;
      try {
        sink.write(Buffer.from(JSON.stringify(manifest, null, 1)));
        manifestHash = sink.finish().contentHash;
      } catch (err) {
        sink.abandon();
        throw err;
      }
      if (this.storeFs.exists(join(this.dir, finalName))) {
        throw new CellarError('locked', `Store ${this.storeKey} gained version ${version} while this write was running.`);
      }
      this.storeFs.rename(join(this.dir, tempName), join(this.dir, finalName));
      renamed = true;
      this.state = 'committed';
      try {
        this.storeFs.fsyncDir(join(this.dir, MANIFEST_DIR));
      } finally {
        this.lock.release();
      }
      const added = this.files.created.filter((name) => name in manifest.files);
      const contentHashes: Record<string, string> = {};
      for (const name of added) {
        const hash = this.files.contentHashes.get(name);
        if (hash) contentHashes[name] = hash;
      }
      // Keyed as versionStats names the manifest (forward slashes on every platform, like the data files).
      if (manifestHash) contentHashes[`${MANIFEST_DIR}/${manifestFileName(version)}`] = manifestHash;
      return { version, manifestPath: join(this.dir, finalName), files: added, bytesWritten: this.files.bytesWritten, manifest, contentHashes };
    };
    if (this.state !== 'open') {
      return Promise.reject(new CellarError('internal', `The writer of store ${this.storeKey} is already ${this.state === 'committed' ? 'committed' : 'aborted after an error'}.`));
    }
    return run().catch((err: unknown) => {
      // After the rename the version exists: its files must stay.
      if (!renamed) this.fail();
      throw passAbort(err) ?? storeWriteError(err, renamed ? `the manifest folder of store ${this.storeKey}` : `the new version of store ${this.storeKey}`);
    });
  }

  private removeQuietly(name: string): void {
    try {
      this.storeFs.unlink(join(this.dir, name));
    } catch {
      // verify --fix removes leftovers.
    }
  }
}

/** A cancel stays a cancel (the caller reports it as such), not a failed write. */
function passAbort(err: unknown): Error | null {
  return err instanceof Error && err.name === 'AbortError' ? err : null;
}

function encodingsOf(manifest: StoreManifest): string[] {
  const found = new Set<string>(['arrow-ipc-file']);
  const frames = [manifest.obs, ...Object.values(manifest.ms).map((m) => m.var)];
  for (const frame of frames) {
    for (const column of frame.columns) {
      if (column.dtype === 'category') found.add('dictionary-int32');
      if (column.convertedFrom) found.add('category-as-string');
    }
  }
  for (const measurement of Object.values(manifest.ms)) {
    for (const layer of Object.values(measurement.X)) {
      for (const fragment of layer.fragments) {
        found.add(`csr-row-chunks/${fragment.indexEncoding}-${fragment.indexDtype}`);
        found.add(`codec/${fragment.codec}`);
        if (fragment.storedDtype !== fragment.dtype) found.add(`narrow-values/${fragment.dtype}-as-${fragment.storedDtype}`);
      }
    }
    if (Object.keys(measurement.obsm).length || Object.keys(measurement.varm).length || Object.keys(measurement.obsp ?? {}).length) found.add('dense-fixed-size-list');
  }
  return [...found].sort();
}
