// Every kind of store column through the Parquet writer and back (read with parquet-wasm into
// apache-arrow): the Arrow type (integer widths, unsigned, dictionary), the values, NA as null,
// and the category lists Parquet cannot hold, kept for the file's metadata.
import { Table, tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/main/engine/columns/column-model';
import { categoryInfo, columnToVector, joinidsAsInt64, joinidVector } from '../../src/main/engine/formats/parquet/column-vectors';
import { parquetBytes } from '../../src/main/engine/formats/parquet/write-parquet';

const mask = (...missing: number[]) => Uint8Array.from([0, 1, 2, 3], (i) => (missing.includes(i) ? 1 : 0));

const COLUMNS: Record<string, Column> = {
  int8: { kind: 'numeric', dtype: 'int8', values: Int8Array.of(-128, 0, 5, 127) },
  uint16: { kind: 'numeric', dtype: 'uint16', values: Uint16Array.of(0, 1, 65535, 7) },
  int64: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(-(2n ** 62n), 0n, 1n, 2n ** 62n) },
  uint64: { kind: 'numeric', dtype: 'uint64', values: BigUint64Array.of(0n, 2n ** 64n - 1n, 3n, 4n) },
  float32: { kind: 'numeric', dtype: 'float32', values: Float32Array.of(0.5, Number.NaN, Infinity, -2) },
  bool: { kind: 'bool', values: Uint8Array.of(1, 0, 0, 1) },
  string: { kind: 'string', values: ['a', null, 'é', ''] },
  nullable_int: { kind: 'nullable-int', dtype: 'int32', values: Int32Array.of(1, 99, 3, 4), mask: mask(1) },
  nullable_bool: { kind: 'nullable-bool', values: Uint8Array.of(1, 1, 0, 0), mask: mask(0, 3) },
  nullable_string: { kind: 'nullable-string', values: ['x', 'hidden', 'z', 'w'], mask: mask(1) },
  category: { kind: 'category', codes: Int32Array.of(1, -1, 0, 1), categories: { kind: 'string', values: ['B', 'T'] }, ordered: false },
  ordered: { kind: 'category', codes: Int32Array.of(2, 0, 1, -1), categories: { kind: 'string', values: ['low', 'mid', 'high'] }, ordered: true },
  numeric_category: { kind: 'category', codes: Int32Array.of(0, 1, -1, 0), categories: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(10n, 20n) }, ordered: false },
};

async function roundTrip(columns: Record<string, Column>): Promise<Table> {
  const table = new Table(Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, columnToVector(c)])));
  return tableFromIPC(readParquet(await parquetBytes(table)).intoIPCStream());
}

describe('store columns as Parquet', () => {
  it('keeps each column type, with NA (and float NaN) as null', async () => {
    const back = await roundTrip(COLUMNS);
    const types = Object.fromEntries(back.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toEqual({
      int8: 'Int8',
      uint16: 'Uint16',
      int64: 'Int64',
      uint64: 'Uint64',
      float32: 'Float32',
      bool: 'Bool',
      string: 'Utf8',
      nullable_int: 'Int32',
      nullable_bool: 'Bool',
      nullable_string: 'Utf8',
      category: 'Dictionary<Int32, Utf8>',
      ordered: 'Dictionary<Int32, Utf8>',
      numeric_category: 'Dictionary<Int32, Int64>',
    });
    const values = (name: string) => back.getChild(name)!.toArray() as unknown;
    const list = (name: string) => [...(back.getChild(name) as unknown as Iterable<unknown>)];
    expect([...(values('int8') as Int8Array)]).toEqual([-128, 0, 5, 127]);
    expect([...(values('uint16') as Uint16Array)]).toEqual([0, 1, 65535, 7]);
    expect([...(values('int64') as BigInt64Array)]).toEqual([-(2n ** 62n), 0n, 1n, 2n ** 62n]);
    expect([...(values('uint64') as BigUint64Array)]).toEqual([0n, 2n ** 64n - 1n, 3n, 4n]);
    expect(list('float32')).toEqual([0.5, null, Infinity, -2]);
    expect(list('bool')).toEqual([true, false, false, true]);
    expect(list('string')).toEqual(['a', null, 'é', '']);
    expect(list('nullable_int')).toEqual([1, null, 3, 4]);
    expect(list('nullable_bool')).toEqual([null, true, false, null]);
    expect(list('nullable_string')).toEqual(['x', null, 'z', 'w']);
    expect(list('category')).toEqual(['T', null, 'B', 'T']);
    expect(list('ordered')).toEqual(['high', 'low', 'mid', null]);
    expect(list('numeric_category')).toEqual([10n, 20n, null, 10n]);
  });

  it('keeps what Parquet drops of a categorical (unused categories, order, ordered) in categoryInfo, and never claims an order it lost', async () => {
    const unused: Column = { kind: 'category', codes: Int32Array.of(1, 1, 1, 1), categories: { kind: 'string', values: ['never', 'only'] }, ordered: false };
    const back = await roundTrip({ ordered: COLUMNS.ordered!, unused });
    // The writer rebuilds dictionaries in order of first appearance, used values only.
    expect([...back.getChild('ordered')!.data[0]!.dictionary!]).toEqual(['high', 'low', 'mid']);
    expect([...back.getChild('unused')!.data[0]!.dictionary!]).toEqual(['only']);
    expect((back.schema.fields[0]!.type as unknown as { isOrdered: boolean }).isOrdered).toBe(false);
    expect(categoryInfo(COLUMNS.ordered!)).toEqual({ categories: ['low', 'mid', 'high'], ordered: true });
    expect(categoryInfo(unused)).toEqual({ categories: ['never', 'only'], ordered: false });
    expect(categoryInfo(COLUMNS.numeric_category!)).toEqual({ categories: [10, 20], ordered: false });
    expect(categoryInfo(COLUMNS.string!)).toBeNull();
  });

  it('writes join ids as int64 without losing any below 2^32', () => {
    const ids = Uint32Array.of(0, 1, 2 ** 31, 2 ** 32 - 1);
    expect([...joinidsAsInt64(ids, ids.length)]).toEqual([0n, 1n, 2n ** 31n, 2n ** 32n - 1n]);
    expect(String(joinidVector(ids).type)).toBe('Int64');
  });
});
