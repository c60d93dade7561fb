// How an export reads X: its exact number of entries is counted from the chunk indexes before
// anything is decoded, the read starts before obs and var are written (prefetch), and X's
// arrays are chunked and resizable, as anndata writes them. anndata reads the exports back with
// the values the store holds; a read that fails, early or late, surfaces its own error.
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { concatenateCollection } from '../../src/main/engine/ops/concatenate';
import { exportQueryToH5ad, openQuery, queryMatrix } from '../../src/main/engine/ops/export';
import { importFiles } from '../../src/main/engine/ops/import';
import { resolveStore } from '../../src/main/engine/ops/reconcile';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import { removeDir, tempDir } from './helpers/cellar';
import { runPythonJson } from './helpers/python';
import { makeSeedInputs, SEED_CONCAT_CELLS, SEED_GENES } from './helpers/workflow-inputs';

let root: string;
let home: string;
let registry: Registry;

beforeAll(async () => {
  root = tempDir('export-x-read');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  registry = openRegistry(home);
  await importFiles({ registry, home, files: [files.s1, files.s2, files.s3], collectionKey: 'c' });
  await concatenateCollection({ registry, home, collectionKey: 'c', storeKey: 'atlas' });
  // The same cells in a second store, whose expression values are damaged by a test below.
  await concatenateCollection({ registry, home, collectionKey: 'c', storeKey: 'damaged' });
}, 180_000);

afterAll(() => {
  registry?.close();
  removeDir(root);
});

/** Every block's entries, as [row, column, value] triples in order. */
async function entriesOf(blocks: AsyncIterable<CsrBlock> | Iterable<CsrBlock>): Promise<[number, number, number][]> {
  const out: [number, number, number][] = [];
  for await (const block of blocks) {
    for (let r = 0; r < block.nRows; r++) {
      for (let k = Number(block.indptr[r]); k < Number(block.indptr[r + 1]); k++) out.push([block.rowStart + r, block.indices[k]!, Number(block.data[k])]);
    }
  }
  return out;
}

describe('the X of an export', () => {
  it('has its exact number of entries known before the read, unless genes are left out', async () => {
    const q = await openQuery({ registry, storeKey: 'atlas', obs: 'cell_type == "B"' });
    try {
      const all = queryMatrix(q);
      expect(all.nnzExact).toBe(true);
      const entries = await entriesOf(all.rowBlocks());
      expect(entries.length).toBeGreaterThan(0);
      expect(all.nnz).toBe(entries.length);
      // Prefetched: the same count and the same entries.
      const early = queryMatrix(q, undefined, undefined, true);
      expect(early.nnz).toBe(entries.length);
      expect(await entriesOf(early.rowBlocks())).toEqual(entries);
      await early.close();
    } finally {
      q.reader.close();
    }
    const genes = await openQuery({ registry, storeKey: 'atlas', obs: 'cell_type == "B"', var: 'symbol in ["G1", "G2", "G7"]' });
    try {
      expect(genes.selection.varJoinids.length).toBe(3);
      const some = queryMatrix(genes);
      // Only a bound is known: the writer sizes its datasets without relying on it.
      expect(some.nnzExact).toBeUndefined();
      const entries = await entriesOf(some.rowBlocks());
      expect(entries.every(([, c]) => c < 3)).toBe(true);
    } finally {
      genes.reader.close();
    }
  });

  it('can be closed before it is read, and read afresh after', async () => {
    const q = await openQuery({ registry, storeKey: 'atlas' });
    try {
      const reference = await entriesOf(queryMatrix(q).rowBlocks());
      const early = queryMatrix(q, undefined, undefined, true);
      await early.close();
      await early.close();
      expect(await entriesOf(early.rowBlocks())).toEqual(reference);
      expect(early.nnz).toBe(reference.length);
    } finally {
      q.reader.close();
    }
  });

  it('is written chunked and resizable, compressed or not, and anndata reads the store’s values from both', async () => {
    const outs = { none: join(root, 'b-none.h5ad'), gzip: join(root, 'b-gzip.h5ad') };
    await exportQueryToH5ad({ registry, storeKey: 'atlas', obs: 'cell_type == "B"', out: outs.none, compression: 'none' });
    await exportQueryToH5ad({ registry, storeKey: 'atlas', obs: 'cell_type == "B"', out: outs.gzip });
    // What the store holds for those cells, read without the writer.
    const q = await openQuery({ registry, storeKey: 'atlas', obs: 'cell_type == "B"' });
    let expected: [number, number, number][];
    let nObs: number;
    try {
      nObs = q.selection.obsJoinids.length;
      const csr = await q.reader.readXRows('RNA', 'data', q.selection.obsJoinids);
      expected = [];
      for (let r = 0; r < nObs; r++) {
        for (let k = Number(csr.indptr[r]); k < Number(csr.indptr[r + 1]); k++) expected.push([r, csr.indices[k]!, Number(csr.data[k])]);
      }
    } finally {
      q.reader.close();
    }
    const info = runPythonJson<Record<string, { layout: Record<string, [string | null, boolean, (number | null)[]]>; dtypes: string[]; shape: number[]; entries: [number, number, number][] }>>(
      String.raw`
import sys, json, h5py, numpy as np, anndata as ad
out = {}
for path in sys.argv[1:]:
    with h5py.File(path, 'r') as f:
        layout = {k: [f['X/' + k].compression, f['X/' + k].chunks is None, list(f['X/' + k].maxshape)] for k in ('data', 'indices')}
        dtypes = [str(f['X/' + k].dtype) for k in ('data', 'indices', 'indptr')]
    x = ad.read_h5ad(path).X
    coo = x.tocoo()
    order = np.lexsort((coo.col, coo.row))
    out[path] = {'layout': layout, 'dtypes': dtypes + [x.format], 'shape': list(x.shape),
                 'entries': [[int(coo.row[i]), int(coo.col[i]), float(coo.data[i])] for i in order]}
print(json.dumps(out))
`,
      [outs.none, outs.gzip],
    );
    for (const path of [outs.none, outs.gzip]) {
      expect(info[path]!.shape).toEqual([nObs, SEED_GENES]);
      expect(info[path]!.dtypes).toEqual(['float32', 'int32', 'int32', 'csr']);
      expect(info[path]!.entries).toEqual(expected);
    }
    const nnz = expected.length;
    expect(nnz).toBeGreaterThan(0);
    for (const k of ['data', 'indices']) {
      expect(info[outs.none]!.layout[k]).toEqual([null, false, [null]]);
      expect(info[outs.gzip]!.layout[k]).toEqual(['gzip', false, [null]]);
    }
  });

  it('ends its read when the export fails before X is written, and the next export works', async () => {
    const out = join(root, 'no-such-folder', 'x.h5ad');
    const err = await exportQueryToH5ad({ registry, storeKey: 'atlas', out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).code).toBe('io_error');
    expect(existsSync(join(root, 'no-such-folder'))).toBe(false);
    const again = join(root, 'all.h5ad');
    const result = await exportQueryToH5ad({ registry, storeKey: 'atlas', out: again });
    expect(result.n_obs).toBe(SEED_CONCAT_CELLS);
    expect(statSync(again).size).toBeGreaterThan(0);
  });

  it('surfaces the error of a prefetched read that fails, leaves no file, and records the run as failed', async () => {
    // Damage the stored values (not their index): the read fails while decoding the first block.
    const { dir } = await resolveStore(registry, 'damaged');
    const data = join(dir, 'data');
    for (const name of readdirSync(data).filter((f) => /^x-.*\.arrow$/.test(f))) {
      const size = statSync(join(data, name)).size;
      const fd = openSync(join(data, name), 'r+');
      try {
        writeSync(fd, Buffer.alloc(size - 2000, 0xa5), 0, size - 2000, 1000);
      } finally {
        closeSync(fd);
      }
    }
    const out = join(root, 'damaged.h5ad');
    const err = await exportQueryToH5ad({ registry, storeKey: 'damaged', out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).message).toMatch(/^ms\/RNA\/X\/data: a chunk of data\/x-.*\.arrow has the wrong size\.$/);
    expect(readdirSync(root).filter((f) => f.startsWith('damaged'))).toEqual([]);
    const run = registry.listRuns(5).find((r) => r.transform.name === 'export' && r.params.out === out);
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe((err as Error).message);
  });
});
