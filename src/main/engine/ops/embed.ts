// Add an embedding to a store as a new version (SPEC §4 "Add embedding"): PCA
// computed from a layer of X (sparse, implicitly centred, randomized), or an n × k
// array from a .npy / CSV file. Stored densely in obsm; only new files are written.
import { basename, extname } from 'node:path';
import { CellarError } from '../../../shared/errors';
import type { Registry } from '../../registry/registry';
import { randomizedPca, type PcaProgress, type PcaResult } from '../linalg/pca';
import type { CsrRowBlock, RowBlockSource } from '../linalg/csr';
import { LayerBlockReader, layerBlockColumns } from '../store/x/layer-blocks';
import { openStore, type StoreReader } from '../store/store-reader';
import { readManifest } from '../store/format/manifest';
import { createStoreWriter } from '../store/store-writer';
import type { StoreFs } from '../store/io/store-fs';
import type { StoreResultJson } from './concatenate';
import { X_LAYER } from './concatenate';
import { defaultMeasurement } from './export';
import { stringAt } from '../columns/conversions';
import type { Progress, ProgressFn } from './progress';
import { formatCount } from '../../../shared/format-number';
import { readDenseMatrix } from '../formats/tables/table-file';
import { commitStoreVersion } from './commit-version';
import { resolveStore } from './reconcile';
import { embeddingMessage } from '../../../shared/version-message';
import { refuseStaleBase } from './versioning';

export interface PcaRequest {
  nComponents: number;
  layer?: string;
  normalize?: boolean;
  genes?: number;
  seed?: number;
}

export interface EmbedParams {
  registry: Registry;
  storeKey: string;
  pca?: PcaRequest;
  from?: string;
  name?: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  fs?: StoreFs;
  threads?: number;
  /** Called at named points of the write ('before-commit', 'after-commit'): crash tests stop there. */
  checkpoint?: (name: string) => void | Promise<void>;
}

export type EmbedResult = StoreResultJson & { embedding: { name: string; shape: [number, number]; explained_variance_ratio?: number[] } };

const ROWS_PER_BLOCK = 8_192;

/**
 * A store layer as PCA's row source, optionally restricted to some var joinids (ascending;
 * renumbered 0..k-1). The same blocks are described for the PCA threads, which then read their
 * own partitions in parallel.
 */
export function layerRowSource(reader: StoreReader, measurement: string, layer: string, options: { columns?: Uint32Array; rowsPerBlock?: number } = {}): RowBlockSource {
  const spec = reader.layerBlockSpec(measurement, layer, options.rowsPerBlock ?? ROWS_PER_BLOCK, options.columns);
  return {
    nRows: spec.nObs,
    nCols: layerBlockColumns(spec),
    // Unknown for a column subset until read: PCA then keeps what fits its budget as it goes.
    nnz: options.columns ? undefined : spec.layer.nnz,
    workerBlocks: spec,
    *rowBlocks(): Iterable<CsrRowBlock> {
      const blocks = new LayerBlockReader(spec);
      try {
        yield* blocks.blocks();
      } finally {
        blocks.close();
      }
    },
  };
}

/**
 * Why a layer is not counts (negative or non-integer values), or null when it is. The store
 * keeps values in the narrowest exact type, so the manifest answers without reading: a
 * float stored type means a value that is not a whole number; an unsigned one means none is
 * negative. Only a signed integer type needs a scan for a negative value.
 */
export function notCountsReason(reader: StoreReader, measurement: string, layer: string): string | null {
  const entry = reader.manifest.ms[measurement]!.X[layer]!;
  if (entry.fragments.some((f) => f.storedDtype === 'float32' || f.storedDtype === 'float64')) return 'it holds values that are not whole numbers';
  if (!entry.fragments.some((f) => f.storedDtype.startsWith('int'))) return null;
  const all = Uint32Array.from({ length: reader.nObs }, (_, i) => i);
  for (const block of reader.xRowBlocks(measurement, layer, all, { maxEntries: 1 << 22 })) {
    const nnz = block.indptr[block.nRows]! - block.indptr[0]!;
    const data = block.data;
    for (let i = block.indptr[0]!; i < block.indptr[0]! + nnz; i++) if (Number(data[i]) < 0) return `it holds negative values, e.g. ${Number(data[i])}`;
  }
  return null;
}

/** PCA's steps in the words of the person waiting for them. Passes stop early once the components settle, hence "up to". */
export function pcaProgress(p: PcaProgress): Progress {
  switch (p.phase) {
    case 'statistics':
      return { phase: 'Reading expression values', done: p.done, total: p.total, unit: 'cells' };
    case 'iterations':
      return { phase: `Computing components, pass ${formatCount(Math.max(1, p.done))} of up to ${formatCount(p.total)}`, done: p.done, total: p.total, unit: 'said' };
    case 'scores':
      return { phase: 'Placing each cell on the components', done: p.done, total: p.total, unit: 'said' };
  }
}

export async function embedStore(params: EmbedParams): Promise<EmbedResult> {
  const { registry } = params;
  if (!params.pca === !params.from) throw new CellarError('usage', 'Give either --pca N or --from FILE.');
  const { store, dir } = await resolveStore(registry, params.storeKey);
  const name = params.name ?? (params.pca ? 'pca' : basename(params.from!, extname(params.from!)));
  if (!/^[\w.\- ]+$/.test(name)) throw new CellarError('usage', `"${name}" cannot name an embedding; use letters, digits, _ . - or spaces.`);
  const reader = openStore(dir, store.version);
  const measurement = defaultMeasurement(reader);
  let values: Float32Array | Float64Array;
  let shape: [number, number];
  let pca: PcaResult | null = null;
  const run = registry.startRun({ transform: 'embed', params: { store: store.key, name, pca: params.pca ?? null, from: params.from ?? null }, inputArtifacts: [store.uid] });
  try {
    try {
      if (params.pca) {
        const layer = params.pca.layer ?? X_LAYER;
        if (!reader.layers(measurement).includes(layer)) throw new CellarError('not_found', `The store ${store.key} has no layer "${layer}"; it has ${reader.layers(measurement).join(', ')}.`);
        const k = params.pca.nComponents;
        const maxK = Math.min(reader.nObs, params.pca.genes ?? reader.nVars(measurement)) - 1;
        if (!Number.isInteger(k) || k < 1 || k > maxK) throw new CellarError('usage', `--pca needs between 1 and ${maxK} components for this store (got ${k}).`);
        if (params.pca.normalize) {
          const why = notCountsReason(reader, measurement, layer);
          if (why) {
            throw new CellarError(
              'usage',
              `--normalize does not apply to layer "${layer}" of ${store.key}: it is not raw counts (${why}), so it was normalized or scaled already. Run without --normalize to use the values as they are, or pick a counts layer with --layer.`,
            );
          }
        }
        pca = await randomizedPca(layerRowSource(reader, measurement, layer), {
          nComponents: k,
          normalize: params.pca.normalize,
          genes: params.pca.genes,
          seed: params.pca.seed ?? 0,
          signal: params.signal,
          threads: params.threads,
          onProgress: (p) => params.onProgress?.(pcaProgress(p)),
        });
        values = pca.scores;
        shape = [reader.nObs, k];
      } else {
        const m = readDenseMatrix(params.from!);
        if (m.shape[0] !== reader.nObs) {
          throw new CellarError('shape_mismatch', `${basename(params.from!)} has ${m.shape[0]} rows but the store ${store.key} has ${reader.nObs} cells; an embedding needs one row per cell.`);
        }
        values = m.values;
        shape = m.shape;
        if (m.rowIds) values = alignRows(reader, m.rowIds, m.values, m.shape[1], basename(params.from!));
      }
    } finally {
      reader.close();
    }
    params.signal?.throwIfAborted();
    const writer = await createStoreWriter({ dir, baseVersion: store.version, fs: params.fs, storeKey: store.key });
    let meta: Record<string, unknown>;
    try {
      await refuseStaleBase(writer, store.version, store.key, 'the embedding was computed');
      await writer.setObsm(measurement, name, { shape, values });
      if (pca) {
        // Loadings per gene (zeros for genes left out by --genes), like scanpy's varm["PCs"].
        const g = writer.nVars(measurement);
        const k = shape[1];
        const loadings = new Float64Array(g * k);
        pca.genesUsed.forEach((gene, j) => {
          for (let c = 0; c < k; c++) loadings[gene * k + c] = pca!.components[c * pca!.genesUsed.length + j]!;
        });
        await writer.setVarm(measurement, `${name}_loadings`, { shape: [g, k], values: loadings });
      }
      params.signal?.throwIfAborted();
      meta = {
        runUid: run.uid,
        transform: 'embed',
        storeKey: store.key,
        storeUid: store.uid,
        datasets: readManifest(dir, store.version).meta.datasets ?? [],
        embedding: { name, ...(pca ? { explainedVarianceRatio: Array.from(pca.explainedVarianceRatio), explainedVariance: Array.from(pca.explainedVariance), params: params.pca } : { from: params.from }) },
      };
    } catch (err) {
      await writer.abort();
      throw err;
    }
    // The last cancel check was above: from here the embedding is committed and registered.
    const { stats, registered: version } = await commitStoreVersion({
      registry,
      writer,
      runUid: run.uid,
      meta,
      message: params.pca ? embeddingMessage(name, { pca: params.pca }) : embeddingMessage(name, { fromFile: basename(params.from!) }),
      checkpoint: params.checkpoint,
      register: (fields) => registry.addStoreVersion(store.stem, fields),
    });
    return {
      store: { uid: version.uid, key: version.key, version: version.version, n_observations: stats.nObs, n_vars: stats.nVars },
      run: { uid: run.uid },
      embedding: { name, shape, ...(pca ? { explained_variance_ratio: Array.from(pca.explainedVarianceRatio) } : {}) },
    };
  } catch (err) {
    const cancelled = params.signal?.aborted || (err instanceof CellarError && err.code === 'cancelled');
    registry.failRun(run.uid, err instanceof Error ? err.message : String(err), cancelled ? 'cancelled' : 'failed');
    if (params.signal?.aborted && !(err instanceof CellarError)) throw new CellarError('cancelled', 'The embedding was cancelled; the store is unchanged.');
    throw err;
  }
}

/** Reorders rows given by obs_id into the store's cell order; every id must match. */
function alignRows(reader: StoreReader, rowIds: string[], values: Float32Array | Float64Array, k: number, file: string): Float64Array {
  const ids = reader.obs.column('obs_id');
  const position = new Map<string, number>();
  for (let i = 0; i < reader.nObs; i++) position.set(ids ? (stringAt(ids, i) ?? '') : String(i), i);
  const out = new Float64Array(reader.nObs * k);
  const seen = new Uint8Array(reader.nObs);
  const unknown: string[] = [];
  rowIds.forEach((id, r) => {
    const p = position.get(id);
    if (p === undefined) return void unknown.push(id);
    seen[p] = 1;
    for (let c = 0; c < k; c++) out[p * k + c] = values[r * k + c]!;
  });
  if (unknown.length) throw new CellarError('id_mismatch', `${unknown.length} row id(s) of ${file} are not obs_ids of the store.`, unknown.slice(0, 50).map((id) => `unknown obs_id: ${id}`));
  const missing = seen.reduce((n, s) => n + (s ? 0 : 1), 0);
  if (missing) throw new CellarError('id_mismatch', `${file} has no row for ${missing} cell(s) of the store.`);
  return out;
}
