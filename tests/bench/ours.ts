// Our side of the SPEC §8 benchmarks. The harness (run.ts, our-step.ts) reaches the engine
// only through `ours` below, so wiring a benchmark to the engine means filling in one function.
// Every function that is not wired yet throws NOT_IMPLEMENTED and the table says so.

export const NOT_IMPLEMENTED = 'not implemented yet';

/** One of our stores as the harness knows it. Crosses process boundaries, so plain JSON only. */
export interface OurStore {
  /** Cellar home (registry + stores) the store was written into; one fresh home per benchmark run. */
  home: string;
  /** How the engine names the store (uid, key or path): opaque to the harness, passed back as is. */
  store: string;
  /** The store's folder on disk; B2 measures the bytes an append adds to it. */
  dir: string;
}

/** What B1 (concatenate) and B2 (append) report about the store version they committed. */
export interface IngestResult {
  store: OurStore;
  nObs: number;
  nVars: number;
  /** Stored non-zeros of X in the committed version. */
  nnz: number;
}

/** The store opened for reading (latest version); B3–B6 use it. Implementations may carry engine state. */
export interface OpenedStore {
  readonly nObs: number;
  readonly nVars: number;
  close(): Promise<void>;
}

/** Row numbers (soma_joinid) of the obs rows that pass a filter, ascending. */
export type Joinids = Int32Array | Uint32Array | BigInt64Array | Float64Array | number[];

/** A CSR block of X rows, re-indexed 0..n-1 in the order asked for. */
export interface CsrRows {
  indptr: Int32Array | Uint32Array | BigInt64Array | Float64Array;
  indices: Int32Array | Uint32Array | Uint16Array;
  data: Float32Array | Float64Array | Int32Array;
}

/** X restricted to some genes across every cell; the harness checks nnz against the peer's. */
export interface ColumnSlice {
  nObs: number;
  nnz: number;
}

export interface PcaOptions {
  /** var ids (var index values) of the genes to use, in store order; chosen by the peer (top-variance genes). */
  varIds: string[];
  nComponents: number;
  seed: number;
}

/** PC scores, row-major nObs x nComponents, components in decreasing singular-value order. */
export interface PcaScores {
  scores: Float32Array | Float64Array;
  nObs: number;
  nComponents: number;
}

export interface StoreBytes {
  /** Bytes of the store folder only (not the registry). */
  bytes: number;
  /** Stored non-zeros of X, so bytes / nnz is the B7 figure. */
  nnz: number;
}

export interface OurBenchmarks<Opened extends OpenedStore = OpenedStore> {
  /** B1: register `files` in the Cellar home `home` (created empty) and concatenate them into a new store, end to end (hashing included). */
  b1Concat(files: string[], home: string): Promise<IngestResult>;
  /** B2: append `file` to `store` as a new version. */
  b2Append(store: OurStore, file: string): Promise<IngestResult>;
  /** B3: open the store's latest version, ready to filter obs; timed in a fresh process. */
  b3Open(store: OurStore): Promise<Opened>;
  /** B3: obs value_filter (tiledbsoma grammar) -> joinids; timed warm (median of repeats). */
  b3Filter(opened: Opened, valueFilter: string): Promise<Joinids>;
  /** B4: X rows for the given joinids (ascending) as CSR. */
  b4Rows(opened: Opened, joinids: Int32Array): Promise<CsrRows>;
  /** B5: X columns for the given var ids across all cells. */
  b5Cols(opened: Opened, varIds: string[]): Promise<ColumnSlice>;
  /** B6: PCA of X restricted to options.varIds, implicit centering, no normalisation. */
  b6Pca(opened: Opened, options: PcaOptions): Promise<PcaScores>;
  /** B7: size of the store folder and its stored non-zeros. */
  b7StoreBytes(store: OurStore): Promise<StoreBytes>;
}

function notImplemented(): never {
  throw new Error(NOT_IMPLEMENTED);
}

export const ours: OurBenchmarks = {
  async b1Concat() {
    return notImplemented();
  },
  async b2Append() {
    return notImplemented();
  },
  async b3Open() {
    return notImplemented();
  },
  async b3Filter() {
    return notImplemented();
  },
  async b4Rows() {
    return notImplemented();
  },
  async b5Cols() {
    return notImplemented();
  },
  async b6Pca() {
    return notImplemented();
  },
  async b7StoreBytes() {
    return notImplemented();
  },
};
