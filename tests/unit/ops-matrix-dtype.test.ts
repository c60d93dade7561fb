// X dtypes across datasets (issue 10): the plan lists a change, and the store's layer dtype
// is as narrow as the values allow: integers with floats cost no more than the values need,
// integers alone stay integers.
import { describe, expect, it } from 'vitest';
import { matrixDtypeChanges } from '../../src/main/engine/ops/plan';
import { layerDtype } from '../../src/main/engine/store/store-writer';

describe('layerDtype', () => {
  it('int32 counts (stored as uint16) with float32 give float32, not float64', () => {
    expect(layerDtype([{ dtype: 'int32', storedDtype: 'uint16' }, { dtype: 'float32', storedDtype: 'uint16' }])).toBe('float32');
  });
  it('int32 values that need 32 bits with float32 give float64 (float32 would round them)', () => {
    expect(layerDtype([{ dtype: 'int32', storedDtype: 'int32' }, { dtype: 'float32', storedDtype: 'float32' }])).toBe('float64');
  });
  it('integers alone stay integers, by numpy promotion of their own dtypes', () => {
    expect(layerDtype([{ dtype: 'int32', storedDtype: 'uint8' }, { dtype: 'int64', storedDtype: 'uint8' }])).toBe('int64');
    expect(layerDtype([{ dtype: 'int32', storedDtype: 'uint8' }])).toBe('int32');
  });
  it('floats keep numpy promotion', () => {
    expect(layerDtype([{ dtype: 'float32', storedDtype: 'uint8' }, { dtype: 'float64', storedDtype: 'float64' }])).toBe('float64');
    expect(layerDtype([])).toBeUndefined();
  });
});

describe('matrixDtypeChanges', () => {
  it('says nothing when every dataset agrees', () => {
    expect(matrixDtypeChanges('X', 'X', [{ label: 'a', dtype: 'float32' }, { label: 'b', dtype: 'float32' }])).toEqual([]);
  });
  it('lists integer + float, integer + integer and float + float changes', () => {
    expect(matrixDtypeChanges('X', 'X', [{ label: 'a', dtype: 'int32' }, { label: 'b', dtype: 'int64' }])[0]!.detail).toBe(
      'int32 in a, int64 in b → the narrowest integer type holding both (integers stay integers); every value is kept exactly',
    );
    expect(matrixDtypeChanges('layers', 'counts', [{ label: 'the store', dtype: 'float32' }, { label: 'b', dtype: 'float64' }])).toEqual([
      { element: 'layers', name: 'counts', detail: 'float32 in the store, float64 in b → float64; every value is kept exactly' },
    ]);
    expect(matrixDtypeChanges('X', 'X', [{ label: 'a', dtype: 'uint16' }, { label: 'b', dtype: 'float32' }])[0]!.detail).toMatch(/→ float32 where the integer values are below 65,536/);
  });
});
