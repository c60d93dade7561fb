// The other formats in the whole workflow, through the real CLI: a 10x v3 .h5 and an h5ad
// written by Debian's anndata are imported and concatenated; a 10x Matrix Market folder is
// appended; then a 10x v2 .h5, a v2 folder (named by its matrix.mtx) and a loom file. After
// each step the store is exported with `cellar query --out` and read back with anndata:
// every X value, the obs index and the var ids and symbols must equal what h5py / scipy
// read from the inputs. The registry records each input with its own suffix and a
// lamindb-compatible hash (md5 per file; md5-d over a folder's three files).
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, removeDir, REPO_ROOT, tempDir, type CellarResult } from './helpers/cellar';
import { readReference, type ReferenceSource } from './helpers/format-reference';
import { runPythonJson } from './helpers/python';

const FORMATS = join(REPO_ROOT, 'tests', 'fixtures', 'formats');

/** An h5ad whose genes overlap the 10x file's (ENSG…106–109) and add six of its own; prints what it holds. */
const MAKE_H5AD = String.raw`
import sys, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
rng = np.random.default_rng(1)
genes = [f"ENSG{100 + i:011d}" for i in range(6, 16)]
X = sp.random(7, len(genes), density=0.4, format='csr', random_state=rng, dtype=np.float32)
X.data = np.ceil(X.data * 9).astype(np.float32)
obs = pd.DataFrame(index=[f"h5ad_cell_{i}" for i in range(7)])
var = pd.DataFrame(index=genes)
var['gene_symbols'] = [f"SYM{i}" for i in range(6, 16)]
ad.AnnData(X=X, obs=obs, var=var, dtype=np.float32).write_h5ad(sys.argv[1])
print(json.dumps({'cells': list(obs.index), 'ids': genes, 'symbols': list(var['gene_symbols']), 'X': X.toarray().tolist()}))
`;

/** Reads an export with anndata: obs and var indexes, var gene_symbols (None for NA), dense X. */
const READ_EXPORT = String.raw`
import sys, json
import numpy as np, pandas as pd, anndata as ad
a = ad.read_h5ad(sys.argv[1])
sym = a.var['gene_symbols'] if 'gene_symbols' in a.var else pd.Series([None] * a.n_vars)
X = a.X.toarray() if hasattr(a.X, 'toarray') else np.asarray(a.X)
print(json.dumps({'obs': list(a.obs_names), 'var': list(a.var_names), 'symbols': [None if pd.isna(v) else str(v) for v in sym],
                  'X': X.tolist(), 'dtype': str(X.dtype), 'dataset': [int(v) for v in a.obs['dataset']]}))
`;

/** lamindb's hashes of the inputs: md5 of a file; md5-d of a folder's files (md5 of each file hash's md5, sorted). */
const LAMIN_HASHES = String.raw`
import sys, json, hashlib, base64, os
def b64(d): return base64.urlsafe_b64encode(d).decode().rstrip('=')[:22]
def file_hash(p): return b64(hashlib.md5(open(p, 'rb').read()).digest())
out = {}
for p in sys.argv[1:]:
    if os.path.isdir(p):
        hashes = sorted(file_hash(os.path.join(p, n)) for n in os.listdir(p))
        out[p] = {'hash': b64(hashlib.md5(b''.join(hashlib.md5(h.encode()).digest() for h in hashes)).digest()), 'size': sum(os.path.getsize(os.path.join(p, n)) for n in os.listdir(p))}
    else:
        out[p] = {'hash': file_hash(p), 'size': os.path.getsize(p)}
print(json.dumps(out))
`;

interface Source {
  cells: string[];
  ids: string[];
  /** null: the source has no symbol column (loom's is named Gene). */
  symbols: string[] | null;
  X: number[][];
}

interface Exported {
  obs: string[];
  var: string[];
  symbols: (string | null)[];
  X: number[][];
  dtype: string;
  dataset: number[];
}

/** What concatenating the sources must give: cells in order, genes in first-seen order, the first source's symbol. */
function expectedStore(sources: Source[]): { obs: string[]; var: string[]; symbols: (string | null)[]; X: number[][]; dataset: number[] } {
  const position = new Map<string, number>();
  const symbols: (string | null)[] = [];
  for (const s of sources) {
    s.ids.forEach((id, j) => {
      if (position.has(id)) return;
      position.set(id, position.size);
      symbols.push(s.symbols ? s.symbols[j]! : null);
    });
  }
  const X: number[][] = [];
  const dataset: number[] = [];
  sources.forEach((s, d) => {
    for (const row of s.X) {
      const out = new Array<number>(position.size).fill(0);
      row.forEach((v, j) => (out[position.get(s.ids[j]!)!] = v));
      X.push(out);
      dataset.push(d);
    }
  });
  return { obs: sources.flatMap((s) => s.cells), var: [...position.keys()], symbols, X, dataset };
}

function ok(r: CellarResult): CellarResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

let root: string;
let home: string;
let ref: Record<string, ReferenceSource>;
let h5ad: Source;
const exports: Exported[] = [];
const appendPlans: { dropped: { element: string; name: string; detail: string }[] }[] = [];
let artifacts: { key: string; suffix: string; hash: string; hash_type: string; n_files: number; size: number; n_observations: number; storage_path: string }[];
let hashes: Record<string, { hash: string; size: number }>;

const TENX_V3 = join(FORMATS, 'tenx_v3.h5');
const TENX_V2 = join(FORMATS, 'tenx_v2.h5');
const MTX_V3 = join(FORMATS, 'mtx_v3');
const MTX_V2 = join(FORMATS, 'mtx_v2');
const LOOM = join(FORMATS, 'loom3.loom');

function exportStore(name: string): Exported {
  const out = join(root, `${name}.h5ad`);
  ok(cellar(['query', '--store', 'cells', '--out', out], { home }));
  return runPythonJson<Exported>(READ_EXPORT, [out]);
}

beforeAll(() => {
  root = tempDir('formats-workflow');
  home = join(root, 'home');
  const h5adPath = join(root, 'cells.h5ad');
  h5ad = runPythonJson<Source>(MAKE_H5AD, [h5adPath]);
  ref = readReference({
    tenx_v3: { kind: '10x-h5', path: TENX_V3 },
    tenx_v2: { kind: '10x-h5', path: TENX_V2 },
    mtx_v3: { kind: 'mtx', path: MTX_V3 },
    mtx_v2: { kind: 'mtx', path: MTX_V2 },
    loom: { kind: 'loom', path: LOOM },
  });
  hashes = runPythonJson(LAMIN_HASHES, [TENX_V3, TENX_V2, MTX_V3, MTX_V2, LOOM, h5adPath]);

  ok(cellar(['import', TENX_V3, h5adPath, '--collection', 'mixed'], { home }));
  ok(cellar(['concat', '--collection', 'mixed', '--store', 'cells'], { home }));
  exports.push(exportStore('v1'));
  appendPlans.push((ok(cellar(['append', '--store', 'cells', MTX_V3, '--json'], { home })).json as { plan: (typeof appendPlans)[number] }).plan);
  exports.push(exportStore('v2'));
  appendPlans.push((ok(cellar(['append', '--store', 'cells', TENX_V2, join(MTX_V2, 'matrix.mtx'), LOOM, '--json'], { home })).json as { plan: (typeof appendPlans)[number] }).plan);
  exports.push(exportStore('v3'));

  const db = new Database(join(home, 'registry.sqlite'), { readonly: true });
  try {
    artifacts = db.prepare("SELECT key, suffix, hash, hash_type, n_files, size, n_observations, storage_path FROM artifact WHERE kind = 'h5ad' ORDER BY id").all() as typeof artifacts;
  } finally {
    db.close();
  }
}, 300_000);

afterAll(() => removeDir(root));

const tenx = (name: string): Source => ({ cells: ref[name]!.cells, ids: ref[name]!.ids, symbols: ref[name]!.symbols, X: ref[name]!.X });

describe('a 10x .h5 concatenated with an h5ad', () => {
  it('every X value, the cell ids, the gene ids and symbols equal what h5py and anndata read from the inputs', () => {
    const want = expectedStore([tenx('tenx_v3'), h5ad]);
    const got = exports[0]!;
    expect(got.obs).toEqual(want.obs);
    expect(got.var).toEqual(want.var);
    expect(got.symbols).toEqual(want.symbols);
    expect(got.X).toEqual(want.X);
    expect(got.dataset).toEqual(want.dataset);
    // The antibodies are not genes of the store.
    expect(got.var.some((id) => id.includes('TotalSeq'))).toBe(false);
    expect([got.obs.length, got.var.length]).toEqual([19, 16]);
  });
});

describe('appending a Matrix Market folder', () => {
  it('adds its cells and genes with their values; its Antibody Capture features are listed as dropped', () => {
    const want = expectedStore([tenx('tenx_v3'), h5ad, tenx('mtx_v3')]);
    const got = exports[1]!;
    expect(got.obs).toEqual(want.obs);
    expect(got.var).toEqual(want.var);
    expect(got.symbols).toEqual(want.symbols);
    expect(got.X).toEqual(want.X);
    expect(appendPlans[0]!.dropped.filter((d) => d.element === 'features')).toEqual([
      { element: 'features', name: 'Antibody Capture', detail: '2 Antibody Capture features (CD4_TotalSeqB, CD8_TotalSeqB): only Gene Expression features become X (mtx_v3)' },
    ]);
  });
});

describe('appending a 10x v2 .h5, a v2 folder and a loom file', () => {
  it('every value of every input is in the store; loom genes keep their symbols (row attribute Gene) in the store\'s symbol column', () => {
    const loom: Source = { cells: ref.loom!.cells, ids: ref.loom!.ids, symbols: ref.loom!.symbols, X: ref.loom!.X };
    const want = expectedStore([tenx('tenx_v3'), h5ad, tenx('mtx_v3'), tenx('tenx_v2'), tenx('mtx_v2'), loom]);
    const got = exports[2]!;
    expect(got.obs).toEqual(want.obs);
    expect(got.var).toEqual(want.var);
    expect(got.symbols).toEqual(want.symbols);
    expect(got.X).toEqual(want.X);
    expect(got.dataset).toEqual(want.dataset);
    // loom's one non-integer value survives (the store keeps float values exactly).
    expect(got.X.flat()).toContain(2.5);
    expect(got.dtype).toBe('float32');
    expect(appendPlans[1]!.dropped.map((d) => [d.element, d.name])).toEqual(expect.arrayContaining([['graphs', 'col_graphs/knn'], ['layers', 'spliced']]));
  });
});

describe('the registry', () => {
  it('records each input with its own suffix and lamindb hash; a folder as three files', () => {
    const rows = artifacts.map((a) => [a.key, a.suffix, a.hash_type, a.n_files, a.n_observations]);
    expect(rows).toEqual([
      ['tenx_v3.h5', '.h5', 'md5', 1, 12],
      ['cells.h5ad', '.h5ad', 'md5', 1, 7],
      ['mtx_v3', '.mtx', 'md5-d', 3, 15],
      ['tenx_v2.h5', '.h5', 'md5', 1, 9],
      ['mtx_v2', '.mtx', 'md5-d', 3, 8],
      ['loom3.loom', '.loom', 'md5', 1, 11],
    ]);
    const paths = [TENX_V3, join(root, 'cells.h5ad'), MTX_V3, TENX_V2, MTX_V2, LOOM];
    expect(artifacts.map((a) => [a.hash, a.size])).toEqual(paths.map((p) => [hashes[p]!.hash, hashes[p]!.size]));
  });

  it('a folder copied into the home holds its three files under their standard names, and its copy hashes the same', () => {
    const folder = artifacts.find((a) => a.key === 'mtx_v3')!;
    // Paths inside the home are stored relative to it.
    const copy = resolve(home, folder.storage_path);
    expect(readdirSync(copy).sort()).toEqual(['barcodes.tsv.gz', 'features.tsv.gz', 'matrix.mtx.gz']);
    const again = runPythonJson<Record<string, { hash: string }>>(LAMIN_HASHES, [copy]);
    expect(again[copy]!.hash).toBe(folder.hash);
    const r = ok(cellar(['inspect', copy, '--json'], { home }));
    expect((r.json as { n_obs: number }).n_obs).toBe(15);
  });

  it('importing the same folder again finds the artifact already registered', () => {
    const r = ok(cellar(['import', MTX_V3, '--collection', 'again', '--json'], { home }));
    expect((r.json as { artifacts: { key: string; existing: boolean }[] }).artifacts).toEqual([expect.objectContaining({ key: 'mtx_v3', existing: true })]);
  });
});
