import { describe, expect, it } from 'vitest';
import {
  CATEGORY_PALETTE,
  categoryColor,
  categoryCounts,
  colorBuffer,
  formatLegendNumber,
  hexToRgb,
  MISSING_COLOR,
  PLAIN_COLOR,
  rgbToHex,
  viridis,
  viridisGradient,
  VIRIDIS_STOPS,
} from '../../src/renderer/src/components/scatter-colors';
import { computeBounds, defaultPointSize, fitView, interleaveColumns, interleaveXY, panView, viewTransform, zoomView } from '../../src/renderer/src/components/scatter-view';

const rgbaAt = (buffer: Uint8Array, i: number) => Array.from(buffer.subarray(i * 4, i * 4 + 4));
const withAlpha = (hex: string) => [...hexToRgb(hex), 255];

/** sRGB (D65) → CIELAB, for a perceptual distance between two colours. */
function toLab(hex: string): [number, number, number] {
  const [r, g, b] = hexToRgb(hex).map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const fx = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const fy = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const fz = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}
const deltaE = (a: string, b: string) => Math.hypot(...toLab(a).map((value, i) => value - toLab(b)[i]!));

describe('scatter bounds and view', () => {
  it('bounds the finite points only', () => {
    const points = new Float32Array([1, 2, -3, 5, Number.NaN, 100, 7, Number.POSITIVE_INFINITY, 4, -1]);
    expect(computeBounds(points)).toEqual({ minX: -3, maxX: 4, minY: -1, maxY: 5 });
  });

  it('has no bounds without a finite point', () => {
    expect(computeBounds(new Float32Array([]))).toBeNull();
    expect(computeBounds(new Float32Array([Number.NaN, 1, 2, Number.NaN]))).toBeNull();
  });

  it('pads the fitted window by 5% of each range', () => {
    expect(fitView({ minX: 0, maxX: 10, minY: -2, maxY: 2 })).toEqual({ x0: -0.5, x1: 10.5, y0: -2.2, y1: 2.2 });
  });

  it('gives a degenerate cloud (one point) a window around it', () => {
    expect(fitView({ minX: 50, maxX: 50, minY: 0, maxY: 0 })).toEqual({ x0: 45, x1: 55, y0: -1, y1: 1 });
    expect(fitView(null)).toEqual({ x0: -1, x1: 1, y0: -1, y1: 1 });
  });

  it('maps the window corners to clip-space corners', () => {
    const t = viewTransform({ x0: 2, x1: 6, y0: -1, y1: 3 });
    expect(2 * t.scaleX + t.offsetX).toBeCloseTo(-1, 12);
    expect(6 * t.scaleX + t.offsetX).toBeCloseTo(1, 12);
    expect(-1 * t.scaleY + t.offsetY).toBeCloseTo(-1, 12);
    expect(3 * t.scaleY + t.offsetY).toBeCloseTo(1, 12);
  });

  it('zooms around the anchor, keeping the data point under it still', () => {
    const view = { x0: 0, x1: 10, y0: 0, y1: 10 };
    // Anchor at 20% from the left and 25% from the top: data point (2, 7.5).
    const zoomed = zoomView(view, 0.5, 0.2, 0.25, view);
    expect(zoomed.x1 - zoomed.x0).toBeCloseTo(5, 12);
    expect(zoomed.y1 - zoomed.y0).toBeCloseTo(5, 12);
    expect(zoomed.x0 + 0.2 * (zoomed.x1 - zoomed.x0)).toBeCloseTo(2, 12);
    expect(zoomed.y1 - 0.25 * (zoomed.y1 - zoomed.y0)).toBeCloseTo(7.5, 12);
    expect(zoomed).toEqual({ x0: 1, x1: 6, y0: 3.75, y1: 8.75 });
  });

  it('stops zooming out at 1000 times the fitted window', () => {
    const home = { x0: 0, x1: 1, y0: 0, y1: 1 };
    const out = zoomView(home, 1e9, 0.5, 0.5, home);
    expect(out.x1 - out.x0).toBeCloseTo(1000, 6);
    const deep = zoomView(home, 1e-12, 0.5, 0.5, home);
    expect(deep.x1 - deep.x0).toBeCloseTo(1e-6, 12);
  });

  it('pans with the drag: right moves the window left, down moves it up', () => {
    const panned = panView({ x0: 0, x1: 10, y0: 0, y1: 20 }, 0.1, 0.25);
    expect(panned).toEqual({ x0: -1, x1: 9, y0: 5, y1: 25 });
  });

  it('interleaves two columns', () => {
    expect(Array.from(interleaveXY([1, 2, 3], new Float64Array([4, 5, 6])))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => interleaveXY([1], [1, 2])).toThrow(/x has 1 values but y has 2/);
  });

  it('picks two columns of a row-major embedding', () => {
    // 3 cells × 4 components.
    const pcs = new Float32Array([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    expect(Array.from(interleaveColumns(pcs, 4, 0, 1))).toEqual([0, 1, 10, 11, 20, 21]);
    expect(Array.from(interleaveColumns(pcs, 4, 3, 1))).toEqual([3, 1, 13, 11, 23, 21]);
    expect(() => interleaveColumns(pcs, 4, 0, 4)).toThrow(/Columns 0 and 4/);
    expect(() => interleaveColumns(pcs, 5, 0, 1)).toThrow(/does not have 5 columns/);
  });

  it('shrinks the default point size as the cloud grows', () => {
    expect([100, 5_000, 50_000, 1_000_000].map(defaultPointSize)).toEqual([6, 4, 3, 2]);
  });
});

describe('scatter colours', () => {
  it('has 20 distinct palette colours, none of them the missing grey', () => {
    expect(CATEGORY_PALETTE).toHaveLength(20);
    expect(new Set(CATEGORY_PALETTE).size).toBe(20);
    expect(CATEGORY_PALETTE).not.toContain(MISSING_COLOR);
  });

  it('keeps every pair of palette colours visibly apart (CIELAB ΔE76 ≥ 25), and away from grey and white', () => {
    let closestPair = Infinity;
    for (let i = 0; i < CATEGORY_PALETTE.length; i++) {
      for (let j = i + 1; j < CATEGORY_PALETTE.length; j++) closestPair = Math.min(closestPair, deltaE(CATEGORY_PALETTE[i]!, CATEGORY_PALETTE[j]!));
    }
    expect(closestPair).toBeGreaterThanOrEqual(25);
    expect(Math.min(...CATEGORY_PALETTE.map((hex) => deltaE(hex, MISSING_COLOR)))).toBeGreaterThanOrEqual(25);
    expect(Math.min(...CATEGORY_PALETTE.map((hex) => deltaE(hex, '#ffffff')))).toBeGreaterThanOrEqual(15);
  });

  it('cycles the palette past 20 categories and greys out missing codes', () => {
    expect(categoryColor(0)).toBe('#1f77b4');
    expect(categoryColor(20)).toBe('#1f77b4');
    expect(categoryColor(23)).toBe(CATEGORY_PALETTE[3]);
    expect(categoryColor(-1)).toBe(MISSING_COLOR);
    expect(categoryColor(Number.NaN)).toBe(MISSING_COLOR);
  });

  it('converts hex both ways', () => {
    expect(hexToRgb('#1f77b4')).toEqual([31, 119, 180]);
    expect(rgbToHex([31, 119, 180])).toBe('#1f77b4');
    expect(rgbToHex([0, 0, 0])).toBe('#000000');
  });

  it('runs viridis from dark purple through teal to yellow', () => {
    expect(rgbToHex(viridis(0))).toBe('#440154');
    expect(rgbToHex(viridis(0.5))).toBe('#21918c');
    expect(rgbToHex(viridis(1))).toBe('#fde725');
    expect(viridis(-3)).toEqual(viridis(0));
    expect(viridis(7)).toEqual(viridis(1));
    expect(rgbToHex(viridis(Number.NaN))).toBe(MISSING_COLOR);
    // Halfway between the 0.0 and 0.1 stops.
    const [a, b] = [hexToRgb(VIRIDIS_STOPS[0]!), hexToRgb(VIRIDIS_STOPS[1]!)];
    expect(viridis(0.05)).toEqual([Math.round((a[0] + b[0]) / 2), Math.round((a[1] + b[1]) / 2), Math.round((a[2] + b[2]) / 2)]);
  });

  it('builds the CSS colour bar from the same stops', () => {
    expect(viridisGradient('to top')).toBe(`linear-gradient(to top, ${VIRIDIS_STOPS.join(', ')})`);
  });

  it('colours categories per point, with grey for -1 and unknown codes', () => {
    const rgba = colorBuffer({ kind: 'category', codes: new Int32Array([0, 1, -1, 2, 21, 5]), categories: Array.from({ length: 22 }, (_, i) => `type ${i}`) }, 6);
    expect(rgba).toHaveLength(24);
    expect(rgbaAt(rgba, 0)).toEqual(withAlpha(CATEGORY_PALETTE[0]!));
    expect(rgbaAt(rgba, 1)).toEqual(withAlpha(CATEGORY_PALETTE[1]!));
    expect(rgbaAt(rgba, 2)).toEqual(withAlpha(MISSING_COLOR));
    expect(rgbaAt(rgba, 3)).toEqual(withAlpha(CATEGORY_PALETTE[2]!));
    expect(rgbaAt(rgba, 4)).toEqual(withAlpha(CATEGORY_PALETTE[1]!));
    expect(rgbaAt(rgba, 5)).toEqual(withAlpha(CATEGORY_PALETTE[5]!));

    const fewer = colorBuffer({ kind: 'category', codes: new Int32Array([0, 3]), categories: ['a', 'b', 'c'] }, 3);
    expect(rgbaAt(fewer, 1)).toEqual(withAlpha(MISSING_COLOR)); // code 3 names no category
    expect(rgbaAt(fewer, 2)).toEqual(withAlpha(MISSING_COLOR)); // no code at all
  });

  it('maps numeric values onto the ramp between min and max, clamping outside and greying NaN', () => {
    const values = new Float32Array([0, 10, 5, Number.NaN, -4, 99]);
    const rgba = colorBuffer({ kind: 'numeric', values, min: 0, max: 10 }, 6);
    expect(rgbaAt(rgba, 0)).toEqual([...viridis(0), 255]);
    expect(rgbaAt(rgba, 1)).toEqual([...viridis(1), 255]);
    // 5 of 0..10 is ramp entry round(127.5) = 128 of 256.
    expect(rgbaAt(rgba, 2)).toEqual([...viridis(128 / 255), 255]);
    expect(rgbaAt(rgba, 3)).toEqual(withAlpha(MISSING_COLOR));
    expect(rgbaAt(rgba, 4)).toEqual([...viridis(0), 255]);
    expect(rgbaAt(rgba, 5)).toEqual([...viridis(1), 255]);
  });

  it('puts a constant numeric column in the middle of the ramp', () => {
    const rgba = colorBuffer({ kind: 'numeric', values: new Float32Array([3, 3]), min: 3, max: 3 }, 2);
    expect(rgbaAt(rgba, 1)).toEqual([...viridis(127 / 255), 255]);
  });

  it('draws every point in one colour when nothing colours them', () => {
    const rgba = colorBuffer(null, 3);
    for (let i = 0; i < 3; i++) expect(rgbaAt(rgba, i)).toEqual(withAlpha(PLAIN_COLOR));
  });

  it('colours a million points quickly', () => {
    const n = 1_000_000;
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) codes[i] = (i % 31) - 1;
    const started = performance.now();
    const rgba = colorBuffer({ kind: 'category', codes, categories: Array.from({ length: 30 }, (_, i) => String(i)) }, n);
    const elapsed = performance.now() - started;
    expect(rgbaAt(rgba, 0)).toEqual(withAlpha(MISSING_COLOR));
    expect(rgbaAt(rgba, n - 1)).toEqual(withAlpha(categoryColor((n - 1) % 31 - 1)));
    // Generous: this catches a per-point allocation or search, not machine noise.
    expect(elapsed).toBeLessThan(2000);
  });

  it('counts points per category', () => {
    expect(Array.from(categoryCounts(new Int32Array([0, 2, 2, -1, 7, 2]), 3))).toEqual([1, 0, 3]);
  });

  it('formats legend numbers to three significant digits', () => {
    expect(formatLegendNumber(0)).toBe('0');
    expect(formatLegendNumber(3.14159)).toBe('3.14');
    expect(formatLegendNumber(-1234.5)).toBe('-1230');
    expect(formatLegendNumber(123456)).toBe('1.23e+5');
    expect(formatLegendNumber(0.000123)).toBe('1.23e-4');
    expect(formatLegendNumber(0.5)).toBe('0.5');
  });
});
