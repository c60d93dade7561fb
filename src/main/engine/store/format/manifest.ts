// The manifest: one JSON file per store version naming every data file of that version
// (with size and checksum) and the schema needed to read them. Manifests are written once
// (temp file, fsync, rename) and never changed.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../../shared/errors';
import type { ColumnDtype, IntDtype, NumericDtype } from '../../columns/column-model';
import type { StoreCodec } from '../io/codecs';

export const STORE_FORMAT = 'cellar-store';
/** 2: X row chunks hold their column indices as varint deltas (fragments of format 1 read as before). */
export const STORE_FORMAT_VERSION = 2;
export const MANIFEST_DIR = 'manifests';
export const DATA_DIR = 'data';
export const LOCK_FILE = '.lock';

/** Rows [rowStart, rowStart + nRows) of a column live in `file`, under the column's name. */
export interface RowPiece {
  file: string;
  rowStart: number;
  nRows: number;
}

export interface CategoryValues {
  /** What the categories are: strings, numbers of `dtype`, or booleans (0/1). */
  kind: 'string' | 'numeric' | 'bool';
  dtype?: NumericDtype;
  values: (string | number)[];
}

export interface ColumnEntry {
  name: string;
  /** The dtype readers return (the column's h5ad dtype, see `convertedFrom`). */
  dtype: ColumnDtype;
  /** nullable-int: the integer width. */
  intDtype?: IntDtype;
  /** category: every category in code order; stored dictionaries are prefixes of this list. */
  categories?: CategoryValues;
  ordered?: boolean;
  /** Set when the h5ad column was categorical but has more than 32,767 categories: stored as plain strings. */
  convertedFrom?: 'category';
  pieces: RowPiece[];
}

export interface FrameEntry {
  nRows: number;
  columns: ColumnEntry[];
}

/** A run of consecutive obs rows of one X layer, stored as row-chunked CSR in `file`. */
export interface XFragment {
  file: string;
  /** Arrow file with the chunk index: byte positions of each chunk's buffers and per-row nnz. */
  indexFile: string;
  rowStart: number;
  nRows: number;
  nnz: number;
  /** Number of vars when written (every column index is below it). */
  nCols: number;
  /** Rows per chunk (record batch); the last chunk may be shorter. */
  chunkRows: number;
  nChunks: number;
  codec: StoreCodec;
  /** dtype of the values as written (before narrowing). */
  dtype: NumericDtype;
  /** dtype of `soma_data` in the file; integer-valued data is stored in the narrowest integer type. */
  storedDtype: NumericDtype;
  /** dtype of the column deltas: of `soma_dim_1` in the file for 'delta' (the width varints decode to for 'varint-delta'). */
  indexDtype: 'uint16' | 'uint32';
  /**
   * 'delta': within a row, each stored column index is the difference from the previous one.
   * 'varint-delta' (store format 2): the same differences, each as an unsigned LEB128 varint;
   * `soma_dim_1` is then list<uint8>, each row's list its varints' bytes.
   */
  indexEncoding: 'delta' | 'plain' | 'varint-delta';
  columns?: XColumnCompanion;
}

/** Column companion of a fragment: its entries transposed per group of cells (fast gene reads). */
export interface XColumnCompanion {
  file: string;
  indexFile: string;
  /** Cells per group; groups start at the fragment's first row. */
  groupRows: number;
  /** Genes per record batch. */
  genesPerBatch: number;
  nBatches: number;
  /**
   * 'varint-delta' (store format 2): `soma_dim_0` is list<uint8>, each gene's cell-offset deltas
   * as varints, and the index's list offsets are those lists' byte offsets. Absent: the deltas
   * themselves (list<uint16>), offsets in entries.
   */
  indexEncoding?: 'varint-delta';
}

export interface LayerEntry {
  /** dtype readers return: the promotion of every fragment's dtype. */
  dtype: NumericDtype;
  nnz: number;
  fragments: XFragment[];
}

export interface DenseEntry {
  dtype: NumericDtype;
  /** Width k of the n × k array. */
  nCols: number;
  pieces: RowPiece[];
}

/**
 * A k-nearest-neighbour graph over the cells (SOMA's obsp, kept in the shape a kNN graph has):
 * two dense n_obs × k tables, neighbour joinids (int32, the cell itself first) and their
 * distances (float32). Row i, column j is the edge (i, indices[i, j]) of weight distances[i, j].
 */
export interface GraphEntry {
  kind: 'knn';
  /** Neighbours per cell, the cell itself included (as scanpy and umap count them). */
  k: number;
  metric: 'euclidean' | 'cosine';
  /** The obsm embedding the distances were measured in. */
  embedding: string;
  indices: DenseEntry;
  distances: DenseEntry;
}

export interface MeasurementEntry {
  var: FrameEntry;
  X: Record<string, LayerEntry>;
  obsm: Record<string, DenseEntry>;
  varm: Record<string, DenseEntry>;
  /** How genes are named and matched (absent in stores written before it was recorded). */
  genes?: GeneNaming;
  /**
   * Feature presence: one row per (dataset, gene) that the dataset measured, columns
   * `dataset` (the obs `dataset` value) and `var_joinid`. Absent: not recorded (older stores).
   */
  presence?: FrameEntry;
  /** Cell graphs by name; absent in manifests written before graphs existed. */
  obsp?: Record<string, GraphEntry>;
}

export interface GeneNaming {
  /** The var column holding gene symbols, or null when the store has none. */
  symbolColumn: string | null;
  /** How var ids of different datasets were matched: exactly, or Ensembl ids without their version suffix. */
  match: 'exact' | 'unversioned';
  /** Genes kept: the union (outer) or only those every dataset measured (inner). */
  join: 'outer' | 'inner';
}

export interface FileEntry {
  size: number;
  sha256: string;
}

export interface StoreManifest {
  format: typeof STORE_FORMAT;
  formatVersion: number;
  version: number;
  parentVersion: number | null;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** Caller's metadata (run uid, transform, …). */
  meta: Record<string, unknown>;
  /** Encodings used by this version's files, for readers and humans. */
  encodings: string[];
  obs: FrameEntry;
  ms: Record<string, MeasurementEntry>;
  /** Every file this version reads, relative to the store folder. */
  files: Record<string, FileEntry>;
}

export function manifestFileName(version: number): string {
  return `v${String(version).padStart(6, '0')}.json`;
}

const MANIFEST_NAME = /^v(\d{6,})\.json$/;

export function versionOfManifestName(name: string): number | null {
  const match = MANIFEST_NAME.exec(name);
  return match ? Number(match[1]) : null;
}

export function emptyManifest(): Omit<StoreManifest, 'version' | 'parentVersion' | 'createdAt'> {
  return {
    format: STORE_FORMAT,
    formatVersion: STORE_FORMAT_VERSION,
    meta: {},
    encodings: [],
    obs: { nRows: 0, columns: [] },
    ms: {},
    files: {},
  };
}

export function emptyMeasurement(): MeasurementEntry {
  return { var: { nRows: 0, columns: [] }, X: {}, obsm: {}, varm: {} };
}

/** Committed versions of the store in `dir`, ascending. Temp files and strangers are ignored. */
export function listManifestVersions(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(join(dir, MANIFEST_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const versions: number[] = [];
  for (const name of names) {
    const version = versionOfManifestName(name);
    if (version !== null) versions.push(version);
  }
  return versions.sort((a, b) => a - b);
}

export function readManifest(dir: string, version: number): StoreManifest {
  const path = join(dir, MANIFEST_DIR, manifestFileName(version));
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CellarError('not_found', `Store version ${version} does not exist in ${dir}.`);
    }
    throw new CellarError('io_error', `Could not read ${path}: ${(err as Error).message}`);
  }
  return parseManifest(text, path, version);
}

export function parseManifest(text: string, path: string, version: number): StoreManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CellarError('bad_element', `Store manifest ${path} is not valid JSON.`);
  }
  const manifest = parsed as Partial<StoreManifest> | null;
  if (!manifest || manifest.format !== STORE_FORMAT || typeof manifest.formatVersion !== 'number') {
    throw new CellarError('bad_element', `${path} is not a Cellar store manifest.`);
  }
  if (manifest.formatVersion > STORE_FORMAT_VERSION) {
    throw new CellarError(
      'newer_registry',
      `Store manifest ${path} uses format ${manifest.formatVersion}; this Cellar reads up to ${STORE_FORMAT_VERSION}.`,
    );
  }
  if (manifest.version !== version || !manifest.obs || !manifest.ms || !manifest.files) {
    throw new CellarError('bad_element', `Store manifest ${path} is incomplete or names the wrong version.`);
  }
  return manifest as StoreManifest;
}

/** All files named by a manifest's entries (must equal the keys of `files`). */
export function referencedFiles(manifest: StoreManifest): Set<string> {
  const names = new Set<string>();
  const addFrame = (frame: FrameEntry) => {
    for (const column of frame.columns) for (const piece of column.pieces) names.add(piece.file);
  };
  addFrame(manifest.obs);
  for (const measurement of Object.values(manifest.ms)) {
    addFrame(measurement.var);
    if (measurement.presence) addFrame(measurement.presence);
    for (const layer of Object.values(measurement.X)) {
      for (const fragment of layer.fragments) {
        names.add(fragment.file);
        names.add(fragment.indexFile);
        if (fragment.columns) {
          names.add(fragment.columns.file);
          names.add(fragment.columns.indexFile);
        }
      }
    }
    const graphs = Object.values(measurement.obsp ?? {}).flatMap((g) => [g.indices, g.distances]);
    for (const dense of [...Object.values(measurement.obsm), ...Object.values(measurement.varm), ...graphs]) {
      for (const piece of dense.pieces) names.add(piece.file);
    }
  }
  return names;
}
