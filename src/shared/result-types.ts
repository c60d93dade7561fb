// What operations hand back through the contract: plans, job results per kind, store
// diffs, run details and the library listing. Plain records with no Node imports; the
// service's handlers are type-checked against them, so the engine cannot drift silently.
import type { ArtifactKind, CollectionSummary, RegistryListing, RunStatus } from './registry-types';
import type { DeJobResult } from './de-types';

export interface PlanEntry {
  element: string;
  name: string;
  detail?: string;
}

export interface PlanReport {
  kept: PlanEntry[];
  dropped: PlanEntry[];
  converted: PlanEntry[];
  added: PlanEntry[];
  problems: string[];
  n_obs?: number;
  n_vars?: number;
  n_new_obs?: number;
  n_new_vars?: number;
  /** How genes were matched, merged, and which datasets lack which (concat and append plans). */
  genes?: GenesPlanReport;
}

export interface GenesPlanReport {
  match: 'exact' | 'unversioned';
  join: 'outer' | 'inner';
  symbol_column: string | null;
  /** Ids merged because they differ only in their Ensembl version (the first examples). */
  merged: { count: number; examples: { id: string; kept: string; dataset: string }[] };
  /** Per dataset: genes it did not measure (outer) or that were left out (inner join). */
  missing: { dataset: string; count: number; examples: string[] }[];
}

// ── job results, one per job kind ────────────────────────────────────────────

/** A write that made a new store version (the CLI's `--json` shape). */
export interface StoreWriteResult {
  store: { uid: string; key: string; version: number; n_observations: number; n_vars: number };
  run: { uid: string };
}

export interface ImportJobResult {
  collection: { uid: string; key: string };
  artifacts: { uid: string; key: string; hash: string; n_observations: number | null; existing: boolean }[];
  run: { uid: string };
}

export interface EmbedJobResult extends StoreWriteResult {
  embedding: { name: string; shape: [number, number]; explained_variance_ratio?: number[] };
}

export interface ExportJobResult {
  path: string;
  n_obs: number;
  /** Absent for a CSV of cells. */
  n_vars?: number;
  /** Browser mode: the URL path that downloads the file; null on the desktop. */
  download: string | null;
}

/** A store checked against its manifests and the registry (`cellar verify --json`). */
export interface VerifyJobResult {
  store: { uid: string; key: string };
  ok: boolean;
  /** Versions whose manifest could be read (retired ones excluded). */
  versions: number[];
  /** One sentence per problem, naming the file or version. */
  problems: string[];
  /** Leftovers of interrupted writes that nothing needs (paths relative to the store). */
  garbage: string[];
  /** Leftovers removed by a repair. */
  removed: string[];
  /** What a repair left alone, and why (one sentence each). */
  kept: string[];
  repaired: boolean;
}

export interface CompactJobResult extends StoreWriteResult {
  dropped_versions: number;
  removed_files: number;
  /** Why old files were kept for now, when they were. */
  deferred?: string;
  /** Bytes of the store folder before and after. */
  bytes_before: number;
  bytes_after: number;
}

export interface AnnotateJobResult extends StoreWriteResult {
  columns: { name: string; dtype: string; replaced: boolean }[];
  n_matched: number;
  n_missing: number;
}

/** What an annotation table would do, before anything is written. */
export interface AnnotationPreview {
  store: { uid: string; key: string; version: number; n_obs: number };
  file: string;
  n_rows: number;
  /** Cells of the store that have a row in the table. */
  n_matched: number;
  /** Cells without a row: they get NA. */
  n_missing: number;
  /** Ids of the table the store does not know (at most 50) and how many there are. */
  unknown_ids: string[];
  n_unknown: number;
  columns: { name: string; dtype: string; replaced: boolean; examples: string[] }[];
  /** Why the table cannot be written as it is; empty when it can. */
  problems: string[];
}

/** cellar neighbors / neighbors:start: the kNN graph stored as obsp of a new version. */
export interface NeighborsJobResult extends StoreWriteResult {
  graph: { name: string; embedding: string; k: number; metric: 'euclidean' | 'cosine'; n_obs: number };
}

/** cellar umap / umap:start: obsm X_umap of a new version (and the graph, when it was made first). */
export interface UmapJobResult extends StoreWriteResult {
  umap: { name: string; shape: [number, number]; graph: string; graph_computed: boolean; min_dist: number; seed: number };
}

/** cellar cluster / cluster:start: a categorical obs column of Leiden clusters, "0" the largest. */
export interface ClusterJobResult extends StoreWriteResult {
  clusters: { name: string; resolution: number; n_clusters: number; sizes: number[]; modularity: number; graph: string; graph_computed: boolean; replaced: boolean };
}

/** cellar qc / qc:start: scanpy's per-cell QC metrics as obs columns of a new version. */
export interface QcJobResult extends StoreWriteResult {
  qc: {
    layer: string;
    /** The var column the gene symbols were read from (var_id when none of the usual ones exists). */
    symbols: string;
    genes: { mt: number; ribo: number };
    columns: string[];
    not_counts: string | null;
    median: { total_counts: number; n_genes_by_counts: number; pct_counts_mt: number; pct_counts_ribo: number };
  };
}

export interface JobResults {
  import: ImportJobResult;
  concatenate: StoreWriteResult & { plan: PlanReport };
  append: StoreWriteResult & { plan: PlanReport };
  embed: EmbedJobResult;
  export: ExportJobResult;
  verify: VerifyJobResult;
  compact: CompactJobResult;
  annotate: AnnotateJobResult;
  de: DeJobResult;
  neighbors: NeighborsJobResult;
  umap: UmapJobResult;
  cluster: ClusterJobResult;
  qc: QcJobResult;
}

/** What a delete did: the items tombstoned and the consumers a forced delete overrode. */
export interface DeleteReport {
  deleted: { kind: 'artifact' | 'collection'; uid: string; key: string; version?: number }[];
  overridden: string[];
  /** Managed files and store folders removed from the home. */
  removedFiles: number;
}

export type JobKind = keyof JobResults;

// ── store diffs ──────────────────────────────────────────────────────────────

export interface NameChanges {
  added: string[];
  removed: string[];
}

export interface FrameDiff extends NameChanges {
  changed: { name: string; from: string; to: string }[];
  new_categories: { name: string; values: (string | number)[] }[];
}

/**
 * Cell graphs (obsp) compared by name: a graph in both versions whose parameters or stored
 * tables differ is changed (from/to describe it: k, metric and the embedding it was measured in).
 */
export interface GraphDiff extends NameChanges {
  changed: { name: string; from: string; to: string }[];
}

export interface DiffSide {
  version: number;
  uid: string;
  n_obs: number;
  /** Genes per measurement. */
  n_vars: Record<string, number>;
}

/** Two versions of a store compared (`cellar diff --json`). */
export interface StoreDiff {
  store: string;
  a: DiffSide;
  b: DiffSide;
  cells: { added: number; removed: number };
  /** Per measurement. */
  genes: Record<string, NameChanges>;
  obs_columns: FrameDiff;
  var_columns: Record<string, FrameDiff>;
  obsm: NameChanges;
  /** Neighbour graphs (obsp), by name across measurements as obsm. */
  obsp: GraphDiff;
  layers: Record<string, NameChanges>;
  files: NameChanges & { shared: number };
}

// ── runs ─────────────────────────────────────────────────────────────────────

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An artifact version or a collection a run read or wrote. */
export interface RunItem {
  uid: string;
  kind: 'artifact' | 'collection';
  key: string;
  /** Artifacts only. */
  artifactKind?: ArtifactKind;
  version?: number;
  isLatest?: boolean;
  deleted: boolean;
}

export interface RunDetails {
  uid: string;
  transform: { name: string; version: string };
  status: RunStatus;
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string | null;
  params: Record<string, JsonValue>;
  error: string | null;
  inputs: RunItem[];
  outputs: RunItem[];
}

// ── library ──────────────────────────────────────────────────────────────────

export interface CollectionMember {
  uid: string;
  key: string;
  version: number;
  nObservations: number | null;
  nVars: number | null;
  size: number;
  deleted: boolean;
}

export type CollectionListing = CollectionSummary & { members: CollectionMember[] };

/** The registry's listing with each collection's members in their recorded order. */
export interface LibraryListing extends Omit<RegistryListing, 'collections'> {
  collections: CollectionListing[];
}

// ── embeddings ───────────────────────────────────────────────────────────────

/** How one dataset of a store expresses a gene (the scatter plot's colour by gene). */
export interface DatasetExpression {
  position: number;
  /** The file's key when the store recorded it. */
  key: string | null;
  nCells: number;
  /** Cells with a value above zero. */
  nExpressing: number;
  max: number;
  /** False when the dataset never measured the gene (its cells are NaN, "not measured"); absent when the store did not record it. */
  measured?: boolean;
}

/** A gene found by genes:search (ids and symbols by prefix) or named in a colour request. */
export interface GeneHit {
  /** var joinid */
  joinid: number;
  /** var_id as the store keeps it */
  id: string;
  symbol: string | null;
}

// ── what `inspect` reads of a file's values ─────────────────────────────────

/**
 * What X appears to hold, judged from a sample of its stored values: integer counts,
 * normalised values (non-negative, not all integers) or scaled values (some negative).
 */
export type XValueKind = 'counts' | 'normalized' | 'scaled' | 'empty';

export interface XValueHint {
  kind: XValueKind;
  /** How many stored values were read (the first ones in the file). */
  sampled: number;
  /** Smallest and largest sampled value; null when nothing was sampled. */
  min: number | null;
  max: number | null;
}

/** One category of a categorical column and how many rows hold it. */
export interface CategoryCount {
  value: string;
  count: number;
}

/** The first rows of obs, ready to show (int64 beyond 2^53 as text). */
export interface ObsPreview {
  index_name: string;
  columns: string[];
  /** One array per row: the index value, then one value per column. */
  rows: (string | number | boolean | null)[][];
}

// ── store tables: one column summarised over the rows a filter keeps ─────────

interface ColumnStatsBase {
  name: string;
  /** Rows summarised (those the filter keeps). */
  n: number;
  /** Rows with no value (NA, NaN). */
  n_missing: number;
}

export type ColumnStats =
  | (ColumnStatsBase & { kind: 'category'; n_categories: number; categories: CategoryCount[] })
  | (ColumnStatsBase & { kind: 'numeric'; min: number | null; median: number | null; max: number | null })
  | (ColumnStatsBase & { kind: 'bool'; n_true: number; n_false: number })
  /** Text with many values (ids, barcodes): how many differ, and the most frequent few. */
  | (ColumnStatsBase & { kind: 'string'; n_distinct: number; top: CategoryCount[] });
