// Issue 4 acceptance, the seed workflow end to end through the real CLI: import three
// h5ad files, concatenate them into a store, append a fourth (new genes, a new
// category), add a 2-component PCA; then the store has three versions, version 1 still
// reads exactly as it did before the append, the latest equals anndata.concat of the
// four files, the PCA agrees with numpy's, and lineage links files → runs → versions.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';
import { makeSeedInputs, SEED_CELLS, SEED_CONCAT_CELLS, SEED_GENES, SEED_NEW_GENES } from './helpers/workflow-inputs';

/** Compares the exports with each other and with what anndata and numpy make of the inputs. */
const COMPARE = String.raw`
import sys, json
import numpy as np, pandas as pd, anndata as ad
inputs, v1_before, v1_after, latest_path = sys.argv[1:5]

def dense(m):
    return np.asarray(m.toarray() if hasattr(m, 'toarray') else m, dtype=np.float64)

def frame_diff(a, b):
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        return None
    except AssertionError as e:
        return str(e)[:500]

before, after = ad.read_h5ad(v1_before), ad.read_h5ad(v1_after)
v1 = {
    'shape': [list(before.shape), list(after.shape)],
    'obs': frame_diff(before.obs, after.obs),
    'var': frame_diff(before.var, after.var),
    'X_equal': bool(np.array_equal(dense(before.X), dense(after.X))),
    'X_nnz': int((dense(before.X) != 0).sum()),
    'obsm': [sorted(before.obsm.keys()), sorted(after.obsm.keys())],
}

files = [ad.read_h5ad(f'{inputs}/s{i}.h5ad') for i in (1, 2, 3, 4)]
ref = ad.concat(files, join='outer', fill_value=0)
latest = ad.read_h5ad(latest_path)
genes = list(latest.var_names)
X = dense(latest.X)
old_cells = latest.obs['dataset'].to_numpy() < 3
new_genes = latest.var_names.isin(${JSON.stringify(SEED_NEW_GENES)})

# Reference PCA: dense centred SVD of the same matrix.
centred = X - X.mean(axis=0)
u, s, vt = np.linalg.svd(centred, full_matrices=False)
ref_scores = u[:, :2] * s[:2]
ours = np.asarray(latest.obsm['pca'], dtype=np.float64)
corr = [abs(float(np.corrcoef(ours[:, c], ref_scores[:, c])[0, 1])) for c in range(2)]

print(json.dumps({
    'v1': v1,
    'latest': {
        'obs_names_equal': list(latest.obs_names) == list(ref.obs_names),
        'var_names': genes,
        'ref_var_names_sorted': sorted(ref.var_names),
        'X_max_abs_diff': float(np.abs(X - dense(ref[:, genes].X)).max()),
        'X_nnz': int((X != 0).sum()),
        'old_cells_at_new_genes_nnz': int((X[np.ix_(old_cells, new_genes)] != 0).sum()),
        'new_cells_at_new_genes_nnz': int((X[np.ix_(~old_cells, new_genes)] != 0).sum()),
        'cell_type_categories': [str(c) for c in latest.obs['cell_type'].cat.categories],
        'cell_type_equal': latest.obs['cell_type'].astype(str).tolist() == ref.obs['cell_type'].astype(str).tolist(),
        'n_counts_equal': latest.obs['n_counts'].tolist() == ref.obs['n_counts'].tolist(),
        'donor_equal': latest.obs['donor'].astype(str).tolist() == ref.obs['donor'].astype(str).tolist(),
        'n_mono': int((latest.obs['cell_type'] == 'Mono').sum()),
        'obsm': {k: list(np.asarray(v).shape) for k, v in latest.obsm.items()},
        'pca_corr': corr,
    },
}))
`;

interface Compare {
  v1: { shape: number[][]; obs: string | null; var: string | null; X_equal: boolean; X_nnz: number; obsm: string[][] };
  latest: {
    obs_names_equal: boolean;
    var_names: string[];
    ref_var_names_sorted: string[];
    X_max_abs_diff: number;
    X_nnz: number;
    old_cells_at_new_genes_nnz: number;
    new_cells_at_new_genes_nnz: number;
    cell_type_categories: string[];
    cell_type_equal: boolean;
    n_counts_equal: boolean;
    donor_equal: boolean;
    n_mono: number;
    obsm: Record<string, number[]>;
    pca_corr: number[];
  };
}

interface VersionRow {
  uid: string;
  version: number;
  is_latest: boolean;
  created_at: string;
  n_files: number;
  size: number;
  hash: string;
  n_observations: number;
  run: { uid: string; transform: string } | null;
}

interface StoreResult {
  store: { uid: string; key: string; version: number; n_observations: number; n_vars: number };
  run: { uid: string };
}

interface Lineage {
  nodes: { id: string; kind: 'artifact' | 'collection' | 'run' | 'export' | 'embedding'; label: string }[];
  edges: { from: string; to: string }[];
}

const N_ALL = SEED_CONCAT_CELLS + SEED_CELLS.s4;

let root: string;
let home: string;
let inputs: string;
let imported: { collection: { uid: string; key: string }; artifacts: { uid: string; key: string; n_observations: number }[] };
let concat: StoreResult;
let append: StoreResult;
let embed: StoreResult & { embedding: { name: string; shape: number[] } };
const h = () => ({ home });

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

beforeAll(() => {
  root = tempDir('wf-seed');
  home = join(root, 'home');
  inputs = join(root, 'in');
  const files = makeSeedInputs(inputs);
  imported = ok(cellar(['import', files.s1, files.s2, files.s3, '--collection', 'seed', '--json'], h())) as typeof imported;
  concat = ok(cellar(['concat', '--collection', 'seed', '--store', 'atlas', '--json'], h())) as StoreResult;
  // What version 1 reads right after it was written, to compare with later reads of it.
  ok(cellar(['query', '--store', 'atlas', '--out', join(root, 'v1-before.h5ad'), '--json'], h()));
  append = ok(cellar(['append', '--store', 'atlas', files.s4, '--json'], h())) as StoreResult;
  embed = ok(cellar(['embed', '--store', 'atlas', '--pca', '2', '--seed', '0', '--json'], h())) as typeof embed;
}, 180_000);

afterAll(() => removeDir(root));

describe('the seed workflow from the command line', () => {
  it('each step reports the store it made', () => {
    expect(imported.artifacts.map((a) => [a.key, a.n_observations])).toEqual([
      ['s1.h5ad', SEED_CELLS.s1],
      ['s2.h5ad', SEED_CELLS.s2],
      ['s3.h5ad', SEED_CELLS.s3],
    ]);
    expect(concat.store).toMatchObject({ key: 'atlas', version: 1, n_observations: SEED_CONCAT_CELLS, n_vars: SEED_GENES });
    expect(append.store).toMatchObject({ key: 'atlas', version: 2, n_observations: N_ALL, n_vars: SEED_GENES + SEED_NEW_GENES.length });
    expect(embed.store).toMatchObject({ key: 'atlas', version: 3, n_observations: N_ALL, n_vars: SEED_GENES + SEED_NEW_GENES.length });
    expect(embed.embedding).toMatchObject({ name: 'pca', shape: [N_ALL, 2] });
  });

  it('versions --json lists three versions, newest first, each with the run that made it', () => {
    const rows = ok(cellar(['versions', '--store', 'atlas', '--json'], h())) as VersionRow[];
    expect(rows.map((r) => r.version)).toEqual([3, 2, 1]);
    expect(rows.map((r) => r.is_latest)).toEqual([true, false, false]);
    expect(rows.map((r) => r.n_observations)).toEqual([N_ALL, N_ALL, SEED_CONCAT_CELLS]);
    expect(rows.map((r) => r.run?.transform)).toEqual(['embed', 'append', 'concatenate']);
    expect(rows.map((r) => r.run?.uid)).toEqual([embed.run.uid, append.run.uid, concat.run.uid]);
    expect(rows.map((r) => r.uid)).toEqual([embed.store.uid, append.store.uid, concat.store.uid]);
    // One stem, the next version suffix each time (SPEC §3 uids).
    expect(new Set(rows.map((r) => r.uid.slice(0, 16))).size).toBe(1);
    expect(rows.map((r) => r.uid.slice(16))).toEqual(['0002', '0001', '0000']);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(3);
    for (const r of rows) {
      expect(r.hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(r.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(Number.isNaN(Date.parse(r.created_at))).toBe(false);
      expect(r.size).toBeGreaterThan(0);
      expect(r.n_files).toBeGreaterThan(1);
    }
    const times = rows.map((r) => Date.parse(r.created_at));
    expect(times[0]).toBeGreaterThanOrEqual(times[1]!);
    expect(times[1]).toBeGreaterThanOrEqual(times[2]!);
    // --version takes a uid as well as a number.
    const byUid = cellar(['query', '--store', 'atlas', '--version', rows[2]!.uid, '--obs', 'cell_type == "Mono"', '--format', 'json'], h());
    expect(byUid.code, byUid.stderr).toBe(0);
    expect(JSON.parse(byUid.stdout)).toEqual([]);
    // Each version only adds files: the later ones are bigger.
    expect(rows[0]!.n_files).toBeGreaterThan(rows[1]!.n_files);
    expect(rows[1]!.n_files).toBeGreaterThan(rows[2]!.n_files);
  });

  describe('reading the versions back with anndata', () => {
    let cmp: Compare;
    beforeAll(() => {
      const v1 = ok(cellar(['query', '--store', 'atlas', '--version', '1', '--out', join(root, 'v1-after.h5ad'), '--json'], h()));
      expect(v1).toMatchObject({ n_obs: SEED_CONCAT_CELLS, n_vars: SEED_GENES, store: { key: 'atlas', version: 1 } });
      const latest = ok(cellar(['query', '--store', 'atlas', '--out', join(root, 'latest.h5ad'), '--json'], h()));
      expect(latest).toMatchObject({ n_obs: N_ALL, n_vars: SEED_GENES + SEED_NEW_GENES.length, store: { key: 'atlas', version: 3 } });
      cmp = runPythonJson<Compare>(COMPARE, [inputs, join(root, 'v1-before.h5ad'), join(root, 'v1-after.h5ad'), join(root, 'latest.h5ad')]);
    }, 120_000);

    it('version 1 reads exactly as it did before the append and the embedding', () => {
      expect(cmp.v1.shape).toEqual([
        [SEED_CONCAT_CELLS, SEED_GENES],
        [SEED_CONCAT_CELLS, SEED_GENES],
      ]);
      expect(cmp.v1.obs).toBeNull();
      expect(cmp.v1.var).toBeNull();
      expect(cmp.v1.X_equal).toBe(true);
      expect(cmp.v1.X_nnz).toBeGreaterThan(1000);
      // The embedding came later: version 1 has none.
      expect(cmp.v1.obsm).toEqual([[], []]);
    });

    it('the latest version equals anndata.concat(join="outer") of the four files', () => {
      const l = cmp.latest;
      expect(l.obs_names_equal).toBe(true);
      expect([...l.var_names].sort()).toEqual(l.ref_var_names_sorted);
      // Existing genes keep their position; the new ones come after them.
      expect(l.var_names.slice(SEED_GENES)).toEqual(SEED_NEW_GENES);
      expect(l.X_max_abs_diff).toBe(0);
      expect(l.X_nnz).toBeGreaterThan(cmp.v1.X_nnz);
      expect(l.old_cells_at_new_genes_nnz).toBe(0);
      expect(l.new_cells_at_new_genes_nnz).toBeGreaterThan(0);
      expect(l.cell_type_equal).toBe(true);
      expect(l.n_counts_equal).toBe(true);
      expect(l.donor_equal).toBe(true);
    });

    it('the new category extends the dictionary', () => {
      expect(cmp.latest.cell_type_categories).toContain('Mono');
      expect(cmp.latest.cell_type_categories.slice(0, -1).sort()).toEqual(['B', 'NK', 'T']);
      expect(cmp.latest.n_mono).toBeGreaterThan(10);
    });

    it('obsm holds the 2-component PCA, which agrees with numpy (|r| ≥ 0.99 per component)', () => {
      expect(cmp.latest.obsm).toEqual({ pca: [N_ALL, 2] });
      expect(cmp.latest.pca_corr).toHaveLength(2);
      for (const r of cmp.latest.pca_corr) expect(r).toBeGreaterThanOrEqual(0.99);
    });
  });

  describe('lineage --json', () => {
    let lineage: Lineage;
    const node = (id: string) => lineage.nodes.find((n) => n.id === id);
    const edge = (from: string, to: string) => lineage.edges.some((e) => e.from === from && e.to === to);
    let s4Uid: string;

    beforeAll(() => {
      lineage = ok(cellar(['lineage', 'atlas', '--json'], h())) as Lineage;
      s4Uid = lineage.nodes.find((n) => n.kind === 'artifact' && n.label === 's4.h5ad')?.id ?? '';
    });

    it('has the four h5ad files, the collection, the three runs and the three versions', () => {
      for (const a of imported.artifacts) expect(node(a.uid)).toMatchObject({ kind: 'artifact', label: a.key });
      expect(s4Uid).not.toBe('');
      expect(node(imported.collection.uid)).toMatchObject({ kind: 'collection', label: 'seed' });
      expect(node(concat.run.uid)).toMatchObject({ kind: 'run', label: 'concatenate' });
      expect(node(append.run.uid)).toMatchObject({ kind: 'run', label: 'append' });
      expect(node(embed.run.uid)).toMatchObject({ kind: 'run', label: 'embed' });
      expect(node(concat.store.uid)).toMatchObject({ kind: 'artifact', label: 'atlas v1' });
      expect(node(append.store.uid)).toMatchObject({ kind: 'artifact', label: 'atlas v2' });
      expect(node(embed.store.uid)).toMatchObject({ kind: 'artifact', label: 'atlas v3' });
      const ids = new Set(lineage.nodes.map((n) => n.id));
      expect(ids.size).toBe(lineage.nodes.length);
      for (const e of lineage.edges) {
        expect(ids.has(e.from), `edge from unknown node ${e.from}`).toBe(true);
        expect(ids.has(e.to), `edge to unknown node ${e.to}`).toBe(true);
      }
    });

    it('edges go input → run → output', () => {
      for (const a of imported.artifacts) expect(edge(a.uid, concat.run.uid), `${a.key} → concatenate`).toBe(true);
      expect(edge(imported.collection.uid, concat.run.uid)).toBe(true);
      expect(edge(concat.run.uid, concat.store.uid)).toBe(true);
      expect(edge(concat.store.uid, append.run.uid)).toBe(true);
      expect(edge(s4Uid, append.run.uid)).toBe(true);
      expect(edge(append.run.uid, append.store.uid)).toBe(true);
      expect(edge(append.store.uid, embed.run.uid)).toBe(true);
      expect(edge(embed.run.uid, embed.store.uid)).toBe(true);
      // Runs never feed runs, artifacts never feed artifacts directly except into a collection.
      const kind = new Map(lineage.nodes.map((n) => [n.id, n.kind]));
      for (const e of lineage.edges) {
        const pair = `${kind.get(e.from)}→${kind.get(e.to)}`;
        // An embed run also makes its obsm matrix, and an export its file, each shown as a node of its own.
        expect(['artifact→run', 'collection→run', 'run→artifact', 'run→collection', 'artifact→collection', 'run→embedding', 'run→export']).toContain(pair);
      }
    });

    it('has no cycle', () => {
      const next = new Map<string, string[]>();
      for (const e of lineage.edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
      const state = new Map<string, 'open' | 'done'>();
      const visit = (id: string): boolean => {
        if (state.get(id) === 'done') return true;
        if (state.get(id) === 'open') return false;
        state.set(id, 'open');
        for (const to of next.get(id) ?? []) if (!visit(to)) return false;
        state.set(id, 'done');
        return true;
      };
      for (const n of lineage.nodes) expect(visit(n.id), `cycle through ${n.label}`).toBe(true);
    });
  });
});
