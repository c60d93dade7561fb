// Row-block iteration and validation on matrices built here with h5wasm:
// bounded blocks, the CSC transpose through temporary files (and their
// cleanup), cancellation, and clear errors for malformed sparse data.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadH5wasm, type H5File, type H5Group } from '../../src/main/engine/formats/h5ad/h5';
import { openH5ad } from '../../src/main/engine/formats/h5ad/reader';
import type { CsrBlock } from '../../src/main/engine/columns/column-model';
import type { H5adFile, MatrixHandle, RowBlockOptions } from '../../src/main/engine/formats/h5ad/types';

const work = mkdtempSync(join(tmpdir(), 'cellar-blocks-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let fileCounter = 0;

function tag(node: H5Group, type: string, version: string): void {
  node.create_attribute('encoding-type', type);
  node.create_attribute('encoding-version', version);
}

function writeFrame(parent: H5Group, name: string, index: string[]): void {
  const frame = parent.create_group(name);
  tag(frame, 'dataframe', '0.2.0');
  frame.create_attribute('_index', '_index');
  const ids = frame.create_dataset({ name: '_index', data: index });
  tag(ids as unknown as H5Group, 'string-array', '0.2.0');
}

interface Sparse {
  data: Float32Array;
  indices: Int32Array;
  indptr: Int32Array;
}

function writeSparse(parent: H5Group, name: string, format: 'csr' | 'csc', shape: [number, number], parts: Sparse): void {
  const group = parent.create_group(name);
  tag(group, `${format}_matrix`, '0.1.0');
  group.create_attribute('shape', new BigInt64Array(shape.map(BigInt)));
  group.create_dataset({ name: 'data', data: parts.data });
  group.create_dataset({ name: 'indices', data: parts.indices });
  group.create_dataset({ name: 'indptr', data: parts.indptr });
}

/** Writes a minimal AnnData file; `build` adds X, layers, obsm… */
async function writeAnnData(nObs: number, nVars: number, build: (root: H5File) => void): Promise<string> {
  const h5 = await loadH5wasm();
  const path = join(work, `file-${++fileCounter}.h5ad`);
  const file = new h5.File(path, 'w');
  try {
    tag(file, 'anndata', '0.1.0');
    writeFrame(file, 'obs', Array.from({ length: nObs }, (_, i) => `cell${i}`));
    writeFrame(file, 'var', Array.from({ length: nVars }, (_, i) => `gene${i}`));
    build(file);
  } finally {
    file.close();
  }
  return path;
}

/** A deterministic sparse matrix as dense rows. */
function randomDense(nRows: number, nCols: number, density: number, seed: number): Float32Array {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const dense = new Float32Array(nRows * nCols);
  for (let i = 0; i < dense.length; i++) if (next() < density) dense[i] = Math.round(next() * 100) + 1;
  return dense;
}

function compress(dense: Float32Array, nRows: number, nCols: number, format: 'csr' | 'csc'): Sparse {
  const [major, minor] = format === 'csr' ? [nRows, nCols] : [nCols, nRows];
  const at = (i: number, j: number): number => (format === 'csr' ? dense[i * nCols + j] : dense[j * nCols + i]);
  const data: number[] = [];
  const indices: number[] = [];
  const indptr = [0];
  for (let i = 0; i < major; i++) {
    for (let j = 0; j < minor; j++) {
      if (at(i, j) !== 0) {
        data.push(at(i, j));
        indices.push(j);
      }
    }
    indptr.push(data.length);
  }
  return { data: Float32Array.from(data), indices: Int32Array.from(indices), indptr: Int32Array.from(indptr) };
}

async function collect(handle: MatrixHandle, options: RowBlockOptions): Promise<{ dense: Float32Array; blocks: CsrBlock[] }> {
  const [nRows, nCols] = handle.shape;
  const dense = new Float32Array(nRows * nCols);
  const blocks: CsrBlock[] = [];
  for await (const block of handle.rowBlocks(options)) {
    blocks.push(block);
    for (let r = 0; r < block.nRows; r++) {
      for (let p = block.indptr[r]; p < block.indptr[r + 1]; p++) {
        dense[(block.rowStart + r) * nCols + block.indices[p]] = Number(block.data[p]);
      }
    }
  }
  return { dense, blocks };
}

async function withFile<T>(path: string, body: (file: H5adFile) => Promise<T>): Promise<T> {
  const file = await openH5ad(path);
  try {
    return await body(file);
  } finally {
    file.close();
  }
}

function freshDir(): string {
  return mkdtempSync(join(work, 'tmp-'));
}

describe('rowBlocks', () => {
  const nRows = 61;
  const nCols = 47;
  const dense = randomDense(nRows, nCols, 0.2, 7);
  let path = '';

  it('writes a test file with the same matrix as CSR, CSC and dense', async () => {
    path = await writeAnnData(nRows, nCols, (root) => {
      writeSparse(root, 'X', 'csc', [nRows, nCols], compress(dense, nRows, nCols, 'csc'));
      const layers = root.create_group('layers');
      tag(layers, 'dict', '0.1.0');
      writeSparse(layers, 'csr', 'csr', [nRows, nCols], compress(dense, nRows, nCols, 'csr'));
      const stored = layers.create_dataset({ name: 'dense', data: dense, shape: [nRows, nCols] });
      tag(stored as unknown as H5Group, 'array', '0.2.0');
    });
    expect(path).not.toBe('');
  });

  it('transposes CSC through temporary row-block files and removes them', async () => {
    await withFile(path, async (file) => {
      expect(file.X!.encoding).toBe('csc_matrix');
      const tmpDir = freshDir();
      const { dense: read, blocks } = await collect(file.X!, { maxRows: 5, maxEntries: 40, tmpDir });
      expect(Array.from(read)).toEqual(Array.from(dense));
      expect(blocks.every((b) => b.nRows <= 5)).toBe(true);
      expect(blocks.map((b) => b.rowStart)).toEqual(blocks.map((_, i) => blocks.slice(0, i).reduce((s, b) => s + b.nRows, 0)));
      expect(readdirSync(tmpDir)).toEqual([]);
    });
  });

  it('gives the same blocks for CSR, CSC and dense storage', async () => {
    await withFile(path, async (file) => {
      const options = { maxRows: 8, maxEntries: 64, tmpDir: freshDir() };
      const csc = await collect(file.X!, options);
      const csr = await collect(file.layers.get('csr')!, options);
      const fromDense = await collect(file.layers.get('dense')!, options);
      expect(Array.from(csr.dense)).toEqual(Array.from(dense));
      expect(Array.from(csc.dense)).toEqual(Array.from(dense));
      expect(Array.from(fromDense.dense)).toEqual(Array.from(dense));
      // Dense storage drops zeros: the same entries as the sparse layouts.
      const entries = (blocks: CsrBlock[]): number => blocks.reduce((s, b) => s + b.indices.length, 0);
      expect(entries(fromDense.blocks)).toBe(entries(csr.blocks));
      expect(entries(csc.blocks)).toBe(entries(csr.blocks));
    });
  });

  it('keeps CSR blocks within maxEntries unless a single row is larger', async () => {
    await withFile(path, async (file) => {
      const { blocks } = await collect(file.layers.get('csr')!, { maxEntries: 30 });
      expect(blocks.length).toBeGreaterThan(10);
      for (const block of blocks) {
        if (block.nRows > 1) expect(block.indices.length).toBeLessThanOrEqual(30);
      }
    });
  });

  it('reads dense storage in slices of floor(maxEntries / nCols) rows', async () => {
    await withFile(path, async (file) => {
      const { blocks } = await collect(file.layers.get('dense')!, { maxEntries: 100 });
      expect(blocks.map((b) => b.nRows)).toEqual([...Array(30).fill(2), 1]);
    });
  });

  it('removes temporary files when the caller stops early', async () => {
    await withFile(path, async (file) => {
      const tmpDir = freshDir();
      for await (const block of file.X!.rowBlocks({ maxRows: 3, maxEntries: 20, tmpDir })) {
        expect(block.rowStart).toBe(0);
        expect(readdirSync(tmpDir).length).toBe(1);
        break;
      }
      expect(readdirSync(tmpDir)).toEqual([]);
    });
  });

  it('stops with a cancelled error when the signal aborts, and cleans up', async () => {
    await withFile(path, async (file) => {
      const tmpDir = freshDir();
      const controller = new AbortController();
      const seen: number[] = [];
      const run = async (): Promise<void> => {
        for await (const block of file.X!.rowBlocks({ maxRows: 3, maxEntries: 20, tmpDir, signal: controller.signal })) {
          seen.push(block.rowStart);
          controller.abort();
        }
      };
      await expect(run()).rejects.toMatchObject({ code: 'cancelled' });
      expect(seen).toEqual([0]);
      expect(readdirSync(tmpDir)).toEqual([]);
    });
  });

  it('refuses to read after the file is closed', async () => {
    const file = await openH5ad(path);
    const X = file.X!;
    file.close();
    const run = async (): Promise<void> => {
      for await (const block of X.rowBlocks()) expect(block).toBeUndefined();
    };
    await expect(run()).rejects.toMatchObject({ code: 'io_error', message: expect.stringMatching(/is closed/) });
  });

  it('slides its indptr window over many rows', async () => {
    const rows = 5000;
    const indptr = Int32Array.from({ length: rows + 1 }, (_, i) => i);
    const indices = Int32Array.from({ length: rows }, (_, i) => i % 3);
    const data = Float32Array.from({ length: rows }, (_, i) => i + 1);
    const many = await writeAnnData(rows, 3, (root) => writeSparse(root, 'X', 'csr', [rows, 3], { data, indices, indptr }));
    await withFile(many, async (file) => {
      const { dense: read, blocks } = await collect(file.X!, { maxRows: 7 });
      expect(blocks.length).toBe(Math.ceil(rows / 7));
      for (let r = 0; r < rows; r++) expect(read[r * 3 + (r % 3)]).toBe(r + 1);
    });
  });
});

describe('malformed sparse matrices', () => {
  const shape: [number, number] = [4, 3];
  const good = (): Sparse => ({
    data: Float32Array.of(1, 2, 3, 4),
    indices: Int32Array.of(0, 2, 1, 2),
    indptr: Int32Array.of(0, 2, 2, 3, 4),
  });

  async function firstError(parts: Sparse, format: 'csr' | 'csc' = 'csr'): Promise<unknown> {
    const path = await writeAnnData(shape[0], shape[1], (root) => writeSparse(root, 'X', format, shape, parts));
    try {
      await withFile(path, async (file) => {
        for await (const block of file.X!.rowBlocks({ maxRows: 2, tmpDir: freshDir() })) expect(block.nCols).toBe(3);
      });
      return null;
    } catch (err) {
      return err;
    }
  }

  it('accepts the well-formed baseline', async () => {
    expect(await firstError(good())).toBeNull();
  });

  it('rejects an indptr that goes backwards', async () => {
    const parts = good();
    parts.indptr = Int32Array.of(0, 2, 1, 3, 4);
    expect(await firstError(parts)).toMatchObject({ code: 'bad_element', message: expect.stringMatching(/: X: indptr is not monotonic at position 2$/) });
  });

  it('rejects an indptr of the wrong length when the file is opened', async () => {
    const parts = good();
    parts.indptr = Int32Array.of(0, 2, 4);
    expect(await firstError(parts)).toMatchObject({
      code: 'bad_element',
      message: expect.stringMatching(/: X: indptr has 3 entries, expected 5 \(rows \+ 1\)$/),
    });
  });

  it('rejects an indptr that does not end at the number of entries', async () => {
    const parts = good();
    parts.indptr = Int32Array.of(0, 1, 1, 2, 3);
    expect(await firstError(parts)).toMatchObject({ code: 'bad_element', message: expect.stringMatching(/indptr ends at 3 but there are 4 stored entries/) });
  });

  it('rejects column indices beyond the matrix', async () => {
    const parts = good();
    parts.indices = Int32Array.of(0, 2, 1, 7);
    expect(await firstError(parts)).toMatchObject({
      code: 'bad_element',
      message: expect.stringMatching(/: X: column index 7 at entry 3 is out of range \(the matrix has 3 columns\)$/),
    });
  });

  it('rejects negative column indices, and out-of-range ones in an unsorted row', async () => {
    const negative = good();
    negative.indices = Int32Array.of(-1, 2, 1, 2);
    expect(await firstError(negative)).toMatchObject({ code: 'bad_element', message: expect.stringMatching(/: X: column index -1 at entry 0 is out of range/) });
    const unsorted = good();
    unsorted.indices = Int32Array.of(5, 0, 1, 2);
    expect(await firstError(unsorted)).toMatchObject({ code: 'bad_element', message: expect.stringMatching(/: X: column index 5 at entry 0 is out of range/) });
  });

  it('sorts a row stored with its columns out of order, values along', async () => {
    const parts = good();
    parts.indices = Int32Array.of(2, 0, 1, 2);
    const path = await writeAnnData(shape[0], shape[1], (root) => writeSparse(root, 'X', 'csr', shape, parts));
    await withFile(path, async (file) => {
      const blocks: CsrBlock[] = [];
      for await (const block of file.X!.rowBlocks({ maxRows: 4, tmpDir: freshDir() })) blocks.push(block);
      expect(Array.from(blocks[0]!.indices)).toEqual([0, 2, 1, 2]);
      expect(Array.from(blocks[0]!.data as Float32Array)).toEqual([2, 1, 3, 4]);
    });
  });

  it('rejects row indices beyond the matrix in CSC', async () => {
    const parts: Sparse = { data: Float32Array.of(1, 2), indices: Int32Array.of(0, 9), indptr: Int32Array.of(0, 1, 2, 2) };
    expect(await firstError(parts, 'csc')).toMatchObject({ code: 'bad_element', message: expect.stringMatching(/X: row index 9 at entry 1 is out of range/) });
  });

  it('rejects a matrix whose shape disagrees with obs/var', async () => {
    const path = await writeAnnData(5, 3, (root) => writeSparse(root, 'X', 'csr', shape, good()));
    await expect(openH5ad(path)).rejects.toMatchObject({
      code: 'shape_mismatch',
      message: expect.stringMatching(/: X has shape 4 × 3 but obs has 5 rows and var has 3$/),
    });
  });
});

describe('elements the reader skips', () => {
  it('skips an obsm entry with an unknown encoding and says so', async () => {
    const path = await writeAnnData(2, 2, (root) => {
      const obsm = root.create_group('obsm');
      tag(obsm, 'dict', '0.1.0');
      const future = obsm.create_group('future');
      tag(future, 'hologram', '9.0.0');
      const kept = obsm.create_dataset({ name: 'X_pca', data: Float64Array.of(1, 2, 3, 4), shape: [2, 2] });
      tag(kept as unknown as H5Group, 'array', '0.2.0');
    });
    await withFile(path, async (file) => {
      expect([...file.obsm.keys()]).toEqual(['X_pca']);
      expect(file.notices).toEqual(['obsm/future: skipped (unsupported encoding "hologram" version 9.0.0)']);
    });
  });

  it('reads a categorical whose ordered flag is a uint8 (as h5wasm writes bools)', async () => {
    const path = await writeAnnData(3, 1, (root) => {
      const obs = root.get('obs') as H5Group;
      obs.create_attribute('column-order', ['stage']);
      const stage = obs.create_group('stage');
      tag(stage, 'categorical', '0.2.0');
      stage.create_attribute('ordered', new Uint8Array([1]), [], '<B');
      tag(stage.create_dataset({ name: 'codes', data: Int8Array.of(1, -1, 0) }) as unknown as H5Group, 'array', '0.2.0');
      tag(stage.create_dataset({ name: 'categories', data: ['early', 'late'] }) as unknown as H5Group, 'string-array', '0.2.0');
    });
    await withFile(path, async (file) => {
      const column = file.obs.columns[0].column;
      expect(column).toMatchObject({ kind: 'category', ordered: true, categories: { kind: 'string', values: ['early', 'late'] } });
      expect(Array.from((column as { codes: Int32Array }).codes)).toEqual([1, -1, 0]);
    });
  });
});
