// Lasso and box selection on the scatter plot: the banded point-in-polygon test agrees with a
// plain ray cast over every edge, the box is inclusive, and selections combine as sets.
import { describe, expect, it } from 'vitest';
import {
  boxPolygon,
  buildPointGrid,
  combineSelection,
  countSelected,
  emphasizeColors,
  nearestPoint,
  overlapCount,
  selectedIndices,
  selectInBox,
  selectInPolygon,
} from '../../src/renderer/src/components/scatter-selection';

/** Deterministic numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** The textbook even-odd ray cast: every edge for every point. */
function insideReference(x: number, y: number, polygon: number[]): boolean {
  let inside = false;
  const n = polygon.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[2 * i]!;
    const yi = polygon[2 * i + 1]!;
    const xj = polygon[2 * j]!;
    const yj = polygon[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function randomPoints(n: number, seed: number): Float32Array {
  const r = random(seed);
  return Float32Array.from({ length: 2 * n }, () => r() * 20 - 10);
}

describe('selectInPolygon', () => {
  it('marks the points of a square and nothing else', () => {
    const points = Float32Array.from([0, 0, 0.5, 0.5, 2, 2, -0.5, 0.9, 0.99, -0.99, Number.NaN, 0]);
    const mask = selectInPolygon(points, [-1, -1, 1, -1, 1, 1, -1, 1]);
    expect(Array.from(mask)).toEqual([1, 1, 0, 1, 1, 0]);
  });

  it('agrees with a ray cast over every edge for a wobbly lasso and a self-crossing star', () => {
    const points = randomPoints(20_000, 3);
    const r = random(11);
    const wobbly: number[] = [];
    for (let k = 0; k < 150; k++) {
      const angle = (2 * Math.PI * k) / 150;
      const radius = 4 + 3 * r();
      wobbly.push(radius * Math.cos(angle), radius * Math.sin(angle));
    }
    // A five-pointed star drawn in one stroke crosses itself: its centre is outside (even-odd).
    const star: number[] = [];
    for (let k = 0; k < 5; k++) {
      const angle = (4 * Math.PI * k) / 5;
      star.push(8 * Math.cos(angle), 8 * Math.sin(angle));
    }
    for (const polygon of [wobbly, star]) {
      const mask = selectInPolygon(points, polygon);
      let expected = 0;
      for (let i = 0; i < points.length / 2; i++) {
        const inside = insideReference(points[2 * i]!, points[2 * i + 1]!, polygon);
        if (inside) expected++;
        expect(mask[i], `point ${i}`).toBe(inside ? 1 : 0);
      }
      expect(countSelected(mask)).toBe(expected);
      expect(expected).toBeGreaterThan(1000);
    }
    expect(selectInPolygon(Float32Array.from([0, 0]), star)[0]).toBe(0);
  });

  it('skips points that are not eligible (hidden) and selects nothing for fewer than three vertices', () => {
    const points = Float32Array.from([0, 0, 0.2, 0.2]);
    expect(Array.from(selectInPolygon(points, [-1, -1, 1, -1, 1, 1], Uint8Array.from([0, 1])))).toEqual([0, 1]);
    expect(countSelected(selectInPolygon(points, [-1, -1, 1, 1]))).toBe(0);
  });
});

describe('selectInBox', () => {
  it('takes corners in either order and includes the edges', () => {
    const points = Float32Array.from([0, 0, 1, 1, 1.01, 0.5, -1, -1]);
    expect(Array.from(selectInBox(points, 1, 1, -1, -1))).toEqual([1, 1, 0, 1]);
    expect(Array.from(selectInBox(points, 0, 0, 1, 1, Uint8Array.from([1, 0, 1, 1])))).toEqual([1, 0, 0, 0]);
    const box = boxPolygon(-0.5, -0.5, 2, 2);
    expect(Array.from(selectInPolygon(points, box))).toEqual([1, 1, 1, 0]);
  });
});

describe('selection set operations', () => {
  const a = Uint8Array.from([1, 1, 0, 0, 1]);
  const hit = Uint8Array.from([0, 1, 1, 0, 0]);
  it('replaces, adds (shift) and subtracts (alt)', () => {
    expect(Array.from(combineSelection(a, hit, 'replace'))).toEqual([0, 1, 1, 0, 0]);
    expect(Array.from(combineSelection(a, hit, 'add'))).toEqual([1, 1, 1, 0, 1]);
    expect(Array.from(combineSelection(a, hit, 'subtract'))).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(combineSelection(null, hit, 'add'))).toEqual([0, 1, 1, 0, 0]);
    expect(countSelected(combineSelection(null, hit, 'subtract'))).toBe(0);
    // The inputs are left as they were.
    expect(Array.from(a)).toEqual([1, 1, 0, 0, 1]);
  });
  it('lists indices, counts and overlaps', () => {
    expect(Array.from(selectedIndices(a))).toEqual([0, 1, 4]);
    expect(countSelected(a)).toBe(3);
    expect(countSelected(null)).toBe(0);
    expect(overlapCount(a, hit)).toBe(1);
    expect(() => combineSelection(a, new Uint8Array(3), 'add')).toThrow(/5 points/);
  });
});

describe('nearestPoint on a grid', () => {
  it('finds the same point as a scan of all points, within the radius only', () => {
    const points = randomPoints(5_000, 5);
    const grid = buildPointGrid(points);
    const r = random(9);
    for (let q = 0; q < 200; q++) {
      const x = r() * 20 - 10;
      const y = r() * 20 - 10;
      let best = -1;
      let bestD = 1;
      for (let i = 0; i < 5_000; i++) {
        const d = ((points[2 * i]! - x) / 0.3) ** 2 + ((points[2 * i + 1]! - y) / 0.2) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = i;
        }
      }
      const found = nearestPoint(grid, points, x, y, 0.3, 0.2);
      if (best === -1) expect(found).toBe(-1);
      else expect(((points[2 * found]! - x) / 0.3) ** 2 + ((points[2 * found + 1]! - y) / 0.2) ** 2).toBeCloseTo(bestD, 10);
    }
    expect(nearestPoint(grid, points, 100, 100, 1, 1)).toBe(-1);
  });
});

describe('emphasizeColors', () => {
  it('hides points with alpha 0 and fades the unselected ones', () => {
    const rgba = Uint8Array.from([10, 20, 30, 255, 10, 20, 30, 255, 10, 20, 30, 255]);
    const out = emphasizeColors(rgba, Uint8Array.from([1, 1, 0]), Uint8Array.from([1, 0, 1]));
    expect(Array.from(out)).toEqual([10, 20, 30, 255, (10 + 690) >> 2, (20 + 690) >> 2, (30 + 690) >> 2, 255, 10, 20, 30, 0]);
    expect(emphasizeColors(rgba, null, null)).toBe(rgba);
  });
});
