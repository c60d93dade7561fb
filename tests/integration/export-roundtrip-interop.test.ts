// Complete exports (issue 10, deliverable 2): every fixture is concatenated into a store
// on its own and exported with `query --out` semantics (every layer, raw with raw.var and
// raw.varm, obsm, varm, gzip); Debian's anndata 0.8 reads each export, and every element
// is compared with the fixture's expected values (written by make_fixtures.py from the
// same data) and, where anndata 0.8 can read the original, with anndata reading it.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatenateCollection } from '../../src/main/engine/ops/concatenate';
import { exportQueryToH5ad } from '../../src/main/engine/ops/export';
import { importFiles } from '../../src/main/engine/ops/import';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import { removeDir, tempDir } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

const FIXTURES = join(__dirname, '..', 'fixtures', 'h5ad');
/** Fixtures a store cannot be made of (no X, no cells): concat refuses them, tested elsewhere. */
const NOT_A_STORE = new Set(['x_absent.h5ad', 'zero_cells.h5ad']);

/**
 * Differences that are expected and documented (README, "What an export changes"): string
 * columns with missing values are written as categoricals, because anndata before 0.11
 * cannot read nullable-string-array; a dense X is written as CSR.
 */
const EXPECTED_NOTES = /^(obs|var|raw\/var)\/[^:]+: (string|nullable-string) -> category$/;

const COMPARE = String.raw`
import sys, json, math, warnings
warnings.filterwarnings('ignore')
import numpy as np, pandas as pd, scipy.sparse as sp, h5py, anndata as ad

def dense(m):
    if m is None: return None
    if sp.issparse(m): m = m.toarray()
    return np.asarray(m)

def na(v):
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT

def col_values(s):
    out = []
    for v in s.tolist():
        if na(v): out.append(None)
        elif isinstance(v, (np.bool_, bool)): out.append(bool(v))
        elif isinstance(v, (np.integer,)): out.append(int(v))
        elif isinstance(v, (np.floating,)): out.append(float(v))
        else: out.append(v)
    return out

def frame(df):
    cols = {}
    for c in df.columns:
        s = df[c]
        d = {'dtype': str(s.dtype), 'values': col_values(s.astype(object) if str(s.dtype) == 'category' else s)}
        if str(s.dtype) == 'category':
            d['categories'] = col_values(pd.Series(s.cat.categories)); d['ordered'] = bool(s.cat.ordered)
        cols[c] = d
    return {'index': [str(i) for i in df.index], 'columns': cols}

def from_anndata(a, path):
    raw = None
    if a.raw is not None:
        raw = {'var': frame(a.raw.var), 'X': dense(a.raw.X), 'varm': {k: np.asarray(v) for k, v in a.raw.varm.items()}}
    return {'obs': frame(a.obs), 'var': frame(a.var), 'X': dense(a.X),
            'layers': {k: dense(v) for k, v in a.layers.items()},
            'obsm': {k: np.asarray(v) for k, v in a.obsm.items() if isinstance(v, np.ndarray)},
            'varm': {k: np.asarray(v) for k, v in a.varm.items() if isinstance(v, np.ndarray)}, 'raw': raw}

SPECIAL = {'NaN': None, 'Infinity': float('inf'), '-Infinity': float('-inf')}
def exp_value(v, dtype):
    # expected.json spells NaN, infinities and integers past 2^53 as strings
    if na(v): return None
    if isinstance(v, str) and dtype not in ('string', 'nullable-string', 'category'):
        return SPECIAL[v] if v in SPECIAL else int(v)
    return v

def exp_frame(f):
    cols = {}
    for c in f['columns']:
        d = {'dtype': c['dtype'], 'values': [exp_value(v, c['dtype']) for v in c['values']]}
        if c['dtype'] == 'category': d['categories'] = c['categories']; d['ordered'] = c['ordered']
        cols[c['name']] = d
    return {'index': [str(i) for i in f['index']], 'columns': cols}

def raw_varm_h5(path):
    out = {}
    with h5py.File(path, 'r') as f:
        for where in ('raw/varm', 'raw.varm'):
            if where in f and isinstance(f[where], h5py.Group):
                for k, v in f[where].items():
                    if isinstance(v, h5py.Dataset) and v.dtype.names is None: out[k] = v[()]
            elif where in f and isinstance(f[where], h5py.Dataset) and f[where].dtype.names:
                ds = f[where][()]
                for k in ds.dtype.names: out[k] = np.asarray(ds[k])
    return out

def from_expected(e, path):
    m = lambda x: None if x is None else np.array(x['dense'], dtype=x['dtype'] if x['dtype'] != 'bool' else bool)
    raw = None
    if e.get('raw'):
        raw = {'var': exp_frame(e['raw']['var']), 'X': m(e['raw'].get('X')), 'varm': raw_varm_h5(path)}
    return {'obs': exp_frame(e['obs']), 'var': exp_frame(e['var']), 'X': m(e.get('X')),
            'layers': {k: m(v) for k, v in e.get('layers', {}).items()},
            'obsm': {k: np.array(v['values'], dtype=v['dtype']).reshape(v['shape']) for k, v in e.get('obsm', {}).items()},
            'varm': {k: np.array(v['values'], dtype=v['dtype']).reshape(v['shape']) for k, v in e.get('varm', {}).items()}, 'raw': raw}

# dtype names of the two references, in one vocabulary
DT = {'object': 'string', 'string': 'string', 'boolean': 'nullable-bool', 'nullable-string': 'string'}
DT.update({t: 'nullable-int' for t in ('Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64')})
def norm_dtype(d): return DT.get(d, d)

def same_values(a, b):
    if len(a) != len(b): return False
    for x, y in zip(a, b):
        if x is None or y is None:
            if not (x is None and y is None): return False
        elif isinstance(x, float) or isinstance(y, float):
            if not (float(x) == float(y)): return False
        elif x != y: return False
    return True

def cmp_frame(where, got, ref, problems, notes, extra=()):
    if got['index'] != ref['index']: problems.append(f'{where}: index differs')
    for name, r in ref['columns'].items():
        g = got['columns'].get(name)
        if g is None: problems.append(f'{where}/{name}: missing in the export'); continue
        if not same_values(g['values'], r['values']): problems.append(f'{where}/{name}: values differ: {g["values"][:5]} vs {r["values"][:5]}')
        gd, rd = norm_dtype(g['dtype']), norm_dtype(r['dtype'])
        if gd != rd:
            notes.append(f'{where}/{name}: {rd} -> {gd}')
        if rd == 'category' and gd == 'category':
            if g['categories'] != r['categories'] or g['ordered'] != r['ordered']: problems.append(f'{where}/{name}: categories differ {g["categories"]} vs {r["categories"]}')
    for name in got['columns']:
        if name not in ref['columns'] and name not in extra: problems.append(f'{where}/{name}: unexpected column')

def cmp_array(where, g, r, problems, notes):
    if g is None or r is None:
        if (g is None) != (r is None): problems.append(f'{where}: present in one only')
        return
    if g.shape != r.shape: problems.append(f'{where}: shape {g.shape} vs {r.shape}'); return
    if not np.array_equal(g.astype(np.float64), r.astype(np.float64), equal_nan=True): problems.append(f'{where}: values differ')
    if g.dtype != r.dtype: notes.append(f'{where}: {r.dtype} -> {g.dtype}')

def compare(got, ref):
    problems, notes = [], []
    cmp_frame('obs', got['obs'], ref['obs'], problems, notes, extra=('dataset', 'cellar_run_uid'))
    cmp_frame('var', got['var'], ref['var'], problems, notes)
    cmp_array('X', got['X'], ref['X'], problems, notes)
    for axis in ('layers', 'obsm', 'varm'):
        if set(got[axis]) != set(ref[axis]): problems.append(f'{axis}: keys {sorted(got[axis])} vs {sorted(ref[axis])}')
        for k in ref[axis]:
            if k in got[axis]: cmp_array(f'{axis}/{k}', got[axis][k], ref[axis][k], problems, notes)
    if (got['raw'] is None) != (ref['raw'] is None): problems.append('raw present in one only')
    elif ref['raw']:
        cmp_frame('raw/var', got['raw']['var'], ref['raw']['var'], problems, notes)
        cmp_array('raw/X', got['raw']['X'], ref['raw']['X'], problems, notes)
        if set(got['raw']['varm']) != set(ref['raw']['varm']): problems.append(f'raw/varm: keys {sorted(got["raw"]["varm"])} vs {sorted(ref["raw"]["varm"])}')
        for k in ref['raw']['varm']:
            if k in got['raw']['varm']: cmp_array(f'raw/varm/{k}', got['raw']['varm'][k], ref['raw']['varm'][k], problems, notes)
    return problems, notes

results = {}
for orig, export, expected in json.loads(sys.argv[1]):
    got = from_anndata(ad.read_h5ad(export), export)
    res = {}
    p, n = compare(got, from_expected(json.load(open(expected)), orig))
    res['expected'] = {'problems': p, 'notes': n}
    try:
        a = ad.read_h5ad(orig)
    except Exception as ex:
        res['anndata'] = {'unreadable': f'{type(ex).__name__}: {str(ex)[:120]}'}
    else:
        ref = from_anndata(a, orig)
        ref['obsm'] = {k: v for k, v in ref['obsm'].items()}
        p, n = compare(got, ref)
        res['anndata'] = {'problems': p, 'notes': n}
    results[orig.split('/')[-1]] = res
print(json.dumps(results))
`;

interface Comparison {
  problems?: string[];
  notes?: string[];
  unreadable?: string;
}

let root: string;
let registry: Registry;
let results: Record<string, { expected: Comparison; anndata: Comparison }>;
const failures: Record<string, string> = {};
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.h5ad') && !NOT_A_STORE.has(f)).sort();

beforeAll(async () => {
  root = tempDir('export-roundtrip');
  const home = join(root, 'home');
  registry = openRegistry(home);
  const triples: [string, string, string][] = [];
  for (const f of fixtures) {
    const name = f.replace(/\.h5ad$/, '');
    const out = join(root, `${name}.export.h5ad`);
    try {
      await importFiles({ registry, home, files: [join(FIXTURES, f)], collectionKey: `c-${name}` });
      await concatenateCollection({ registry, home, collectionKey: `c-${name}`, storeKey: `s-${name}` });
      await exportQueryToH5ad({ registry, storeKey: `s-${name}`, out });
    } catch (err) {
      failures[f] = (err as Error).message;
      continue;
    }
    triples.push([join(FIXTURES, f), out, join(FIXTURES, `${name}.expected.json`)]);
  }
  results = runPythonJson(COMPARE, [JSON.stringify(triples)], 300_000);
}, 600_000);

afterAll(() => {
  registry?.close();
  removeDir(root);
});

describe('query --out writes a complete h5ad that anndata reads back', () => {
  it.each(fixtures)('%s: every element equals the fixture\'s values', (f) => {
    expect(failures[f]).toBeUndefined();
    const r = results[f]!;
    expect(r.expected.problems).toEqual([]);
    expect(r.expected.notes!.filter((n) => !EXPECTED_NOTES.test(n))).toEqual([]);
    if (r.anndata.unreadable === undefined) {
      expect(r.anndata.problems).toEqual([]);
      expect(r.anndata.notes!.filter((n) => !EXPECTED_NOTES.test(n))).toEqual([]);
    }
  });

  it('compares with anndata reading the original wherever anndata 0.8 can read it', () => {
    const readable = fixtures.filter((f) => results[f]!.anndata.unreadable === undefined);
    expect(readable.length).toBeGreaterThanOrEqual(fixtures.length - 7);
    expect(readable).toEqual(expect.arrayContaining(['raw.h5ad', 'legacy_v07.h5ad', 'x_csc_float64.h5ad', 'x_dense_int32.h5ad']));
  });

  it('small exports are small: chunks are sized to the data', () => {
    const size = statSync(join(root, 'one_cell.export.h5ad')).size;
    expect(size).toBeLessThan(64 * 1024);
  });
});
