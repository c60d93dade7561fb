// Geometry for the scatter plot: data bounds, the visible window, pan and zoom, and the
// interleaved x,y layout the GPU reads. Pure functions; no DOM.

export interface Bounds {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** The data window shown on the canvas: x0..x1 left to right, y0..y1 bottom to top. */
export interface View {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Bounds of the finite points of an n×2 interleaved array; null when none is finite. */
export function computeBounds(points: Float32Array): Bounds | null {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    // One test per point: NaN and ±Infinity both fail it.
    if (!(x - x === 0 && y - y === 0)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return minX <= maxX ? { minX, maxX, minY, maxY } : null;
}

/** The window that shows every point with `padding` (a fraction of each range) around it. */
export function fitView(bounds: Bounds | null, padding = 0.05): View {
  if (!bounds) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  const [x0, x1] = padRange(bounds.minX, bounds.maxX, padding);
  const [y0, y1] = padRange(bounds.minY, bounds.maxY, padding);
  return { x0, x1, y0, y1 };
}

function padRange(min: number, max: number, padding: number): [number, number] {
  const span = max - min;
  // A single value (or all points equal) still gets a window around it.
  if (!(span > 0)) {
    const half = Math.max(Math.abs(min) * 0.1, 1);
    return [min - half, max + half];
  }
  return [min - span * padding, max + span * padding];
}

/**
 * Zooms by `factor` (< 1 zooms in) around an anchor given as a fraction of the canvas
 * (fx from the left, fy from the top), keeping the data point under the anchor still.
 * The window never shrinks below 1e-6 or grows beyond 1e3 times `home`.
 */
export function zoomView(view: View, factor: number, fx: number, fy: number, home: View): View {
  const width = view.x1 - view.x0;
  const height = view.y1 - view.y0;
  const homeWidth = home.x1 - home.x0;
  const homeHeight = home.y1 - home.y0;
  const clampedFactor = Math.min(
    Math.max(factor, (homeWidth * 1e-6) / width, (homeHeight * 1e-6) / height),
    (homeWidth * 1e3) / width,
    (homeHeight * 1e3) / height,
  );
  const anchorX = view.x0 + fx * width;
  const anchorY = view.y1 - fy * height;
  const newWidth = width * clampedFactor;
  const newHeight = height * clampedFactor;
  const x0 = anchorX - fx * newWidth;
  const y1 = anchorY + fy * newHeight;
  return { x0, x1: x0 + newWidth, y0: y1 - newHeight, y1 };
}

/** Moves the window with the pointer: dx, dy are the drag as fractions of the canvas size. */
export function panView(view: View, dx: number, dy: number): View {
  const shiftX = -dx * (view.x1 - view.x0);
  const shiftY = dy * (view.y1 - view.y0);
  return { x0: view.x0 + shiftX, x1: view.x1 + shiftX, y0: view.y0 + shiftY, y1: view.y1 + shiftY };
}

/** Maps data to clip space as clip = data * scale + offset, per axis. */
export function viewTransform(view: View): { scaleX: number; scaleY: number; offsetX: number; offsetY: number } {
  const scaleX = 2 / (view.x1 - view.x0);
  const scaleY = 2 / (view.y1 - view.y0);
  return { scaleX, scaleY, offsetX: -1 - view.x0 * scaleX, offsetY: -1 - view.y0 * scaleY };
}

/** Two columns (x, y) of equal length → n×2 interleaved. */
export function interleaveXY(x: ArrayLike<number>, y: ArrayLike<number>): Float32Array {
  if (x.length !== y.length) throw new RangeError(`x has ${x.length} values but y has ${y.length}`);
  const out = new Float32Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    out[2 * i] = x[i]!;
    out[2 * i + 1] = y[i]!;
  }
  return out;
}

/** Two columns of a row-major n×nCols matrix (an embedding such as PCA) → n×2 interleaved. */
export function interleaveColumns(matrix: ArrayLike<number>, nCols: number, colX: number, colY: number): Float32Array {
  if (!(colX >= 0 && colX < nCols && colY >= 0 && colY < nCols)) throw new RangeError(`Columns ${colX} and ${colY} must lie in 0..${nCols - 1}`);
  if (matrix.length % nCols !== 0) throw new RangeError(`A matrix of ${matrix.length} values does not have ${nCols} columns`);
  const n = matrix.length / nCols;
  const out = new Float32Array(n * 2);
  for (let i = 0, row = 0; i < n; i++, row += nCols) {
    out[2 * i] = matrix[row + colX]!;
    out[2 * i + 1] = matrix[row + colY]!;
  }
  return out;
}

/** Point diameter in CSS pixels when the caller gives none: smaller as the cloud grows. */
export function defaultPointSize(n: number): number {
  if (n > 200_000) return 2;
  if (n > 20_000) return 3;
  if (n > 2_000) return 4;
  return 6;
}
