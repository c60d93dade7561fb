// Our side of the SPEC §8 benchmarks. The harness (run.ts, our-step.ts) reaches the engine
// only through `ours` below, so wiring a benchmark to the engine means filling in one function.
// A function that is not wired throws NOT_IMPLEMENTED and the table says so.
import { openRegistry } from '../../src/main/registry/registry';
import { importFiles } from '../../src/main/engine/ops/import';
import { concatenateCollection, X_LAYER } from '../../src/main/engine/ops/concatenate';
import { appendToStore } from '../../src/main/engine/ops/append';
import { storeDiskUsage } from '../../src/main/engine/ops/store-records';
import { resolveStore } from '../../src/main/engine/ops/reconcile';
import { embedStore, layerRowSource } from '../../src/main/engine/ops/embed';
import { neighborsStore } from '../../src/main/engine/ops/neighbors';
import { clusterStore } from '../../src/main/engine/ops/cluster';
import { umapStore } from '../../src/main/engine/ops/umap';
import { stringAt } from '../../src/main/engine/columns/conversions';
import { openStore, type StoreReader } from '../../src/main/engine/store/store-reader';
import { RowReadBuffers } from '../../src/main/engine/store/x/row-reads';
import { listManifestVersions, readManifest } from '../../src/main/engine/store/format/manifest';
import { selectRows, VAR_ID } from '../../src/main/engine/store/query';
import { randomizedPca } from '../../src/main/engine/linalg/pca';
import { differentialExpression } from '../../src/main/engine/ops/differential-expression';
import type { DeMethod } from '../../src/shared/de-types';

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
  /** B4: X rows for the given joinids (ascending) as CSR, valid until the next b4Rows call. */
  b4Rows(opened: Opened, joinids: Int32Array): Promise<CsrRows>;
  /** B5: X columns for the given var ids across all cells. */
  b5Cols(opened: Opened, varIds: string[]): Promise<ColumnSlice>;
  /** B6: PCA of X restricted to options.varIds, implicit centering, no normalisation. */
  b6Pca(opened: Opened, options: PcaOptions): Promise<PcaScores>;
  /** B7: size of the store folder and its stored non-zeros. */
  b7StoreBytes(store: OurStore): Promise<StoreBytes>;
  /** B8: differential expression of the cells of `obsFilter` against the rest; p-values by gene id. */
  b8De(store: OurStore, obsFilter: string, method: DeMethod): Promise<{ nIn: number; nOut: number; pvals: Map<string, number> }>;
  /** B9: add `embedding` (.npy) as obsm pca (untimed), then neighbours, Leiden clusters and UMAP, each a new version, timed one by one. */
  b9CellGraph(store: OurStore, embedding: string): Promise<{ neighborsSeconds: number; clusterSeconds: number; umapSeconds: number; membership: Int32Array; nClusters: number }>;
}

/** The measurement and X layer every benchmark reads (what concatenate writes by default). */
const MEASUREMENT = 'RNA';
const COLLECTION_KEY = 'bench-inputs';
const STORE_KEY = 'bench-store';

/** An open store version: the engine's reader plus the var_id → joinid map, built on first use. */
class OpenedEngineStore implements OpenedStore {
  private varJoinids: Map<string, number> | undefined;
  /** B4 reads again and again, as a viewer paging through cells would: its results reuse this memory. */
  readonly rowBuffers = new RowReadBuffers();
  constructor(readonly reader: StoreReader) {}

  get nObs(): number {
    return this.reader.nObs;
  }
  get nVars(): number {
    return this.reader.nVars(MEASUREMENT);
  }

  /** Var joinids of the given var ids, in the order given; an unknown id is an error. */
  joinidsOf(varIds: string[]): Uint32Array {
    if (!this.varJoinids) {
      const ids = this.reader.var(MEASUREMENT).column(VAR_ID);
      if (!ids) throw new Error(`the store has no ${MEASUREMENT} var column ${VAR_ID}`);
      const map = new Map<string, number>();
      for (let j = 0; j < this.nVars; j++) map.set(stringAt(ids, j) ?? '', j);
      this.varJoinids = map;
    }
    const out = new Uint32Array(varIds.length);
    varIds.forEach((id, i) => {
      const joinid = this.varJoinids!.get(id);
      if (joinid === undefined) throw new Error(`var id ${id} is not in the store`);
      out[i] = joinid;
    });
    return out;
  }

  async close(): Promise<void> {
    this.reader.close();
  }
}

/** What the harness needs to know of a committed store version. */
function describeStore(home: string, dir: string, storeKey: string): IngestResult {
  const versions = listManifestVersions(dir);
  const manifest = readManifest(dir, versions[versions.length - 1]!);
  const measurement = manifest.ms[MEASUREMENT];
  if (!measurement) throw new Error(`the store has no measurement ${MEASUREMENT}`);
  return {
    store: { home, store: storeKey, dir },
    nObs: manifest.obs.nRows,
    nVars: measurement.var.nRows,
    nnz: measurement.X[X_LAYER]?.nnz ?? 0,
  };
}

export const ours: OurBenchmarks<OpenedEngineStore> = {
  async b1Concat(files, home) {
    const registry = openRegistry(home);
    try {
      await importFiles({ registry, home, files, collectionKey: COLLECTION_KEY });
      await concatenateCollection({ registry, home, collectionKey: COLLECTION_KEY, storeKey: STORE_KEY });
      const { dir } = await resolveStore(registry, STORE_KEY);
      return describeStore(home, dir, STORE_KEY);
    } finally {
      registry.close();
    }
  },

  async b2Append(store, file) {
    const registry = openRegistry(store.home);
    try {
      await appendToStore({ registry, home: store.home, storeKey: store.store, files: [file] });
      const { dir } = await resolveStore(registry, store.store);
      return describeStore(store.home, dir, store.store);
    } finally {
      registry.close();
    }
  },

  async b3Open(store) {
    // As a user would: through the registry (key → latest version and folder), then the manifest.
    const registry = openRegistry(store.home);
    try {
      const { store: record, dir } = await resolveStore(registry, store.store);
      return new OpenedEngineStore(openStore(dir, record.version));
    } finally {
      registry.close();
    }
  },

  async b3Filter(opened, valueFilter) {
    return selectRows(opened.reader.obs, valueFilter);
  },

  async b4Rows(opened, joinids) {
    const csr = await opened.reader.readXRows(MEASUREMENT, X_LAYER, joinids, opened.rowBuffers);
    return { indptr: csr.indptr, indices: csr.indices, data: csr.data as CsrRows['data'] };
  },

  async b5Cols(opened, varIds) {
    const csc = await opened.reader.readXColumns(MEASUREMENT, X_LAYER, opened.joinidsOf(varIds));
    return { nObs: csc.shape[0], nnz: csc.indices.length };
  },

  async b6Pca(opened, { varIds, nComponents, seed }) {
    const joinids = opened.joinidsOf(varIds);
    // The subset must keep store order for the renumbering to keep rows sorted.
    for (let i = 1; i < joinids.length; i++) if (joinids[i]! <= joinids[i - 1]!) throw new Error('B6 var ids are not in store order');
    const result = await randomizedPca(layerRowSource(opened.reader, MEASUREMENT, X_LAYER, { columns: joinids }), { nComponents, seed });
    return { scores: result.scores, nObs: opened.nObs, nComponents };
  },

  async b7StoreBytes(store) {
    const { nnz } = describeStore(store.home, store.dir, store.store);
    return { bytes: storeDiskUsage(store.dir), nnz };
  },

  async b9CellGraph(store, embedding) {
    const registry = openRegistry(store.home);
    try {
      await embedStore({ registry, storeKey: store.store, from: embedding, name: 'pca' });
      const t0 = performance.now();
      await neighborsStore({ registry, storeKey: store.store });
      const t1 = performance.now();
      const clusters = await clusterStore({ registry, storeKey: store.store });
      const t2 = performance.now();
      await umapStore({ registry, storeKey: store.store });
      const t3 = performance.now();
      const { store: latest, dir } = await resolveStore(registry, store.store);
      const reader = openStore(dir, latest.version);
      try {
        const column = reader.obs.column('leiden');
        if (column?.kind !== 'category') throw new Error('the store has no categorical leiden column');
        return { neighborsSeconds: (t1 - t0) / 1000, clusterSeconds: (t2 - t1) / 1000, umapSeconds: (t3 - t2) / 1000, membership: column.codes, nClusters: clusters.clusters.n_clusters };
      } finally {
        reader.close();
      }
    } finally {
      registry.close();
    }
  },

  async b8De(store, obsFilter, method) {
    const registry = openRegistry(store.home);
    try {
      const r = await differentialExpression({ registry, storeKey: store.store, obs: obsFilter, method });
      return { nIn: r.group.n_cells, nOut: r.reference.n_cells, pvals: new Map(r.results.map((row) => [row.gene, row.pval])) };
    } finally {
      registry.close();
    }
  },
};
