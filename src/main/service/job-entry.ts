// Worker-side entry of a long job: opens its own registry connection (SQLite WAL lets
// the app, the CLI and workers share one home) and runs one operation.
import { openRegistry, type Registry } from '../registry/registry';
import { importFiles } from '../engine/ops/import';
import { concatenateCollection, describeMembers } from '../engine/ops/concatenate';
import { planConcatenation, planSummary } from '../engine/ops/plan';
import { appendToStore, type Preflight } from '../engine/ops/append';
import { embedStore } from '../engine/ops/embed';
import { exportQueryToH5ad, obsToCsv, openQuery, queryObs } from '../engine/ops/export';
import { exportQueryToParquet } from '../engine/ops/export-parquet';
import { annotateStore, previewAnnotation, saveSelectionAsColumn, type SaveSelectionParams } from '../engine/ops/annotate';
import { compactStore } from '../engine/ops/versioning';
import { HASH_CACHE_DIR, registryVersionsOf, storeDiskUsage } from '../engine/ops/store-records';
import { resolveStore } from '../engine/ops/reconcile';
import { verifyStore } from '../engine/store/format/verify';
import { verifyLinkedArtifacts } from '../engine/ops/verify-links';
import { writeFile, rename } from 'node:fs/promises';
import { CellarError } from '../../shared/errors';
import type { AnnotationPreview, ExportJobResult, JobKind, JobResults, RequestOf, VerifyJobResult } from '../../shared/contract';
import type { JobContext } from '../engine/jobs/runner';
import { runDeJob } from './de-job';
import { neighborsStore } from '../engine/ops/neighbors';
import { umapStore } from '../engine/ops/umap';
import { clusterStore } from '../engine/ops/cluster';
import { qcStore } from '../engine/ops/qc';

/** What the worker hands back; the service adds the download link of an export. */
export type WorkerResults = Omit<JobResults, 'export'> & { export: Omit<ExportJobResult, 'download'> };

/** What an operation run in the worker gets: the job's signal and progress, its home and a registry of its own. */
interface OperationContext extends JobContext {
  registry: Registry;
  home: string;
}

/** Without dryRun an operation writes; a plan-only answer here would be a bug. */
function written<R extends { plan: unknown }>(result: R, what: string): Extract<R, { store: unknown }> {
  if (!('store' in result)) throw new CellarError('internal', `The ${what} returned a plan but wrote nothing.`);
  return result as Extract<R, { store: unknown }>;
}

// One runner per job kind, each checked against the contract's result type for that kind.
const RUNNERS: { [K in JobKind]: (ctx: OperationContext, params: Record<string, unknown>) => Promise<WorkerResults[K]> } = {
  import: (ctx, params) => importFiles({ ...ctx, files: params.files as string[], collectionKey: params.collectionKey as string, description: params.description as string | undefined }),
  concatenate: async (ctx, params) =>
    written(await concatenateCollection({ ...ctx, collectionKey: params.collectionKey as string, storeKey: params.storeKey as string, makeUnique: !!params.makeUnique, ...(params.genes as GeneOptions | undefined) }), 'concatenation'),
  append: async (ctx, params) =>
    written(await appendToStore({ ...ctx, storeKey: params.storeKey as string, files: params.files as string[], fillMissing: !!params.fillMissing, addColumns: !!params.addColumns, makeUnique: !!params.makeUnique, matchGenes: params.matchGenes as GeneOptions['matchGenes'] }), 'append'),
  embed: (ctx, params) => embedStore({ ...ctx, storeKey: params.storeKey as string, name: params.name as string | undefined, pca: params.pca as never }),
  export: async (ctx, params) => {
    const query = { registry: ctx.registry, storeKey: params.storeKey as string, version: params.version as string | undefined, obs: params.obs as string | undefined, var: params.var as string | undefined, layer: params.layer as string | undefined };
    const out = params.out as string;
    if (params.format === 'csv') {
      const q = await openQuery(query);
      try {
        await writeFile(`${out}.partial`, obsToCsv(queryObs(q)));
        await rename(`${out}.partial`, out);
        return { path: out, n_obs: q.selection.obsJoinids.length };
      } finally {
        q.reader.close();
      }
    }
    if (params.format === 'parquet') {
      const r = await exportQueryToParquet({ ...query, out, signal: ctx.signal, onProgress: ctx.onProgress });
      return { path: r.path, n_obs: r.n_obs, n_vars: r.n_vars };
    }
    const r = await exportQueryToH5ad({ ...query, out, signal: ctx.signal, onProgress: ctx.onProgress });
    return { path: r.path, n_obs: r.n_obs, n_vars: r.n_vars };
  },
  verify: async (ctx, params) => {
    const { store, dir } = await resolveStore(ctx.registry, params.storeKey as string);
    const fix = !!params.fix;
    ctx.onProgress({ phase: `Checking every file of ${store.key} against its checksum`, done: 0, total: 1 });
    const result = await verifyStore(dir, { fix, storeKey: store.key, registry: registryVersionsOf(ctx.registry, store.stem), versionCacheDir: HASH_CACHE_DIR });
    ctx.signal.throwIfAborted();
    const links = await verifyLinkedArtifacts(ctx.registry, store.stem);
    const problems = [...result.problems, ...links];
    const report: VerifyJobResult = { store: { uid: store.uid, key: store.key }, ok: problems.length === 0, versions: result.versions, problems, garbage: result.garbage, removed: result.removed, kept: result.kept, repaired: fix };
    return report;
  },
  compact: async (ctx, params) => {
    const { dir } = await resolveStore(ctx.registry, params.storeKey as string);
    const before = storeDiskUsage(dir);
    const r = await compactStore({ registry: ctx.registry, storeKey: params.storeKey as string, signal: ctx.signal, onProgress: ctx.onProgress });
    return { ...r, deferred: r.deferred ?? undefined, bytes_before: before, bytes_after: storeDiskUsage(dir) };
  },
  annotate: (ctx, params) =>
    params.selection
      ? saveSelectionAsColumn({ registry: ctx.registry, storeKey: params.storeKey as string, signal: ctx.signal, ...(params.selection as Omit<SaveSelectionParams, 'registry' | 'storeKey' | 'signal'>) })
      : annotateStore({ registry: ctx.registry, storeKey: params.storeKey as string, from: params.from as string, signal: ctx.signal }),
  de: (ctx, params) => runDeJob(ctx, params as unknown as RequestOf<'de:start'>),
  neighbors: (ctx, params) => neighborsStore({ ...ctx, ...(params as unknown as RequestOf<'neighbors:start'>) }),
  umap: (ctx, params) => umapStore({ ...ctx, ...(params as unknown as RequestOf<'umap:start'>) }),
  cluster: (ctx, params) => clusterStore({ ...ctx, ...(params as unknown as RequestOf<'cluster:start'>) }),
  qc: (ctx, params) => qcStore({ ...ctx, ...(params as unknown as RequestOf<'qc:start'>) }),
};

export async function runJob<K extends JobKind>(home: string, kind: K, params: Record<string, unknown>, controls: JobContext): Promise<WorkerResults[K]> {
  const registry = openRegistry(home);
  try {
    return await RUNNERS[kind]({ registry, home, signal: controls.signal, onProgress: controls.onProgress }, params);
  } finally {
    registry.close();
  }
}

/** The concatenation plan of a collection: reads every member's metadata, so it runs in a worker. */
export async function planCollectionConcatenation(home: string, collectionKey: string, makeUnique: boolean, genes: GeneOptions = {}): Promise<ReturnType<typeof planSummary>> {
  const registry = openRegistry(home);
  try {
    const collection = registry.getCollection(collectionKey);
    return planSummary(planConcatenation(await describeMembers(collection.members, { collectionKey: collection.key }), { makeUnique, ...genes }));
  } finally {
    registry.close();
  }
}

/** How a concatenation matches genes (concat:plan, concat:start). */
export interface GeneOptions {
  matchGenes?: 'exact' | 'unversioned';
  join?: 'outer' | 'inner';
  symbolColumn?: string;
}

/** The append preflight (nothing written): reads the new files, so it runs in a worker. */
export async function preflightAppend(home: string, request: { storeKey: string; files: string[]; fillMissing?: boolean; addColumns?: boolean; makeUnique?: boolean; matchGenes?: GeneOptions['matchGenes']; readTimeoutMs?: number }, controls?: Partial<JobContext>): Promise<Preflight> {
  const registry = openRegistry(home);
  try {
    const r = await appendToStore({ ...request, registry, home, dryRun: true, signal: controls?.signal });
    return r.plan;
  } finally {
    registry.close();
  }
}

/** What an annotation table would do to a store (nothing written): reads the store's cells, so it runs in a worker. */
export async function previewStoreAnnotation(home: string, storeKey: string, from: string): Promise<AnnotationPreview> {
  const registry = openRegistry(home);
  try {
    return await previewAnnotation({ registry, storeKey, from });
  } finally {
    registry.close();
  }
}
