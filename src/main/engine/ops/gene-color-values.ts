// One gene's value in every cell, for colouring an embedding: log-normalised (counts per
// 10,000 of the cell's total, then log1p, as differential expression and PCA see them) when
// the layer holds counts, otherwise as stored. Cell totals are one pass over the layer, so the
// caller keeps them per version.
import { LayerBlockReader } from '../store/x/layer-blocks';
import type { StoreReader } from '../store/store-reader';
import { notCountsReason } from './embed';

const ROWS_PER_BLOCK = 8_192;
const TARGET_SUM = 10_000;

export interface CellTotals {
  /** Per cell, the sum of the layer's values; null when the layer is not counts. */
  totals: Float64Array | null;
  /** Why the values are shown as stored, when they are. */
  notCounts: string | null;
}

/** Each cell's total over every gene of the layer, or why the layer is not counts. */
export function readCellTotals(reader: StoreReader, measurement: string, layer: string): CellTotals {
  const notCounts = notCountsReason(reader, measurement, layer);
  if (notCounts) return { totals: null, notCounts };
  const totals = new Float64Array(reader.nObs);
  const blocks = new LayerBlockReader(reader.layerBlockSpec(measurement, layer, ROWS_PER_BLOCK));
  try {
    for (const block of blocks.blocks()) {
      const { indptr } = block;
      const data = block.data as ArrayLike<number | bigint>;
      for (let r = 0; r < block.nRows; r++) {
        let sum = 0;
        for (let k = indptr[r]!; k < indptr[r + 1]!; k++) sum += Number(data[k]);
        totals[block.rowStart + r] = sum;
      }
    }
  } finally {
    blocks.close();
  }
  return { totals, notCounts: null };
}

/** The gene's values per cell as stored (0 where nothing is stored). */
export async function geneValues(reader: StoreReader, measurement: string, layer: string, geneJoinid: number): Promise<Float32Array> {
  const csc = await reader.readXColumns(measurement, layer, Uint32Array.of(geneJoinid));
  const values = new Float32Array(reader.nObs);
  for (let i = 0; i < csc.indices.length; i++) values[csc.indices[i]!] = Number(csc.data[i]);
  return values;
}

/** log1p(value / total × 10,000) per cell, in a new array; a cell with no counts stays 0. */
export function logNormalize(values: Float32Array, totals: Float64Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const total = totals[i]!;
    out[i] = total > 0 && values[i] !== 0 ? Math.log1p((values[i]! / total) * TARGET_SUM) : 0;
  }
  return out;
}
