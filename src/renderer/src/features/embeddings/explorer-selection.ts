// What the explorer keeps about selections: the live one, two kept ones (A and B) for
// comparisons, and the shapes drawn for each (recorded in the lineage when saved).
import { countSelected, selectedIndices } from '../../components/scatter-selection';

export interface Selection {
  mask: Uint8Array;
  count: number;
  /** Every lasso or box drawn since the selection was last replaced, in data coordinates. */
  polygons: number[][];
}

export function makeSelection(mask: Uint8Array | null, polygons: number[][]): Selection | null {
  if (!mask) return null;
  const count = countSelected(mask);
  return count > 0 ? { mask, count, polygons } : null;
}

/** The cells' soma_joinids (embedding row i is the store's cell i). */
export function selectionJoinids(selection: Selection): number[] {
  return Array.from(selectedIndices(selection.mask));
}

/** A value filter naming exactly these cells, for the Store screen and exports. */
export function joinidFilter(selection: Selection): string {
  return `soma_joinid in [${selectionJoinids(selection).join(', ')}]`;
}

/** Past this many cells a filter that lists them is too long to read: the Store screen needs a saved column. */
export const MAX_LISTED_CELLS = 20_000;
