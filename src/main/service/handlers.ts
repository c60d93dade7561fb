// The contract's handlers, written once and served both over Electron IPC (desktop)
// and over HTTP (cellar serve). Plain Node: no electron imports.
import { fileURLToPath } from 'node:url';
import { CellarError } from '../../shared/errors';
import type { AppInfo, InspectSummary, RequestOf } from '../../shared/contract';
import type { Handlers, Validators } from '../ipc/handle';
import { openRegistry, type Registry } from '../registry/registry';
import { callInWorker } from '../engine/jobs/worker-host';

export interface ServiceOptions {
  home: string;
  mode: AppInfo['mode'];
  version: string;
  /** Opaque token → path of a file the user opened (dialog, drop, OS, upload). */
  files: Map<string, string>;
  readTimeoutMs?: number;
}

const INSPECT_MODULE = fileURLToPath(new URL('../engine/h5ad/inspect-file.ts', import.meta.url));

export interface Service {
  handlers: Handlers;
  validators: Validators;
  close(): void;
}

export function createService(options: ServiceOptions): Service {
  let registry: Registry | null = null;
  const db = () => (registry ??= openRegistry(options.home));
  const handlers: Handlers = {
    'app:info': () => ({ name: 'Cellar', version: options.version, home: options.home, mode: options.mode }),
    'file:inspect': async ({ fileToken }) => {
      const path = options.files.get(fileToken);
      if (!path) throw new CellarError('not_found', 'That file is no longer open; open it again.');
      return callInWorker<InspectSummary>(INSPECT_MODULE, 'inspectFile', [path], { timeoutMs: options.readTimeoutMs ?? 120_000, what: `reading ${path}` });
    },
    'library:list': () => db().list(),
  };
  const validators: Validators = {
    'app:info': noPayload,
    'file:inspect': (p) => ({ fileToken: requireString(p, 'fileToken', 'file:inspect') }),
    'library:list': noPayload,
  };
  return {
    handlers,
    validators,
    close: () => {
      registry?.close();
      registry = null;
    },
  };
}

function noPayload(): undefined {
  return undefined;
}

function requireString(payload: unknown, field: string, channel: string): string {
  const value = (payload as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || !value) throw new CellarError('usage', `${channel} needs a string "${field}".`);
  return value;
}

export type { RequestOf };
