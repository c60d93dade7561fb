// A frame's values at a few rows (what an export takes of obs): a plain string column decodes
// only the strings asked for, and every column gives exactly what decoding it whole and
// taking the rows gives — across pieces written apart, with missing values, and for
// dictionary-encoded strings, other kinds and unsorted rows (which take the whole column).
import { afterEach, describe, expect, it } from 'vitest';
import type { Column } from '../../src/main/engine/columns/column-model';
import { takeRows } from '../../src/main/engine/columns/conversions';
import { createStoreWriter, openStore, type StoreReader } from '../../src/main/engine/store';
import { frameRows } from '../../src/main/engine/store/query';
import { seededRandom, tempStoreDir } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

const N = 3000;
/** Unique ids with a missing one every 97 rows, and a few non-ASCII ones. */
const ids = Array.from({ length: N }, (_, i) => (i % 97 === 5 ? null : i % 41 === 0 ? `célula-${i}-✓` : `cell-${i}`));
/** Few distinct values: stored dictionary-encoded. */
const kinds = Array.from({ length: N }, (_, i) => ['alpha', 'beta', 'gamma'][i % 3]!);

async function store(): Promise<StoreReader> {
  const { dir, cleanup } = tempStoreDir('frame-rows');
  cleanups.push(cleanup);
  const writer = await createStoreWriter({ dir, baseVersion: null });
  // Three pieces of obs, written apart.
  for (const [from, to] of [[0, 1000], [1000, 1700], [1700, N]] as const) {
    await writer.appendObsRows(from, {
      columns: [
        { name: 'obs_id', column: { kind: 'string', values: ids.slice(from, to) } },
        { name: 'kind', column: { kind: 'string', values: kinds.slice(from, to) } },
        { name: 'score', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.from({ length: to - from }, (_, i) => (from + i) / 7) } },
      ],
    });
  }
  await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: ['g0', 'g1'] } }] });
  await writer.commit();
  const reader = openStore(dir);
  cleanups.unshift(() => reader.close());
  return reader;
}

function selection(k: number, seed: number): Uint32Array {
  const random = seededRandom(seed);
  const picked = new Set<number>();
  while (picked.size < k) picked.add(Math.floor(random() * N));
  return Uint32Array.from([...picked].sort((a, b) => a - b));
}

describe('a frame read at a few rows', () => {
  it('gives what the whole column gives, for every column, selection and order', async () => {
    const reader = await store();
    const whole = (name: string): Column => openStore(reader.dir).obs.column(name)!;
    const rowsToTry = [selection(40, 1), selection(600, 2), Uint32Array.of(0, 5, 999, 1000, 1699, 1700, N - 1), selection(2000, 3), Uint32Array.of(2999, 4, 1500), new Uint32Array(0)];
    for (const rows of rowsToTry) {
      // A fresh reader for each selection: nothing decoded yet.
      const fresh = openStore(reader.dir);
      cleanups.unshift(() => fresh.close());
      for (const name of ['obs_id', 'kind', 'score']) expect(fresh.obs.columnRows!(name, rows), `${name} at ${rows.length} rows`).toEqual(takeRows(whole(name), rows));
      expect(fresh.obs.columnRows!('absent', rows)).toBeUndefined();
    }
    // The strings themselves, missing and non-ASCII ones among them.
    const some = Uint32Array.of(0, 5, 41, 102, 1700, 2999);
    expect(openStore(reader.dir).obs.columnRows!('obs_id', some)).toEqual({ kind: 'string', values: ['célula-0-✓', null, 'célula-41-✓', null, 'cell-1700', 'cell-2999'] });
  });

  it('only decodes the strings asked for when few rows of a plain string column are wanted', async () => {
    const reader = await store();
    const decodes = (read: (fresh: StoreReader) => void): number => {
      const fresh = openStore(reader.dir);
      cleanups.unshift(() => fresh.close());
      const decode = TextDecoder.prototype.decode;
      let calls = 0;
      TextDecoder.prototype.decode = function (this: TextDecoder, ...args: Parameters<TextDecoder['decode']>) {
        calls++;
        return decode.apply(this, args);
      };
      try {
        read(fresh);
      } finally {
        TextDecoder.prototype.decode = decode;
      }
      return calls;
    };
    // The ids hold non-ASCII strings, so decoding the whole column decodes each string; taking
    // 40 rows decodes about 40 (and the file's own metadata).
    const rows = selection(40, 9);
    const picked = decodes((fresh) => fresh.obs.columnRows!('obs_id', rows));
    const whole = decodes((fresh) => takeRows(fresh.obs.column('obs_id')!, rows));
    expect(whole).toBeGreaterThan(2900);
    expect(picked).toBeGreaterThanOrEqual(36);
    expect(picked).toBeLessThan(60);
    const fresh = openStore(reader.dir);
    cleanups.unshift(() => fresh.close());
    // An export's obs: the same DataFrame as from whole columns.
    const more = selection(100, 4);
    const viaRows = frameRows(fresh.obs, more, 'obs_id');
    const viaWhole = frameRows({ ...fresh.obs, nRows: N, columnNames: fresh.obs.columnNames, schema: (n) => fresh.obs.schema(n), column: (n) => fresh.obs.column(n) }, more, 'obs_id');
    expect(viaRows).toEqual(viaWhole);
  });
});
