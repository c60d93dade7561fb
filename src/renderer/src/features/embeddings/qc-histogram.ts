// Histograms of one numeric obs column, one per dataset, on shared bin edges so the datasets
// can be compared bar for bar. Computed here from the per-cell values the plot's colours
// already come in (embedding:colors), grouped by the obs column "dataset".

export interface DatasetHistogram {
  /** The dataset's code (an index into the names embedding:colors gives), or -1 for cells without one. */
  position: number;
  counts: number[];
  /** Cells with a value; NaN (missing) cells are counted apart. */
  nCells: number;
  nMissing: number;
  median: number | null;
}

export interface Histograms {
  /** nBins + 1 edges, from the smallest value to the largest over every dataset. */
  edges: number[];
  datasets: DatasetHistogram[];
}

/**
 * Bins values[i] into the histogram of datasets[i]'s dataset. The last bin is closed on the
 * right so the largest value falls in it; one distinct value makes one bin of width one around it.
 */
export function datasetHistograms(values: ArrayLike<number>, datasets: ArrayLike<number>, nBins: number): Histograms {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return { edges: [], datasets: groupsOf(values, datasets).map((g) => ({ position: g.position, counts: [], nCells: 0, nMissing: g.missing, median: null })) };
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / nBins;
  const edges = Array.from({ length: nBins + 1 }, (_, b) => (b === nBins ? hi : lo + b * width));
  const groups = groupsOf(values, datasets);
  const histograms = groups.map((g) => {
    const counts = new Array<number>(nBins).fill(0);
    for (const v of g.values) counts[Math.min(nBins - 1, Math.floor((v - lo) / width))]!++;
    return { position: g.position, counts, nCells: g.values.length, nMissing: g.missing, median: median(g.values) };
  });
  return { edges, datasets: histograms };
}

function groupsOf(values: ArrayLike<number>, datasets: ArrayLike<number>): { position: number; values: number[]; missing: number }[] {
  const byPosition = new Map<number, { position: number; values: number[]; missing: number }>();
  for (let i = 0; i < values.length; i++) {
    const d = datasets[i]!;
    const position = Number.isNaN(d) || d < 0 ? -1 : d;
    let g = byPosition.get(position);
    if (!g) byPosition.set(position, (g = { position, values: [], missing: 0 }));
    const v = values[i]!;
    if (Number.isNaN(v)) g.missing++;
    else g.values.push(v);
  }
  return [...byPosition.values()].sort((a, b) => a.position - b.position);
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
