// Issue 4 acceptance, a store's life across versions through the real CLI (SPEC §3
// deleting and renaming, §4 "Versions and lineage"): diff names what an append added;
// restore makes an old version the latest without copying data; rename keeps the
// store queryable under its new key; deleting the collection it was made from is
// refused unless forced and lineage keeps a tombstone; compact leaves one version that
// reads like the latest did, and verify agrees.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';
import { makeSeedInputs, SEED_CELLS, SEED_CONCAT_CELLS, SEED_NEW_GENES } from './helpers/workflow-inputs';

/** Reads two exports with anndata and reports every difference (empty when they are equal). */
const SAME_CONTENT = String.raw`
import sys, json
import numpy as np, pandas as pd, anndata as ad
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
diffs = []
if a.shape != b.shape: diffs.append(f'shape {a.shape} vs {b.shape}')
for name in ('obs', 'var'):
    try:
        # cellar_run_uid names the run that wrote each cell: compaction keeps it.
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    except AssertionError as e:
        diffs.append(f'{name}: {str(e)[:300]}')
dense = lambda m: np.asarray(m.toarray() if hasattr(m, 'toarray') else m, dtype=np.float64)
if a.shape == b.shape and not np.array_equal(dense(a.X), dense(b.X)): diffs.append('X differs')
if sorted(a.obsm.keys()) != sorted(b.obsm.keys()): diffs.append(f'obsm keys {sorted(a.obsm.keys())} vs {sorted(b.obsm.keys())}')
for k in a.obsm.keys():
    if k in b.obsm and not np.array_equal(np.asarray(a.obsm[k]), np.asarray(b.obsm[k])): diffs.append(f'obsm {k} differs')
print(json.dumps({'diffs': diffs, 'shape': list(a.shape), 'nnz': int((dense(a.X) != 0).sum()), 'obsm': sorted(a.obsm.keys())}))
`;

interface StoreResult {
  store: { uid: string; key: string; version: number; n_observations: number; n_vars: number };
  run: { uid: string };
}
interface VersionRow {
  uid: string;
  version: number;
  is_latest: boolean;
  n_observations: number;
  run: { uid: string; transform: string } | null;
}
interface ErrorJson {
  error: { code: string; message: string; problems: string[] };
}
interface Lineage {
  nodes: { id: string; kind: string; label: string; deleted?: boolean }[];
  edges: { from: string; to: string }[];
}

const N_ALL = SEED_CONCAT_CELLS + SEED_CELLS.s4;

let root: string;
let home: string;
let storeDir: string;
let collectionUid: string;
let concat: StoreResult;
const h = () => ({ home });

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function exportVersion(store: string, version: string | null, name: string): string {
  const out = join(root, name);
  ok(cellar(['query', '--store', store, ...(version ? ['--version', version] : []), '--out', out, '--json'], h()));
  return out;
}

function sameContent(a: string, b: string): { diffs: string[]; shape: number[]; nnz: number; obsm: string[] } {
  return runPythonJson(SAME_CONTENT, [a, b]);
}

const dataFileNames = () => readdirSync(join(storeDir, 'data')).sort();
const manifestNames = () => readdirSync(join(storeDir, 'manifests')).sort();

beforeAll(() => {
  root = tempDir('store-life');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  const imported = ok(cellar(['import', files.s1, files.s2, files.s3, '--collection', 'seed', '--json'], h())) as { collection: { uid: string } };
  collectionUid = imported.collection.uid;
  concat = ok(cellar(['concat', '--collection', 'seed', '--store', 'atlas', '--json'], h())) as StoreResult;
  storeDir = join(home, 'stores', concat.store.uid.slice(0, 16));
  ok(cellar(['append', '--store', 'atlas', files.s4, '--json'], h()));
  ok(cellar(['embed', '--store', 'atlas', '--pca', '2', '--json'], h()));
}, 180_000);

afterAll(() => removeDir(root));

describe('diff', () => {
  it('between versions 1 and 2 lists the new cells, genes, categories and files', () => {
    const d = ok(cellar(['diff', '--store', 'atlas', '1', '2', '--json'], h())) as {
      a: { version: number; n_obs: number };
      b: { version: number; n_obs: number };
      cells: { added: number; removed: number };
      genes: Record<string, { added: string[]; removed: string[] }>;
      obs_columns: { added: string[]; removed: string[]; new_categories: { name: string; values: string[] }[] };
      obsm: { added: string[]; removed: string[] };
      files: { added: string[]; removed: string[]; shared: number };
    };
    expect(d.a).toMatchObject({ version: 1, n_obs: SEED_CONCAT_CELLS });
    expect(d.b).toMatchObject({ version: 2, n_obs: N_ALL });
    expect(d.cells).toEqual({ added: SEED_CELLS.s4, removed: 0 });
    expect(d.genes).toEqual({ RNA: { added: SEED_NEW_GENES, removed: [] } });
    expect(d.obs_columns.added).toEqual([]);
    expect(d.obs_columns.removed).toEqual([]);
    expect(d.obs_columns.new_categories).toContainEqual({ name: 'cell_type', values: ['Mono'] });
    expect(d.obsm).toEqual({ added: [], removed: [] });
    // Append only adds files: version 1's are all shared.
    expect(d.files.removed).toEqual([]);
    expect(d.files.added.length).toBeGreaterThan(0);
    expect(d.files.shared).toBeGreaterThan(0);
    const onDisk = new Set(dataFileNames().map((f) => `data/${f}`));
    for (const f of d.files.added) expect(onDisk.has(f), f).toBe(true);
    // Against the embedding version: only the obsm is new.
    const d23 = ok(cellar(['diff', '--store', 'atlas', '2', '3', '--json'], h())) as typeof d;
    expect(d23.cells).toEqual({ added: 0, removed: 0 });
    expect(d23.obsm).toEqual({ added: ['pca'], removed: [] });
    expect(d23.files.removed).toEqual([]);
  });
});

describe('restore', () => {
  let dataBefore: string[];
  let restored: StoreResult;
  beforeAll(() => {
    dataBefore = dataFileNames();
    restored = ok(cellar(['restore', '--store', 'atlas', '1', '--json'], h())) as StoreResult;
  }, 60_000);

  it('makes version 4 with version 1 content, copying no data', () => {
    expect(restored.store).toMatchObject({ key: 'atlas', version: 4, n_observations: SEED_CONCAT_CELLS, n_vars: 40 });
    expect(dataFileNames()).toEqual(dataBefore);
    const versions = ok(cellar(['versions', '--store', 'atlas', '--json'], h())) as VersionRow[];
    expect(versions.map((v) => [v.version, v.is_latest, v.n_observations, v.run?.transform])).toEqual([
      [4, true, SEED_CONCAT_CELLS, 'restore'],
      [3, false, N_ALL, 'embed'],
      [2, false, N_ALL, 'append'],
      [1, false, SEED_CONCAT_CELLS, 'concatenate'],
    ]);
    const cmp = sameContent(exportVersion('atlas', '1', 'v1.h5ad'), exportVersion('atlas', null, 'v4.h5ad'));
    expect(cmp.diffs).toEqual([]);
    expect(cmp.shape).toEqual([SEED_CONCAT_CELLS, 40]);
    expect(cmp.nnz).toBeGreaterThan(1000);
  });

  it('refuses to restore the latest version as a user error (exit 1), changing nothing', () => {
    const versionsBefore = ok(cellar(['versions', '--store', 'atlas', '--json'], h())) as VersionRow[];
    const lineageBefore = ok(cellar(['lineage', 'atlas', '--json'], h())) as Lineage;
    const listBefore = ok(cellar(['list', '--json'], h()));
    const filesBefore = snapshotTree(storeDir);
    const message = 'Version 4 is already the latest version of atlas; nothing was restored.';
    // By number and by uid alike.
    for (const ref of ['4', versionsBefore[0]!.uid]) {
      const r = cellar(['restore', '--store', 'atlas', ref, '--json'], h());
      expect(r.code, r.stderr).toBe(1);
      expect(r.json).toEqual({ error: { code: 'already_exists', message, problems: [] } });
      expect(firstLine(r.stderr)).toBe(message);
      const plain = cellar(['restore', '--store', 'atlas', ref], h());
      expect([plain.code, plain.stdout, firstLine(plain.stderr)]).toEqual([1, '', message]);
    }
    expect(ok(cellar(['versions', '--store', 'atlas', '--json'], h()))).toEqual(versionsBefore);
    // No run was recorded either: the lineage (runs included) is what it was.
    expect(ok(cellar(['lineage', 'atlas', '--json'], h()))).toEqual(lineageBefore);
    expect(ok(cellar(['list', '--json'], h()))).toEqual(listBefore);
    expect(snapshotTree(storeDir)).toEqual(filesBefore);
  });
});

describe('rename and delete', () => {
  it('a renamed store is queried by its new key; the old key is gone', () => {
    const renamed = ok(cellar(['rename', 'atlas', 'atlas2', '--json'], h()));
    expect(renamed).toMatchObject({ kind: 'artifact', key: 'atlas2' });
    const q = cellar(['query', '--store', 'atlas2', '--obs', 'dataset == 2', '--format', 'json'], h());
    expect(q.code, q.stderr).toBe(0);
    expect((JSON.parse(q.stdout) as { obs_id: string }[]).map((o) => o.obs_id)).toEqual(Array.from({ length: SEED_CELLS.s3 }, (_, i) => `c${i}`));
    const old = cellar(['versions', '--store', 'atlas', '--json'], h());
    expect(old.code).toBe(1);
    expect((old.json as ErrorJson).error.code).toBe('not_found');
  });

  it('deleting the collection the store was made from is refused, naming the consumer', () => {
    const r = cellar(['delete', 'seed', '--json'], h());
    expect(r.code, r.stderr).toBe(1);
    const { error } = r.json as ErrorJson;
    expect(error.code).toBe('in_use');
    expect(error.message).toMatch(/seed/);
    expect(error.problems.join('\n')).toMatch(new RegExp(`concatenate run ${concat.run.uid} made array store "atlas2" v1`));
    const list = ok(cellar(['list', '--json'], h())) as { collections: { key: string }[] };
    expect(list.collections.map((c) => c.key)).toEqual(['seed']);
  });

  it('--force deletes it, and lineage keeps a tombstone', () => {
    const r = ok(cellar(['delete', 'seed', '--force', '--json'], h())) as { deleted: { kind: string; key: string }[]; overridden: string[] };
    expect(r.deleted).toEqual([expect.objectContaining({ kind: 'collection', key: 'seed' })]);
    expect(r.overridden.length).toBeGreaterThan(0);
    const lineage = ok(cellar(['lineage', 'atlas2', '--json'], h())) as Lineage;
    const tomb = lineage.nodes.find((n) => n.id === collectionUid);
    expect(tomb).toMatchObject({ kind: 'collection', deleted: true });
    expect(tomb!.label).toMatch(/seed/);
    expect(lineage.edges).toContainEqual(expect.objectContaining({ from: collectionUid, to: concat.run.uid }));
    const list = ok(cellar(['list', '--json'], h())) as { collections: unknown[]; stores: { key: string }[] };
    expect(list.collections).toEqual([]);
    expect(list.stores.map((s) => s.key)).toEqual(['atlas2']);
  });
});

describe('compact', () => {
  let latestBefore: string;
  let compacted: StoreResult & { removed_files: number; dropped_versions: number };
  beforeAll(() => {
    // Give the latest version an embedding too, so compaction rewrites every kind of file.
    ok(cellar(['embed', '--store', 'atlas2', '--pca', '2', '--name', 'pca2', '--json'], h()));
    latestBefore = exportVersion('atlas2', null, 'before-compact.h5ad');
    compacted = ok(cellar(['compact', '--store', 'atlas2', '--yes', '--json'], h())) as typeof compacted;
  }, 120_000);

  it('needs --yes', () => {
    const r = cellar(['compact', '--store', 'atlas2'], h());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
  });

  it('leaves one version that reads like the latest did', () => {
    expect(compacted.store).toMatchObject({ key: 'atlas2', version: 6, n_observations: SEED_CONCAT_CELLS });
    expect(compacted.dropped_versions).toBe(5);
    expect(compacted.removed_files).toBeGreaterThan(0);
    const versions = ok(cellar(['versions', '--store', 'atlas2', '--json'], h())) as VersionRow[];
    expect(versions.map((v) => [v.version, v.is_latest, v.run?.transform])).toEqual([[6, true, 'compact']]);
    expect(manifestNames().filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const cmp = sameContent(latestBefore, exportVersion('atlas2', null, 'after-compact.h5ad'));
    expect(cmp.diffs).toEqual([]);
    expect(cmp.obsm).toEqual(['pca2']);
    const old = cellar(['query', '--store', 'atlas2', '--version', '1', '--format', 'json'], h());
    expect(old.code).toBe(1);
  });

  it('verify finds every file in order and nothing left over', () => {
    const v = ok(cellar(['verify', '--store', 'atlas2', '--json'], h()));
    expect(v).toMatchObject({ ok: true, versions: [6], problems: [], garbage: [], removed: [] });
  });
});
