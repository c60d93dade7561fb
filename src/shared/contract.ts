// The one typed IPC contract: every channel with its request and response, and
// every event. Main handlers, the preload bridge, the renderer client and the
// browser-mode transport are all typed from these maps. Each request's type is inferred
// from its schema in request-schemas.ts, the one main validates payloads against.
import type { ErrorValue } from './errors';
import type { Lineage, VersionJson } from './registry-types';
import type { AnnotationPreview, CategoryCount, ColumnStats, DatasetExpression, DeleteReport, GeneHit, JobKind, JobResults, LibraryListing, ObsPreview, PlanReport, RunDetails, StoreDiff, XValueHint } from './result-types';
import type { Requests } from './request-schemas';

export type * from './result-types';
export type * from './de-types';

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorValue };

export interface AppInfo {
  name: string;
  version: string;
  /** The folder holding the registry and stores (never inside the app's own profile). */
  home: string;
  /** Said once when the home was adopted from an older location (moved, or used where it is). */
  homeNote: string | null;
  mode: 'desktop' | 'browser';
}

export interface ColumnSummary {
  name: string;
  dtype: string;
  n_categories?: number;
  ordered?: boolean;
  /** For categoricals: each category with its row count, in natural order (at most the first 500). */
  category_counts?: CategoryCount[];
  /** For categoricals: rows with no category. */
  n_missing?: number;
}

export interface InspectSummary {
  n_obs: number;
  n_vars: number;
  obs: ColumnSummary[];
  var: ColumnSummary[];
  X: { encoding: string; dtype: string; shape: [number, number] } | null;
  layers: string[];
  obsm: Record<string, number[]>;
  varm: Record<string, number[]>;
  obsp: string[];
  varp: string[];
  uns: string[];
  raw: { n_vars: number; var: ColumnSummary[] } | null;
  notices?: string[];
  /** What X's values look like (counts, normalised, scaled), from a sample the engine read. */
  X_values?: XValueHint | null;
  /** The first rows of obs. */
  obs_preview?: ObsPreview;
}

/** What the open dialog offers: AnnData files, or a table of annotations. */
export type { FileKind } from './request-schemas';

/** A file the user chose (dialog, drop, OS, upload): the renderer only ever holds its token. */
export interface OpenedFile {
  fileToken: string;
  name: string;
  size?: number;
}

export type JobState = 'running' | 'completed' | 'failed' | 'cancelled';

/** Progress of a long step: a phase name and how far along it is. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  /**
   * What done and total count, so the page can say it in words (src/shared/progress-text.ts):
   * cells, bytes, or 'said' when the phase already says how far along it is ("pass 2 of 5").
   */
  unit?: 'cells' | 'bytes' | 'said';
}

/** What every job says, whatever its kind. */
export interface JobSnapshotBase {
  id: string;
  title: string;
  state: JobState;
  progress: Progress | null;
  startedAt: string;
  finishedAt: string | null;
  error?: ErrorValue;
}

/** A job of one kind: its result (once completed) has that kind's shape. */
export type JobSnapshotOf<K extends JobKind> = JobSnapshotBase & { kind: K; result?: JobResults[K] };
export type JobSnapshot = { [K in JobKind]: JobSnapshotOf<K> }[JobKind];

export interface StoreColumn {
  name: string;
  dtype: string;
  categories?: (string | number)[];
  ordered?: boolean;
}

export interface StoreSummary {
  uid: string;
  key: string;
  version: number;
  isLatest: boolean;
  nObs: number;
  nVars: number;
  measurement: string;
  obs: StoreColumn[];
  var: StoreColumn[];
  layers: string[];
  /** explainedVarianceRatio: per component, for a PCA computed by Cellar (from the version that made it). */
  obsm: { name: string; width: number; explainedVarianceRatio?: number[] }[];
  /** The files the store's cells came from, by their position (the obs column "dataset"). */
  datasets: { position: number; key: string; uid: string }[];
}

/** A store and one of its versions (`version`: number or uid; latest when absent). */
export type StoreRef = Requests['store:summary'];

/** The order of a table window's rows: by one column, missing values last either way. */
export interface TableSort {
  sortColumn?: string;
  sortDescending?: boolean;
}

/** Rows of a table as Arrow IPC stream bytes (never big JSON). */
export interface TableWindow {
  total: number;
  offset: number;
  arrow: Uint8Array;
}

export interface SpaceCheck {
  neededBytes: number;
  freeBytes: number;
}

/** Request/response channels. */
export interface Channels {
  'app:info': { request: Requests['app:info']; response: AppInfo };
  'library:list': { request: Requests['library:list']; response: LibraryListing };
  /** The open dialog; `kind: 'table'` asks for a CSV/TSV (annotation) instead of .h5ad files. */
  'file:choose': { request: Requests['file:choose']; response: OpenedFile[] };
  /** Files the OS opened before the page listened (a double-click at cold start); later ones arrive as file:opened. */
  'file:pending': { request: Requests['file:pending']; response: OpenedFile[] };
  'file:inspect': { request: Requests['file:inspect']; response: InspectSummary };
  'import:start': { request: Requests['import:start']; response: JobSnapshot };
  'concat:plan': { request: Requests['concat:plan']; response: PlanReport };
  'concat:start': { request: Requests['concat:start']; response: JobSnapshot };
  'store:summary': { request: Requests['store:summary']; response: StoreSummary };
  'store:count': { request: Requests['store:count']; response: { nObs: number; nVars: number } };
  'store:obs-window': { request: Requests['store:obs-window']; response: TableWindow };
  'store:var-window': { request: Requests['store:var-window']; response: TableWindow };
  /** One obs or var column summarised over the rows the filter keeps (categories, min/median/max, NA). */
  'store:column-stats': { request: Requests['store:column-stats']; response: ColumnStats };
  'export:start': { request: Requests['export:start']; response: JobSnapshot };
  'append:preflight': { request: Requests['append:preflight']; response: PlanReport };
  'append:start': { request: Requests['append:start']; response: JobSnapshot };
  'embed:start': { request: Requests['embed:start']; response: JobSnapshot };
  'embedding:points': { request: Requests['embedding:points']; response: { n: number; k: number; values: Uint8Array } };
  'embedding:colors': {
    request: Requests['embedding:colors'];
    response:
      | { kind: 'category'; codes: Uint8Array; categories: string[] }
      /** byDataset: for a gene, how each dataset of the store expresses it. */
      | {
          kind: 'numeric';
          values: Uint8Array;
          min: number;
          max: number;
          byDataset?: DatasetExpression[];
          /** For a gene: the gene the name resolved to (id first, then symbol). */
          gene?: GeneHit;
          /** For a gene some datasets never measured: their cells are NaN in `values`, and this says so. */
          notMeasured?: { nCells: number; datasets: string[]; note: string };
          /** How gene values are shown: log-normalised from counts, or as stored. */
          scale?: GeneColorScale;
        };
  };
  /** Genes whose id or symbol starts with `prefix` (case-insensitive), exact matches first, at most `limit` (default 20, at most 200). */
  'genes:search': { request: Requests['genes:search']; response: GeneHit[] };
  'versions:list': { request: Requests['versions:list']; response: VersionJson[] };
  'versions:diff': { request: Requests['versions:diff']; response: StoreDiff };
  'versions:restore': { request: Requests['versions:restore']; response: { store: { uid: string; key: string; version: number } } };
  'lineage:get': { request: Requests['lineage:get']; response: Lineage };
  'run:get': { request: Requests['run:get']; response: RunDetails };
  'jobs:list': { request: Requests['jobs:list']; response: JobSnapshot[] };
  'jobs:cancel': { request: Requests['jobs:cancel']; response: JobSnapshot };
  'space:check': { request: Requests['space:check']; response: SpaceCheck };
  /** Tombstones an artifact, store or collection; refused while something was made from it unless force (the user's explicit confirmation). */
  'artifact:delete': { request: Requests['artifact:delete']; response: DeleteReport };
  'artifact:rename': { request: Requests['artifact:rename']; response: { kind: 'artifact' | 'collection'; uid: string; key: string } };
  /** An imported h5ad (by key or uid) opened like a chosen file: its token serves the inspector and append. */
  'artifact:inspect': { request: Requests['artifact:inspect']; response: OpenedFile & { artifactKey: string } };
  'store:verify': { request: Requests['store:verify']; response: JobSnapshot };
  /** Rewrites the latest version and drops the older ones; confirm must be true. */
  'store:compact': { request: Requests['store:compact']; response: JobSnapshot };
  /** Reads a CSV/TSV keyed by obs_id against the store: columns, matched cells, unknown ids. Writes nothing. */
  'annotate:preview': { request: Requests['annotate:preview']; response: AnnotationPreview };
  'annotate:start': { request: Requests['annotate:start']; response: JobSnapshot };
  'collection:remove-member': { request: Requests['collection:remove-member']; response: { collection: { uid: string; key: string }; members: string[] } };
  /** Browser mode: the exports kept in the home, newest first, each downloadable again. Desktop: none (exports go where the user saved them). */
  'export:list': { request: Requests['export:list']; response: ExportFile[] };
  /** Differential expression of a group (obs filter, or groupby value) against a reference (filter, value, or the rest). */
  'de:start': { request: Requests['de:start']; response: JobSnapshot };
  /** Rows of a finished differential expression (its job result's `table`), best first. */
  'de:table': { request: Requests['de:table']; response: TableWindow };
  /** Writes a finished differential expression as CSV (desktop: where the user saves it; browser: into the home's exports). */
  'de:export': { request: Requests['de:export']; response: { path: string; download: string | null } };
  /** Saves selected cells (labelled groups of joinids) as a categorical obs column of a new version: an annotate job. */
  'selection:save': { request: Requests['selection:save']; response: JobSnapshot };
  /** A kNN graph of the cells on an obsm embedding, stored as a new version (result: NeighborsJobResult). */
  'neighbors:start': { request: Requests['neighbors:start']; response: JobSnapshot };
  /** UMAP coordinates (obsm X_umap) from the neighbour graph, made first when missing. */
  'umap:start': { request: Requests['umap:start']; response: JobSnapshot };
  /** Leiden clusters as a categorical obs column, on the neighbour graph (made first when missing). */
  'cluster:start': { request: Requests['cluster:start']; response: JobSnapshot };
  /** Per-cell QC metrics (total_counts, n_genes_by_counts, pct_counts_mt, pct_counts_ribo) as obs columns. */
  'qc:start': { request: Requests['qc:start']; response: JobSnapshot };
}

/** What a gene's colours are: counts per 10,000 then log1p, or the layer's values (not counts, or asked for as stored). */
export type GeneColorScale = 'log-normalized' | 'as-stored';

/**
 * Channels only the preload calls, never offered to the page (nor served over HTTP): the path of
 * a dropped File, read with webUtils, becomes a token; null when it is not an .h5ad file.
 */
export interface PreloadChannels {
  'drop:register': { request: Requests['drop:register']; response: OpenedFile | null };
}

export interface ExportFile {
  name: string;
  size: number;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** The reference the page asks a download ticket for (downloadExport). */
  download: string | null;
}

/** Events pushed from main to the renderer. */
export interface Events {
  'file:opened': OpenedFile;
  'job:progress': JobSnapshot;
  'job:finished': JobSnapshot;
  'library:changed': { reason: string };
}

export type Channel = keyof Channels;
export type RequestOf<K extends Channel> = Channels[K]['request'];
export type ResponseOf<K extends Channel> = Channels[K]['response'];
export type EventName = keyof Events;

/** Runtime list of channels, checked against the type so none is forgotten. */
export const CHANNELS = [
  'app:info',
  'library:list',
  'file:choose',
  'file:pending',
  'file:inspect',
  'import:start',
  'concat:plan',
  'concat:start',
  'store:summary',
  'store:count',
  'store:obs-window',
  'store:var-window',
  'store:column-stats',
  'export:start',
  'append:preflight',
  'append:start',
  'embed:start',
  'embedding:points',
  'embedding:colors',
  'genes:search',
  'versions:list',
  'versions:diff',
  'versions:restore',
  'lineage:get',
  'run:get',
  'jobs:list',
  'jobs:cancel',
  'space:check',
  'artifact:delete',
  'artifact:rename',
  'artifact:inspect',
  'store:verify',
  'store:compact',
  'annotate:preview',
  'annotate:start',
  'collection:remove-member',
  'export:list',
  'de:start',
  'de:table',
  'de:export',
  'selection:save',
  'neighbors:start',
  'umap:start',
  'cluster:start',
  'qc:start',
] as const satisfies readonly Channel[];
type MissingChannel = Exclude<Channel, (typeof CHANNELS)[number]>;
export const channelsComplete: MissingChannel extends never ? true : MissingChannel = true;

export const EVENTS = ['file:opened', 'job:progress', 'job:finished', 'library:changed'] as const satisfies readonly EventName[];
type MissingEvent = Exclude<EventName, (typeof EVENTS)[number]>;
export const eventsComplete: MissingEvent extends never ? true : MissingEvent = true;

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && (CHANNELS as readonly string[]).includes(name);
}

/** The API the preload exposes on window.cellar and the browser transport implements. */
export interface CellarApi {
  invoke<K extends Channel>(channel: K, request: RequestOf<K>): Promise<Result<ResponseOf<K>>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Desktop: the path-free token of a dropped File (webUtils in the preload). Browser: uploads it. */
  fileFromDrop?(file: File): Promise<OpenedFile>;
}

/** JSON for the HTTP transport: Uint8Array travels as {"$bytes": base64}. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return { $bytes: bytesToBase64(v) };
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return v;
  });
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && '$bytes' in v && typeof (v as { $bytes: unknown }).$bytes === 'string') return base64ToBytes((v as { $bytes: string }).$bytes);
    return v;
  }) as T;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${B64[n >> 18]}${B64[(n >> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[n >> 18]}${B64[(n >> 12) & 63]}${B64[(n >> 6) & 63]}=`;
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    buffer = (buffer << 6) | B64.indexOf(clean[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}
