// UMAP coordinates of the cells as obsm X_umap of a new version, laid out from the version's
// neighbour graph (made first, with cellar neighbors' defaults, when it has none; then stored
// beside the coordinates).
import { CellarError } from '../../../shared/errors';
import { umapLayout } from '../graph/umap-layout';
import type { KnnGraphArrays } from '../store/store-writer';
import { commitDerivedVersion, type DerivedVersionParams } from './derived-version';
import { DEFAULT_GRAPH_NAME, graphOrCompute } from './neighbors';
import type { UmapJobResult } from '../../../shared/result-types';
import { umapMessage } from '../../../shared/version-message';

export interface UmapRequest {
  /** The neighbour graph (default neighbors; made when missing). */
  neighbors?: string;
  minDist?: number;
  seed?: number;
  /** Optimisation epochs (default by size: 500 up to 2,500 cells … 200 above 7,500). */
  epochs?: number;
  /** The obsm name (default X_umap). */
  name?: string;
}

export type UmapResult = UmapJobResult;

export function checkUmapRequest(request: UmapRequest): void {
  const d = request.minDist;
  if (d !== undefined && !(Number.isFinite(d) && d >= 0 && d <= 1)) throw new CellarError('usage', `--min-dist must be a number from 0 to 1; got ${d}.`);
  const e = request.epochs;
  if (e !== undefined && !(Number.isInteger(e) && e >= 1 && e <= 10_000)) throw new CellarError('usage', `--epochs must be a whole number from 1 to 10000; got ${e}.`);
  if (request.name !== undefined && !/^[\w.\- ]+$/.test(request.name)) throw new CellarError('usage', `"${request.name}" cannot name an embedding; use letters, digits, _ . - or spaces.`);
}

export async function umapStore(params: DerivedVersionParams & UmapRequest): Promise<UmapResult> {
  checkUmapRequest(params);
  const name = params.name ?? 'X_umap';
  const minDist = params.minDist ?? 0.5;
  const seed = params.seed ?? 0;
  const graphName = params.neighbors ?? DEFAULT_GRAPH_NAME;
  interface Computed {
    coords: Float32Array;
    graph: KnnGraphArrays;
    graphComputed: boolean;
  }
  const r = await commitDerivedVersion<Computed>(params, {
    transform: 'umap',
    runParams: { name, neighbors: graphName, minDist, seed, epochs: params.epochs ?? null },
    what: 'the UMAP',
    compute: async (reader, measurement, store) => {
      const { graph, computed } = await graphOrCompute(reader, measurement, store.key, params.neighbors, params.signal, params.onProgress);
      const n = reader.nObs;
      if (n <= graph.k) throw new CellarError('usage', `UMAP needs more cells than neighbours per cell (${graph.k}); the store ${store.key} has ${n}.`);
      const init = reader.obsmNames(measurement).includes(graph.embedding) ? await reader.readObsm(measurement, graph.embedding) : null;
      const coords = umapLayout(graph.indices, graph.distances, n, graph.k, {
        minDist,
        seed,
        nEpochs: params.epochs,
        init: init ? { values: init.values as ArrayLike<number>, nCols: init.shape[1] } : undefined,
        signal: params.signal,
        onProgress: (done, total) => params.onProgress?.({ phase: 'UMAP: layout', done, total }),
      });
      return { coords, graph, graphComputed: computed };
    },
    write: async (writer, c, measurement) => {
      if (c.graphComputed) {
        await writer.setObsp(measurement, graphName, c.graph);
        // The graph's files are written, the rest not yet: crash tests stop here.
        await params.checkpoint?.('after-graph');
      }
      await writer.setObsm(measurement, name, { shape: [c.coords.length / 2, 2], values: c.coords });
    },
    describe: (c) => ({ name, graph: graphName, graphComputed: c.graphComputed, minDist, seed, epochs: params.epochs ?? null }),
    message: () => umapMessage(name, graphName),
  });
  const { computed: c, ...written } = r;
  return { ...written, umap: { name, shape: [c.coords.length / 2, 2], graph: graphName, graph_computed: c.graphComputed, min_dist: minDist, seed } };
}
