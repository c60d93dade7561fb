// Drawing the scatter plot's points on the CPU into an RGBA image, for software WebGL
// (SwiftShader, llvmpipe): there each point sprite costs about half a microsecond of vertex
// and setup work, so a million take 500–700 ms, while this loop takes tens of milliseconds and
// the GPU then draws one textured rectangle. The pixels match what the point sprites would
// cover: a pixel is inked when its centre lies in the point's disc of `sizePx` diameter.
import { fadeChannel } from './scatter-selection';
import { viewTransform, type View } from './scatter-view';

/** Opaque white, the plot's background, as a little-endian RGBA word. */
export const BACKGROUND_WORD = 0xffffffff;

/** What the user did to the colours (as emphasizeColors in scatter-selection.ts): hidden points, and the selection the rest fade beside. */
export interface Emphasis {
  /** Per point, 0 when hidden; null when none is. */
  visible: Uint8Array | null;
  /** Per point, 1 when selected; null when nothing is (then nothing fades). */
  selection: Uint8Array | null;
}

/** Three quarters of the way to #e6e6e6, alpha kept: emphasizeColors' fade, on a little-endian RGBA word. */
function fade(color: number): number {
  return fadeChannel(color & 0xff) | (fadeChannel((color >>> 8) & 0xff) << 8) | (fadeChannel((color >>> 16) & 0xff) << 16) | (color & 0xff000000);
}

/**
 * Fills `out` (width×height RGBA words, row 0 at the bottom as WebGL reads textures) with the
 * background and then each point in order (later points cover earlier ones), coloured by its
 * word of `rgba` (RGBA bytes as little-endian words), faded when a selection leaves it out;
 * points of alpha 0 or hidden by `emphasis` are not drawn, nor points with a NaN or infinite
 * coordinate.
 */
export function rasterizePoints(points: Float32Array, rgba: Uint32Array, view: View, width: number, height: number, sizePx: number, out: Uint32Array, emphasis: Emphasis = { visible: null, selection: null }): void {
  const visible = emphasis.visible && emphasis.visible.length >= rgba.length ? emphasis.visible : null;
  const selection = emphasis.selection && emphasis.selection.length >= rgba.length ? emphasis.selection : null;
  out.fill(BACKGROUND_WORD);
  const n = Math.min(points.length >> 1, rgba.length);
  const { scaleX, scaleY, offsetX, offsetY } = viewTransform(view);
  // Window coordinates (pixels, y up): w = data * a + b.
  const ax = (scaleX * width) / 2;
  const bx = ((offsetX + 1) * width) / 2;
  const ay = (scaleY * height) / 2;
  const by = ((offsetY + 1) * height) / 2;
  const radius = sizePx / 2;
  const radius2 = radius * radius;
  // The pixels a point covers, relative to the pixel holding its centre, depend on where in
  // that pixel the centre falls; the disc test below decides per pixel.
  const reach = radius + 0.5;
  const lastColumn = width - 1;
  const lastRow = height - 1;
  if (sizePx <= 2) {
    // The usual case for big clouds: at most 2×2 pixels, the four tests written out.
    for (let i = 0; i < n; i++) {
      if (visible !== null && visible[i] === 0) continue;
      let color = rgba[i]!;
      if (color >>> 24 === 0) continue; // hidden
      if (selection !== null && selection[i] === 0) color = fade(color);
      const wx = points[2 * i]! * ax + bx;
      const wy = points[2 * i + 1]! * ay + by;
      if (!(wx > -reach && wx < width + reach && wy > -reach && wy < height + reach)) continue;
      const c0 = Math.ceil(wx - reach);
      const r0 = Math.ceil(wy - reach);
      const dx0 = c0 + 0.5 - wx;
      const dx1 = dx0 + 1;
      const dy0 = r0 + 0.5 - wy;
      const dy1 = dy0 + 1;
      // A pixel is in when it is on the canvas, its centre in the square (|d| <= radius) and in the disc.
      const inX0 = dx0 <= radius && c0 >= 0 && c0 <= lastColumn;
      const inX1 = dx1 <= radius && c0 + 1 >= 0 && c0 + 1 <= lastColumn;
      if (dy0 <= radius && r0 >= 0 && r0 <= lastRow) {
        const row = r0 * width + c0;
        const dy2 = dy0 * dy0;
        if (inX0 && dx0 * dx0 + dy2 <= radius2) out[row] = color;
        if (inX1 && dx1 * dx1 + dy2 <= radius2) out[row + 1] = color;
      }
      if (dy1 <= radius && r0 + 1 >= 0 && r0 + 1 <= lastRow) {
        const row = (r0 + 1) * width + c0;
        const dy2 = dy1 * dy1;
        if (inX0 && dx0 * dx0 + dy2 <= radius2) out[row] = color;
        if (inX1 && dx1 * dx1 + dy2 <= radius2) out[row + 1] = color;
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    if (visible !== null && visible[i] === 0) continue;
    let color = rgba[i]!;
    if (color >>> 24 === 0) continue; // hidden
    if (selection !== null && selection[i] === 0) color = fade(color);
    const wx = points[2 * i]! * ax + bx;
    const wy = points[2 * i + 1]! * ay + by;
    // Off the canvas (and NaN, which fails every comparison): nothing to draw.
    if (!(wx > -reach && wx < width + reach && wy > -reach && wy < height + reach)) continue;
    let c0 = Math.ceil(wx - reach);
    let c1 = Math.floor(wx + radius - 0.5);
    let r0 = Math.ceil(wy - reach);
    let r1 = Math.floor(wy + radius - 0.5);
    if (c0 < 0) c0 = 0;
    if (c1 > lastColumn) c1 = lastColumn;
    if (r0 < 0) r0 = 0;
    if (r1 > lastRow) r1 = lastRow;
    for (let r = r0; r <= r1; r++) {
      const dy = r + 0.5 - wy;
      const limit = radius2 - dy * dy;
      const row = r * width;
      for (let c = c0; c <= c1; c++) {
        const dx = c + 0.5 - wx;
        if (dx * dx <= limit) out[row + c] = color;
      }
    }
  }
}
