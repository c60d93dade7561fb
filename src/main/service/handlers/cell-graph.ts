// Neighbours, UMAP, clusters and QC: each started as a job whose body (job-entry.ts) runs in
// a task thread and writes a new version of the store.
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

export function cellGraphHandlers({ startJob }: ServiceContext): Pick<Handlers, 'neighbors:start' | 'umap:start' | 'cluster:start' | 'qc:start'> {
  return {
    'neighbors:start': (request) => startJob('neighbors', `Neighbours of ${request.storeKey}`, { ...request }),
    'umap:start': (request) => startJob('umap', `UMAP of ${request.storeKey}`, { ...request }),
    'cluster:start': (request) => startJob('cluster', `Leiden clusters of ${request.storeKey}`, { ...request }),
    'qc:start': (request) => startJob('qc', `QC metrics of ${request.storeKey}`, { ...request }),
  };
}
