// The per-gene half of differential expression: reads blocks of genes (columns of an X layer)
// over every cell, keeps the cells of the two groups, log-normalises on the fly and tests each
// gene. Several threads may run this at once on the same request: each takes the next block
// from a shared counter and writes its genes' results into shared arrays, so no thread holds
// more than one block of columns.
import { XLayerReader } from '../store/x/x-reader';
import type { XLayerDescription } from '../store/x/layer-files';
import type { NumericArray } from '../columns/column-model';
import type { DeMethod } from '../../../shared/de-types';
import { rankSumTest, welchTTest, type GroupValues } from './rank-tests';

/** Counts per cell are scaled to this total before log1p (scanpy's normalize_total target). */
export const TARGET_SUM = 10_000;
/** Added to both group means before their ratio is taken (as scanpy does). */
export const FOLD_CHANGE_EPSILON = 1e-9;

/** Plain data (shared memory where it is large), so a worker thread can take the same request. */
export interface GeneBlocksRequest {
  layer: XLayerDescription;
  method: DeMethod;
  /** Per cell: 1 in the group, 2 in the reference, 0 in neither. */
  labels: Int8Array;
  nIn: number;
  nOut: number;
  /** Per cell total counts of the layer; null when the values are used as they are. */
  totals: Float64Array | null;
  /** Block b holds genes [blockStarts[b], blockStarts[b + 1]) (var joinids). */
  blockStarts: Int32Array;
  /** Int32 [next block to take, genes finished], shared by every thread of the request. */
  counters: Int32Array;
  /** Per gene outputs (NaN where a test is undefined), shared. */
  out: GeneOutputs;
}

export interface GeneOutputs {
  score: Float64Array;
  pval: Float64Array;
  logfc: Float64Array;
  pctIn: Float64Array;
  pctOut: Float64Array;
}

export function allocateGeneOutputs(nGenes: number): GeneOutputs {
  const shared = () => new Float64Array(new SharedArrayBuffer(nGenes * 8));
  return { score: shared(), pval: shared(), logfc: shared(), pctIn: shared(), pctOut: shared() };
}

const CANCEL_CHECK_GENES = 32;

/** Tests genes block by block until the shared counter runs out; returns how many genes this thread tested. */
export function testGeneBlocks(request: GeneBlocksRequest, controls: { signal?: AbortSignal; onProgress?: (progress: { done: number }) => void } = {}): number {
  const { layer, labels, totals, blockStarts, counters, out } = request;
  const reader = new XLayerReader(layer.dir, layer.label, layer.layer, layer.nObs, layer.nVars);
  const inGroup: GroupValues = { values: new Float64Array(request.nIn), n: request.nIn };
  const inReference: GroupValues = { values: new Float64Array(request.nOut), n: request.nOut };
  const nBlocks = blockStarts.length - 1;
  let tested = 0;
  try {
    for (;;) {
      controls.signal?.throwIfAborted();
      const b = Atomics.add(counters, 0, 1);
      if (b >= nBlocks) break;
      const first = blockStarts[b]!;
      const count = blockStarts[b + 1]! - first;
      const genes = Int32Array.from({ length: count }, (_, j) => first + j);
      const csc = reader.readColumns(genes);
      const data = asFloat64(csc.data);
      for (let j = 0; j < count; j++) {
        if (j % CANCEL_CHECK_GENES === 0) controls.signal?.throwIfAborted();
        testOneGene(request, csc.indices, data, Number(csc.indptr[j]), Number(csc.indptr[j + 1]), first + j, inGroup, inReference, labels, totals, out);
      }
      tested += count;
      controls.onProgress?.({ done: Atomics.add(counters, 1, count) + count });
    }
  } finally {
    reader.close();
  }
  return tested;
}

function asFloat64(data: NumericArray): ArrayLike<number> {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, Number);
  return data as ArrayLike<number>;
}

function testOneGene(
  request: GeneBlocksRequest,
  rows: Int32Array,
  data: ArrayLike<number>,
  from: number,
  to: number,
  gene: number,
  inGroup: GroupValues,
  inReference: GroupValues,
  labels: Int8Array,
  totals: Float64Array | null,
  out: GeneOutputs,
): void {
  const a = inGroup.values;
  const b = inReference.values;
  let ka = 0;
  let kb = 0;
  let positiveA = 0;
  let positiveB = 0;
  let linearA = 0;
  let linearB = 0;
  let undefinedValue = false;
  for (let k = from; k < to; k++) {
    const cell = rows[k]!;
    const label = labels[cell];
    if (label === 0) continue;
    const x = data[k]!;
    // Stored zeros join the implicit ones in the zero tie group.
    if (x === 0) continue;
    let value: number;
    let linear: number;
    if (totals) {
      // (x·1e4)/total: the same rounding for equal ratios, so equal expression ties exactly.
      linear = (x * TARGET_SUM) / totals[cell]!;
      value = Math.log1p(linear);
    } else {
      value = x;
      linear = Math.expm1(x);
    }
    if (Number.isNaN(value)) undefinedValue = true;
    if (label === 1) {
      a[ka++] = value;
      linearA += linear;
      if (value > 0) positiveA++;
    } else {
      b[kb++] = value;
      linearB += linear;
      if (value > 0) positiveB++;
    }
  }
  const nIn = request.nIn;
  const nOut = request.nOut;
  out.pctIn[gene] = positiveA / nIn;
  out.pctOut[gene] = positiveB / nOut;
  out.logfc[gene] = Math.log2((linearA / nIn + FOLD_CHANGE_EPSILON) / (linearB / nOut + FOLD_CHANGE_EPSILON));
  if (undefinedValue) {
    out.score[gene] = NaN;
    out.pval[gene] = NaN;
    return;
  }
  const groupA: GroupValues = { values: a.subarray(0, ka), n: nIn };
  const groupB: GroupValues = { values: b.subarray(0, kb), n: nOut };
  if (request.method === 'wilcoxon') {
    groupA.values.sort();
    groupB.values.sort();
    const r = rankSumTest(groupA, groupB);
    out.score[gene] = r.z;
    out.pval[gene] = r.pval;
  } else {
    const r = welchTTest(groupA, groupB);
    out.score[gene] = r.t;
    out.pval[gene] = r.pval;
  }
}
