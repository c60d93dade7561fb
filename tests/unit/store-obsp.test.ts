// kNN graphs (obsp) in the store: written and read back exactly, checked by verify, refused
// when their shape or neighbours do not fit the cells (the write is aborted, nothing
// committed), and left out of a version that appends cells.
import { afterEach, describe, expect, it } from 'vitest';
import { createStoreWriter } from '../../src/main/engine/store/store-writer';
import { listManifestVersions } from '../../src/main/engine/store/format/manifest';
import { openStore } from '../../src/main/engine/store/store-reader';
import { verifyStore } from '../../src/main/engine/store/format/verify';
import type { Column } from '../../src/main/engine/columns/column-model';
import { tempStoreDir } from './store-testkit';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function ids(n: number, first = 0): { name: string; column: Column }[] {
  return [{ name: 'obs_id', column: { kind: 'string', values: Array.from({ length: n }, (_, i) => `c${first + i}`) } }];
}

async function storeWithCells(n: number): Promise<string> {
  const { dir, cleanup } = tempStoreDir('obsp');
  cleanups.push(cleanup);
  const writer = await createStoreWriter({ dir, baseVersion: null });
  await writer.appendObsRows(0, { columns: ids(n), nRows: n });
  await writer.commit();
  return dir;
}

function ring(n: number, k: number): { indices: Int32Array; distances: Float32Array } {
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) {
    indices[i * k + j] = (i + j) % n;
    distances[i * k + j] = j * 0.5;
  }
  return { indices, distances };
}

describe('obsp kNN graphs', () => {
  it('round-trips a graph exactly and verify accepts it', async () => {
    const dir = await storeWithCells(50);
    const writer = await createStoreWriter({ dir, baseVersion: 1 });
    const graph = ring(50, 4);
    await writer.setObsp('RNA', 'neighbors', { k: 4, metric: 'cosine', embedding: 'pca', ...graph });
    const { version } = await writer.commit();
    const reader = openStore(dir, version);
    try {
      expect(reader.obspNames('RNA')).toEqual(['neighbors']);
      const read = await reader.readObsp('RNA', 'neighbors');
      expect(read.entry).toMatchObject({ kind: 'knn', k: 4, metric: 'cosine', embedding: 'pca' });
      expect(read.indices).toEqual(graph.indices);
      expect(read.distances).toEqual(graph.distances);
      await expect(reader.readObsp('RNA', 'other')).rejects.toThrow(/has no graph \(obsp\) other/);
    } finally {
      reader.close();
    }
    expect((await verifyStore(dir, {})).ok).toBe(true);
  });

  for (const [what, graph, message] of [
    ['too few rows', { k: 4, ...ring(49, 4) }, /needs 50 × 4 neighbours and distances/],
    ['a neighbour that is not a cell', { k: 4, ...ring(50, 4), indices: ring(50, 4).indices.map((v, i) => (i === 7 ? 50 : v)) }, /names cell 50; the store has 50 cells/],
  ] as const) {
    it(`refuses ${what} and commits nothing`, async () => {
      const dir = await storeWithCells(50);
      const writer = await createStoreWriter({ dir, baseVersion: 1 });
      await expect(writer.setObsp('RNA', 'g', { metric: 'euclidean', embedding: 'pca', ...graph })).rejects.toThrow(message);
      await expect(writer.commit()).rejects.toThrow(/already aborted/);
      expect(listManifestVersions(dir)).toEqual([1]);
    });
  }

  it('a version that appends cells leaves the graph out; one that only adds columns keeps it', async () => {
    const dir = await storeWithCells(20);
    let writer = await createStoreWriter({ dir, baseVersion: 1 });
    await writer.setObsp('RNA', 'neighbors', { k: 3, metric: 'euclidean', embedding: 'pca', ...ring(20, 3) });
    await writer.commit();
    writer = await createStoreWriter({ dir, baseVersion: 2 });
    await writer.setObsColumns({ columns: [{ name: 'score', column: { kind: 'numeric', dtype: 'float64', values: new Float64Array(20) } }], nRows: 20 });
    const kept = (await writer.commit()).version;
    writer = await createStoreWriter({ dir, baseVersion: kept });
    await writer.appendObsRows(20, { columns: [...ids(5, 20), { name: 'score', column: { kind: 'numeric', dtype: 'float64', values: new Float64Array(5) } }], nRows: 5 });
    const appended = (await writer.commit()).version;
    for (const [version, names] of [[kept, ['neighbors']], [appended, []]] as const) {
      const reader = openStore(dir, version);
      try {
        expect(reader.obspNames('RNA')).toEqual(names);
      } finally {
        reader.close();
      }
    }
    expect((await verifyStore(dir, {})).ok).toBe(true);
  });
});
