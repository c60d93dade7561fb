// A k-nearest-neighbour graph of the cells on an obsm embedding, stored as the graph (obsp)
// of a new version (docs/store-format.md, "obsp"). UMAP and clustering read it; they make it
// first, with the defaults below, when the version has none.
import { CellarError } from '../../../shared/errors';
import type { KnnGraphArrays } from '../store/store-writer';
import type { StoreReader } from '../store/store-reader';
import { nearestNeighbors, type KnnMetric } from '../graph/knn';
import type { ProgressFn } from './progress';
import { commitDerivedVersion, type DerivedVersionParams } from './derived-version';
import type { NeighborsJobResult } from '../../../shared/result-types';
import { neighborsMessage } from '../../../shared/version-message';

export const DEFAULT_GRAPH_NAME = 'neighbors';
export const DEFAULT_K = 15;
/** Most neighbours per cell: beyond this a kNN graph stops being local, and memory grows with k. */
export const MAX_K = 200;
const METRICS: readonly KnnMetric[] = ['euclidean', 'cosine'];

export interface NeighborsRequest {
  /** The obsm embedding (default: pca, else X_pca). */
  embedding?: string;
  k?: number;
  metric?: KnnMetric;
  /** The graph's name (default neighbors). */
  name?: string;
  seed?: number;
}

export type NeighborsResult = NeighborsJobResult;

/** The embedding a request names, or the default one the version has; a clear error otherwise. */
export function pickEmbedding(reader: StoreReader, measurement: string, storeKey: string, name: string | undefined): string {
  const names = reader.obsmNames(measurement);
  if (name !== undefined) {
    if (!names.includes(name)) {
      throw new CellarError('not_found', `The store ${storeKey} has no embedding "${name}"${names.length ? `; it has ${names.join(', ')}` : ''}.`);
    }
    return name;
  }
  const found = ['pca', 'X_pca'].find((n) => names.includes(n));
  if (!found) {
    throw new CellarError('not_found', `The store ${storeKey} has no PCA embedding to find neighbours on${names.length ? ` (it has ${names.join(', ')}; pick one with --embedding)` : ''}. Add one first: cellar embed --store ${storeKey} --pca 50 --normalize.`);
  }
  return found;
}

/** Checks a request before anything is read. */
export function checkNeighborsRequest(request: NeighborsRequest): void {
  const k = request.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 2 || k > MAX_K) throw new CellarError('usage', `--k must be a whole number from 2 to ${MAX_K} (neighbours per cell, the cell itself included); got ${k}.`);
  if (request.metric !== undefined && !METRICS.includes(request.metric)) throw new CellarError('usage', `--metric must be ${METRICS.join(' or ')}; got "${String(request.metric)}".`);
  if (request.name !== undefined && !/^[\w.\- ]+$/.test(request.name)) throw new CellarError('usage', `"${request.name}" cannot name a graph; use letters, digits, _ . - or spaces.`);
}

/** Computes the graph of a version (read only; nothing is written). */
export async function computeNeighborGraph(reader: StoreReader, measurement: string, storeKey: string, request: NeighborsRequest, signal?: AbortSignal, onProgress?: ProgressFn): Promise<KnnGraphArrays> {
  checkNeighborsRequest(request);
  const k = request.k ?? DEFAULT_K;
  const embedding = pickEmbedding(reader, measurement, storeKey, request.embedding);
  const n = reader.nObs;
  if (k > n) throw new CellarError('usage', `--k ${k} needs at least ${k} cells; the store ${storeKey} has ${n}.`);
  const dense = await reader.readObsm(measurement, embedding);
  const values = dense.values;
  if (!(values instanceof Float32Array || values instanceof Float64Array)) throw new CellarError('usage', `The embedding ${embedding} is not floating-point; neighbours need coordinates.`);
  const metric = request.metric ?? 'euclidean';
  const result = nearestNeighbors(values, n, dense.shape[1], {
    k,
    metric,
    seed: request.seed ?? 0,
    signal,
    onProgress: (done, total, phase) => onProgress?.({ phase: `Neighbours: ${phase}`, done, total }),
  });
  return { k, metric, embedding, indices: result.indices, distances: result.distances };
}

/** The version's graph of that name if it has one, else a new one computed with the defaults. */
export async function graphOrCompute(reader: StoreReader, measurement: string, storeKey: string, name: string | undefined, signal?: AbortSignal, onProgress?: ProgressFn): Promise<{ graph: KnnGraphArrays; computed: boolean }> {
  const wanted = name ?? DEFAULT_GRAPH_NAME;
  if (reader.obspNames(measurement).includes(wanted)) {
    const { entry, indices, distances } = await reader.readObsp(measurement, wanted);
    return { graph: { k: entry.k, metric: entry.metric, embedding: entry.embedding, indices, distances }, computed: false };
  }
  if (name !== undefined) {
    const names = reader.obspNames(measurement);
    throw new CellarError('not_found', `The store ${storeKey} has no neighbour graph "${name}"${names.length ? `; it has ${names.join(', ')}` : ''}. Make one with cellar neighbors --store ${storeKey} --name ${name}.`);
  }
  return { graph: await computeNeighborGraph(reader, measurement, storeKey, {}, signal, onProgress), computed: true };
}

export async function neighborsStore(params: DerivedVersionParams & NeighborsRequest): Promise<NeighborsResult> {
  checkNeighborsRequest(params);
  const name = params.name ?? DEFAULT_GRAPH_NAME;
  const request: NeighborsRequest = { embedding: params.embedding, k: params.k ?? DEFAULT_K, metric: params.metric ?? 'euclidean', seed: params.seed ?? 0, name };
  const r = await commitDerivedVersion(params, {
    transform: 'neighbors',
    runParams: { ...request },
    what: 'the neighbour graph',
    compute: (reader, measurement, store) => computeNeighborGraph(reader, measurement, store.key, request, params.signal, params.onProgress),
    write: (writer, graph, measurement) => writer.setObsp(measurement, name, graph),
    describe: (graph) => ({ name, embedding: graph.embedding, k: graph.k, metric: graph.metric, seed: request.seed }),
    message: (graph) => neighborsMessage(name, graph.k, graph.embedding, graph.metric),
  });
  const { computed: graph, ...written } = r;
  return { ...written, graph: { name, embedding: graph.embedding, k: graph.k, metric: graph.metric, n_obs: graph.indices.length / graph.k } };
}
