// The contract's handlers, written once and served both over Electron IPC (desktop)
// and over HTTP (cellar serve). Plain Node: no electron imports. Long work runs as
// jobs in worker threads, so neither the window nor the server ever freezes. Each
// feature's handlers live in their own file; this one composes them.
import { CHANNELS } from '../../../shared/contract';
import type { Handlers, Validators } from '../../ipc/handle';
import { requestValidators } from '../../ipc/validate';
import type { JobRunner } from '../../engine/jobs/runner';
import { createServiceContext, type ServiceOptions } from './context';
import { collectionHandlers } from './collections';
import { deHandlers } from './de';
import { embeddingHandlers } from './embeddings';
import { cellGraphHandlers } from './cell-graph';
import { exportHandlers } from './exports';
import { fileHandlers } from './files';
import { jobHandlers } from './jobs';
import { libraryHandlers } from './library';
import { selectionHandlers } from './selections';
import { storeHandlers } from './stores';
import { versionHandlers } from './versions';

export type { ServiceOptions } from './context';

export interface Service {
  handlers: Handlers;
  validators: Validators;
  jobs: JobRunner;
  close(): void;
}

export function createService(options: ServiceOptions): Service {
  const context = createServiceContext(options);
  const handlers: Handlers = {
    ...libraryHandlers(context),
    ...fileHandlers(context),
    ...collectionHandlers(context),
    ...storeHandlers(context),
    ...embeddingHandlers(context),
    ...cellGraphHandlers(context),
    ...versionHandlers(context),
    ...exportHandlers(context),
    ...deHandlers(context),
    ...selectionHandlers(context),
    ...jobHandlers(context),
  };
  return { handlers, validators: requestValidators(CHANNELS), jobs: context.jobs, close: context.close };
}
