// Issue 4 acceptance, `cellar embed` and `cellar annotate` (SPEC §4 "Add embedding",
// "Annotate", §7): embeddings imported from .npy and CSV (row order or obs_id keyed)
// land in obsm with their exact values; a table of the wrong length or with unknown ids
// is refused and nothing is written; a seeded PCA is reproducible, and --normalize with
// --genes agrees with the same preprocessing and PCA done in numpy. Annotation adds
// columns with NA for cells it does not name, and refuses unknown ids and reserved columns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/main/engine/store/store-reader';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

const N = 220;

/**
 * e1 (120 cells) and e2 (100 cells), 50 genes; four cell types with their own gene
 * programs and library sizes that vary 4-fold, so --normalize changes the result.
 * Also the embedding tables: emb.npy (N × 3 float32), emb_rows.csv (header, no ids),
 * emb_ids.csv (obs_id first, shuffled rows), short.npy (100 rows), emb_unknown.csv.
 */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
ad.AnnData.strings_to_categoricals = lambda self, df=None: None
rng = np.random.default_rng(21)
TYPES = ['T', 'B', 'NK', 'Mono']
genes = [f'g{i}' for i in range(50)]
ids = []
for name, n, prefix in (('e1.h5ad', 120, 'e1c'), ('e2.h5ad', 100, 'e2c')):
    ct = rng.choice(TYPES, n)
    rate = np.full((n, len(genes)), 0.4)
    for t_i, t in enumerate(TYPES):
        program = [j for j in range(len(genes)) if j % 5 == t_i]
        rate[np.ix_(np.where(ct == t)[0], program)] = 5.0 + t_i
    rate *= rng.uniform(0.5, 2.0, size=(n, 1))
    X = sp.csr_matrix(rng.poisson(rate).astype(np.float32))
    obs = pd.DataFrame(index=[f'{prefix}{i}' for i in range(n)])
    obs['cell_type'] = pd.Categorical(ct, categories=TYPES)
    obs['donor'] = rng.choice(['d1', 'd2'], n).astype(object)
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes), dtype=np.float32).write_h5ad(os.path.join(out, name))
    ids += list(obs.index)

N = len(ids)
emb = (rng.normal(size=(N, 3)) * 10).astype(np.float32)
np.save(os.path.join(out, 'emb.npy'), emb)
rows = rng.normal(size=(N, 2)).round(6)
with open(os.path.join(out, 'emb_rows.csv'), 'w') as f:
    f.write('u1,u2\n')
    for r in rows: f.write(f'{r[0]!r},{r[1]!r}\n')
keyed = rng.normal(size=(N, 2)).round(6)
order = rng.permutation(N)
with open(os.path.join(out, 'emb_ids.csv'), 'w') as f:
    f.write('obs_id,k1,k2\n')
    for i in order: f.write(f'{ids[i]},{keyed[i, 0]!r},{keyed[i, 1]!r}\n')
with open(os.path.join(out, 'emb_unknown.csv'), 'w') as f:
    f.write('obs_id,k1\n')
    for i in range(N): f.write(f'{"ghost" + str(i) if i in (3, 7) else ids[i]},{i}\n')
np.save(os.path.join(out, 'short.npy'), emb[:100])
print(json.dumps({'ids': ids, 'emb': emb.astype(np.float64).tolist(), 'rows': rows.tolist(), 'keyed': keyed.tolist()}))
`;

/** The reference for --pca 3 --normalize --genes 15: the same preprocessing and a dense SVD. */
const REFERENCE_PCA = String.raw`
import sys, json
import numpy as np, anndata as ad
a = ad.read_h5ad(sys.argv[1])
X = np.asarray(a.X.toarray() if hasattr(a.X, 'toarray') else a.X, dtype=np.float64)
X = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e4)
var = X.var(axis=0)
top = np.sort(np.argsort(-var, kind='stable')[:15])
Y = X[:, top] - X[:, top].mean(axis=0)
u, s, vt = np.linalg.svd(Y, full_matrices=False)
ref = u[:, :3] * s[:3]
def corr(name, k):
    ours = np.asarray(a.obsm[name], dtype=np.float64)
    return [abs(float(np.corrcoef(ours[:, c], ref[:, c])[0, 1])) for c in range(k)]
plain = np.asarray(a.X.toarray(), dtype=np.float64)
pu, ps, pvt = np.linalg.svd(plain - plain.mean(axis=0), full_matrices=False)
plain_ref = pu[:, :3] * ps[:3]
ours_plain = np.asarray(a.obsm['seeded_a'], dtype=np.float64)
print(json.dumps({
    'top_genes': [int(i) for i in top],
    'normalized_corr': corr('pn', 3),
    'plain_corr': [abs(float(np.corrcoef(ours_plain[:, c], plain_ref[:, c])[0, 1])) for c in range(3)],
    'obsm': {k: list(np.asarray(v).shape) for k, v in a.obsm.items()},
}))
`;

interface Inputs {
  ids: string[];
  emb: number[][];
  rows: number[][];
  keyed: number[][];
}
interface ErrorJson {
  error: { code: string; message: string; problems: string[] };
}
interface EmbedJson {
  store: { version: number; n_observations: number };
  embedding: { name: string; shape: number[]; explained_variance_ratio?: number[] };
}

let root: string;
let home: string;
let inputs: string;
let storeDir: string;
let data: Inputs;
const h = () => ({ home });
const file = (name: string) => join(inputs, name);

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function expectRefused(r: CellarResult, code: string, message: RegExp): ErrorJson['error'] {
  expect(r.code, r.stderr).toBe(1);
  const { error } = r.json as ErrorJson;
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(firstLine(r.stderr)).toBe(error.message);
  expect(r.stderr).not.toContain('    at ');
  return error;
}

function storeFiles(): Record<string, string> {
  const snap = snapshotTree(storeDir);
  delete snap['.lock'];
  return snap;
}

/** obsm of the latest version, as rows of plain numbers. */
async function readObsm(name: string): Promise<{ shape: number[]; rows: number[][] }> {
  const reader = openStore(storeDir);
  try {
    const m = await reader.readObsm('RNA', name);
    const [n, k] = m.shape;
    const values = Array.from(m.values as ArrayLike<number>, Number);
    return { shape: [n, k], rows: Array.from({ length: n }, (_, i) => values.slice(i * k, (i + 1) * k)) };
  } finally {
    reader.close();
  }
}

beforeAll(() => {
  root = tempDir('wf-embed');
  home = join(root, 'home');
  inputs = join(root, 'in');
  data = runPythonJson<Inputs>(MAKE_INPUTS, [inputs]);
  ok(cellar(['import', file('e1.h5ad'), file('e2.h5ad'), '--collection', 'pair'], h()));
  const made = ok(cellar(['concat', '--collection', 'pair', '--store', 'cells', '--json'], h())) as { store: { uid: string } };
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
}, 120_000);

afterAll(() => removeDir(root));

describe('embed --from a file', () => {
  it('a .npy lands in obsm with its exact values, named after the file', async () => {
    const r = ok(cellar(['embed', '--store', 'cells', '--from', file('emb.npy'), '--json'], h())) as EmbedJson;
    expect(r).toMatchObject({ store: { version: 2, n_observations: N }, embedding: { name: 'emb', shape: [N, 3] } });
    const got = await readObsm('emb');
    expect(got.shape).toEqual([N, 3]);
    // float32 in the file: compare at float32 precision.
    expect(got.rows.map((row) => row.map(Math.fround))).toEqual(data.emb.map((row) => row.map(Math.fround)));
  });

  it('a CSV without ids is taken in row order', async () => {
    const r = ok(cellar(['embed', '--store', 'cells', '--from', file('emb_rows.csv'), '--name', 'rows', '--json'], h())) as EmbedJson;
    expect(r).toMatchObject({ store: { version: 3 }, embedding: { name: 'rows', shape: [N, 2] } });
    expect((await readObsm('rows')).rows).toEqual(data.rows);
  });

  it('a CSV with an obs_id column is matched to the cells by id, whatever its row order', async () => {
    const r = ok(cellar(['embed', '--store', 'cells', '--from', file('emb_ids.csv'), '--name', 'keyed', '--json'], h())) as EmbedJson;
    expect(r).toMatchObject({ store: { version: 4 }, embedding: { name: 'keyed', shape: [N, 2] } });
    expect((await readObsm('keyed')).rows).toEqual(data.keyed);
    // The earlier embeddings are still there, unchanged.
    expect((await readObsm('rows')).rows).toEqual(data.rows);
  });

  it('the wrong number of rows, or ids the store does not know, are refused and nothing is written', () => {
    const before = storeFiles();
    const short = expectRefused(cellar(['embed', '--store', 'cells', '--from', file('short.npy'), '--json'], h()), 'shape_mismatch', /short\.npy has 100 rows but the store cells has 220 cells/);
    expect(short.problems ?? []).toEqual([]);
    const unknown = expectRefused(cellar(['embed', '--store', 'cells', '--from', file('emb_unknown.csv'), '--json'], h()), 'id_mismatch', /2 row id\(s\) of emb_unknown\.csv are not obs_ids of the store/);
    expect(unknown.problems).toEqual(['unknown obs_id: ghost3', 'unknown obs_id: ghost7']);
    expect(storeFiles()).toEqual(before);
    const versions = ok(cellar(['versions', '--store', 'cells', '--json'], h())) as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
  });
});

describe('embed --pca', () => {
  let first: EmbedJson;
  let second: EmbedJson;
  let normalized: EmbedJson;
  let reference: { top_genes: number[]; normalized_corr: number[]; plain_corr: number[]; obsm: Record<string, number[]> };

  beforeAll(() => {
    first = ok(cellar(['embed', '--store', 'cells', '--pca', '3', '--seed', '5', '--name', 'seeded_a', '--json'], h())) as EmbedJson;
    second = ok(cellar(['embed', '--store', 'cells', '--pca', '3', '--seed', '5', '--name', 'seeded_b', '--json'], h())) as EmbedJson;
    normalized = ok(cellar(['embed', '--store', 'cells', '--pca', '3', '--normalize', '--genes', '15', '--name', 'pn', '--json'], h())) as EmbedJson;
    ok(cellar(['query', '--store', 'cells', '--out', join(root, 'latest.h5ad'), '--json'], h()));
    reference = runPythonJson(REFERENCE_PCA, [join(root, 'latest.h5ad')]);
  }, 180_000);

  it('the same seed gives the same PCA, value for value', async () => {
    expect(first.store.version).toBe(5);
    expect(second.store.version).toBe(6);
    expect(second.embedding.explained_variance_ratio).toEqual(first.embedding.explained_variance_ratio);
    const a = await readObsm('seeded_a');
    const b = await readObsm('seeded_b');
    expect(a.shape).toEqual([N, 3]);
    expect(b.rows).toEqual(a.rows);
    // Four cell types: three strong components, agreeing with numpy on the raw counts.
    for (const r of reference.plain_corr) expect(r).toBeGreaterThanOrEqual(0.99);
  });

  it('--normalize --genes 15 agrees with log1p(10,000-scaled counts) on the 15 most variable genes', () => {
    expect(normalized).toMatchObject({ store: { version: 7 }, embedding: { name: 'pn', shape: [N, 3] } });
    for (const r of reference.normalized_corr) expect(r).toBeGreaterThanOrEqual(0.99);
    expect(reference.obsm).toEqual({ emb: [N, 3], rows: [N, 2], keyed: [N, 2], seeded_a: [N, 3], seeded_b: [N, 3], pn: [N, 3] });
  });

  it('stores loadings for exactly the genes it used (zeros elsewhere)', async () => {
    const reader = openStore(storeDir);
    try {
      const loadings = await reader.readVarm('RNA', 'pn_loadings');
      expect(loadings.shape).toEqual([50, 3]);
      const used: number[] = [];
      for (let g = 0; g < 50; g++) {
        let any = false;
        for (let c = 0; c < 3; c++) if (Number(loadings.values[g * 3 + c]) !== 0) any = true;
        if (any) used.push(g);
      }
      expect(used).toEqual(reference.top_genes);
    } finally {
      reader.close();
    }
  });
});

describe('annotate', () => {
  it('adds columns; cells the table does not name get NA; a replaced column is flagged', () => {
    const csv = join(root, 'labels.csv');
    writeFileSync(csv, 'obs_id,cluster,score,donor\ne1c0,c1,0.5,dX\ne1c1,c2,1.5,dY\ne2c3,c1,,dZ\n');
    const r = ok(cellar(['annotate', '--store', 'cells', '--from', csv, '--json'], h())) as {
      store: { version: number };
      columns: { name: string; dtype: string; replaced: boolean }[];
      n_matched: number;
      n_missing: number;
    };
    expect(r.store.version).toBe(8);
    expect(r.columns).toEqual([
      { name: 'cluster', dtype: 'category', replaced: false },
      { name: 'score', dtype: 'float64', replaced: false },
      { name: 'donor', dtype: 'category', replaced: true },
    ]);
    expect(r.n_matched).toBe(3);
    expect(r.n_missing).toBe(N - 3);
    const q = cellar(['query', '--store', 'cells', '--obs', 'notna(cluster) or obs_id in ["e1c2", "e2c99"]', '--format', 'json'], h());
    expect(q.code, q.stderr).toBe(0);
    const rows = (JSON.parse(q.stdout) as { obs_id: string; cluster: string | null; score: number | null; donor: string | null; cell_type: string }[]).map((o) => [o.obs_id, o.cluster, o.score, o.donor]);
    expect(rows).toEqual([
      ['e1c0', 'c1', 0.5, 'dX'],
      ['e1c1', 'c2', 1.5, 'dY'],
      ['e1c2', null, null, null],
      ['e2c3', 'c1', null, 'dZ'],
      ['e2c99', null, null, null],
    ]);
  });

  it('the version before the annotation does not have the columns', () => {
    const q = cellar(['query', '--store', 'cells', '--version', '7', '--obs', 'notna(cluster)', '--format', 'json'], h());
    expect(q.code).toBe(1);
    expect(firstLine(q.stderr)).toMatch(/cluster/);
  });

  it('refuses ids the store does not know, listing them, and reserved columns; nothing is written', () => {
    const before = storeFiles();
    const unknownCsv = join(root, 'unknown.csv');
    writeFileSync(unknownCsv, 'obs_id,cluster\ne1c0,a\nnope1,b\nnope2,c\n');
    const unknown = expectRefused(cellar(['annotate', '--store', 'cells', '--from', unknownCsv, '--json'], h()), 'id_mismatch', /2 obs_ids in unknown\.csv are not in the store cells/);
    expect(unknown.problems).toEqual(['unknown obs_id: nope1', 'unknown obs_id: nope2']);
    const reservedCsv = join(root, 'reserved.csv');
    writeFileSync(reservedCsv, 'obs_id,dataset,label\ne1c0,5,x\n');
    expectRefused(cellar(['annotate', '--store', 'cells', '--from', reservedCsv, '--json'], h()), 'bad_element', /reserved\.csv would replace dataset, which Cellar maintains itself/);
    expect(storeFiles()).toEqual(before);
    const versions = ok(cellar(['versions', '--store', 'cells', '--json'], h())) as { version: number }[];
    expect(versions[0]!.version).toBe(8);
  });
});
