// Store files must be plain Arrow IPC files that an Arrow implementation other than ours
// reads: nodejs-polars (Rust Arrow) reads every file here and sees the same values.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter, openStore, type StoreCodec } from '../../src/main/engine/store';
import { csrBlocks, randomCounts, tempStoreDir } from './store-testkit';
import { runningSumsOfVarints } from '../integration/helpers/varints';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? Number(v) : v)));
}

describe('store files read by nodejs-polars', () => {
  it.each(['zstd', 'lz4_frame'] as StoreCodec[])('%s: obs, X (both layouts) and obsm files hold the written values', async (codec) => {
    const { dir, cleanup } = tempStoreDir('polars');
    cleanups.push(cleanup);
    const n = 300;
    const matrix = randomCounts(n, 50, 12, { density: 0.2, maxValue: 400 });
    const writer = await createStoreWriter({ dir, baseVersion: null, xCodec: codec, frameCodec: codec, xChunkRows: 16 });
    const cellTypes = ['T', 'B', 'NK'];
    await writer.appendObsRows(0, {
      columns: [
        { name: 'obs_id', column: { kind: 'string', values: Array.from({ length: n }, (_, i) => `cell-${i}`) } },
        { name: 'cell_type', column: { kind: 'category', codes: Int32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? -1 : i % 3)), categories: { kind: 'string', values: cellTypes }, ordered: false } },
        { name: 'n_counts', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.from({ length: n }, (_, i) => i * 1.5) } },
        { name: 'n_genes', column: { kind: 'nullable-int', dtype: 'int64', values: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), mask: Uint8Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0)) } },
        { name: 'is_doublet', column: { kind: 'bool', values: Uint8Array.from({ length: n }, (_, i) => i % 2) } },
        { name: 'batch', column: { kind: 'category', codes: Int32Array.from({ length: n }, (_, i) => i % 2), categories: { kind: 'numeric', dtype: 'int32', values: Int32Array.of(2019, 2021) }, ordered: false } },
      ],
    });
    await writer.appendVarRows('RNA', 0, { columns: [{ name: 'var_id', column: { kind: 'string', values: Array.from({ length: 50 }, (_, i) => `g${i}`) } }] });
    for (const block of csrBlocks(matrix, 64, 0)) await writer.appendXRows('RNA', 'data', block);
    const pca = Float32Array.from({ length: n * 2 }, (_, i) => i / 3);
    await writer.setObsm('RNA', 'pca', { shape: [n, 2], values: pca });
    const { manifest } = await writer.commit();

    // Every file of the version is readable.
    const files = Object.keys(manifest.files);
    expect(readdirSync(join(dir, 'data')).map((name) => `data/${name}`).sort()).toEqual(files.sort());
    const frames = new Map(files.map((file) => [file, pl.readIPC(readFileSync(join(dir, file)))]));
    for (const [file, frame] of frames) expect(frame.height, file).toBeGreaterThan(0);

    // obs: one file per column, row i = obs joinid i.
    const obsColumn = (name: string) => {
      const entry = manifest.obs.columns.find((column) => column.name === name)!;
      const frame = frames.get(entry.pieces[0].file)!;
      expect(frame.columns).toEqual([name]);
      return frame.getColumn(name).toArray();
    };
    expect(manifest.obs.columns.map((column) => column.name)).toEqual(['obs_id', 'cell_type', 'n_counts', 'n_genes', 'is_doublet', 'batch']);
    expect(obsColumn('obs_id')).toEqual(Array.from({ length: n }, (_, i) => `cell-${i}`));
    expect(obsColumn('cell_type')).toEqual(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : cellTypes[i % 3])));
    expect(obsColumn('n_counts')).toEqual(Array.from({ length: n }, (_, i) => i * 1.5));
    expect(plain(obsColumn('n_genes'))).toEqual(Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : i)));
    expect(obsColumn('is_doublet')).toEqual(Array.from({ length: n }, (_, i) => i % 2 === 1));
    expect(plain(obsColumn('batch'))).toEqual(Array.from({ length: n }, (_, i) => [2019, 2021][i % 2]));

    // Row-chunked X: soma_dim_1 holds per-row deltas as unsigned LEB128 varints (7 bits a
    // byte, low bits first); their running sum is the var joinid.
    const fragment = manifest.ms.RNA.X.data.fragments[0];
    expect(fragment.indexEncoding).toBe('varint-delta');
    expect(fragment.storedDtype).toBe('uint16');
    const x = frames.get(fragment.file)!;
    expect(String(x.dtypes[2])).toContain('UInt16');
    const rowIds = plain(x.getColumn('soma_dim_0').toArray()) as number[];
    const deltas = x.getColumn('soma_dim_1').toArray() as unknown as number[][];
    const values = x.getColumn('soma_data').toArray() as unknown as number[][];
    expect(rowIds).toEqual(Array.from({ length: n }, (_, i) => i));
    for (let r = 0; r < n; r++) {
      expect(runningSumsOfVarints(Array.from(deltas[r], Number))).toEqual(matrix.rows[r].columns);
      expect(Array.from(values[r], Number)).toEqual(matrix.rows[r].values);
    }

    // The column companion: one record per gene per group of cells.
    const companion = frames.get(fragment.columns!.file)!;
    const genes = plain(companion.getColumn('soma_dim_1').toArray()) as number[];
    const rowDeltas = companion.getColumn('soma_dim_0').toArray() as unknown as number[][];
    const geneValues = companion.getColumn('soma_data').toArray() as unknown as number[][];
    expect(fragment.columns!.indexEncoding).toBe('varint-delta');
    const gene = 7;
    const rowsOfGene = runningSumsOfVarints(Array.from(rowDeltas[genes.indexOf(gene)], Number));
    const expectedRows = matrix.rows.flatMap((r, i) => (r.columns.includes(gene) ? [i] : []));
    expect(rowsOfGene).toEqual(expectedRows);
    expect(Array.from(geneValues[genes.indexOf(gene)], Number)).toEqual(expectedRows.map((r) => matrix.rows[r].values[matrix.rows[r].columns.indexOf(gene)]));

    const obsm = frames.get(manifest.ms.RNA.obsm.pca.pieces[0].file)!;
    expect((obsm.getColumn('values').toArray() as unknown as number[][]).flatMap((pair) => Array.from(pair, Number))).toEqual(Array.from(pca));

    // And our reader agrees with polars on the same files.
    const csr = await openStore(dir).readXRows('RNA', 'data', [5]);
    expect(Array.from(csr.data as Float32Array)).toEqual(Array.from(values[5], Number));
  });
});
