// The one typed IPC contract: every channel with its request and response, and
// every event. Main handlers, the preload bridge, the renderer client and the
// browser-mode transport are all typed from these maps.
import type { ErrorValue } from './errors';
import type { Lineage, VersionJson } from './registry-types';
import type { DeMethod } from './de-types';
import type { AnnotationPreview, DatasetExpression, DeleteReport, JobKind, JobResults, LibraryListing, PlanReport, RunDetails, StoreDiff } from './result-types';

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
}

/** What the open dialog offers: AnnData files, or a table of annotations. */
export type FileKind = 'h5ad' | 'table';

/** A file the user chose (dialog, drop, OS, upload): the renderer only ever holds its token. */
export interface OpenedFile {
  fileToken: string;
  name: string;
  size?: number;
}

export type JobState = 'running' | 'completed' | 'failed' | 'cancelled';

interface JobSnapshotBase {
  id: string;
  title: string;
  state: JobState;
  progress: { phase: string; done: number; total: number } | null;
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
  obsm: { name: string; width: number }[];
  /** The files the store's cells came from, by their position (the obs column "dataset"). */
  datasets: { position: number; key: string; uid: string }[];
}

export interface StoreRef {
  storeKey: string;
  /** Version number or uid; latest when absent. */
  version?: string;
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
  'app:info': { request: void; response: AppInfo };
  'library:list': { request: void; response: LibraryListing };
  /** The open dialog; `kind: 'table'` asks for a CSV/TSV (annotation) instead of .h5ad files. */
  'file:choose': { request: void | { kind?: FileKind }; response: OpenedFile[] };
  /** Files the OS opened before the page listened (a double-click at cold start); later ones arrive as file:opened. */
  'file:pending': { request: void; response: OpenedFile[] };
  'file:inspect': { request: { fileToken: string }; response: InspectSummary };
  'import:start': { request: { fileTokens: string[]; collectionKey: string; description?: string }; response: JobSnapshot };
  'concat:plan': { request: { collectionKey: string; makeUnique?: boolean }; response: PlanReport };
  'concat:start': { request: { collectionKey: string; storeKey: string; makeUnique?: boolean }; response: JobSnapshot };
  'store:summary': { request: StoreRef; response: StoreSummary };
  'store:count': { request: StoreRef & { obs?: string; var?: string }; response: { nObs: number; nVars: number } };
  'store:obs-window': { request: StoreRef & { obs?: string; offset: number; limit: number }; response: TableWindow };
  'store:var-window': { request: StoreRef & { var?: string; offset: number; limit: number }; response: TableWindow };
  'export:start': { request: StoreRef & { obs?: string; var?: string; layer?: string; format: 'h5ad' | 'csv' }; response: JobSnapshot };
  'append:preflight': { request: { storeKey: string; fileTokens: string[]; fillMissing?: boolean; addColumns?: boolean; makeUnique?: boolean }; response: PlanReport };
  'append:start': { request: { storeKey: string; fileTokens: string[]; fillMissing?: boolean; addColumns?: boolean; makeUnique?: boolean }; response: JobSnapshot };
  'embed:start': { request: { storeKey: string; nComponents: number; layer?: string; normalize?: boolean; genes?: number; seed?: number; name?: string }; response: JobSnapshot };
  'embedding:points': { request: StoreRef & { name: string }; response: { n: number; k: number; values: Uint8Array } };
  'embedding:colors': {
    request: StoreRef & { obsColumn?: string; gene?: string };
    response:
      | { kind: 'category'; codes: Uint8Array; categories: string[] }
      /** byDataset: for a gene, how each dataset of the store expresses it. */
      | { kind: 'numeric'; values: Uint8Array; min: number; max: number; byDataset?: DatasetExpression[] };
  };
  'versions:list': { request: { storeKey: string }; response: VersionJson[] };
  'versions:diff': { request: { storeKey: string; a: string; b: string }; response: StoreDiff };
  'versions:restore': { request: { storeKey: string; version: string }; response: { store: { uid: string; key: string; version: number } } };
  'lineage:get': { request: { ref: string }; response: Lineage };
  'run:get': { request: { uid: string }; response: RunDetails };
  'jobs:list': { request: void; response: JobSnapshot[] };
  'jobs:cancel': { request: { id: string }; response: JobSnapshot };
  'space:check': { request: { collectionKey?: string; storeKey?: string; fileTokens?: string[] }; response: SpaceCheck };
  /** Tombstones an artifact, store or collection; refused while something was made from it unless force (the user's explicit confirmation). */
  'artifact:delete': { request: { ref: string; force?: boolean }; response: DeleteReport };
  'artifact:rename': { request: { ref: string; newKey: string }; response: { kind: 'artifact' | 'collection'; uid: string; key: string } };
  /** An imported h5ad (by key or uid) opened like a chosen file: its token serves the inspector and append. */
  'artifact:inspect': { request: { ref: string }; response: OpenedFile & { artifactKey: string } };
  'store:verify': { request: { storeKey: string; fix?: boolean }; response: JobSnapshot };
  /** Rewrites the latest version and drops the older ones; confirm must be true. */
  'store:compact': { request: { storeKey: string; confirm: boolean }; response: JobSnapshot };
  /** Reads a CSV/TSV keyed by obs_id against the store: columns, matched cells, unknown ids. Writes nothing. */
  'annotate:preview': { request: { storeKey: string; fileToken: string }; response: AnnotationPreview };
  'annotate:start': { request: { storeKey: string; fileToken: string }; response: JobSnapshot };
  'collection:remove-member': { request: { collectionKey: string; member: string }; response: { collection: { uid: string; key: string }; members: string[] } };
  /** Browser mode: the exports kept in the home, newest first, each downloadable again. Desktop: none (exports go where the user saved them). */
  'export:list': { request: void; response: ExportFile[] };
  /** Differential expression of a group (obs filter, or groupby value) against a reference (filter, value, or the rest). */
  'de:start': { request: StoreRef & { obs?: string; referenceObs?: string; groupby?: string; group?: string; reference?: string; method?: DeMethod; layer?: string }; response: JobSnapshot };
  /** Rows of a finished differential expression (its job result's `table`), best first. */
  'de:table': { request: { table: string; offset: number; limit: number }; response: TableWindow };
  /** Writes a finished differential expression as CSV (desktop: where the user saves it; browser: into the home's exports). */
  'de:export': { request: { table: string }; response: { path: string; download: string | null } };
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
  'export:start',
  'append:preflight',
  'append:start',
  'embed:start',
  'embedding:points',
  'embedding:colors',
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
