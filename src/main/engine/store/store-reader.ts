// Opening a store version reads only its manifest; columns, X chunks and embeddings are
// read on demand from the files that version names.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, type Data, type Table } from 'apache-arrow';
import { CellarError } from '../../../shared/errors';
import type { Column } from '../columns/column-model';
import { registerArrowCodecs } from './io/codecs';
import { readDense, type DenseArray } from './frames/dense-codec';
import { ColumnAssembler, pickUtf8Rows } from './frames/frame-codec';
import { isAscending, takeRows } from '../columns/conversions';
import { acquireReaderLease, type ReaderLease } from './format/lock';
import { listManifestVersions, readManifest, type ColumnEntry, type FrameEntry, type GraphEntry, type StoreManifest } from './format/manifest';
import type { CscMatrix } from './x/column-reads';
import type { LayerBlockSpec, XRowBlock } from './x/layer-blocks';
import { prepareRowDecodeHelper, rowDecodeHelperAheadFor, rowDecodeHelperFor } from './x/row-decode-host';
import type { CsrMatrix, RowReadBuffers } from './x/row-reads';
import { XLayerReader } from './x/x-reader';

/** Columns of obs or of a measurement's var, decoded on first use. */
export interface FrameReader {
  readonly nRows: number;
  readonly columnNames: string[];
  /** The stored schema of a column (dtype, categories), without reading data. */
  schema(name: string): ColumnEntry | undefined;
  column(name: string): Column | undefined;
  /** The column's values at `rows` (takeRows of column(name), maybe without decoding all of it). */
  columnRows?(name: string, rows: Uint32Array): Column | undefined;
}

export interface StoreReader {
  readonly dir: string;
  readonly version: number;
  readonly manifest: StoreManifest;
  readonly nObs: number;
  readonly measurements: string[];
  readonly obs: FrameReader;
  var(measurement: string): FrameReader;
  /** The feature presence table (dataset, var_joinid), or null when the version did not record one. */
  presence(measurement: string): FrameReader | null;
  nVars(measurement: string): number;
  layers(measurement: string): string[];
  obsmNames(measurement: string): string[];
  varmNames(measurement: string): string[];
  /** Names of the cell graphs (obsp) of a measurement. */
  obspNames(measurement: string): string[];
  /** A kNN graph: its description and its n_obs × k neighbour joinids and distances. */
  readObsp(measurement: string, name: string): Promise<KnnGraph>;
  /**
   * X rows of the given obs joinids as CSR (row i = joinids[i]; columns = var joinids). With
   * `into`, the result lives in those buffers and is valid until the next read into them.
   */
  readXRows(measurement: string, layer: string, joinids: ArrayLike<number>, into?: RowReadBuffers): Promise<CsrMatrix>;
  /**
   * X rows of the given joinids in ascending joinid order, as CSR blocks of bounded size that reuse
   * one buffer (each block is valid until the next); for streaming consumers (export, PCA).
   */
  xRowBlocks(measurement: string, layer: string, joinids: ArrayLike<number>, options?: { maxRows?: number; maxEntries?: number }): Iterable<XRowBlock>;
  /**
   * `xRowBlocks` with each block decoded by a helper thread while the caller handles the one
   * before (large reads only; smaller ones are decoded on this thread).
   */
  xRowBlocksAhead(measurement: string, layer: string, joinids: ArrayLike<number>, options?: { maxRows?: number; maxEntries?: number; decodeHere?: boolean }): AsyncIterable<XRowBlock>;
  /** Gets the row-decoding helper thread ready for a read of `rows` rows of this layer (xRowBlocksAhead) soon. */
  prepareRowReads(measurement: string, layer: string, rows: number): void;
  /** Stored entries of the rows `joinids` of a layer, from its chunk indexes (nothing is decoded). */
  xRowsEntries(measurement: string, layer: string, joinids: ArrayLike<number>): number;
  /** A plain-data description of a layer read in fixed row blocks (see layer-blocks.ts), e.g. for worker threads. */
  layerBlockSpec(measurement: string, layer: string, rowsPerBlock: number, columns?: Uint32Array): LayerBlockSpec;
  /** X columns of the given var joinids over all obs rows, as CSC. */
  readXColumns(measurement: string, layer: string, varJoinids: ArrayLike<number>): Promise<CscMatrix>;
  readObsm(measurement: string, name: string, rows?: ArrayLike<number>): Promise<DenseArray>;
  readVarm(measurement: string, name: string, rows?: ArrayLike<number>): Promise<DenseArray>;
  close(): void;
}

export interface KnnGraph {
  entry: GraphEntry;
  indices: Int32Array;
  distances: Float32Array;
}

export interface VersionInfo {
  version: number;
  parentVersion: number | null;
  createdAt: string;
  nObs: number;
  nVars: Record<string, number>;
  nFiles: number;
  /** Bytes of every file the version reads (shared files counted in each version). */
  size: number;
  meta: Record<string, unknown>;
}

/** Every committed version, oldest first. */
export function listVersions(dir: string): VersionInfo[] {
  return listManifestVersions(dir).map((version) => {
    const manifest = readManifest(dir, version);
    const files = Object.values(manifest.files);
    return {
      version,
      parentVersion: manifest.parentVersion,
      createdAt: manifest.createdAt,
      nObs: manifest.obs.nRows,
      nVars: Object.fromEntries(Object.entries(manifest.ms).map(([name, m]) => [name, m.var.nRows])),
      nFiles: files.length,
      size: files.reduce((sum, file) => sum + file.size, 0),
      meta: manifest.meta,
    };
  });
}

class TableCache {
  private readonly tables = new Map<string, Table>();
  constructor(private readonly dir: string) {}
  get(file: string, label: string): Table {
    let table = this.tables.get(file);
    if (!table) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(join(this.dir, file));
      } catch (err) {
        throw new CellarError('not_found', `${label}: store file ${file} is missing (${(err as Error).message}).`);
      }
      try {
        table = tableFromIPC(bytes);
      } catch (err) {
        if (err instanceof CellarError) throw err;
        throw new CellarError('bad_element', `${label}: store file ${file} cannot be read (${(err as Error).message}).`);
      }
      this.tables.set(file, table);
    }
    return table;
  }
}

class StoredFrame implements FrameReader {
  private readonly decoded = new Map<string, Column>();
  constructor(
    private readonly label: string,
    private readonly frame: FrameEntry,
    private readonly tables: TableCache,
  ) {}

  get nRows(): number {
    return this.frame.nRows;
  }

  get columnNames(): string[] {
    return this.frame.columns.map((column) => column.name);
  }

  schema(name: string): ColumnEntry | undefined {
    return this.frame.columns.find((column) => column.name === name);
  }

  column(name: string): Column | undefined {
    const cached = this.decoded.get(name);
    if (cached) return cached;
    const entry = this.schema(name);
    if (!entry) return undefined;
    const assembler = new ColumnAssembler(entry, this.frame.nRows);
    for (const [data, at] of this.storedChunks(name, entry)) assembler.add(data, at);
    const column = assembler.finish();
    this.decoded.set(name, column);
    return column;
  }

  columnRows(name: string, rows: Uint32Array): Column | undefined {
    const cached = this.decoded.get(name);
    if (cached) return takeRows(cached, rows);
    const entry = this.schema(name);
    if (!entry) return undefined;
    // A few rows of a string column (a large store's cell ids are most of its obs): only their
    // strings are decoded.
    if (entry.dtype === 'string' && rows.length * 4 < this.frame.nRows && isAscending(rows)) {
      const picked = this.pickStrings(name, entry, rows);
      if (picked) return picked;
    }
    return takeRows(this.column(name)!, rows);
  }

  /** As column() then takeRows for a plain string column, reading only `rows`; null for a dictionary-encoded one. */
  private pickStrings(name: string, entry: ColumnEntry, rows: Uint32Array): Column | null {
    const values = new Array<string | null>(rows.length).fill(null);
    for (const [data, at] of this.storedChunks(name, entry)) {
      if (at < 0 || at + data.length > this.frame.nRows) throw new CellarError('bad_element', `Column ${name}: a stored piece lies outside rows 0..${this.frame.nRows}.`);
      if (!pickUtf8Rows(data, at, rows, values)) return null;
    }
    return { kind: 'string', values };
  }

  /** The column's stored Arrow chunks, each with the row it starts at, its pieces checked against the manifest. */
  private *storedChunks(name: string, entry: ColumnEntry): Generator<[Data, number]> {
    const label = `${this.label} column ${name}`;
    for (const piece of entry.pieces) {
      const vector = this.tables.get(piece.file, label).getChild(name);
      if (!vector || vector.length !== piece.nRows) throw new CellarError('bad_element', `${label}: store file ${piece.file} does not match the manifest.`);
      let at = piece.rowStart;
      for (const data of vector.data) {
        yield [data, at];
        at += data.length;
      }
    }
  }
}

export function openStore(dir: string, version?: number): StoreReader {
  registerArrowCodecs();
  for (let attempt = 0; ; attempt++) {
    let chosen = version;
    if (chosen === undefined) {
      const versions = listManifestVersions(dir);
      if (versions.length === 0) throw new CellarError('not_found', `There is no committed store version in ${dir}.`);
      chosen = versions[versions.length - 1]!;
    }
    // The lease comes before the manifest is read: a compaction that sees no lease may remove the manifest, never a version being read.
    const lease = acquireReaderLease(dir, chosen);
    try {
      return new StoreReaderImpl(dir, readManifest(dir, chosen), lease);
    } catch (err) {
      lease.release();
      // The latest was compacted away between listing and reading: the new latest is there.
      if (version === undefined && attempt === 0 && err instanceof CellarError && err.code === 'not_found') continue;
      throw err;
    }
  }
}

class StoreReaderImpl implements StoreReader {
  readonly obs: FrameReader;
  private readonly tables: TableCache;
  private readonly vars = new Map<string, FrameReader>();
  private readonly xReaders = new Map<string, XLayerReader>();

  constructor(
    readonly dir: string,
    readonly manifest: StoreManifest,
    private readonly lease: ReaderLease,
  ) {
    this.tables = new TableCache(dir);
    this.obs = new StoredFrame('obs', manifest.obs, this.tables);
  }

  get version(): number {
    return this.manifest.version;
  }

  get nObs(): number {
    return this.manifest.obs.nRows;
  }

  get measurements(): string[] {
    return Object.keys(this.manifest.ms);
  }

  private measurement(name: string) {
    const measurement = this.manifest.ms[name];
    if (!measurement) throw new CellarError('not_found', `Store version ${this.version} has no measurement ${name}.`);
    return measurement;
  }

  var(measurement: string): FrameReader {
    let frame = this.vars.get(measurement);
    if (!frame) {
      frame = new StoredFrame(`ms/${measurement}/var`, this.measurement(measurement).var, this.tables);
      this.vars.set(measurement, frame);
    }
    return frame;
  }

  presence(measurement: string): FrameReader | null {
    const entry = this.measurement(measurement).presence;
    return entry ? new StoredFrame(`ms/${measurement}/presence`, entry, this.tables) : null;
  }

  nVars(measurement: string): number {
    return this.measurement(measurement).var.nRows;
  }

  layers(measurement: string): string[] {
    return Object.keys(this.measurement(measurement).X);
  }

  obsmNames(measurement: string): string[] {
    return Object.keys(this.measurement(measurement).obsm);
  }

  varmNames(measurement: string): string[] {
    return Object.keys(this.measurement(measurement).varm);
  }

  obspNames(measurement: string): string[] {
    return Object.keys(this.measurement(measurement).obsp ?? {});
  }

  async readObsp(measurement: string, name: string): Promise<KnnGraph> {
    const entry = this.measurement(measurement).obsp?.[name];
    if (!entry) throw new CellarError('not_found', `Store version ${this.version} has no graph (obsp) ${name} in measurement ${measurement}.`);
    const label = `ms/${measurement}/obsp/${name}`;
    const indices = readDense(this.dir, label, entry.indices, this.nObs).values;
    const distances = readDense(this.dir, label, entry.distances, this.nObs).values;
    if (!(indices instanceof Int32Array) || !(distances instanceof Float32Array)) throw new CellarError('bad_element', `${label}: its tables are not int32 neighbours and float32 distances.`);
    return { entry, indices, distances };
  }

  private xReader(measurement: string, layer: string): XLayerReader {
    const key = JSON.stringify([measurement, layer]);
    let reader = this.xReaders.get(key);
    if (!reader) {
      const entry = this.measurement(measurement).X[layer];
      if (!entry) throw new CellarError('not_found', `Store version ${this.version} has no layer ${layer} in measurement ${measurement}.`);
      reader = new XLayerReader(this.dir, `ms/${measurement}/X/${layer}`, entry, this.nObs, this.nVars(measurement));
      this.xReaders.set(key, reader);
    }
    return reader;
  }

  async readXRows(measurement: string, layer: string, joinids: ArrayLike<number>, into?: RowReadBuffers): Promise<CsrMatrix> {
    return this.xReader(measurement, layer).readRowsShared(joinids, rowDecodeHelperFor, into);
  }

  xRowBlocks(measurement: string, layer: string, joinids: ArrayLike<number>, options?: { maxRows?: number; maxEntries?: number }): Iterable<XRowBlock> {
    return this.xReader(measurement, layer).rowBlocks(joinids, options);
  }

  xRowBlocksAhead(measurement: string, layer: string, joinids: ArrayLike<number>, options?: { maxRows?: number; maxEntries?: number; decodeHere?: boolean }): AsyncIterable<XRowBlock> {
    return this.xReader(measurement, layer).rowBlocksAhead(joinids, rowDecodeHelperAheadFor, options);
  }

  prepareRowReads(measurement: string, layer: string, rows: number): void {
    const reader = this.xReader(measurement, layer);
    // The read's size, expected from the layer's entries a row.
    const { nnz } = this.measurement(measurement).X[layer]!;
    prepareRowDecodeHelper(reader.describe(), this.nObs > 0 ? (nnz / this.nObs) * rows : 0);
  }

  xRowsEntries(measurement: string, layer: string, joinids: ArrayLike<number>): number {
    return this.xReader(measurement, layer).rowsEntries(joinids);
  }

  layerBlockSpec(measurement: string, layer: string, rowsPerBlock: number, columns?: Uint32Array): LayerBlockSpec {
    const entry = this.measurement(measurement).X[layer];
    if (!entry) throw new CellarError('not_found', `Store version ${this.version} has no layer ${layer} in measurement ${measurement}.`);
    return { dir: this.dir, label: `ms/${measurement}/X/${layer}`, layer: entry, nObs: this.nObs, nVars: this.nVars(measurement), rowsPerBlock, columns };
  }

  async readXColumns(measurement: string, layer: string, varJoinids: ArrayLike<number>): Promise<CscMatrix> {
    return this.xReader(measurement, layer).readColumns(varJoinids);
  }

  async readObsm(measurement: string, name: string, rows?: ArrayLike<number>): Promise<DenseArray> {
    const entry = this.measurement(measurement).obsm[name];
    if (!entry) throw new CellarError('not_found', `Store version ${this.version} has no obsm ${name} in measurement ${measurement}.`);
    return readDense(this.dir, `ms/${measurement}/obsm/${name}`, entry, this.nObs, rows);
  }

  async readVarm(measurement: string, name: string, rows?: ArrayLike<number>): Promise<DenseArray> {
    const entry = this.measurement(measurement).varm[name];
    if (!entry) throw new CellarError('not_found', `Store version ${this.version} has no varm ${name} in measurement ${measurement}.`);
    return readDense(this.dir, `ms/${measurement}/varm/${name}`, entry, this.nVars(measurement), rows);
  }

  close(): void {
    for (const reader of this.xReaders.values()) reader.close();
    this.xReaders.clear();
    this.lease.release();
  }
}
