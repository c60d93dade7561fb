// The h5ad writer against the reference: files it writes are read by Debian's
// anndata 0.8.0 (no patches applied) with the same values, dtypes, categories
// and NAs; h5py sees anndata's encoding attributes and real HDF5 booleans.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import type { Column, CsrBlock, DataFrame, NumericArray } from '../../src/main/engine/columns/column-model';
import type { AnnDataToWrite, H5adFile, MatrixHandle, MatrixSource, UnsValue } from '../../src/main/engine/formats/h5ad/types';
import { annDataFromH5ad, writeH5ad } from '../../src/main/engine/formats/h5ad/writer';
import { lookup3 } from '../../src/main/engine/formats/h5ad/writer/hdf5-format';
import { runPythonJson } from './helpers/python';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-writer-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ python side

/** Reads each h5ad with anndata and prints everything as JSON (ints as decimal strings, NaN/Infinity as strings). */
const DUMP_WITH_ANNDATA = String.raw`
import sys, json, math
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad

def enc(v):
    if v is None or v is pd.NA: return None
    if isinstance(v, (bool, np.bool_)): return bool(v)
    if isinstance(v, (int, np.integer)): return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f): return 'NaN'
        if math.isinf(f): return 'Infinity' if f > 0 else '-Infinity'
        return f
    if isinstance(v, bytes): return v.decode('utf-8')
    return str(v)

def column(s):
    d = {'dtype': str(s.dtype)}
    if isinstance(s.dtype, pd.CategoricalDtype):
        d['ordered'] = bool(s.cat.ordered)
        d['categories'] = [enc(v) for v in s.cat.categories.tolist()]
        d['categories_dtype'] = str(s.cat.categories.dtype)
        d['codes'] = [int(c) for c in s.cat.codes]
    else:
        d['values'] = [enc(v) for v in s.tolist()]
    return d

def frame(df):
    return {'index': [str(v) for v in df.index], 'index_name': df.index.name, 'index_dtype': str(df.index.dtype),
            'columns': [str(c) for c in df.columns], 'cols': {str(c): column(df[c]) for c in df.columns}}

def matrix(m):
    if m is None: return None
    out = {'type': type(m).__name__, 'dtype': str(m.dtype), 'shape': list(m.shape)}
    dense = m.toarray() if sp.issparse(m) else np.asarray(m)
    out['values'] = [enc(v) for v in dense.ravel().tolist()]
    if sp.issparse(m): out['format'] = m.format
    return out

def uns(v):
    if isinstance(v, dict): return {'dict': {k: uns(x) for k, x in v.items()}}
    if isinstance(v, pd.DataFrame): return {'frame': frame(v)}
    if isinstance(v, np.ndarray) and v.dtype.names:
        return {'rec': {n: {'dtype': str(v.dtype[n]), 'values': [enc(x) for x in v[n].tolist()]} for n in v.dtype.names}}
    if isinstance(v, np.ndarray):
        return {'array': str(v.dtype), 'shape': list(v.shape), 'values': [enc(x) for x in v.ravel().tolist()]}
    if isinstance(v, str): return {'str': v}
    if isinstance(v, np.generic): return {'scalar': v.dtype.name, 'value': enc(v)}
    if sp.issparse(v): return {'sparse': matrix(v)}
    return {'other': type(v).__name__, 'repr': repr(v)}

result = {}
for path in sys.argv[1:]:
    a = ad.read_h5ad(path)
    result[path] = {
        'n_obs': a.n_obs, 'n_vars': a.n_vars,
        'obs': frame(a.obs), 'var': frame(a.var),
        'X': matrix(a.X),
        'layers': {k: matrix(v) for k, v in a.layers.items()},
        'obsm': {k: matrix(v) for k, v in a.obsm.items()},
        'varm': {k: matrix(v) for k, v in a.varm.items()},
        'uns': {k: uns(v) for k, v in dict(a.uns).items()},
        'raw': None if a.raw is None else {'var': frame(a.raw.var), 'X': matrix(a.raw.X)},
    }
print(json.dumps(result))
`;

interface PyColumn {
  dtype: string;
  values?: unknown[];
  ordered?: boolean;
  categories?: unknown[];
  categories_dtype?: string;
  codes?: number[];
}
interface PyFrame {
  index: string[];
  index_name: string | null;
  columns: string[];
  cols: Record<string, PyColumn>;
}
interface PyMatrix {
  type: string;
  dtype: string;
  shape: number[];
  values: unknown[];
  format?: string;
}
interface PyAnnData {
  n_obs: number;
  n_vars: number;
  obs: PyFrame;
  var: PyFrame;
  X: PyMatrix | null;
  layers: Record<string, PyMatrix>;
  obsm: Record<string, PyMatrix>;
  varm: Record<string, PyMatrix>;
  uns: Record<string, unknown>;
  raw: { var: PyFrame; X: PyMatrix } | null;
}

function readWithAnndata(...paths: string[]): Record<string, PyAnnData> {
  return runPythonJson<Record<string, PyAnnData>>(DUMP_WITH_ANNDATA, paths);
}

// ------------------------------------------------------------------ expected values, encoded as the dump does

function enc(value: number | bigint | boolean | string | null): unknown {
  if (value === null) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return 'Infinity';
    if (value === -Infinity) return '-Infinity';
    return value;
  }
  return value;
}

function isIntArray(values: NumericArray): boolean {
  return !(values instanceof Float32Array || values instanceof Float64Array);
}

function encNumbers(values: NumericArray): unknown[] {
  const ints = isIntArray(values);
  return Array.from(values as ArrayLike<number | bigint>, (v) => (ints ? String(v) : enc(v as number)));
}

function masked(values: unknown[], mask: Uint8Array): unknown[] {
  return values.map((v, i) => (mask[i] ? null : v));
}

const NULLABLE_INT_DTYPE: Record<string, string> = {
  int8: 'Int8', int16: 'Int16', int32: 'Int32', int64: 'Int64', uint8: 'UInt8', uint16: 'UInt16', uint32: 'UInt32', uint64: 'UInt64',
};

/** What anndata 0.8 must show for a column written by default options. */
function expectedColumn(column: Column): PyColumn {
  switch (column.kind) {
    case 'numeric':
      return { dtype: column.dtype, values: encNumbers(column.values) };
    case 'bool':
      return { dtype: 'bool', values: Array.from(column.values, (v) => v !== 0) };
    case 'string':
      if (column.values.includes(null)) return stringsAsCategorical(column.values, new Uint8Array(column.values.length));
      return { dtype: 'object', values: column.values };
    case 'nullable-int':
      return { dtype: NULLABLE_INT_DTYPE[column.dtype], values: masked(encNumbers(column.values), column.mask) };
    case 'nullable-bool':
      return { dtype: 'boolean', values: masked(Array.from(column.values, (v) => v !== 0), column.mask) };
    case 'nullable-string':
      return stringsAsCategorical(column.values, column.mask);
    case 'category': {
      const cats = column.categories;
      const categories =
        cats.kind === 'string' ? cats.values : cats.kind === 'numeric' ? encNumbers(cats.values) : Array.from((cats as { values: Uint8Array }).values, (v) => v !== 0);
      return { dtype: 'category', ordered: column.ordered, categories, codes: Array.from(column.codes) };
    }
  }
}

function stringsAsCategorical(values: (string | null)[], mask: Uint8Array): PyColumn {
  const present = values.filter((v, i) => v !== null && !mask[i]) as string[];
  const categories = [...new Set(present)].sort();
  const codes = values.map((v, i) => (v === null || mask[i] ? -1 : categories.indexOf(v)));
  return { dtype: 'category', ordered: false, categories, codes };
}

function expectFrame(actual: PyFrame, frame: DataFrame, where: string): void {
  expect(actual.index, `${where} index`).toEqual(frame.index);
  expect(actual.index_name, `${where} index name`).toBe(frame.indexName === '_index' ? null : frame.indexName);
  expect(actual.columns, `${where} column order`).toEqual(frame.columns.map((c) => c.name));
  for (const { name, column } of frame.columns) {
    const got = { ...actual.cols[name] };
    delete got.categories_dtype;
    expect(got, `${where}/${name}`).toEqual(expectedColumn(column));
  }
}

/** Dense row-major values of a CSR source, encoded like the dump. */
async function denseOf(source: MatrixSource): Promise<unknown[]> {
  const [rows, cols] = source.shape;
  const isInt = !source.dtype.startsWith('float');
  const dense = new Float64Array(rows * cols);
  for await (const block of source.rowBlocks()) {
    for (let r = 0; r < block.nRows; r++) {
      for (let k = Number(block.indptr[r]); k < Number(block.indptr[r + 1]); k++) {
        dense[(block.rowStart + r) * cols + block.indices[k]] = Number(block.data[k]);
      }
    }
  }
  return Array.from(dense, (v) => (isInt ? String(v) : enc(v)));
}

async function expectMatrix(actual: PyMatrix | null, source: MatrixSource, where: string): Promise<void> {
  expect(actual, where).not.toBeNull();
  expect(actual!.format, `${where} format`).toBe('csr');
  expect(actual!.dtype, `${where} dtype`).toBe(source.dtype);
  expect(actual!.shape, `${where} shape`).toEqual(source.shape);
  expect(actual!.values, `${where} values`).toEqual(await denseOf(source));
}

// ------------------------------------------------------------------ building inputs

/** A CSR source from a dense row-major array, cut into blocks at the given row boundaries. */
function csrSource(dense: number[][], dtype: MatrixSource['dtype'], cuts: number[]): MatrixSource {
  const rows = dense.length;
  const cols = dense[0]?.length ?? 0;

  const bounds = [0, ...cuts, rows];
  const blocks: CsrBlock[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const [start, end] = [bounds[b], bounds[b + 1]];
    const indptr = new Int32Array(end - start + 1);
    const indices: number[] = [];
    const data: number[] = [];
    for (let r = start; r < end; r++) {
      dense[r].forEach((v, c) => {
        if (v !== 0) {
          indices.push(c);
          data.push(v);
        }
      });
      indptr[r - start + 1] = indices.length;
    }
    const typed = dtype === 'float32' ? Float32Array.from(data) : dtype === 'int32' ? Int32Array.from(data) : Float64Array.from(data);
    blocks.push({ rowStart: start, nRows: end - start, nCols: cols, indptr, indices: Int32Array.from(indices), data: typed as NumericArray });
  }
  return { shape: [rows, cols], dtype, rowBlocks: () => blocks };
}

const mask = (...bits: number[]) => Uint8Array.from(bits);

function richObs(): DataFrame {
  const many = Array.from({ length: 200 }, (_, i) => `type-${String(i).padStart(3, '0')}`);
  return {
    indexName: '_index',
    index: ['cell-1', 'çell-2', '細胞-3', 'cell 4', 'cell/5', 'emoji-🧬', 'last'],
    columns: [
      { name: 'cell_type', column: { kind: 'category', codes: Int32Array.of(0, 1, 2, -1, 1, 0, 2), categories: { kind: 'string', values: ['B cell', 'T cell', 'NK ✓'] }, ordered: false } },
      { name: 'severity', column: { kind: 'category', codes: Int32Array.of(2, 0, -1, 1, 1, 0, 2), categories: { kind: 'string', values: ['low', 'mid', 'high'] }, ordered: true } },
      { name: 'batch_num', column: { kind: 'category', codes: Int32Array.of(0, 1, 0, 1, 0, 1, -1), categories: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(10n, 20n) }, ordered: false } },
      { name: 'dose', column: { kind: 'category', codes: Int32Array.of(1, 1, 0, 0, -1, 1, 0), categories: { kind: 'numeric', dtype: 'float64', values: Float64Array.of(0.5, 1.5) }, ordered: true } },
      { name: 'many_types', column: { kind: 'category', codes: Int32Array.of(0, 199, 150, -1, 3, 127, 128), categories: { kind: 'string', values: many }, ordered: false } },
      { name: 'label', column: { kind: 'string', values: ['α', '日本語', '', 'emoji 🧬', 'tab\tx', 'naïve', ' padded  '] } },
      { name: 'is_doublet', column: { kind: 'bool', values: mask(1, 0, 0, 1, 0, 0, 1) } },
      { name: 'i8', column: { kind: 'numeric', dtype: 'int8', values: Int8Array.of(-128, 127, 0, 1, -1, 5, 6) } },
      { name: 'i16', column: { kind: 'numeric', dtype: 'int16', values: Int16Array.of(-32768, 32767, 0, 1, -1, 5, 6) } },
      { name: 'i32', column: { kind: 'numeric', dtype: 'int32', values: Int32Array.of(-2147483648, 2147483647, 0, 1, -1, 5, 6) } },
      {
        name: 'i64',
        column: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(2n ** 62n + 1n, -(2n ** 63n), 9007199254740993n, 0n, -1n, 42n, 2n ** 63n - 1n) },
      },
      { name: 'u8', column: { kind: 'numeric', dtype: 'uint8', values: Uint8Array.of(0, 255, 1, 2, 3, 4, 5) } },
      { name: 'u16', column: { kind: 'numeric', dtype: 'uint16', values: Uint16Array.of(0, 65535, 1, 2, 3, 4, 5) } },
      { name: 'u32', column: { kind: 'numeric', dtype: 'uint32', values: Uint32Array.of(0, 4294967295, 1, 2, 3, 4, 5) } },
      { name: 'u64', column: { kind: 'numeric', dtype: 'uint64', values: BigUint64Array.of(0n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 3n, 4n, 5n) } },
      { name: 'f32', column: { kind: 'numeric', dtype: 'float32', values: Float32Array.of(0.1, NaN, Infinity, -2.5, 1e-30, 0, 3.4e38) } },
      { name: 'f64', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.of(0.1, NaN, -Infinity, 1e-300, 2 ** 53 + 2, 0, -7.25) } },
      { name: 'n_int', column: { kind: 'nullable-int', dtype: 'int64', values: BigInt64Array.of(1n, 0n, 3n, 2n ** 60n + 1n, 0n, -6n, 7n), mask: mask(0, 1, 0, 0, 1, 0, 0) } },
      { name: 'n_int16', column: { kind: 'nullable-int', dtype: 'int16', values: Int16Array.of(1, 2, 3, 4, 5, 6, 7), mask: mask(1, 0, 0, 0, 0, 0, 1) } },
      { name: 'n_uint8', column: { kind: 'nullable-int', dtype: 'uint8', values: Uint8Array.of(250, 2, 3, 4, 5, 6, 7), mask: mask(0, 0, 0, 1, 0, 0, 0) } },
      { name: 'n_bool', column: { kind: 'nullable-bool', values: mask(1, 0, 1, 0, 1, 1, 0), mask: mask(0, 0, 1, 0, 0, 1, 0) } },
      { name: 'n_str', column: { kind: 'nullable-string', values: ['x', 'y', '', 'x', 'zz', '', 'ÿ'], mask: mask(0, 0, 1, 0, 0, 1, 0) } },
      { name: 'legacy_str', column: { kind: 'string', values: ['a', null, 'b', 'a', null, 'c', 'b'] } },
    ],
  };
}

function richVar(): DataFrame {
  return {
    indexName: 'gene_symbol',
    index: ['GAPDH', 'ACTB', 'CD3E', 'MS4A1', 'NKG7'],
    columns: [
      { name: 'highly_variable', column: { kind: 'bool', values: mask(0, 1, 1, 0, 1) } },
      { name: 'means', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.of(1.5, 2.25, 0, 0.125, 9) } },
      { name: 'gene_ids', column: { kind: 'string', values: ['ENSG1', 'ENSG2', 'ENSG3', 'ENSG4', 'ENSG5'] } },
    ],
  };
}

const X_DENSE = [
  [0, 0, 1.5, 0, 2],
  [0, 0, 0, 0, 0],
  [3.25, 0, 0, 4, 0],
  [0, 5, 0, 0, 0],
  [0, 0, 0, 0, 0],
  [6, 7, 8, 9, 10],
  [0, 0, 0, 0, -1],
];
const COUNTS_DENSE = X_DENSE.map((row) => row.map((v) => Math.round(Math.abs(v))));
const RAW_DENSE = X_DENSE.map((row, r) => [...row, r % 2 ? 0 : r + 0.5]);

function richAnnData(): AnnDataToWrite {
  return {
    obs: richObs(),
    var: richVar(),
    // Blocks of 3, 0 and 4 rows: an empty block and empty rows must not shift anything.
    X: csrSource(X_DENSE, 'float32', [3, 3]),
    layers: new Map([['counts', csrSource(COUNTS_DENSE, 'int32', [5])]]),
    obsm: new Map([
      ['X_pca', { shape: [7, 3], values: Float32Array.from({ length: 21 }, (_, i) => i * 0.5 - 3) }],
      ['X_umap', { shape: [7, 2], values: Float64Array.from({ length: 14 }, (_, i) => (i % 3 === 0 ? NaN : i / 7)) }],
    ]),
    varm: new Map([['PCs', { shape: [5, 2], values: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) }]]),
    uns: {
      title: 'héllo ✓',
      n_pcs: 50,
      resolution: 0.25,
      big: 2n ** 60n + 1n,
      flag_true: true,
      flag_false: false,
      absent: null,
      colors: ['#ff0000', '#00ff00', 'ünï'],
      ints: Int32Array.of(1, -2, 3),
      floats: Float64Array.of(0.5, NaN, -Infinity),
      bytes: Uint8Array.of(0, 7, 255),
      params: { method: 'umap', n_neighbors: 15, inner: { deep: 'yes', weights: Float32Array.of(0.25, 0.5) } },
      grid: { kind: 'dense', shape: [2, 3], values: Float64Array.of(1, 2, 3, 4, 5, 6) },
      mask_array: { kind: 'column', column: { kind: 'bool', values: mask(1, 0, 1) } },
      table: {
        kind: 'dataframe',
        frame: { indexName: '_index', index: ['r1', 'r2'], columns: [{ name: 'v', column: { kind: 'numeric', dtype: 'int32', values: Int32Array.of(4, 5) } }] },
      },
      ranking: {
        kind: 'recarray',
        fields: [
          { name: 'names', column: { kind: 'string', values: ['CD3E', 'NKG7', 'MS4A1 ✓'] } },
          { name: 'scores', column: { kind: 'numeric', dtype: 'float32', values: Float32Array.of(9.5, 7.25, -1) } },
        ],
      },
    },
    raw: {
      X: csrSource(RAW_DENSE, 'float64', [2]),
      var: {
        indexName: '_index',
        index: ['GAPDH', 'ACTB', 'CD3E', 'MS4A1', 'NKG7', 'XIST'],
        columns: [{ name: 'n_cells', column: { kind: 'numeric', dtype: 'int64', values: BigInt64Array.of(5n, 6n, 7n, 8n, 9n, 2n ** 53n + 1n) } }],
      },
    },
  };
}

// ------------------------------------------------------------------ tests

describe('h5ad writer → Debian anndata 0.8.0', () => {
  let richPath: string;
  let gzipPath: string;
  let dumps: Record<string, PyAnnData>;
  const progress: [number, number][] = [];

  beforeAll(async () => {
    richPath = join(dir, 'rich.h5ad');
    gzipPath = join(dir, 'rich-gzip.h5ad');
    await writeH5ad(richPath, richAnnData(), { onProgress: (done, total) => progress.push([done, total]) });
    await writeH5ad(gzipPath, richAnnData(), { compression: 'gzip' });
    dumps = readWithAnndata(richPath, gzipPath);
  });

  it('reads every obs and var column back with the same values, dtypes, categories and NAs', () => {
    for (const path of [richPath, gzipPath]) {
      const a = dumps[path];
      expect(a.n_obs).toBe(7);
      expect(a.n_vars).toBe(5);
      expectFrame(a.obs, richObs(), 'obs');
      expectFrame(a.var, richVar(), 'var');
    }
  });

  it('stores booleans as real booleans and picks pandas code widths', () => {
    const obs = dumps[richPath].obs.cols;
    expect(obs.is_doublet.dtype).toBe('bool');
    expect(obs.n_bool.dtype).toBe('boolean');
    expect(obs.severity.ordered).toBe(true);
    expect(obs.batch_num.categories_dtype).toBe('int64');
    expect(obs.dose.categories_dtype).toBe('float64');
    expect(obs.many_types.categories).toHaveLength(200);
  });

  it('reads X, layers, obsm and varm back exactly', async () => {
    const input = richAnnData();
    for (const path of [richPath, gzipPath]) {
      const a = dumps[path];
      await expectMatrix(a.X, input.X!, 'X');
      await expectMatrix(a.layers.counts, input.layers!.get('counts')!, 'layers/counts');
      expect(Object.keys(a.obsm).sort()).toEqual(['X_pca', 'X_umap']);
      for (const [name, dense] of input.obsm!) {
        expect(a.obsm[name].shape, `obsm/${name}`).toEqual(dense.shape);
        expect(a.obsm[name].dtype).toBe(dense.values instanceof Float32Array ? 'float32' : 'float64');
        expect(a.obsm[name].values).toEqual(encNumbers(dense.values));
      }
      expect(a.varm.PCs).toMatchObject({ shape: [5, 2], dtype: 'float64', values: encNumbers(input.varm!.get('PCs')!.values) });
    }
  });

  it('reads raw with its own genes', async () => {
    const input = richAnnData();
    const raw = dumps[richPath].raw!;
    expectFrame(raw.var, input.raw!.var, 'raw/var');
    await expectMatrix(raw.X, input.raw!.X!, 'raw/X');
  });

  it('reads uns: nested dicts, scalars of each type, arrays, dataframes and rec-arrays', () => {
    const uns = dumps[richPath].uns;
    expect(uns).toEqual({
      title: { str: 'héllo ✓' },
      n_pcs: { scalar: 'int64', value: '50' },
      resolution: { scalar: 'float64', value: 0.25 },
      big: { scalar: 'int64', value: (2n ** 60n + 1n).toString() },
      flag_true: { scalar: 'bool', value: true },
      flag_false: { scalar: 'bool', value: false },
      colors: { array: 'object', shape: [3], values: ['#ff0000', '#00ff00', 'ünï'] },
      ints: { array: 'int32', shape: [3], values: ['1', '-2', '3'] },
      floats: { array: 'float64', shape: [3], values: [0.5, 'NaN', '-Infinity'] },
      bytes: { array: 'uint8', shape: [3], values: ['0', '7', '255'] },
      params: {
        dict: {
          method: { str: 'umap' },
          n_neighbors: { scalar: 'int64', value: '15' },
          inner: { dict: { deep: { str: 'yes' }, weights: { array: 'float32', shape: [2], values: [0.25, 0.5] } } },
        },
      },
      grid: { array: 'float64', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
      mask_array: { array: 'bool', shape: [3], values: [true, false, true] },
      table: { frame: expect.objectContaining({ index: ['r1', 'r2'], columns: ['v'], cols: { v: { dtype: 'int32', values: ['4', '5'] } } }) },
      ranking: {
        rec: {
          names: { dtype: 'object', values: ['CD3E', 'NKG7', 'MS4A1 ✓'] },
          scores: { dtype: 'float32', values: [9.5, 7.25, -1] },
        },
      },
    });
    // `absent` (null) is not written, as anndata itself writes nothing for None.
    expect(uns).not.toHaveProperty('absent');
  });

  it('reports progress in matrix rows, ending at the total', () => {
    // X, layers/counts and raw/X: 3 matrices × 7 rows.
    expect(progress[0]).toEqual([0, 21]);
    expect(progress[progress.length - 1]).toEqual([21, 21]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
  });
});

describe('h5ad writer: 0-cell and 1-cell files', () => {
  function tinyObs(n: 0 | 1): DataFrame {
    const pick = <T,>(values: T[]) => values.slice(0, n);
    return {
      indexName: 'barcode',
      index: pick(['AAAC-1']),
      columns: [
        { name: 'flag', column: { kind: 'bool', values: Uint8Array.from(pick([1])) } },
        { name: 'type', column: { kind: 'category', codes: Int32Array.from(pick([1])), categories: { kind: 'string', values: ['a', 'b'] }, ordered: true } },
        { name: 'count', column: { kind: 'nullable-int', dtype: 'int32', values: Int32Array.from(pick([0])), mask: Uint8Array.from(pick([1])) } },
        { name: 'ok', column: { kind: 'nullable-bool', values: Uint8Array.from(pick([1])), mask: Uint8Array.from(pick([0])) } },
        { name: 'name', column: { kind: 'string', values: pick(['only']) } },
        { name: 'score', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.from(pick([NaN])) } },
      ],
    };
  }
  const genes: DataFrame = { indexName: '_index', index: ['g1', 'g2', 'g3'], columns: [] };

  it('writes files anndata reads with 0 and with 1 cell', async () => {
    const empty = join(dir, 'zero.h5ad');
    const single = join(dir, 'one.h5ad');
    await writeH5ad(empty, {
      obs: tinyObs(0),
      var: genes,
      X: { shape: [0, 3], dtype: 'float32', rowBlocks: () => [] },
      obsm: new Map([['X_pca', { shape: [0, 2], values: new Float32Array(0) }]]),
    });
    await writeH5ad(single, {
      obs: tinyObs(1),
      var: genes,
      X: csrSource([[0, 2.5, 0]], 'float32', []),
      obsm: new Map([['X_pca', { shape: [1, 2], values: Float32Array.of(1, -1) }]]),
    });
    const dumped = readWithAnndata(empty, single);

    expect(dumped[empty].n_obs).toBe(0);
    expect(dumped[empty].n_vars).toBe(3);
    expectFrame(dumped[empty].obs, tinyObs(0), 'obs');
    expect(dumped[empty].X).toMatchObject({ format: 'csr', dtype: 'float32', shape: [0, 3], values: [] });
    expect(dumped[empty].obsm.X_pca).toMatchObject({ shape: [0, 2], values: [] });

    expect(dumped[single].n_obs).toBe(1);
    expectFrame(dumped[single].obs, tinyObs(1), 'obs');
    expect(dumped[single].obs.cols.count.values).toEqual([null]);
    expect(dumped[single].X).toMatchObject({ format: 'csr', shape: [1, 3], values: [0, 2.5, 0] });
    expect(dumped[single].obsm.X_pca.values).toEqual([1, -1]);
  });
});

describe('h5ad writer: on-disk encoding seen by h5py', () => {
  it('tags every element like anndata and stores booleans as the h5py boolean enum', async () => {
    const path = join(dir, 'encoding.h5ad');
    await writeH5ad(path, richAnnData(), { nullableStrings: 'nullable-string-array' });
    const info = runPythonJson<Record<string, unknown>>(
      String.raw`
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
def enc(g):
    return [g.attrs.get('encoding-type'), g.attrs.get('encoding-version')]
def boolean_type(d):
    t = d.id.get_type()
    base = t.get_super()
    return [t.get_class() == h5py.h5t.ENUM, [t.get_member_name(i).decode() for i in range(t.get_nmembers())],
            [t.get_member_value(i) for i in range(t.get_nmembers())], base.get_size(), base.get_sign() == h5py.h5t.SGN_2]
def strinfo(d):
    s = h5py.check_string_dtype(d.dtype)
    return None if s is None else [s.encoding, s.length]
out = {
  'root': enc(f), 'keys': sorted(f.keys()),
  'obs': enc(f['obs']), 'obs_index_attr': f['obs'].attrs['_index'], 'var_index_attr': f['var'].attrs['_index'],
  'column_order': [str(c) for c in f['obs'].attrs['column-order']],
  'obs_index': enc(f['obs/_index']) + [strinfo(f['obs/_index'])],
  'cat': enc(f['obs/cell_type']), 'ordered_type': type(f['obs/severity'].attrs['ordered']).__name__,
  'ordered_values': [bool(f['obs/severity'].attrs['ordered']), bool(f['obs/cell_type'].attrs['ordered'])],
  'codes_dtypes': [str(f['obs/cell_type/codes'].dtype), str(f['obs/many_types/codes'].dtype)],
  'categories': enc(f['obs/cell_type/categories']) + [strinfo(f['obs/cell_type/categories'])],
  'bool': [str(f['obs/is_doublet'].dtype)] + enc(f['obs/is_doublet']),
  'bool_type': boolean_type(f['obs/is_doublet']),
  'mask_type': boolean_type(f['obs/n_int/mask']),
  'nullable_int': enc(f['obs/n_int']) + [str(f['obs/n_int/values'].dtype), str(f['obs/n_int/mask'].dtype)],
  'nullable_bool': enc(f['obs/n_bool']) + [str(f['obs/n_bool/values'].dtype), str(f['obs/n_bool/mask'].dtype)],
  'nullable_string': enc(f['obs/n_str']) + [f['obs/n_str'].attrs.get('na-value'), strinfo(f['obs/n_str/values']), str(f['obs/n_str/mask'].dtype),
                       [v.decode() for v in f['obs/n_str/values'][()]], f['obs/n_str/mask'][()].tolist()],
  'X': enc(f['X']) + [f['X'].attrs['shape'].tolist(), str(f['X'].attrs['shape'].dtype)],
  'X_parts': [str(f['X/data'].dtype), str(f['X/indices'].dtype), str(f['X/indptr'].dtype), f['X/indptr'][()].tolist()],
  'X_maxshape': f['X/data'].maxshape,
  'layers': enc(f['layers']), 'obsm': enc(f['obsm']), 'obsp': enc(f['obsp']), 'varp': enc(f['varp']),
  'obsm_pca': enc(f['obsm/X_pca']) + [list(f['obsm/X_pca'].shape)],
  'uns': enc(f['uns']), 'uns_title': enc(f['uns/title']) + [strinfo(f['uns/title']), list(f['uns/title'].shape)],
  'uns_flag': enc(f['uns/flag_true']) + [str(f['uns/flag_true'].dtype), list(f['uns/flag_true'].shape)],
  'uns_n_pcs': enc(f['uns/n_pcs']) + [str(f['uns/n_pcs'].dtype)],
  'uns_ranking': enc(f['uns/ranking']),
  'raw': enc(f['raw']), 'raw_keys': sorted(f['raw'].keys()),
}
print(json.dumps(out))
`,
      [path],
    );
    expect(info).toEqual({
      root: ['anndata', '0.1.0'],
      keys: ['X', 'layers', 'obs', 'obsm', 'obsp', 'raw', 'uns', 'var', 'varm', 'varp'],
      obs: ['dataframe', '0.2.0'],
      obs_index_attr: '_index',
      var_index_attr: 'gene_symbol',
      column_order: richObs().columns.map((c) => c.name),
      obs_index: ['string-array', '0.2.0', ['utf-8', null]],
      cat: ['categorical', '0.2.0'],
      ordered_type: 'bool_',
      ordered_values: [true, false],
      codes_dtypes: ['int8', 'int16'],
      categories: ['string-array', '0.2.0', ['utf-8', null]],
      bool: ['bool', 'array', '0.2.0'],
      bool_type: [true, ['FALSE', 'TRUE'], [0, 1], 1, true],
      mask_type: [true, ['FALSE', 'TRUE'], [0, 1], 1, true],
      nullable_int: ['nullable-integer', '0.1.0', 'int64', 'bool'],
      nullable_bool: ['nullable-boolean', '0.1.0', 'bool', 'bool'],
      nullable_string: ['nullable-string-array', '0.1.0', 'NA', ['utf-8', null], 'bool', ['x', 'y', '', 'x', 'zz', '', 'ÿ'], [false, false, true, false, false, true, false]],
      X: ['csr_matrix', '0.1.0', [7, 5], 'int64'],
      X_parts: ['float32', 'int32', 'int32', [0, 2, 2, 4, 5, 5, 10, 11]],
      // Chunked and resizable, as anndata writes a matrix.
      X_maxshape: [null],
      layers: ['dict', '0.1.0'],
      obsm: ['dict', '0.1.0'],
      obsp: ['dict', '0.1.0'],
      varp: ['dict', '0.1.0'],
      obsm_pca: ['array', '0.2.0', [7, 3]],
      uns: ['dict', '0.1.0'],
      uns_title: ['string', '0.2.0', ['utf-8', null], []],
      uns_flag: ['numeric-scalar', '0.2.0', 'bool', []],
      uns_n_pcs: ['numeric-scalar', '0.2.0', 'int64'],
      uns_ranking: ['rec-array', '0.2.0'],
      raw: ['raw', '0.1.0'],
      raw_keys: ['X', 'var', 'varm'],
    });
  });

  it('computes the HDF5 metadata checksum (lookup3) the booleans depend on', () => {
    expect(lookup3(new Uint8Array(0))).toBe(0xdeadbeef);
    const text = new TextEncoder().encode('Four score and seven years ago');
    expect(lookup3(text)).toBe(0x17770551);
    expect(lookup3(text, 1)).toBe(0xcd628161);
  });
});

describe('h5ad writer: failures leave nothing half-written', () => {
  const genes: DataFrame = { indexName: '_index', index: ['g1', 'g2'], columns: [] };
  const cells: DataFrame = { indexName: '_index', index: ['c1', 'c2'], columns: [] };

  it('keeps the previous file when a row block fails midway, and removes the partial file', async () => {
    const path = join(dir, 'keep.h5ad');
    writeFileSync(path, 'previous contents');
    const failing: MatrixSource = {
      shape: [2, 2],
      dtype: 'float32',
      async *rowBlocks() {
        yield { rowStart: 0, nRows: 1, nCols: 2, indptr: Int32Array.of(0, 1), indices: Int32Array.of(1), data: Float32Array.of(1) };
        throw new Error('source went away');
      },
    };
    await expect(writeH5ad(path, { obs: cells, var: genes, X: failing })).rejects.toThrow(/source went away/);
    expect(readdirSync(dir).filter((f) => f.startsWith('keep.h5ad'))).toEqual(['keep.h5ad']);
  });

  it('refuses a matrix whose shape disagrees with obs/var, naming it', async () => {
    const path = join(dir, 'bad-shape.h5ad');
    const wrong = csrSource([[1, 2, 3], [4, 5, 6]], 'float32', []);
    const err = await writeH5ad(path, { obs: cells, var: genes, layers: new Map([['counts', wrong]]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).code).toBe('shape_mismatch');
    expect((err as CellarError).message).toContain('layers/counts');
    expect(existsSync(path)).toBe(false);
  });

  it('refuses category codes out of range and columns of the wrong length', async () => {
    const path = join(dir, 'bad-codes.h5ad');
    const badCodes: DataFrame = {
      ...cells,
      columns: [{ name: 'type', column: { kind: 'category', codes: Int32Array.of(0, 2), categories: { kind: 'string', values: ['a', 'b'] }, ordered: false } }],
    };
    await expect(writeH5ad(path, { obs: badCodes, var: genes })).rejects.toThrow(/obs\/type: category code 2 at row 1 is out of range/);
    const shortColumn: DataFrame = { ...cells, columns: [{ name: 'x', column: { kind: 'numeric', dtype: 'float64', values: Float64Array.of(1) } }] };
    await expect(writeH5ad(path, { obs: shortColumn, var: genes })).rejects.toThrow(/obs\/x: it has 1 values but the table has 2 rows/);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad-codes'))).toEqual([]);
  });

  it('refuses strings with a NUL character instead of cutting them short', async () => {
    const path = join(dir, 'nul.h5ad');
    const withNul: DataFrame = { ...cells, columns: [{ name: 'note', column: { kind: 'string', values: ['ok', 'a\0b'] } }] };
    const err = await writeH5ad(path, { obs: withNul, var: genes }).catch((e: unknown) => e);
    expect((err as CellarError).code).toBe('bad_element');
    expect((err as CellarError).message).toBe('Cannot write obs/note: value 1 contains a NUL character, which HDF5 strings cannot hold.');
    expect(existsSync(path)).toBe(false);
  });

  it('stops with a cancelled error when the signal is aborted', async () => {
    const path = join(dir, 'cancelled.h5ad');
    const controller = new AbortController();
    const source: MatrixSource = {
      shape: [2, 2],
      dtype: 'float32',
      *rowBlocks() {
        yield { rowStart: 0, nRows: 1, nCols: 2, indptr: Int32Array.of(0, 0), indices: new Int32Array(0), data: new Float32Array(0) };
        controller.abort();
        yield { rowStart: 1, nRows: 1, nCols: 2, indptr: Int32Array.of(0, 0), indices: new Int32Array(0), data: new Float32Array(0) };
      },
    };
    const err = await writeH5ad(path, { obs: cells, var: genes, X: source }, { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as CellarError).code).toBe('cancelled');
    expect(readdirSync(dir).filter((f) => f.startsWith('cancelled'))).toEqual([]);
  });
});

// ------------------------------------------------------------------ round trip through Cellar's reader

/** Plain JSON-comparable form of everything the writer takes, read through an H5adFile. */
async function snapshot(file: H5adFile): Promise<unknown> {
  const column = (c: Column): unknown => {
    switch (c.kind) {
      case 'category':
        return { kind: c.kind, codes: Array.from(c.codes), ordered: c.ordered, categories: column(c.categories) };
      case 'string':
        return { kind: c.kind, values: c.values };
      case 'nullable-string':
        return { kind: c.kind, values: c.values.map((v, i) => (c.mask[i] ? null : v)) };
      case 'nullable-int':
        return { kind: c.kind, dtype: c.dtype, values: encNumbers(c.values).map((v, i) => (c.mask[i] ? null : v)) };
      case 'nullable-bool':
        return { kind: c.kind, values: Array.from(c.values, (v, i) => (c.mask[i] ? null : v !== 0)) };
      case 'bool':
        return { kind: c.kind, values: Array.from(c.values, (v) => v !== 0) };
      case 'numeric':
        return { kind: c.kind, dtype: c.dtype, values: encNumbers(c.values) };
    }
  };
  const frame = (f: DataFrame) => ({ indexName: f.indexName, index: f.index, columns: f.columns.map(({ name, column: c }) => [name, column(c)]) });
  const matrix = async (m: { shape: [number, number]; dtype: string; rowBlocks(): AsyncIterable<CsrBlock> }) => ({
    shape: m.shape,
    dtype: m.dtype,
    dense: await denseOf({ shape: m.shape, dtype: m.dtype === 'bool' ? 'uint8' : (m.dtype as MatrixSource['dtype']), rowBlocks: () => m.rowBlocks() }),
  });
  const uns = async (v: UnsValue): Promise<unknown> => {
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? `${v}n` : typeof v === 'number' ? enc(v) : v;
    if (ArrayBuffer.isView(v)) return { typed: v.constructor.name, values: encNumbers(v as NumericArray) };
    if (Array.isArray(v)) return v;
    const tagged = v as {
      kind?: unknown;
      frame?: DataFrame;
      handle?: MatrixHandle;
      column?: Column;
      shape?: number[];
      values?: NumericArray | (string | null)[];
      fields?: { name: string; column: Column }[];
    };
    if (tagged.kind === 'dataframe' && tagged.frame) return { frame: frame(tagged.frame) };
    if (tagged.kind === 'matrix' && tagged.handle) return { matrix: await matrix(tagged.handle) };
    if (tagged.kind === 'column' && tagged.column) return { column: column(tagged.column) };
    if (tagged.kind === 'dense' && tagged.shape && tagged.values) {
      return { dense: tagged.shape, values: Array.isArray(tagged.values) ? tagged.values : encNumbers(tagged.values) };
    }
    // Elements the reader skipped (awkward arrays) have nothing to write.
    if (tagged.kind === 'skipped') return undefined;
    if (tagged.kind === 'recarray' && tagged.fields) return { rec: tagged.fields.map(({ name, column: c }) => [name, column(c)]) };
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(v as Record<string, UnsValue>)) {
      const snap = value === null ? undefined : await uns(value);
      if (snap !== undefined) out[key] = snap;
    }
    return out;
  };
  const dense = (entries: H5adFile['obsm']) =>
    Object.fromEntries([...entries].map(([name, e]) => [name, 'read' in e ? { shape: e.shape, dtype: e.dtype, values: encNumbers(e.read() as NumericArray) } : 'other']));
  return {
    nObs: file.nObs,
    nVars: file.nVars,
    obs: frame(file.obs),
    var: frame(file.var),
    X: file.X ? await matrix(file.X) : null,
    layers: Object.fromEntries(await Promise.all([...file.layers].map(async ([k, m]) => [k, await matrix(m)]))),
    obsm: dense(file.obsm),
    varm: dense(file.varm),
    uns: await uns(file.readUns()),
    raw: file.raw ? { var: frame(file.raw.var), X: file.raw.X ? await matrix(file.raw.X) : null } : null,
  };
}

/** Reads `source` with Cellar's reader, writes it again, and returns both snapshots. */
async function roundTrip(source: string, target: string): Promise<{ before: unknown; after: unknown; dropped: string[] }> {
  const { openH5ad } = await import('../../src/main/engine/formats/h5ad/reader');
  const first = await openH5ad(source);
  let before: unknown;
  let dropped: string[];
  try {
    before = await snapshot(first);
    const converted = annDataFromH5ad(first);
    dropped = converted.dropped;
    await writeH5ad(target, converted.adata, { nullableStrings: 'nullable-string-array' });
  } finally {
    first.close();
  }
  const second = await openH5ad(target);
  try {
    return { before, after: await snapshot(second), dropped };
  } finally {
    second.close();
  }
}

describe('h5ad writer: round trip through Cellar’s reader', () => {
  it('reads a written file, writes it again, and reads identical values', async () => {
    const first = join(dir, 'trip-1.h5ad');
    await writeH5ad(first, richAnnData(), { nullableStrings: 'nullable-string-array' });
    const { before, after, dropped } = await roundTrip(first, join(dir, 'trip-2.h5ad'));
    expect(dropped).toEqual([]);
    expect(after).toEqual(before);
    // And the first file holds what was written (spot checks through the reader).
    const b = before as { obs: { columns: [string, { kind: string }][] }; uns: Record<string, unknown> };
    expect(Object.fromEntries(b.obs.columns.map(([n, c]) => [n, c.kind]))).toMatchObject({
      is_doublet: 'bool',
      n_bool: 'nullable-bool',
      n_int: 'nullable-int',
      n_str: 'nullable-string',
      severity: 'category',
    });
    expect(b.uns.flag_true).toBe(true);
  });

  const fixtureDir = fileURLToPath(new URL('../fixtures/h5ad', import.meta.url));
  const fixtures = existsSync(fixtureDir) ? readdirSync(fixtureDir).filter((f) => f.endsWith('.h5ad')).sort() : [];

  it('finds the h5ad fixtures to round-trip', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const name of fixtures) {
    it(`round-trips fixture ${name}`, async () => {
      const { before, after } = await roundTrip(join(fixtureDir, name), join(dir, `fixture-${name}`));
      const keep = (snap: unknown) => {
        // obsp/varp/raw.varm and sparse or dataframe obsm entries are not part of the writer's input.
        const s = snap as { obsm: Record<string, unknown>; varm: Record<string, unknown> };
        return { ...s, obsm: Object.fromEntries(Object.entries(s.obsm).filter(([, v]) => v !== 'other')), varm: Object.fromEntries(Object.entries(s.varm).filter(([, v]) => v !== 'other')) };
      };
      expect(keep(after)).toEqual(keep(before));
    });
  }
});

// ------------------------------------------------------------------ matrices of known size

describe('h5ad writer: sparse matrices whose exact nnz is known up front', () => {
  /**
   * Row r holds the columns ≡ r (mod 3), value (r·7 + c) mod 97 + 0.5, and rows ≡ 5 (mod 11)
   * are empty; streamed in blocks of 997 rows (not a multiple of anything the writer uses).
   */
  function patterned(nRows: number, nCols: number, exact = true, nnzOffset = 0): MatrixSource {
    const rowColumns = (r: number) => (r % 11 === 5 ? [] : Array.from({ length: Math.ceil((nCols - (r % 3)) / 3) }, (_, k) => (r % 3) + 3 * k));
    let nnz = 0;
    for (let r = 0; r < nRows; r++) nnz += rowColumns(r).length;
    return {
      shape: [nRows, nCols],
      dtype: 'float32',
      nnz: nnz + nnzOffset,
      nnzExact: exact,
      *rowBlocks() {
        for (let start = 0; start < nRows; start += 997) {
          const end = Math.min(nRows, start + 997);
          const indptr = new Int32Array(end - start + 1);
          for (let r = start; r < end; r++) indptr[r - start + 1] = indptr[r - start] + rowColumns(r).length;
          const indices = new Int32Array(indptr[end - start]);
          const data = new Float32Array(indices.length);
          let at = 0;
          for (let r = start; r < end; r++) {
            for (const c of rowColumns(r)) {
              indices[at] = c;
              data[at++] = ((r * 7 + c) % 97) + 0.5;
            }
          }
          yield { rowStart: start, nRows: end - start, nCols, indptr, indices, data };
        }
      },
    };
  }
  const frames = (nRows: number, nCols: number) => ({
    obs: { indexName: '_index', index: Array.from({ length: nRows }, (_, i) => `c${i}`), columns: [] } satisfies DataFrame,
    var: { indexName: '_index', index: Array.from({ length: nCols }, (_, i) => `g${i}`), columns: [] } satisfies DataFrame,
  });

  /** h5py's view of X's datasets, and whether anndata reads exactly the patterned values. */
  const INSPECT = String.raw`
import sys, json, h5py, numpy as np, anndata as ad
out = {}
for path in sys.argv[1:]:
    with h5py.File(path, 'r') as f:
        info = {k: {'shape': list(f['X/' + k].shape), 'maxshape': list(f['X/' + k].maxshape), 'chunks': f['X/' + k].chunks,
                    'compression': f['X/' + k].compression, 'dtype': str(f['X/' + k].dtype)} for k in ('data', 'indices', 'indptr')}
    a = ad.read_h5ad(path)
    n, m = a.shape
    r = np.arange(n)[:, None]; c = np.arange(m)[None, :]
    expected = np.where((c % 3 == r % 3) & (r % 11 != 5), (r * 7 + c) % 97 + 0.5, 0).astype(np.float32)
    x = a.X
    info['format'] = x.format
    info['dtype'] = str(x.dtype)
    info['nnz'] = int(x.nnz)
    info['equal'] = bool(x.has_sorted_indices) and bool((x.toarray() == expected).all()) and int(x.nnz) == int((expected != 0).sum())
    out[path] = info
print(json.dumps(out))
`;

  it('writes X data, indices and indptr chunked and resizable as anndata does (nnz known or not, compressed or not), with the same values', async () => {
    // 3,000 × 2,000: 1.8 M entries (7 MiB of data); the gzip one spans several chunks and staged writes.
    const small = { exact: join(dir, 'exact-none.h5ad'), gzip: join(dir, 'exact-gzip.h5ad'), bound: join(dir, 'bound-none.h5ad') };
    await writeH5ad(small.exact, { ...frames(3000, 2000), X: patterned(3000, 2000) });
    await writeH5ad(small.gzip, { ...frames(3000, 2000), X: patterned(3000, 2000) }, { compression: 'gzip' });
    // Only a bound known (nnzExact unset).
    await writeH5ad(small.bound, { ...frames(3000, 2000), X: patterned(3000, 2000, false, 5) });
    // 9 M entries (36 MiB) of known length, uncompressed.
    const large = join(dir, 'exact-none-large.h5ad');
    await writeH5ad(large, { ...frames(20_000, 1500), X: patterned(20_000, 1500) });
    const info = runPythonJson<Record<string, Record<string, { shape: number[]; maxshape: (number | null)[]; chunks: number[] | null; compression: string | null; dtype: string } & { equal: boolean; nnz: number; format: string }>>>(
      INSPECT,
      [small.exact, small.gzip, small.bound, large],
      300_000,
    );
    const nnz = info[small.exact]!.nnz as unknown as number;
    expect(nnz).toBeGreaterThan(1_500_000);
    const largeNnz = info[large]!.nnz as unknown as number;
    expect(largeNnz).toBeGreaterThan((32 << 20) / 4);
    for (const path of [small.exact, small.gzip, small.bound, large]) {
      const i = info[path]!;
      expect(i.equal, path).toBe(true);
      expect([i.format, i.dtype, (i.data as { dtype: string }).dtype, (i.indices as { dtype: string }).dtype, (i.indptr as { dtype: string }).dtype]).toEqual(['csr', 'float32', 'float32', 'int32', 'int32']);
      const rows = path === large ? 20_000 : 3000;
      const entries = path === large ? largeNnz : nnz;
      for (const k of ['data', 'indices', 'indptr'] as const) {
        expect(info[path]![k], `${path} ${k}`).toMatchObject({ shape: [k === 'indptr' ? rows + 1 : entries], maxshape: [null], compression: path === small.gzip ? 'gzip' : null });
        const chunk = info[path]![k]!.chunks![0]!;
        // 1 MiB chunks at most; a known length is cut evenly (the last chunk is nearly full).
        expect(chunk * 4).toBeLessThanOrEqual(1 << 20);
        if (path !== small.bound) expect(Math.ceil((k === 'indptr' ? rows + 1 : entries) / chunk) * chunk - (k === 'indptr' ? rows + 1 : entries)).toBeLessThan(Math.ceil((k === 'indptr' ? rows + 1 : entries) / chunk));
      }
    }
  }, 120_000);

  it("anndata's backed append grows an exported matrix (its arrays are resizable): uncompressed, gzip, and lzf (through the HDF5 library)", async () => {
    const paths = [join(dir, 'append-none.h5ad'), join(dir, 'append-gzip.h5ad'), join(dir, 'append-lzf.h5ad')];
    await writeH5ad(paths[0]!, { ...frames(300, 200), X: patterned(300, 200) });
    await writeH5ad(paths[1]!, { ...frames(300, 200), X: patterned(300, 200) }, { compression: 'gzip' });
    await writeH5ad(paths[2]!, { ...frames(300, 200), X: patterned(300, 200) }, { compression: 'lzf' });
    const result = runPythonJson<Record<string, { shape: number[]; kept: boolean; added: boolean }>>(
      String.raw`
import sys, json, h5py, numpy as np, anndata as ad, scipy.sparse as sp
from anndata._core.sparse_dataset import SparseDataset
out = {}
for path in sys.argv[1:]:
    before = ad.read_h5ad(path).X.copy()
    extra = sp.csr_matrix(np.arange(3 * 200, dtype=np.float32).reshape(3, 200) % 5)
    with h5py.File(path, 'r+') as f:
        SparseDataset(f['X']).append(extra)
    with h5py.File(path, 'r') as f:
        after = SparseDataset(f['X']).to_memory()
    out[path] = {'shape': list(after.shape), 'kept': bool((after[:300] != before).nnz == 0), 'added': bool((after[300:] != extra).nnz == 0)}
print(json.dumps(out))
`,
      paths,
    );
    for (const path of paths) expect(result[path]).toEqual({ shape: [303, 200], kept: true, added: true });
  }, 60_000);

  it('writes an exact nnz of 0, compressed or not', async () => {
    const paths = [join(dir, 'exact-empty-none.h5ad'), join(dir, 'exact-empty-gzip.h5ad')];
    const empty: MatrixSource = {
      shape: [2, 4],
      dtype: 'float32',
      nnz: 0,
      nnzExact: true,
      rowBlocks: () => [{ rowStart: 0, nRows: 2, nCols: 4, indptr: new Int32Array(3), indices: new Int32Array(0), data: new Float32Array(0) }],
    };
    await writeH5ad(paths[0]!, { ...frames(2, 4), X: empty });
    await writeH5ad(paths[1]!, { ...frames(2, 4), X: empty }, { compression: 'gzip' });
    const dumped = readWithAnndata(...paths);
    for (const path of paths) expect(dumped[path]!.X).toMatchObject({ format: 'csr', dtype: 'float32', shape: [2, 4], values: Array(8).fill(0) });
  });

  it('refuses row blocks holding more or fewer entries than the exact nnz, naming the matrix', async () => {
    for (const [offset, compression, held] of [[-1, 'none', 'more than'], [1, 'none', 'fewer'], [-1, 'gzip', 'more than'], [1, 'gzip', 'fewer']] as const) {
      const path = join(dir, `exact-wrong-${offset}-${compression}.h5ad`);
      const err = await writeH5ad(path, { ...frames(300, 40), X: patterned(300, 40, true, offset) }, { compression }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CellarError);
      expect((err as CellarError).code).toBe('shape_mismatch');
      expect((err as CellarError).message).toMatch(held === 'more than' ? /^Cannot write X: its row blocks hold more than \d+ entries, but the matrix has \d+\.$/ : /^Cannot write X: its row blocks hold \d+ entries, but the matrix has \d+\.$/);
      expect(readdirSync(dir).filter((f) => f.startsWith(`exact-wrong-${offset}-${compression}`))).toEqual([]);
    }
  });
});
