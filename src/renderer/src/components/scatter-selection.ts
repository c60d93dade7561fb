// Selecting points of the scatter plot: lasso (polygon) and box hit tests, the set
// operations that combine a new hit with the current selection, and a grid for finding
// the point under the pointer. Pure functions on typed arrays; no DOM.

/** How a new lasso or box changes the selection: replace it, add to it (shift), take from it (alt). */
export type SelectionMode = 'replace' | 'add' | 'subtract';

/**
 * Marks (1) the points inside a polygon given as flat x,y pairs in data coordinates (even-odd
 * rule, so a self-crossing lasso selects what a user sees as filled). Points of `eligible`
 * 0 (hidden ones) are never marked. The polygon's edges are bucketed by horizontal bands, so
 * each point tests only the few edges crossing its own band, not every edge of the lasso.
 */
export function selectInPolygon(points: Float32Array, polygon: ArrayLike<number>, eligible?: Uint8Array | null, out?: Uint8Array): Uint8Array {
  const n = points.length >> 1;
  const mask = out ?? new Uint8Array(n);
  mask.fill(0);
  const nVertices = polygon.length >> 1;
  if (nVertices < 3) return mask;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let v = 0; v < nVertices; v++) {
    const x = polygon[2 * v]!;
    const y = polygon[2 * v + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (!(maxY > minY) || !(maxX > minX)) return mask;

  const nBands = Math.min(4096, Math.max(1, nVertices * 2));
  const bandHeight = (maxY - minY) / nBands;
  const bandOf = (y: number) => Math.min(nBands - 1, Math.max(0, Math.floor((y - minY) / bandHeight)));
  // Edges as (x1, y1, y2, dx/dy); horizontal edges never cross a horizontal ray and are left out.
  const edges = new Float64Array(nVertices * 4);
  const bandCounts = new Uint32Array(nBands + 1);
  let nEdges = 0;
  for (let v = 0; v < nVertices; v++) {
    const w = (v + 1) % nVertices;
    const x1 = polygon[2 * v]!;
    const y1 = polygon[2 * v + 1]!;
    const x2 = polygon[2 * w]!;
    const y2 = polygon[2 * w + 1]!;
    if (y1 === y2) continue;
    edges[4 * nEdges] = x1;
    edges[4 * nEdges + 1] = y1;
    edges[4 * nEdges + 2] = y2;
    edges[4 * nEdges + 3] = (x2 - x1) / (y2 - y1);
    for (let b = bandOf(Math.min(y1, y2)), last = bandOf(Math.max(y1, y2)); b <= last; b++) bandCounts[b + 1]! += 1;
    nEdges++;
  }
  for (let b = 0; b < nBands; b++) bandCounts[b + 1]! += bandCounts[b]!;
  // Each band's edges copied side by side (x1, y1, y2, slope), so a point reads one short run of memory.
  const bandEdges = new Float64Array(bandCounts[nBands]! * 4);
  const cursor = bandCounts.slice(0, nBands);
  for (let e = 0; e < nEdges; e++) {
    const y1 = edges[4 * e + 1]!;
    const y2 = edges[4 * e + 2]!;
    for (let b = bandOf(Math.min(y1, y2)), last = bandOf(Math.max(y1, y2)); b <= last; b++) bandEdges.set(edges.subarray(4 * e, 4 * e + 4), 4 * cursor[b]!++);
  }

  const inverseBandHeight = 1 / bandHeight;
  const lastBand = nBands - 1;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    // NaN fails these comparisons too, so a missing point is never inside.
    if (!(x >= minX && x <= maxX && y >= minY && y <= maxY)) continue;
    if (eligible && eligible[i] === 0) continue;
    let b = ((y - minY) * inverseBandHeight) | 0;
    if (b > lastBand) b = lastBand;
    let inside = false;
    for (let o = 4 * bandCounts[b]!, end = 4 * bandCounts[b + 1]!; o < end; o += 4) {
      const y1 = bandEdges[o + 1]!;
      const y2 = bandEdges[o + 2]!;
      if (y1 > y !== y2 > y && x < bandEdges[o]! + (y - y1) * bandEdges[o + 3]!) inside = !inside;
    }
    if (inside) mask[i] = 1;
  }
  return mask;
}

/** Marks the points inside the box with corners (x0, y0) and (x1, y1), either order, edges included. */
export function selectInBox(points: Float32Array, x0: number, y0: number, x1: number, y1: number, eligible?: Uint8Array | null, out?: Uint8Array): Uint8Array {
  const n = points.length >> 1;
  const mask = out ?? new Uint8Array(n);
  const left = Math.min(x0, x1);
  const right = Math.max(x0, x1);
  const bottom = Math.min(y0, y1);
  const top = Math.max(y0, y1);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    mask[i] = x >= left && x <= right && y >= bottom && y <= top && (!eligible || eligible[i] !== 0) ? 1 : 0;
  }
  return mask;
}

/** The box as a polygon (for a lineage record that says what was drawn). */
export function boxPolygon(x0: number, y0: number, x1: number, y1: number): number[] {
  return [x0, y0, x1, y0, x1, y1, x0, y1];
}

/** A new hit combined with the current selection; null `current` means nothing selected. */
export function combineSelection(current: Uint8Array | null, hit: Uint8Array, mode: SelectionMode): Uint8Array {
  if (mode === 'replace' || current === null) return mode === 'subtract' ? new Uint8Array(hit.length) : hit.slice();
  if (current.length !== hit.length) throw new RangeError(`A selection of ${current.length} points cannot combine with one of ${hit.length}`);
  const out = new Uint8Array(hit.length);
  if (mode === 'add') for (let i = 0; i < hit.length; i++) out[i] = current[i]! | hit[i]!;
  else for (let i = 0; i < hit.length; i++) out[i] = current[i]! & (hit[i]! ^ 1);
  return out;
}

export function countSelected(mask: Uint8Array | null): number {
  if (!mask) return 0;
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i]!;
  return count;
}

/** Indices (embedding rows, which are the cells' soma_joinids) of the selected points, ascending. */
export function selectedIndices(mask: Uint8Array): Uint32Array {
  const out = new Uint32Array(countSelected(mask));
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i]) out[k++] = i;
  return out;
}

/** Points of both masks: for two kept selections, the cells they share. */
export function overlapCount(a: Uint8Array, b: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) count += a[i]! & b[i]!;
  return count;
}

/** Points sorted into a uniform grid, so the point under the pointer is found without scanning all of them. */
export interface PointGrid {
  minX: number;
  minY: number;
  cellWidth: number;
  cellHeight: number;
  columns: number;
  rows: number;
  /** Cell c holds order[start[c]..start[c + 1]). */
  start: Uint32Array;
  order: Uint32Array;
}

/** About `perCell` points per cell on average; points with NaN coordinates are left out. */
export function buildPointGrid(points: Float32Array, perCell = 16): PointGrid {
  const n = points.length >> 1;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    if (!(x - x === 0 && y - y === 0)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (!(minX <= maxX)) return { minX: 0, minY: 0, cellWidth: 1, cellHeight: 1, columns: 1, rows: 1, start: new Uint32Array(2), order: new Uint32Array(0) };
  const side = Math.max(1, Math.min(2048, Math.round(Math.sqrt(n / perCell))));
  const cellWidth = (maxX - minX) / side || 1;
  const cellHeight = (maxY - minY) / side || 1;
  const cellOf = new Int32Array(n);
  const start = new Uint32Array(side * side + 1);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    if (!(x - x === 0 && y - y === 0)) {
      cellOf[i] = -1;
      continue;
    }
    const cx = Math.min(side - 1, Math.floor((x - minX) / cellWidth));
    const cy = Math.min(side - 1, Math.floor((y - minY) / cellHeight));
    const c = cy * side + cx;
    cellOf[i] = c;
    start[c + 1]! += 1;
  }
  for (let c = 0; c < side * side; c++) start[c + 1]! += start[c]!;
  const order = new Uint32Array(start[side * side]!);
  const cursor = start.slice(0, side * side);
  for (let i = 0; i < n; i++) if (cellOf[i]! >= 0) order[cursor[cellOf[i]!]!++] = i;
  return { minX, minY, cellWidth, cellHeight, columns: side, rows: side, start, order };
}

/**
 * The point nearest (x, y) within an ellipse of radii rx, ry (data units: one radius in
 * pixels maps to different data lengths on the two axes); -1 when none. Points of
 * `eligible` 0 are skipped.
 */
export function nearestPoint(grid: PointGrid, points: Float32Array, x: number, y: number, rx: number, ry: number, eligible?: Uint8Array | null): number {
  const c0 = Math.max(0, Math.floor((x - rx - grid.minX) / grid.cellWidth));
  const c1 = Math.min(grid.columns - 1, Math.floor((x + rx - grid.minX) / grid.cellWidth));
  const r0 = Math.max(0, Math.floor((y - ry - grid.minY) / grid.cellHeight));
  const r1 = Math.min(grid.rows - 1, Math.floor((y + ry - grid.minY) / grid.cellHeight));
  let best = -1;
  let bestDistance = 1;
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const cell = r * grid.columns + c;
      for (let k = grid.start[cell]!, end = grid.start[cell + 1]!; k < end; k++) {
        const i = grid.order[k]!;
        if (eligible && eligible[i] === 0) continue;
        const dx = (points[2 * i]! - x) / rx;
        const dy = (points[2 * i + 1]! - y) / ry;
        const distance = dx * dx + dy * dy;
        if (distance <= bestDistance) {
          bestDistance = distance;
          best = i;
        }
      }
    }
  }
  return best;
}

/**
 * The colour buffer with what the user did to it: hidden points (visible 0) get alpha 0 (not
 * drawn); when something is selected, the other points fade to a light grey.
 */
/** A colour channel of a point the selection leaves out: three quarters of the way to #e6e6e6, so the category still shows, faintly. */
export function fadeChannel(value: number): number {
  return (value + 3 * 230) >> 2;
}

export function emphasizeColors(rgba: Uint8Array, visible: Uint8Array | null, selection: Uint8Array | null): Uint8Array {
  if (!visible && !selection) return rgba;
  const out = rgba.slice();
  const n = out.length >> 2;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    if (visible && visible[i] === 0) out[o + 3] = 0;
    else if (selection && selection[i] === 0) {
      out[o] = fadeChannel(out[o]!);
      out[o + 1] = fadeChannel(out[o + 1]!);
      out[o + 2] = fadeChannel(out[o + 2]!);
    }
  }
  return out;
}
