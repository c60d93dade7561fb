// Leiden clusters of the cells as a categorical obs column of a new version, on the
// version's neighbour graph weighted as scanpy weights it (UMAP's fuzzy connectivities).
// A version without a graph gets one first (cellar neighbors' defaults), stored beside the
// clusters so the clustering can be traced and repeated.
import { CellarError } from '../../../shared/errors';
import type { Column } from '../columns/column-model';
import { fuzzyUnionGraph } from '../graph/connectivities';
import { leiden } from '../graph/leiden';
import type { KnnGraphArrays } from '../store/store-writer';
import { commitDerivedVersion, type DerivedVersionParams } from './derived-version';
import { DEFAULT_GRAPH_NAME, graphOrCompute } from './neighbors';
import type { ClusterJobResult } from '../../../shared/result-types';
import { clusterMessage } from '../../../shared/version-message';

/** Columns Cellar itself keeps: a clustering never replaces them. */
const RESERVED_COLUMNS = new Set(['obs_id', 'dataset', 'cellar_run_uid']);

export interface ClusterRequest {
  resolution?: number;
  /** The obs column (default leiden). */
  name?: string;
  /** The neighbour graph (default neighbors; made when missing). */
  neighbors?: string;
  seed?: number;
}

export type ClusterResult = ClusterJobResult;

export function checkClusterRequest(request: ClusterRequest): void {
  const r = request.resolution;
  if (r !== undefined && !(Number.isFinite(r) && r > 0)) throw new CellarError('usage', `--resolution must be a number above 0 (higher gives more, smaller clusters); got ${r}.`);
  const name = request.name;
  if (name !== undefined && (!/^[\w.\- ]+$/.test(name) || RESERVED_COLUMNS.has(name))) {
    throw new CellarError('usage', RESERVED_COLUMNS.has(name) ? `"${name}" is a column Cellar keeps; name the clusters otherwise.` : `"${name}" cannot name an obs column here; use letters, digits, _ . - or spaces.`);
  }
}

export async function clusterStore(params: DerivedVersionParams & ClusterRequest): Promise<ClusterResult> {
  checkClusterRequest(params);
  const name = params.name ?? 'leiden';
  const resolution = params.resolution ?? 1;
  const seed = params.seed ?? 0;
  const graphName = params.neighbors ?? DEFAULT_GRAPH_NAME;
  interface Computed {
    membership: Int32Array;
    nClusters: number;
    modularity: number;
    graph: KnnGraphArrays;
    graphComputed: boolean;
    replaced: boolean;
  }
  const r = await commitDerivedVersion<Computed>(params, {
    transform: 'cluster',
    runParams: { name, resolution, seed, neighbors: graphName },
    what: 'the clustering',
    compute: async (reader, measurement, store) => {
      const { graph, computed } = await graphOrCompute(reader, measurement, store.key, params.neighbors, params.signal, params.onProgress);
      params.signal?.throwIfAborted();
      params.onProgress?.({ phase: 'Clustering: edge weights', done: 0, total: 1 });
      const weighted = fuzzyUnionGraph(graph.indices, graph.distances, reader.nObs, graph.k);
      const result = leiden(weighted, { resolution, seed, signal: params.signal, onProgress: (done, total) => params.onProgress?.({ phase: 'Clustering: Leiden', done, total }) });
      return { membership: result.membership, nClusters: result.nCommunities, modularity: result.quality, graph, graphComputed: computed, replaced: reader.obs.columnNames.includes(name) };
    },
    write: async (writer, c, measurement) => {
      if (c.graphComputed) {
        await writer.setObsp(measurement, graphName, c.graph);
        // The graph's files are written, the rest not yet: crash tests stop here.
        await params.checkpoint?.('after-graph');
      }
      await writer.setObsColumns({ columns: [{ name, column: clusterColumn(c.membership, c.nClusters) }], nRows: c.membership.length });
    },
    describe: (c) => ({ name, resolution, seed, graph: graphName, graphComputed: c.graphComputed, nClusters: c.nClusters, modularity: c.modularity }),
    message: (c) => clusterMessage(name, resolution, c.nClusters),
  });
  const { computed: c, ...written } = r;
  const sizes = new Array<number>(c.nClusters).fill(0);
  for (const m of c.membership) sizes[m]!++;
  return { ...written, clusters: { name, resolution, n_clusters: c.nClusters, sizes, modularity: c.modularity, graph: graphName, graph_computed: c.graphComputed, replaced: c.replaced } };
}

/** Clusters "0", "1", … (largest first), as scanpy names them. */
function clusterColumn(membership: Int32Array, nClusters: number): Column {
  return {
    kind: 'category',
    codes: membership,
    categories: { kind: 'string', values: Array.from({ length: nClusters }, (_, c) => String(c)) },
    ordered: false,
  };
}
