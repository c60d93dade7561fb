// The reader against every fixture written by real anndata (or by h5py to the
// published spec): every value, dtype, category, NA and index, and every
// matrix through rowBlocks with small blocks (so CSR slicing, dense slicing
// and the CSC transpose, in memory and through temporary files, all run).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { columnDtype } from '../../src/main/engine/columns/column-model';
import { openH5ad } from '../../src/main/engine/formats/h5ad/reader';
import type { Column, DataFrame, NumericArray } from '../../src/main/engine/columns/column-model';
import type { DenseHandle, H5adFile, MatrixHandle, RowBlockOptions, UnsValue } from '../../src/main/engine/formats/h5ad/types';

const FIXTURES = fileURLToPath(new URL('../fixtures/h5ad/', import.meta.url));
const BAD = fileURLToPath(new URL('../fixtures/bad/', import.meta.url));
const fixtureNames = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.expected.json'))
  .map((name) => name.slice(0, -'.expected.json'.length))
  .sort();

const scratch = mkdtempSync(join(tmpdir(), 'cellar-reader-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The fixtures' JSON conventions: NaN/±Infinity as strings, integers beyond 2^53 as digit strings. */
function jsonScalar(value: number | bigint | string | boolean | null): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') {
    const asNumber = Number(value);
    return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
  }
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

function typedToJson(values: NumericArray): Json[] {
  return Array.from(values as ArrayLike<number | bigint>, jsonScalar);
}

function columnValues(column: Column): Json[] {
  switch (column.kind) {
    case 'numeric':
      return typedToJson(column.values);
    case 'bool':
      return Array.from(column.values, (v) => v === 1);
    case 'string':
      return column.values;
    case 'nullable-int':
      return typedToJson(column.values).map((v, i) => (column.mask[i] ? null : v));
    case 'nullable-bool':
      return Array.from(column.values, (v, i) => (column.mask[i] ? null : v === 1));
    case 'nullable-string':
      return column.values.map((v, i) => (column.mask[i] ? null : v));
    case 'category': {
      const labels = columnValues(column.categories);
      return Array.from(column.codes, (code) => (code < 0 ? null : labels[code]));
    }
  }
}

function columnJson(name: string, column: Column): Json {
  const out: { [key: string]: Json } = { name, dtype: columnDtype(column), values: columnValues(column) };
  if (column.kind === 'category') {
    out.categories = columnValues(column.categories);
    out.ordered = column.ordered;
    out.categories_dtype = columnDtype(column.categories);
  }
  if (column.kind === 'nullable-int') out.storage_dtype = column.dtype;
  return out;
}

function frameJson(frame: DataFrame): Json {
  return {
    index_name: frame.indexName,
    index: frame.index,
    columns: frame.columns.map(({ name, column }) => columnJson(name, column)),
  };
}

function nest(flat: Json[], shape: number[]): Json {
  if (shape.length <= 1) return flat;
  const [, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(flat.slice(i * stride, (i + 1) * stride), rest));
}

function denseJson(handle: DenseHandle): Json {
  const values = handle.read();
  const flat = Array.isArray(values) ? values : typedToJson(values);
  return { shape: handle.shape, dtype: handle.dtype, values: nest(flat, handle.shape) };
}

/** Reads a matrix through rowBlocks and checks every block's invariants on the way. */
async function matrixJson(handle: MatrixHandle, options: RowBlockOptions): Promise<Json> {
  const [nRows, nCols] = handle.shape;
  const dense: Json[][] = Array.from({ length: nRows }, () => new Array<Json>(nCols).fill(0));
  let nextRow = 0;
  for await (const block of handle.rowBlocks(options)) {
    expect(block.rowStart).toBe(nextRow);
    expect(block.nCols).toBe(nCols);
    expect(block.nRows).toBeGreaterThan(0);
    expect(block.nRows).toBeLessThanOrEqual(options.maxRows ?? Infinity);
    expect(block.indptr[0]).toBe(0);
    expect(block.indptr.length).toBe(block.nRows + 1);
    expect(block.indptr[block.nRows]).toBe(block.indices.length);
    expect(block.data.length).toBe(block.indices.length);
    for (let r = 0; r < block.nRows; r++) {
      for (let p = block.indptr[r]; p < block.indptr[r + 1]; p++) {
        if (p > block.indptr[r]) expect(block.indices[p]).toBeGreaterThan(block.indices[p - 1]);
        dense[block.rowStart + r][block.indices[p]] = jsonScalar((block.data as unknown as ArrayLike<number | bigint>)[p]);
      }
    }
    nextRow += block.nRows;
  }
  expect(nextRow).toBe(nRows);
  const values = handle.dtype === 'bool' ? dense.map((row) => row.map((v) => v === 1)) : dense;
  return { encoding: handle.encoding, dtype: handle.dtype, shape: handle.shape, dense: values };
}

/** Small row blocks, and a second pass with tiny entry budgets that forces multi-bucket CSC transposes. */
const BLOCK_SETTINGS: RowBlockOptions[] = [{ maxRows: 3 }, { maxRows: 2, maxEntries: 5 }];

async function expectMatrix(handle: MatrixHandle | null, expected: Json): Promise<void> {
  if (expected === null) {
    expect(handle).toBeNull();
    return;
  }
  expect(handle).not.toBeNull();
  for (const options of BLOCK_SETTINGS) {
    expect(await matrixJson(handle!, { ...options, tmpDir: scratch })).toEqual(expected);
  }
}

function isSpecial(value: UnsValue, kind: string): boolean {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Array.isArray(value) && value.kind === kind;
}

function unsJson(value: UnsValue): Json {
  if (value === null || typeof value !== 'object') return jsonScalar(value as number | bigint | string | boolean | null);
  if (ArrayBuffer.isView(value)) return typedToJson(value);
  if (Array.isArray(value)) return value;
  if (isSpecial(value, 'dense')) {
    const dense = value as { shape: number[]; values: NumericArray | (string | null)[] };
    return nest(Array.isArray(dense.values) ? dense.values : typedToJson(dense.values), dense.shape);
  }
  if (isSpecial(value, 'column')) return columnValues((value as { column: Column }).column);
  return Object.fromEntries(Object.entries(value as { [key: string]: UnsValue }).map(([k, v]) => [k, unsJson(v)]));
}

function unsAt(uns: { [key: string]: UnsValue }, path: string): UnsValue {
  return path.split('/').reduce<UnsValue>((node, key) => (node as { [key: string]: UnsValue })[key], uns);
}

function sortedKeys(map: Map<string, unknown>): string[] {
  return [...map.keys()].sort();
}

async function withFile<T>(path: string, body: (file: H5adFile) => Promise<T>): Promise<T> {
  const file = await openH5ad(path);
  try {
    return await body(file);
  } finally {
    file.close();
  }
}

describe('openH5ad reads every fixture exactly', () => {
  it('has fixtures to read', () => {
    expect(fixtureNames.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of fixtureNames) {
    it(name, async () => {
      const expected = JSON.parse(readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8'));
      await withFile(join(FIXTURES, `${name}.h5ad`), async (file) => {
        expect(file.nObs).toBe(expected.n_obs);
        expect(file.nVars).toBe(expected.n_vars);
        expect(frameJson(file.obs)).toEqual(expected.obs);
        expect(frameJson(file.var)).toEqual(expected.var);

        await expectMatrix(file.X, expected.X);
        expect(sortedKeys(file.layers)).toEqual(Object.keys(expected.layers).sort());
        for (const [key, layer] of Object.entries(expected.layers)) await expectMatrix(file.layers.get(key)!, layer as Json);

        for (const axis of ['obsm', 'varm'] as const) {
          const entries = file[axis];
          expect(sortedKeys(entries)).toEqual(expected[`${axis}_keys`]);
          for (const [key, dense] of Object.entries(expected[axis])) {
            const entry = entries.get(key) as DenseHandle;
            expect('read' in entry).toBe(true);
            expect(denseJson(entry)).toEqual(dense);
          }
          for (const [key, sparse] of Object.entries(expected[`${axis}_sparse`])) {
            await expectMatrix(entries.get(key) as MatrixHandle, sparse as Json);
          }
          for (const [key, frame] of Object.entries(expected[`${axis}_frames`])) {
            expect(frameJson(entries.get(key) as DataFrame)).toEqual(frame);
          }
        }
        expect(sortedKeys(file.obsp)).toEqual(expected.obsp);
        expect(sortedKeys(file.varp)).toEqual(expected.varp);
        for (const handle of [...file.obsp.values(), ...file.varp.values()]) {
          const n = handle.shape[0];
          expect(handle.shape).toEqual([n, n]);
        }

        expect([...file.unsKeys].sort()).toEqual(expected.uns_keys);
        const uns = file.readUns();
        for (const [key, value] of Object.entries(expected.uns)) expect(unsJson(uns[key])).toEqual(value);
        for (const [path, rec] of Object.entries(expected.uns_recarrays) as [string, { fields: string[]; dtypes: string[]; values: Record<string, Json[]> }][]) {
          const value = unsAt(uns, path) as { kind: string; fields: { name: string; column: Column }[] };
          expect(value.kind).toBe('recarray');
          expect(value.fields.map((f) => f.name)).toEqual(rec.fields);
          expect(value.fields.map((f) => columnDtype(f.column))).toEqual(rec.dtypes);
          expect(Object.fromEntries(value.fields.map((f) => [f.name, columnValues(f.column)]))).toEqual(rec.values);
        }

        if (expected.raw === null) {
          expect(file.raw).toBeNull();
        } else {
          expect(file.raw).not.toBeNull();
          expect(frameJson(file.raw!.var)).toEqual(expected.raw.var);
          await expectMatrix(file.raw!.X, expected.raw.X);
          expect(sortedKeys(file.raw!.varm)).toEqual(expected.raw.varm_keys);
        }

        for (const fragment of expected.notices_contain) {
          expect(file.notices.some((notice) => notice.includes(fragment))).toBe(true);
        }
        if (expected.notices_contain.length === 0) expect(file.notices).toEqual([]);
      });
    });
  }

  it('leaves no temporary files behind after CSC transposes', () => {
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe('openH5ad rejects bad files with one clear sentence', () => {
  const cases: { file: string; code: string; message: RegExp }[] = [
    { file: 'not_hdf5.h5ad', code: 'not_hdf5', message: /^not_hdf5\.h5ad is not an HDF5 file\.$/ },
    { file: 'truncated.h5ad', code: 'bad_element', message: /^truncated\.h5ad could not be read: it is truncated \(\d+ of \d+ bytes present\)\.$/ },
    { file: 'no_obs_var.h5ad', code: 'not_h5ad', message: /^no_obs_var\.h5ad is not an AnnData file: it has no obs\/var\.$/ },
    { file: 'x_shape_mismatch.h5ad', code: 'shape_mismatch', message: /^x_shape_mismatch\.h5ad: X has shape 5 × 4 but obs has 6 rows and var has 4$/ },
    { file: 'codes_out_of_range.h5ad', code: 'bad_element', message: /^codes_out_of_range\.h5ad: obs\/cell_type: categorical codes out of range$/ },
  ];

  it('covers every bad fixture', () => {
    const listed = Object.keys(JSON.parse(readFileSync(join(BAD, 'expected.json'), 'utf8'))).sort();
    expect(cases.map((c) => c.file).sort()).toEqual(listed);
  });

  for (const { file, code, message } of cases) {
    it(file, async () => {
      const error = await openH5ad(join(BAD, file)).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(CellarError);
      expect((error as CellarError).code).toBe(code);
      expect((error as CellarError).message).toMatch(message);
      expect((error as CellarError).message).not.toMatch(/HDF5-DIAG|\n|at .*\.ts/);
    });
  }

  it('names the missing file', async () => {
    await expect(openH5ad(join(BAD, 'does-not-exist.h5ad'))).rejects.toMatchObject({
      code: 'not_found',
      message: 'does-not-exist.h5ad does not exist.',
    });
  });

  it('names the element in the bad fixtures expectations', () => {
    const listed = JSON.parse(readFileSync(join(BAD, 'expected.json'), 'utf8')) as Record<string, { element?: string | null }>;
    for (const { file, message } of cases) {
      const element = listed[file].element;
      if (element) expect(message.source.replace(/\\/g, '')).toContain(element);
    }
  });
});
