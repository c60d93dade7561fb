// Drawing scatter points on the CPU (software WebGL): which pixels a point covers, in what
// colour, in what order, and what is never drawn.
import { describe, expect, it } from 'vitest';
import { BACKGROUND_WORD, rasterizePoints } from '../../src/renderer/src/components/scatter-raster';
import { emphasizeColors } from '../../src/renderer/src/components/scatter-selection';

const word = (r: number, g: number, b: number, a = 255) => new Uint32Array(new Uint8Array([r, g, b, a]).buffer)[0]!;
const RED = word(255, 0, 0);
const BLUE = word(0, 0, 255);
// A 10×10 window onto data 0..10 on both axes: one data unit per pixel.
const VIEW = { x0: 0, x1: 10, y0: 0, y1: 10 };

function inked(image: Uint32Array, width: number): [number, number][] {
  const out: [number, number][] = [];
  image.forEach((value, i) => {
    if (value !== BACKGROUND_WORD) out.push([i % width, Math.floor(i / width)]);
  });
  return out;
}

describe('rasterizePoints', () => {
  it('covers the pixels whose centres lie in the point disc, row 0 at the bottom', () => {
    const image = new Uint32Array(100);
    rasterizePoints(new Float32Array([5, 5]), new Uint32Array([RED]), VIEW, 10, 10, 2, image);
    // Centred on a pixel corner: the four pixels around it.
    expect(inked(image, 10)).toEqual([[4, 4], [5, 4], [4, 5], [5, 5]]);
    expect(image[4 * 10 + 4]).toBe(RED);
    rasterizePoints(new Float32Array([2.5, 7.5]), new Uint32Array([RED]), VIEW, 10, 10, 1, image);
    expect(inked(image, 10)).toEqual([[2, 7]]);
    // A 2-pixel disc off the corner drops the pixel whose centre is too far (as the sprite's discard does).
    rasterizePoints(new Float32Array([5.3, 5.3]), new Uint32Array([RED]), VIEW, 10, 10, 2, image);
    expect(inked(image, 10)).toEqual([[4, 5], [5, 4], [5, 5]].sort((a, b) => a[1]! - b[1]! || a[0]! - b[0]!) as [number, number][]);
  });

  it('draws a round point of six pixels', () => {
    const image = new Uint32Array(100);
    rasterizePoints(new Float32Array([5, 5]), new Uint32Array([RED]), VIEW, 10, 10, 6, image);
    const pixels = inked(image, 10);
    // 6×6 square minus the four corner pixels whose centres lie outside the radius-3 disc.
    expect(pixels).toHaveLength(32);
    expect(pixels).not.toContainEqual([2, 2]);
    expect(pixels).toContainEqual([3, 2]);
  });

  it('draws later points over earlier ones and skips hidden (alpha 0) and non-finite points', () => {
    const image = new Uint32Array(100);
    const points = new Float32Array([5, 5, 5, 5, 2, 2, Number.NaN, 1, 1, Number.POSITIVE_INFINITY, 100, 100]);
    rasterizePoints(points, new Uint32Array([RED, BLUE, word(0, 255, 0, 0), RED, RED, RED]), VIEW, 10, 10, 2, image);
    expect(image[4 * 10 + 4]).toBe(BLUE);
    expect(inked(image, 10)).toEqual([[4, 4], [5, 4], [4, 5], [5, 5]]);
  });

  it('clips points at the edges and draws nothing for points without a colour', () => {
    const image = new Uint32Array(100);
    rasterizePoints(new Float32Array([0, 0, 10, 10]), new Uint32Array([RED]), VIEW, 10, 10, 2, image);
    expect(inked(image, 10)).toEqual([[0, 0]]);
  });

  it('agrees with a pixel-by-pixel reference at every size, points on and past the edges included', () => {
    const width = 12;
    const height = 9;
    let state = 3;
    const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
    const n = 400;
    // Data 0..12 × 0..9 on a 12×9 canvas; points spill 2 pixels past every edge.
    const view = { x0: 0, x1: width, y0: 0, y1: height };
    const points = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      points[2 * i] = random() * (width + 4) - 2;
      points[2 * i + 1] = random() * (height + 4) - 2;
    }
    const colors = Uint32Array.from({ length: n }, (_, i) => word(i & 255, (i >> 8) & 255, 7));
    for (const size of [1, 1.5, 2, 3, 4.5, 6]) {
      const image = new Uint32Array(width * height);
      rasterizePoints(points, colors, view, width, height, size, image);
      const expected = new Uint32Array(width * height).fill(BACKGROUND_WORD);
      const radius = size / 2;
      for (let i = 0; i < n; i++) {
        for (let r = 0; r < height; r++) {
          for (let c = 0; c < width; c++) {
            const dx = c + 0.5 - points[2 * i]!;
            const dy = r + 0.5 - points[2 * i + 1]!;
            if (Math.abs(dx) <= radius && Math.abs(dy) <= radius && dx * dx + dy * dy <= radius * radius) expected[r * width + c] = colors[i]!;
          }
        }
      }
      expect(Array.from(image), `point size ${size}`).toEqual(Array.from(expected));
    }
  });

  it('hides and fades points as emphasizeColors does, without a copy of the colours', () => {
    const n = 300;
    let state = 11;
    const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
    const points = Float32Array.from({ length: 2 * n }, () => random() * 10);
    const bytes = Uint8Array.from({ length: 4 * n }, (_, k) => (k % 4 === 3 ? 255 : Math.floor(random() * 256)));
    const visible = Uint8Array.from({ length: n }, () => (random() < 0.8 ? 1 : 0));
    const selection = Uint8Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    for (const emphasis of [{ visible, selection }, { visible, selection: null }, { visible: null, selection }]) {
      for (const size of [2, 3]) {
        const inline = new Uint32Array(100);
        rasterizePoints(points, new Uint32Array(bytes.buffer), VIEW, 10, 10, size, inline, emphasis);
        const copied = new Uint32Array(100);
        rasterizePoints(points, new Uint32Array(emphasizeColors(bytes, emphasis.visible, emphasis.selection).slice().buffer), VIEW, 10, 10, size, copied);
        expect(Array.from(inline)).toEqual(Array.from(copied));
      }
    }
  });

  it('draws a million points in well under the time software WebGL takes for point sprites', () => {
    const n = 1_000_000;
    const points = new Float32Array(2 * n);
    const colors = new Uint32Array(n).fill(RED);
    let state = 1;
    for (let i = 0; i < 2 * n; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      points[i] = state / 4294967296;
    }
    const image = new Uint32Array(1000 * 480);
    const started = performance.now();
    rasterizePoints(points, colors, { x0: 0, x1: 1, y0: 0, y1: 1 }, 1000, 480, 2, image);
    expect(performance.now() - started).toBeLessThan(400);
    expect(inked(image, 1000).length).toBeGreaterThan(0.5 * 1000 * 480);
  });
});
