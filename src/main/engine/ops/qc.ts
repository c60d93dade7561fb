// Per-cell quality metrics as obs columns of a new version, with scanpy's
// calculate_qc_metrics names and definitions (qc_vars mt and ribo): total_counts,
// n_genes_by_counts (genes with a value above 0), total_counts_<q> and pct_counts_<q>
// (100 · total_counts_<q> / total_counts; NaN for a cell with no counts, as numpy gives).
// One streaming pass over the layer's rows in bounded blocks.
import { CellarError } from '../../../shared/errors';
import type { Column } from '../columns/column-model';
import { stringAt } from '../columns/conversions';
import type { StoreReader } from '../store/store-reader';
import { commitDerivedVersion, type DerivedVersionParams } from './derived-version';
import type { QcJobResult } from '../../../shared/result-types';
import { X_LAYER } from './concatenate';
import { notCountsReason } from './embed';
import { qcMessage } from '../../../shared/version-message';

/** Var columns that hold gene symbols, in the order they are looked for; else the var index (var_id). */
export const SYMBOL_COLUMNS = ['gene_symbols', 'feature_name', 'gene_symbol', 'gene_name', 'symbol', 'gene_symbol_id'];

/** Gene sets by symbol prefix: human upper case and mouse capitalised forms. */
export const QC_GENE_SETS = {
  mt: ['MT-', 'mt-'],
  ribo: ['RPS', 'RPL', 'Rps', 'Rpl'],
} as const;

export interface QcRequest {
  layer?: string;
}

export type QcResult = QcJobResult;

export interface QcMetrics {
  total: Float64Array;
  nGenes: Int32Array;
  setTotals: Record<keyof typeof QC_GENE_SETS, Float64Array>;
}

/** The var column the symbols are read from. */
export function symbolColumnOf(reader: StoreReader, measurement: string): string {
  const names = reader.var(measurement).columnNames;
  return SYMBOL_COLUMNS.find((n) => names.includes(n)) ?? 'var_id';
}

/** Membership of each var in each gene set, by symbol prefix. */
function geneSetMasks(reader: StoreReader, measurement: string, symbols: string): Record<keyof typeof QC_GENE_SETS, Uint8Array> {
  const frame = reader.var(measurement);
  const column = frame.column(symbols);
  const nVars = reader.nVars(measurement);
  const masks = { mt: new Uint8Array(nVars), ribo: new Uint8Array(nVars) };
  for (let g = 0; g < nVars; g++) {
    const symbol = column ? stringAt(column, g) : String(g);
    if (symbol === null) continue;
    for (const set of ['mt', 'ribo'] as const) if (QC_GENE_SETS[set].some((prefix) => symbol.startsWith(prefix))) masks[set][g] = 1;
  }
  return masks;
}

export function computeQcMetrics(reader: StoreReader, measurement: string, layer: string, masks: Record<keyof typeof QC_GENE_SETS, Uint8Array>, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): QcMetrics {
  const n = reader.nObs;
  const total = new Float64Array(n);
  const nGenes = new Int32Array(n);
  const mt = new Float64Array(n);
  const ribo = new Float64Array(n);
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  let done = 0;
  for (const block of reader.xRowBlocks(measurement, layer, all, { maxEntries: 1 << 22 })) {
    signal?.throwIfAborted();
    const { indptr, indices, data, joinids } = block;
    for (let r = 0; r < block.nRows; r++) {
      const cell = joinids[r]!;
      let sum = 0;
      let expressed = 0;
      let sumMt = 0;
      let sumRibo = 0;
      for (let e = indptr[r]!; e < indptr[r + 1]!; e++) {
        const v = Number(data[e]);
        const g = indices[e]!;
        sum += v;
        if (v > 0) expressed++;
        if (masks.mt[g]) sumMt += v;
        if (masks.ribo[g]) sumRibo += v;
      }
      total[cell] = sum;
      nGenes[cell] = expressed;
      mt[cell] = sumMt;
      ribo[cell] = sumRibo;
    }
    done += block.nRows;
    onProgress?.(done, n);
  }
  return { total, nGenes, setTotals: { mt, ribo } };
}

function percentOf(part: Float64Array, total: Float64Array): Float64Array {
  return part.map((p, i) => (p / total[i]!) * 100);
}

function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).filter((v) => !Number.isNaN(v)).sort();
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function qcStore(params: DerivedVersionParams & QcRequest): Promise<QcResult> {
  const layer = params.layer ?? X_LAYER;
  interface Computed {
    metrics: QcMetrics;
    symbols: string;
    genes: { mt: number; ribo: number };
    notCounts: string | null;
  }
  const r = await commitDerivedVersion<Computed>(params, {
    transform: 'qc',
    runParams: { layer },
    what: 'the QC metrics',
    compute: async (reader, measurement, store) => {
      if (!reader.layers(measurement).includes(layer)) throw new CellarError('not_found', `The store ${store.key} has no layer "${layer}"; it has ${reader.layers(measurement).join(', ')}.`);
      const symbols = symbolColumnOf(reader, measurement);
      const masks = geneSetMasks(reader, measurement, symbols);
      const metrics = computeQcMetrics(reader, measurement, layer, masks, params.signal, (done, total) => params.onProgress?.({ phase: 'QC metrics', done, total }));
      const count = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);
      return { metrics, symbols, genes: { mt: count(masks.mt), ribo: count(masks.ribo) }, notCounts: notCountsReason(reader, measurement, layer) };
    },
    write: async (writer, c) => {
      const { total, nGenes, setTotals } = c.metrics;
      const f64 = (values: Float64Array): Column => ({ kind: 'numeric', dtype: 'float64', values });
      await writer.setObsColumns({
        nRows: total.length,
        columns: [
          { name: 'total_counts', column: f64(total) },
          { name: 'n_genes_by_counts', column: { kind: 'numeric', dtype: 'int32', values: nGenes } },
          { name: 'total_counts_mt', column: f64(setTotals.mt) },
          { name: 'pct_counts_mt', column: f64(percentOf(setTotals.mt, total)) },
          { name: 'total_counts_ribo', column: f64(setTotals.ribo) },
          { name: 'pct_counts_ribo', column: f64(percentOf(setTotals.ribo, total)) },
        ],
      });
    },
    describe: (c) => ({ layer, symbols: c.symbols, genes: c.genes }),
    message: () => qcMessage(layer),
  });
  const { computed: c, ...written } = r;
  const { total, nGenes, setTotals } = c.metrics;
  return {
    ...written,
    qc: {
      layer,
      symbols: c.symbols,
      genes: c.genes,
      columns: ['total_counts', 'n_genes_by_counts', 'total_counts_mt', 'pct_counts_mt', 'total_counts_ribo', 'pct_counts_ribo'],
      not_counts: c.notCounts,
      median: { total_counts: median(total), n_genes_by_counts: median(nGenes), pct_counts_mt: median(percentOf(setTotals.mt, total)), pct_counts_ribo: median(percentOf(setTotals.ribo, total)) },
    },
  };
}
