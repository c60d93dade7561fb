import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Column } from '../../src/main/engine/columns/column-model';
import { CellarError } from '../../src/shared/errors';
import { MAX_STORED_CATEGORIES, createStoreWriter, listVersions, openStore, type StoreReader } from '../../src/main/engine/store';
import { csrBlocks, randomCounts, snapshotFolder, tempStoreDir, type ReferenceMatrix } from './store-testkit';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function newStoreDir(): string {
  const { dir, cleanup } = tempStoreDir('roundtrip');
  cleanups.push(cleanup);
  return dir;
}

const obsColumnsV1: { name: string; column: Column }[] = [
  { name: 'obs_id', column: { kind: 'string', values: ['c0', 'c1', 'c2', 'c3', 'c4'] } },
  { name: 'cell_type', column: { kind: 'category', codes: Int32Array.of(0, 1, -1, 1, 0), categories: { kind: 'string', values: ['T cell', 'B cell'] }, ordered: false } },
  { name: 'stage', column: { kind: 'category', codes: Int32Array.of(2, 0, 1, 1, -1), categories: { kind: 'string', values: ['early', 'mid', 'late'] }, ordered: true } },
  { name: 'batch_num', column: { kind: 'category', codes: Int32Array.of(0, 0, 1, 1, 1), categories: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(7n, 11n) }, ordered: false } },
  { name: 'flag_cat', column: { kind: 'category', codes: Int32Array.of(1, 0, 1, -1, 0), categories: { kind: 'bool', values: Uint8Array.of(0, 1) }, ordered: false } },
  { name: 'n_counts', column: { kind: 'numeric', dtype: 'float32', values: Float32Array.of(1.5, NaN, -0, 3e30, 2) } },
  { name: 'score', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.of(0.1, 0.2, Infinity, -1e-300, 5) } },
  { name: 'i8', column: { kind: 'numeric', dtype: 'int8', values: Int8Array.of(-128, 0, 127, 1, -1) } },
  { name: 'u16', column: { kind: 'numeric', dtype: 'uint16', values: Uint16Array.of(0, 65535, 2, 3, 4) } },
  { name: 'i64', column: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(-(2n ** 62n), 2n ** 62n, 0n, 1n, -1n) } },
  { name: 'u64', column: { kind: 'numeric', dtype: 'uint64', values: BigUint64Array.of(2n ** 63n + 5n, 0n, 1n, 2n, 3n) } },
  { name: 'is_doublet', column: { kind: 'bool', values: Uint8Array.of(1, 0, 0, 1, 0) } },
  { name: 'note', column: { kind: 'string', values: ['ünïcödé ✓', null, '', 'plain', '𝄞 clef'] } },
  { name: 'n_genes', column: { kind: 'nullable-int', dtype: 'int32', values: Int32Array.of(10, 0, 30, 40, 0), mask: Uint8Array.of(0, 1, 0, 0, 1) } },
  { name: 'passed', column: { kind: 'nullable-bool', values: Uint8Array.of(1, 0, 0, 1, 0), mask: Uint8Array.of(0, 0, 1, 0, 0) } },
  { name: 'donor', column: { kind: 'nullable-string', values: ['d1', '', 'd3', 'd4', 'd5'], mask: Uint8Array.of(0, 1, 0, 0, 0) } },
];

const varColumns = (ids: string[]): { name: string; column: Column }[] => [
  { name: 'var_id', column: { kind: 'string', values: ids } },
  { name: 'highly_variable', column: { kind: 'bool', values: Uint8Array.from(ids, (_, i) => i % 2) } },
];

function expectRowsEqual(reader: StoreReader, layer: string, matrix: ReferenceMatrix, firstRow: number) {
  return reader.readXRows('RNA', layer, Array.from({ length: matrix.nRows }, (_, i) => firstRow + i)).then((csr) => {
    for (let r = 0; r < matrix.nRows; r++) {
      const start = Number(csr.indptr[r]);
      const end = Number(csr.indptr[r + 1]);
      expect(Array.from(csr.indices.subarray(start, end))).toEqual(matrix.rows[r].columns);
      expect(Array.from(csr.data.subarray(start, end) as Float32Array)).toEqual(matrix.rows[r].values);
    }
  });
}

describe('store round trip', () => {
  it('restores every obs/var column kind and dtype exactly', async () => {
    const dir = newStoreDir();
    const writer = await createStoreWriter({ dir, baseVersion: null });
    await writer.appendObsRows(0, { columns: obsColumnsV1 });
    await writer.appendVarRows('RNA', 0, { columns: varColumns(['g0', 'g1', 'g2']) });
    const result = await writer.commit({ meta: { run: 'r1' } });
    expect(result.version).toBe(1);
    expect(result.manifest.parentVersion).toBeNull();
    expect(result.manifest.meta).toEqual({ run: 'r1' });

    const reader = openStore(dir);
    expect(reader.version).toBe(1);
    expect(reader.nObs).toBe(5);
    expect(reader.obs.columnNames).toEqual(obsColumnsV1.map((c) => c.name));
    for (const { name, column } of obsColumnsV1) {
      const restored = reader.obs.column(name)!;
      expect(restored, name).toEqual(column);
      expect(restored.kind).toBe(column.kind);
    }
    // Typed arrays come back as the same typed array classes.
    expect((reader.obs.column('i64') as { values: unknown }).values).toBeInstanceOf(BigInt64Array);
    expect((reader.obs.column('u16') as { values: unknown }).values).toBeInstanceOf(Uint16Array);
    expect(reader.obs.schema('stage')).toMatchObject({ dtype: 'category', ordered: true, categories: { kind: 'string', values: ['early', 'mid', 'late'] } });
    expect(reader.var('RNA').column('var_id')).toEqual({ kind: 'string', values: ['g0', 'g1', 'g2'] });
    expect(reader.var('RNA').column('highly_variable')).toEqual({ kind: 'bool', values: Uint8Array.of(0, 1, 0) });
    expect(reader.obs.column('nope')).toBeUndefined();
  });

  it('stores a categorical past 32,767 categories as plain strings', async () => {
    const dir = newStoreDir();
    const n = MAX_STORED_CATEGORIES + 10;
    const barcodes = Array.from({ length: n }, (_, i) => `BC${i}`);
    const writer = await createStoreWriter({ dir, baseVersion: null });
    await writer.appendObsRows(0, {
      columns: [{ name: 'barcode', column: { kind: 'category', codes: Int32Array.from({ length: n }, (_, i) => (i === 5 ? -1 : n - 1 - i)), categories: { kind: 'string', values: barcodes }, ordered: false } }],
    });
    const { manifest } = await writer.commit();
    expect(manifest.obs.columns[0]).toMatchObject({ name: 'barcode', dtype: 'string', convertedFrom: 'category' });
    expect(manifest.encodings).toContain('category-as-string');
    const column = openStore(dir).obs.column('barcode')!;
    expect(column.kind).toBe('string');
    const values = (column as { values: (string | null)[] }).values;
    expect(values[0]).toBe(`BC${n - 1}`);
    expect(values[5]).toBeNull();
    expect(values[n - 1]).toBe('BC0');
  });

  it('keeps version 1 readable and its files untouched after version 2 appends cells, genes and an embedding', async () => {
    const dir = newStoreDir();
    const x1 = randomCounts(40, 6, 1, { density: 0.4 });
    const counts1 = randomCounts(40, 6, 2, { density: 0.3, maxValue: 3000 });
    const writer1 = await createStoreWriter({ dir, baseVersion: null, xChunkRows: 4 });
    await writer1.appendObsRows(0, {
      columns: [
        { name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 40 }, (_, i) => `a${i}`) } },
        { name: 'cell_type', column: { kind: 'category', codes: Int32Array.from({ length: 40 }, (_, i) => i % 2), categories: { kind: 'string', values: ['T', 'B'] }, ordered: false } },
      ],
    });
    await writer1.appendVarRows('RNA', 0, { columns: varColumns(['g0', 'g1', 'g2', 'g3', 'g4', 'g5']) });
    for (const block of csrBlocks(x1, 7, 0)) await writer1.appendXRows('RNA', 'data', block);
    for (const block of csrBlocks(counts1, 40, 0, (v) => Int32Array.from(v))) await writer1.appendXRows('RNA', 'counts', block);
    const pca1 = Float32Array.from({ length: 40 * 3 }, (_, i) => (i % 5 === 0 ? 0 : i / 7));
    await writer1.setObsm('RNA', 'pca', { shape: [40, 3], values: pca1 });
    await writer1.setVarm('RNA', 'loadings', { shape: [6, 2], values: Float64Array.from({ length: 12 }, (_, i) => i * 0.5) });
    await writer1.appendVarRows('raw', 0, { columns: varColumns(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']) });
    const raw1 = randomCounts(40, 8, 3, { density: 0.2 });
    for (const block of csrBlocks(raw1, 40, 0)) await writer1.appendXRows('raw', 'data', block);
    const v1 = await writer1.commit({ meta: { step: 'concat' } });
    const v1Snapshot = snapshotFolder(dir);

    // Version 2: 25 new cells with a new category, 2 new genes, X rows and embedding rows for them.
    const x2 = randomCounts(25, 8, 4, { density: 0.4, fractional: true });
    const writer2 = await createStoreWriter({ dir, baseVersion: 1, xChunkRows: 4 });
    expect(writer2.nObs).toBe(40);
    expect(writer2.nVars('RNA')).toBe(6);
    await writer2.appendObsRows(40, {
      columns: [
        { name: 'obs_id', column: { kind: 'string', values: Array.from({ length: 25 }, (_, i) => `b${i}`) } },
        // Categories in another order plus a new one: codes are remapped to the store's.
        { name: 'cell_type', column: { kind: 'category', codes: Int32Array.from({ length: 25 }, (_, i) => i % 3), categories: { kind: 'string', values: ['NK', 'B', 'T'] }, ordered: false } },
      ],
    });
    await writer2.appendVarRows('RNA', 6, { columns: varColumns(['g6', 'g7']) });
    for (const block of csrBlocks(x2, 10, 40)) await writer2.appendXRows('RNA', 'data', block);
    const pca2 = Float32Array.from({ length: 25 * 3 }, (_, i) => -i);
    await writer2.appendObsmRows('RNA', 'pca', 40, { shape: [25, 3], values: pca2 });
    const v2 = await writer2.commit({ meta: { step: 'append' } });
    expect(v2.version).toBe(2);
    expect(v2.manifest.parentVersion).toBe(1);
    // Old files are referenced, not copied, and none of them changed.
    for (const name of v2.files) expect(v1Snapshot.has(name)).toBe(false);
    const after = snapshotFolder(dir);
    for (const [name, state] of v1Snapshot) expect(after.get(name), name).toEqual(state);
    for (const name of Object.keys(v1.manifest.files)) expect(v2.manifest.files[name]).toEqual(v1.manifest.files[name]);

    // Version 1 reads exactly as before.
    const old = openStore(dir, 1);
    expect(old.nObs).toBe(40);
    expect(old.nVars('RNA')).toBe(6);
    expect(old.obs.column('cell_type')).toMatchObject({ codes: Int32Array.from({ length: 40 }, (_, i) => i % 2), categories: { kind: 'string', values: ['T', 'B'] } });
    await expectRowsEqual(old, 'data', x1, 0);
    expect((await old.readObsm('RNA', 'pca')).values).toEqual(pca1);
    expect(old.layers('RNA').sort()).toEqual(['counts', 'data']);

    // Version 2: old cells read 0 at new genes, new cells carry the remapped categories.
    const latest = openStore(dir);
    expect(latest.version).toBe(2);
    expect(latest.nObs).toBe(65);
    expect(latest.nVars('RNA')).toBe(8);
    expect(latest.var('RNA').column('var_id')).toEqual({ kind: 'string', values: ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7'] });
    const cellType = latest.obs.column('cell_type') as Extract<Column, { kind: 'category' }>;
    expect(cellType.categories).toEqual({ kind: 'string', values: ['T', 'B', 'NK'] });
    const names = Array.from(cellType.codes, (code) => ['T', 'B', 'NK'][code]);
    expect(names.slice(40)).toEqual(Array.from({ length: 25 }, (_, i) => ['NK', 'B', 'T'][i % 3]));
    expect(names.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => ['T', 'B'][i % 2]));
    await expectRowsEqual(latest, 'data', x1, 0);
    await expectRowsEqual(latest, 'data', x2, 40);
    const csr = await latest.readXRows('RNA', 'data', [3]);
    expect(csr.shape).toEqual([1, 8]);
    // The layer holds integer counts (v1) and fractional values (v2): both float32, exact.
    expect(latest.manifest.ms.RNA.X.data.dtype).toBe('float32');
    // Integer X written as int32 comes back as int32.
    const counts = await latest.readXRows('RNA', 'counts', [0, 39]);
    expect(counts.data).toBeInstanceOf(Int32Array);
    expect(Array.from(counts.data.subarray(0, Number(counts.indptr[1])) as Int32Array)).toEqual(counts1.rows[0].values);
    // Cells appended without a counts layer read as empty rows.
    const missing = await latest.readXRows('RNA', 'counts', [50, 64]);
    expect(Array.from(missing.indptr)).toEqual([0, 0, 0]);
    const pca = await latest.readObsm('RNA', 'pca');
    expect(pca.shape).toEqual([65, 3]);
    expect(pca.values.subarray(0, 120)).toEqual(pca1);
    expect(pca.values.subarray(120)).toEqual(pca2);
    expect((await latest.readObsm('RNA', 'pca', [41, 0])).values).toEqual(Float32Array.of(-3, -4, -5, 0, 1 / 7, 2 / 7));
    const loadings = await latest.readVarm('RNA', 'loadings');
    expect(loadings.shape).toEqual([8, 2]);
    expect(loadings.values.subarray(0, 12)).toEqual(Float64Array.from({ length: 12 }, (_, i) => i * 0.5));
    expect(Number.isNaN(loadings.values[12] as number)).toBe(true);
    // raw is its own measurement with its own var.
    expect(latest.nVars('raw')).toBe(8);
    await (async () => {
      const rawRows = await latest.readXRows('raw', 'data', [0, 1, 2]);
      for (let r = 0; r < 3; r++) {
        expect(Array.from(rawRows.indices.subarray(Number(rawRows.indptr[r]), Number(rawRows.indptr[r + 1])))).toEqual(raw1.rows[r].columns);
      }
    })();

    const versions = listVersions(dir);
    expect(versions.map((v) => [v.version, v.parentVersion, v.nObs, v.nVars.RNA, v.meta.step])).toEqual([
      [1, null, 40, 6, 'concat'],
      [2, 1, 65, 8, 'append'],
    ]);
    expect(versions[1].size).toBeGreaterThan(versions[0].size);
    expect(versions[1].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('adds and replaces obs columns over all rows (annotate) and restores an old version by reference', async () => {
    const dir = newStoreDir();
    const writer1 = await createStoreWriter({ dir, baseVersion: null });
    await writer1.appendObsRows(0, { columns: [{ name: 'obs_id', column: { kind: 'string', values: ['a', 'b', 'c'] } }, { name: 'score', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.of(1, 2, 3) } }] });
    await writer1.commit();
    const writer2 = await createStoreWriter({ dir, baseVersion: 1 });
    await writer2.setObsColumns({
      columns: [
        { name: 'score', column: { kind: 'numeric', dtype: 'int32', values: Int32Array.of(7, 8, 9) } },
        { name: 'label', column: { kind: 'category', codes: Int32Array.of(0, -1, 0), categories: { kind: 'string', values: ['x'] }, ordered: false } },
      ],
    });
    await writer2.commit();
    const v2 = openStore(dir, 2);
    expect(v2.obs.columnNames).toEqual(['obs_id', 'score', 'label']);
    expect(v2.obs.column('score')).toEqual({ kind: 'numeric', dtype: 'int32', values: Int32Array.of(7, 8, 9) });
    expect(openStore(dir, 1).obs.column('score')).toEqual({ kind: 'numeric', dtype: 'float64', values: Float64Array.of(1, 2, 3) });
    // A version made from version 1 with no changes names exactly version 1's files.
    const restore = await createStoreWriter({ dir, baseVersion: 1 });
    const v3 = await restore.commit({ meta: { transform: 'restore' } });
    expect(v3.files).toEqual([]);
    expect(v3.manifest.files).toEqual(openStore(dir, 1).manifest.files);
    expect(openStore(dir).obs.column('score')).toEqual({ kind: 'numeric', dtype: 'float64', values: Float64Array.of(1, 2, 3) });
  });

  it('refuses rows that clash with the store schema and leaves nothing behind', async () => {
    const dir = newStoreDir();
    const writer1 = await createStoreWriter({ dir, baseVersion: null });
    await writer1.appendObsRows(0, { columns: [{ name: 'n', column: { kind: 'numeric', dtype: 'float32', values: Float32Array.of(1) } }] });
    await writer1.commit();
    const before = snapshotFolder(dir);
    const writer2 = await createStoreWriter({ dir, baseVersion: 1 });
    const clash = writer2.appendObsRows(1, { columns: [{ name: 'n', column: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(1n) } }] });
    await expect(clash).rejects.toThrow(CellarError);
    await expect(clash).rejects.toMatchObject({ code: 'dtype_clash', message: 'obs column n is float32 in the store but int64 in the new rows.' });
    await expect(writer2.commit()).rejects.toThrow(/aborted after an error/);
    expect(snapshotFolder(dir)).toEqual(before);
    // The failed writer released the lock.
    const writer3 = await createStoreWriter({ dir, baseVersion: 1 });
    await expect(writer3.appendObsRows(2, { columns: [{ name: 'n', column: { kind: 'numeric', dtype: 'float32', values: Float32Array.of(1) } }] })).rejects.toMatchObject({ code: 'shape_mismatch' });
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(readdirSync(join(dir, 'manifests'))).toEqual(['v000001.json']);
  });

  it('checks X against obs and var at commit', async () => {
    const dir = newStoreDir();
    const writer = await createStoreWriter({ dir, baseVersion: null });
    await writer.appendObsRows(0, { columns: [{ name: 'id', column: { kind: 'string', values: ['a', 'b'] } }] });
    await writer.appendVarRows('RNA', 0, { columns: varColumns(['g0', 'g1']) });
    await writer.appendXRows('RNA', 'data', { rowStart: 0, nRows: 3, nCols: 2, indptr: Int32Array.of(0, 1, 1, 2), indices: Int32Array.of(0, 1), data: Float32Array.of(1, 2) });
    await expect(writer.commit()).rejects.toMatchObject({ code: 'shape_mismatch', message: expect.stringContaining('obs has 2 rows') });
    expect(readdirSync(join(dir, 'data'))).toEqual([]);
    expect(readdirSync(join(dir, 'manifests'))).toEqual([]);
  });
});
