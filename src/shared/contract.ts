// The one typed IPC contract: every channel with its request and response, and
// every event. Main handlers, the preload bridge, the renderer client and the
// browser-mode transport are all typed from these maps.
import type { ErrorValue } from './errors';
import type { RegistryListing } from './registry-types';

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorValue };

export interface AppInfo {
  name: string;
  version: string;
  home: string;
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
}

/** Request/response channels. */
export interface Channels {
  'app:info': { request: void; response: AppInfo };
  'file:inspect': { request: { fileToken: string }; response: InspectSummary };
  'library:list': { request: void; response: RegistryListing };
}

/** Events pushed from main to the renderer. */
export interface Events {
  'file:opened': { fileToken: string; name: string };
}

export type Channel = keyof Channels;
export type RequestOf<K extends Channel> = Channels[K]['request'];
export type ResponseOf<K extends Channel> = Channels[K]['response'];
export type EventName = keyof Events;

/** Runtime list of channels, checked against the type so none is forgotten. */
export const CHANNELS = ['app:info', 'file:inspect', 'library:list'] as const satisfies readonly Channel[];
type Missing = Exclude<Channel, (typeof CHANNELS)[number]>;
export const channelsComplete: Missing extends never ? true : Missing = true;

export const EVENTS = ['file:opened'] as const satisfies readonly EventName[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && (CHANNELS as readonly string[]).includes(name);
}

/** The API the preload exposes on window.cellar and the browser transport implements. */
export interface CellarApi {
  invoke<K extends Channel>(channel: K, request: RequestOf<K>): Promise<Result<ResponseOf<K>>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}
