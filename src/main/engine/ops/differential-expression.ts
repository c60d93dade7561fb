// Differential expression between two groups of cells of a store version, straight from the
// store: one pass over the rows for each cell's total counts (and each gene's entries, to size
// the blocks), then genes in column blocks of bounded size, tested in worker threads on
// log-normalised values computed on the fly (counts per 10,000, log1p). A layer that is not
// counts is tested as it is, and the result says so.
import { availableParallelism } from 'node:os';
import { CellarError } from '../../../shared/errors';
import type { DeMethod, DeResult, DeRow } from '../../../shared/de-types';
import type { Registry } from '../../registry/registry';
import { callInWorker } from '../threads/worker-call';
import { LayerBlockReader } from '../store/x/layer-blocks';
import { openStore, type FrameReader, type StoreReader } from '../store/store-reader';
import { geneNamingOf } from '../store/genes';
import { GENES_PER_BATCH } from '../store/x/x-column-writer';
import { allocateGeneOutputs, testGeneBlocks, type GeneBlocksRequest } from '../stats/de-genes';
import { benjaminiHochberg } from '../stats/rank-tests';
import { stringAt } from '../columns/conversions';
import { X_LAYER } from './concatenate';
import { resolveCellGroups, type GroupRequest } from './de-groups';
import { notCountsReason } from './embed';
import { defaultMeasurement } from './export';
import type { ProgressFn } from './progress';
import { resolveVersionRef } from './store-records';
import { resolveStore } from './reconcile';

export const DE_METHODS: readonly DeMethod[] = ['wilcoxon', 't-test'];

export interface DeParams extends GroupRequest {
  registry: Registry;
  storeKey: string;
  /** Version number or uid; latest when absent. */
  version?: string;
  method?: DeMethod;
  layer?: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** Worker threads for the gene tests (default: up to 2; 0 tests on the calling thread). */
  threads?: number;
  /** Most entries (non-zeros over every cell) one block of genes may hold in memory. */
  blockEntries?: number;
}

/** Entries one thread holds per block of genes: a column read needs about 16 bytes each while it grows. */
const DEFAULT_BLOCK_ENTRIES = 4_000_000;
const ROWS_PER_BLOCK = 8_192;
/** Below this many stored entries, thread start-up costs more than the tests. */
const INLINE_ENTRIES = 10_000_000;

const count = (n: number) => n.toLocaleString('en-US');

export async function differentialExpression(params: DeParams): Promise<DeResult> {
  const method = params.method ?? 'wilcoxon';
  if (!DE_METHODS.includes(method)) throw new CellarError('usage', `Unknown method "${String(method)}"; use wilcoxon or t-test.`);
  const { store, dir } = await resolveStore(params.registry, params.storeKey);
  const record = resolveVersionRef(params.registry, store, params.version);
  const reader = openStore(dir, record.version);
  try {
    const measurement = defaultMeasurement(reader);
    const layer = params.layer ?? X_LAYER;
    if (!reader.layers(measurement).includes(layer)) throw new CellarError('not_found', `The store ${store.key} has no layer "${layer}"; it has ${reader.layers(measurement).join(', ')}.`);
    const groups = resolveCellGroups(reader.obs, params);
    const notices: string[] = [];
    const notCounts = notCountsReason(reader, measurement, layer);
    if (notCounts) notices.push(`Layer "${layer}" is not raw counts (${notCounts}), so its values were tested as they are, without normalising.`);
    if (method === 't-test' && (groups.nIn < 2 || groups.nOut < 2)) notices.push('The t-test needs at least two cells on each side; with one cell it is undefined for every gene.');

    const nGenes = reader.nVars(measurement);
    const scan = scanCells(reader, measurement, layer, !notCounts, params);
    const request: GeneBlocksRequest = {
      layer: { dir, label: `ms/${measurement}/X/${layer}`, layer: reader.manifest.ms[measurement]!.X[layer]!, nObs: reader.nObs, nVars: nGenes },
      method,
      labels: shareInt8(groups.labels),
      nIn: groups.nIn,
      nOut: groups.nOut,
      totals: scan.totals,
      blockStarts: planGeneBlocks(scan.geneEntries, params.blockEntries ?? DEFAULT_BLOCK_ENTRIES, genesPerBatch(reader, measurement, layer)),
      counters: new Int32Array(new SharedArrayBuffer(8)),
      out: allocateGeneOutputs(nGenes),
    };
    await runGeneTests(request, scan.entries, nGenes, params);

    const { out } = request;
    let untestable = 0;
    const pvals = new Float64Array(nGenes);
    const scores = new Float64Array(nGenes);
    for (let g = 0; g < nGenes; g++) {
      // As scanpy does: a gene without a defined test (no variation, a one-cell t-test) scores 0 with p = 1.
      const defined = Number.isFinite(out.pval[g]!) && Number.isFinite(out.score[g]!);
      if (!defined) untestable++;
      pvals[g] = defined ? out.pval[g]! : 1;
      scores[g] = defined ? out.score[g]! : 0;
    }
    if (untestable) notices.push(`${count(untestable)} gene(s) could not be tested (the same value in every cell of both groups, or too few cells): they have score 0 and p-value 1.`);
    const padj = benjaminiHochberg(pvals);
    const ids = geneNames(reader.var(measurement), geneNamingOf(reader, measurement).symbolColumn);
    const order = Uint32Array.from({ length: nGenes }, (_, g) => g).sort((a, b) => scores[b]! - scores[a]! || pvals[a]! - pvals[b]! || a - b);
    const results: DeRow[] = Array.from(order, (g) => ({
      gene: ids.gene(g),
      symbol: ids.symbol(g),
      logfc: out.logfc[g]!,
      pval: pvals[g]!,
      padj: padj[g]!,
      pct_in: out.pctIn[g]!,
      pct_out: out.pctOut[g]!,
      score: scores[g]!,
    }));
    return {
      store: { uid: record.uid, key: record.key, version: record.version },
      method,
      layer,
      group: { label: groups.groupLabel, n_cells: groups.nIn },
      reference: { label: groups.referenceLabel, n_cells: groups.nOut },
      values: notCounts ? 'as-stored' : 'log-normalized',
      n_genes: nGenes,
      notices,
      results,
    };
  } catch (err) {
    if (params.signal?.aborted && !(err instanceof CellarError && err.code !== 'cancelled')) throw new CellarError('cancelled', 'The differential expression was cancelled.');
    throw err;
  } finally {
    reader.close();
  }
}

/**
 * One pass over the layer's rows: each cell's total (the normalisation needs every gene of the
 * cell, whichever genes are tested) and each gene's stored entries over all cells, which is what
 * a column read of that gene holds in memory.
 */
function scanCells(reader: StoreReader, measurement: string, layer: string, normalize: boolean, params: DeParams): { totals: Float64Array | null; geneEntries: Float64Array; entries: number } {
  const totals = normalize ? new Float64Array(new SharedArrayBuffer(reader.nObs * 8)) : null;
  const geneEntries = new Float64Array(reader.nVars(measurement));
  let entries = 0;
  const blocks = new LayerBlockReader(reader.layerBlockSpec(measurement, layer, ROWS_PER_BLOCK));
  try {
    for (const block of blocks.blocks()) {
      params.signal?.throwIfAborted();
      const { indptr, indices } = block;
      const data = block.data as ArrayLike<number | bigint>;
      for (let r = 0; r < block.nRows; r++) {
        let sum = 0;
        for (let k = indptr[r]!; k < indptr[r + 1]!; k++) {
          sum += Number(data[k]);
          geneEntries[indices[k]!]!++;
        }
        if (totals) totals[block.rowStart + r] = sum;
      }
      entries += indptr[block.nRows]! - indptr[0]!;
      const done = block.rowStart + block.nRows;
      params.onProgress?.({ phase: `Reading cells ${count(done)} of ${count(reader.nObs)}`, done, total: reader.nObs });
    }
  } finally {
    blocks.close();
  }
  return { totals, geneEntries, entries };
}

function genesPerBatch(reader: StoreReader, measurement: string, layer: string): number {
  const companion = reader.manifest.ms[measurement]!.X[layer]!.fragments.find((f) => f.columns)?.columns;
  return companion?.genesPerBatch ?? GENES_PER_BATCH;
}

/**
 * Consecutive genes in blocks of whole column batches (a batch read for one gene is decoded for
 * all of its genes, so blocks that split batches decode them twice), each holding at most
 * `budget` entries; a batch larger than the budget on its own is split gene by gene.
 */
export function planGeneBlocks(geneEntries: ArrayLike<number>, budget: number, batch: number): Int32Array {
  const n = geneEntries.length;
  const starts = [0];
  let inBlock = 0;
  const cut = (at: number) => {
    if (at > starts[starts.length - 1]!) starts.push(at);
    inBlock = 0;
  };
  for (let batchStart = 0; batchStart < n; batchStart += batch) {
    const batchEnd = Math.min(n, batchStart + batch);
    let batchEntries = 0;
    for (let g = batchStart; g < batchEnd; g++) batchEntries += geneEntries[g]!;
    if (batchEntries > budget) {
      cut(batchStart);
      for (let g = batchStart; g < batchEnd; g++) {
        if (inBlock > 0 && inBlock + geneEntries[g]! > budget) cut(g);
        inBlock += geneEntries[g]!;
      }
      cut(batchEnd);
    } else {
      if (inBlock > 0 && inBlock + batchEntries > budget) cut(batchStart);
      inBlock += batchEntries;
    }
  }
  if (n > starts[starts.length - 1]!) starts.push(n);
  return Int32Array.from(starts);
}

async function runGeneTests(request: GeneBlocksRequest, entries: number, nGenes: number, params: DeParams): Promise<void> {
  const report = (done: number) => params.onProgress?.({ phase: `Testing genes ${count(done)} of ${count(nGenes)}`, done, total: nGenes });
  report(0);
  const nBlocks = request.blockStarts.length - 1;
  const wanted = params.threads ?? (entries < INLINE_ENTRIES ? 0 : Math.min(2, availableParallelism()));
  if (!Number.isInteger(wanted) || wanted < 0) throw new CellarError('usage', `threads must be a whole number ≥ 0; got ${params.threads}.`);
  const threads = Math.min(wanted, nBlocks);
  if (threads === 0) {
    testGeneBlocks(request, { signal: params.signal, onProgress: (p) => report(p.done) });
    return;
  }
  // One stop for every thread: the first failure (or a cancel) ends the others at once.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  params.signal?.addEventListener('abort', onAbort);
  try {
    await Promise.all(
      Array.from({ length: threads }, () =>
        callInWorker<number>('deGeneBlocks', [request], {
          timeoutMs: 7 * 24 * 3600 * 1000,
          signal: stop.signal,
          abortGraceMs: 2_000,
          what: 'testing genes',
          onProgress: (p) => report((p as { done: number }).done),
        }).catch((err: unknown) => {
          stop.abort();
          throw err;
        }),
      ),
    );
  } finally {
    params.signal?.removeEventListener('abort', onAbort);
  }
  params.signal?.throwIfAborted();
}

function shareInt8(values: Int8Array): Int8Array {
  const shared = new Int8Array(new SharedArrayBuffer(values.length));
  shared.set(values);
  return shared;
}

/** Each gene's id (var_id) and symbol, from the var column the store records as holding symbols. */
function geneNames(frame: FrameReader, symbolName: string | null): { gene(g: number): string; symbol(g: number): string | null } {
  const ids = frame.column('var_id');
  const symbols = symbolName ? frame.column(symbolName) : undefined;
  return {
    gene: (g) => (ids ? (stringAt(ids, g) ?? String(g)) : String(g)),
    symbol: (g) => (symbols ? stringAt(symbols, g) : null),
  };
}
