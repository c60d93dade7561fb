// A completed job's result, typed by the job's kind (the contract types each kind's result).
import type { JobKind, JobResults, JobSnapshot } from '../../../shared/contract';
import { routeHref } from './route';

export function completedResult<K extends JobKind>(job: JobSnapshot | null, kind: K): JobResults[K] | null {
  if (!job || job.kind !== kind || job.state !== 'completed' || !job.result) return null;
  // Checked above: a job of this kind carries this kind's result.
  return job.result as JobResults[K];
}

/** Where a finished job's result opens (the store version, the collection, the exports), or null. */
export function jobResultLink(job: JobSnapshot): { href: string; label: string } | null {
  if (job.state !== 'completed' || !job.result) return null;
  switch (job.kind) {
    case 'import': {
      const r = completedResult(job, 'import')!;
      return { href: routeHref('library', { highlight: r.collection.uid }), label: `Open the collection ${r.collection.key}` };
    }
    case 'embed': {
      const r = completedResult(job, 'embed')!;
      return { href: routeHref('embeddings', { store: r.store.key }), label: `Open ${r.embedding.name} of ${r.store.key} v${r.store.version}` };
    }
    case 'export':
      return { href: routeHref('library', { highlight: 'exports' }), label: 'Open the list of exports' };
    case 'verify': {
      const r = completedResult(job, 'verify')!;
      return { href: routeHref('store', { store: r.store.key }), label: `Open ${r.store.key}` };
    }
    default: {
      const r = (job.result as { store?: { key: string; version: number } }).store;
      return r ? { href: routeHref('store', { store: r.key, version: String(r.version) }), label: `Open ${r.key} v${r.version}` } : null;
    }
  }
}
