// Natural order of labels and the order of table cells (numbers by value, NA last).
import { describe, expect, it } from 'vitest';
import { compareCells, compareNatural, naturalSortKey, sortOrder } from '../../src/shared/natural-sort';

describe('compareNatural', () => {
  it('orders digit runs by value', () => {
    const labels = ['cluster 10', 'cluster 2', 'cluster 1', 'B cell', 'cluster 02', 'a10b2', 'a10b10', 'a9'];
    expect([...labels].sort(compareNatural)).toEqual(['a9', 'a10b2', 'a10b10', 'B cell', 'cluster 1', 'cluster 2', 'cluster 02', 'cluster 10']);
  });

  it('ignores case except to break ties, and handles digit runs longer than a double', () => {
    expect(['b', 'B', 'a', 'A'].sort(compareNatural)).toEqual(['A', 'a', 'B', 'b']);
    expect(compareNatural('x99999999999999999999', 'x100000000000000000000')).toBeLessThan(0);
    expect(compareNatural('same', 'same')).toBe(0);
  });
});

describe('sortOrder', () => {
  it('sorts numbers numerically with missing values last in both directions', () => {
    const values = [10, Number.NaN, 2, null, 33, 2];
    expect([...sortOrder(values)]).toEqual([2, 5, 0, 4, 1, 3]);
    expect([...sortOrder(values, true)]).toEqual([4, 0, 2, 5, 1, 3]);
  });

  it('sorts strings naturally and puts numbers before text', () => {
    const values = ['T 10', 'T 9', undefined, 'NK', 5];
    expect([...sortOrder(values)].map((i) => values[i])).toEqual([5, 'NK', 'T 9', 'T 10', undefined]);
    expect(compareCells(3n, 20n)).toBeLessThan(0);
    expect(compareCells(true, false)).toBeGreaterThan(0);
  });

  it('ranks repeated labels once and orders them as compareNatural does, ties by row', () => {
    const labels = ['ACGT-10', 'acgt-9', 'ACGT-10', 'T 007', 'T 7', 'B', 'b', 'ACGT-10'];
    const ascending = [...sortOrder(labels)];
    expect(ascending).toEqual([1, 0, 2, 7, 5, 6, 4, 3]);
    expect(ascending.map((i) => labels[i])).toEqual([...labels].sort(compareNatural));
    expect([...sortOrder(labels, true)]).toEqual([3, 4, 6, 5, 0, 2, 7, 1]);
    // The key alone orders labels: plain string order of keys is natural order.
    expect(naturalSortKey('x2') < naturalSortKey('x10')).toBe(true);
  });
});
