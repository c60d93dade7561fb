// Issue 3 acceptance: crash safety of the store write (SPEC §4 commit order: data files
// → manifest rename (the commit point) → registry row). `cellar concat` is killed with
// SIGKILL at named points of its write (CELLAR_TEST_CRASH_AT, read by the concat
// command); a second writer is killed in the middle of a new version. After each kill
// the next command sees a consistent home: nothing before the commit point (the folder
// the dead first write left is removed and its run ends failed), version 1 after it
// (its run completed), and `verify --fix` removes what a dead second writer left behind.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/main/registry/registry';
import type { RunRecord } from '../../src/shared/registry-types';
import { cellar, REPO_ROOT, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
rng = np.random.default_rng(5)
os.makedirs(out, exist_ok=True)
for d, n in enumerate([60, 40]):
    obs = pd.DataFrame(index=[f'd{d}c{i}' for i in range(n)])
    obs['cell_type'] = pd.Categorical(rng.choice(['T', 'B', 'NK'], n))
    X = sp.random(n, 25, density=0.3, format='csr', random_state=rng, dtype=np.float32)
    a = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f'g{i + 5 * d}' for i in range(25)]), dtype=np.float32)
    a.obsm['X_pca'] = rng.normal(size=(n, 3)).astype(np.float32)
    a.write_h5ad(os.path.join(out, f'd{d}.h5ad'))
print(json.dumps(True))
`;

/** Opens a writer on version 1 of a store, writes a new embedding file, and dies before committing. */
const KILLED_SECOND_WRITER = `
const { createStoreWriter } = await import(process.env.WRITER_URL);
const writer = await createStoreWriter({ dir: process.env.STORE_DIR, baseVersion: 1 });
const n = writer.nObs;
await writer.setObsm('RNA', 'X_extra', { shape: [n, 2], values: new Float32Array(n * 2).fill(1) });
process.kill(process.pid, 'SIGKILL');
`;

interface Listing {
  collections: { key: string }[];
  artifacts: { key: string }[];
  stores: { key: string; version: number; n_versions: number; n_observations: number; n_vars: number }[];
}

let root: string;
let home: string;
let listBefore: Listing;
const h = () => ({ home });

function list(): Listing {
  const r = cellar(['list', '--json'], h());
  expect(r.code, r.stderr).toBe(0);
  return r.json as Listing;
}

function storeFolders(): string[] {
  const dir = join(home, 'stores');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function killedConcat(store: string, at: string): CellarResult {
  return cellar(['concat', '--collection', 'pair', '--store', store, '--json'], { home, env: { CELLAR_TEST_CRASH_AT: at } });
}

/** The concatenate run that was to make `store`, as the registry holds it (read without reconciling). */
function concatRun(store: string): RunRecord {
  const registry = openRegistry(home);
  try {
    const runs = registry.listRuns().filter((r) => r.transform.name === 'concatenate' && r.params.store === store);
    expect(runs).toHaveLength(1);
    return runs[0]!;
  } finally {
    registry.close();
  }
}

interface LineageJson {
  nodes: { id: string; kind: string; label: string; status?: string }[];
  edges: { from: string; to: string; relation: string }[];
}

function lineage(ref: string): LineageJson {
  const r = cellar(['lineage', ref, '--json'], h());
  expect(r.code, r.stderr).toBe(0);
  return r.json as LineageJson;
}

/** Every file of the home but the registry database and the command log. */
function homeFiles(): Record<string, string> {
  const snap = snapshotTree(home);
  for (const name of Object.keys(snap)) if (name.startsWith('registry.sqlite') || name.startsWith('logs/')) delete snap[name];
  return snap;
}

beforeAll(() => {
  root = tempDir('cli-crash');
  home = join(root, 'home');
  runPythonJson(MAKE_INPUTS, [join(root, 'in')]);
  const imported = cellar(['import', join(root, 'in', 'd0.h5ad'), join(root, 'in', 'd1.h5ad'), '--collection', 'pair'], h());
  expect(imported.code, imported.stderr).toBe(0);
  listBefore = list();
}, 120_000);

afterAll(() => removeDir(root));

describe('concat killed before its commit point', () => {
  it.each([['after-dataset-0'], ['before-commit']])('at %s: the next `list` removes the folder it left and ends its run failed; nothing else changes', (at) => {
    const foldersBefore = storeFolders();
    const filesBefore = homeFiles();
    const r = killedConcat(`killed-${at}`, at);
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('');
    // What the dead writer left: data files, its lock and no committed manifest; its run still says running.
    const added = storeFolders().filter((f) => !foldersBefore.includes(f));
    expect(added).toHaveLength(1);
    const left = join(home, 'stores', added[0]!);
    expect(readdirSync(join(left, 'manifests')).filter((f) => /^v\d+\.json$/.test(f))).toEqual([]);
    expect(readdirSync(join(left, 'data')).length).toBeGreaterThan(0);
    expect(existsSync(join(left, '.lock'))).toBe(true);
    expect(concatRun(`killed-${at}`).status).toBe('running');

    expect(list()).toEqual(listBefore);
    expect(storeFolders()).toEqual(foldersBefore);
    expect(homeFiles()).toEqual(filesBefore);
    const run = concatRun(`killed-${at}`);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^Interrupted: the process that ran it \(pid \d+ on .+\) ended before the run finished; nothing it wrote was committed\.$/);
    expect(run.outputs).toEqual({ artifacts: [], collections: [] });
    // The lineage of the collection shows the run that consumed it, failed, with no output.
    const graph = lineage('pair');
    expect(graph.nodes.find((n) => n.id === run.uid)).toEqual({ id: run.uid, kind: 'run', label: 'concatenate (failed)', deleted: false, status: 'failed' });
    const pair = graph.nodes.find((n) => n.kind === 'collection' && n.label === 'pair')!;
    // Its inputs are the collection and, as context, the collection's two files; nothing comes out of it.
    const runEdges = graph.edges.filter((e) => e.from === run.uid || e.to === run.uid);
    expect(runEdges.filter((e) => e.from === run.uid)).toEqual([]);
    const inputs = runEdges.map((e) => graph.nodes.find((n) => n.id === e.from)!);
    expect(runEdges.every((e) => e.relation === 'input' && e.to === run.uid)).toBe(true);
    expect(inputs.map((n) => `${n.kind} ${n.label}`).sort()).toEqual(['artifact d0.h5ad', 'artifact d1.h5ad', `collection ${pair.label}`]);

    const versions = cellar(['versions', '--store', `killed-${at}`, '--json'], h());
    expect(versions.code).toBe(1);
    expect((versions.json as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('concat killed after its commit point', () => {
  it('the next `list` registers the store at version 1, made by its run, which completed', () => {
    const r = killedConcat('committed', 'after-commit');
    expect(r.signal).toBe('SIGKILL');
    expect(concatRun('committed').status).toBe('running');
    const after = list();
    expect(after.stores).toEqual([expect.objectContaining({ key: 'committed', version: 1, n_versions: 1, n_observations: 100, n_vars: 30 })]);
    expect(after.artifacts).toEqual(listBefore.artifacts);
    expect(after.collections).toEqual(listBefore.collections);
    const run = concatRun('committed');
    const store = (after.stores as unknown as { uid: string }[])[0]!;
    expect([run.status, run.error, run.outputs.artifacts]).toEqual(['completed', null, [store.uid]]);
    const graph = lineage('committed');
    expect(graph.nodes.find((n) => n.id === run.uid)).toMatchObject({ kind: 'run', label: 'concatenate', status: 'completed' });
    expect(graph.edges).toContainEqual({ from: run.uid, to: store.uid, relation: 'output' });
  });

  it('so does `versions --store`, with the run that wrote it, and the store can be queried', () => {
    const r = killedConcat('committed2', 'after-commit');
    expect(r.signal).toBe('SIGKILL');
    const versions = cellar(['versions', '--store', 'committed2', '--json'], h());
    expect(versions.code, versions.stderr).toBe(0);
    const rows = versions.json as { version: number; is_latest: boolean; n_observations: number; run: { transform: string } | null }[];
    expect(rows).toEqual([expect.objectContaining({ version: 1, is_latest: true, n_observations: 100, run: expect.objectContaining({ transform: 'concatenate' }) })]);
    const run = concatRun('committed2');
    expect([run.status, (rows[0] as unknown as { run: { uid: string } }).run.uid]).toEqual(['completed', run.uid]);
    const q = cellar(['query', '--store', 'committed2', '--obs', 'dataset == 1', '--format', 'json'], h());
    expect(q.code, q.stderr).toBe(0);
    expect((JSON.parse(q.stdout) as { obs_id: string }[]).map((o) => o.obs_id)).toEqual(Array.from({ length: 40 }, (_, i) => `d1c${i}`));
  });

  it('a new concat under the same key is refused: the recovered store owns it', () => {
    const r = cellar(['concat', '--collection', 'pair', '--store', 'committed2', '--json'], h());
    expect(r.code).toBe(1);
    expect((r.json as { error: { code: string } }).error.code).toBe('already_exists');
    expect(list().stores.map((s) => s.key)).toEqual(['committed', 'committed2']);
  });
});

describe('a second write killed before its commit', () => {
  let storeDir: string;
  let before: Record<string, string>;

  beforeAll(() => {
    const versions = cellar(['versions', '--store', 'committed', '--json'], h());
    const uid = (versions.json as { uid: string }[])[0]!.uid;
    storeDir = join(home, 'stores', uid.slice(0, 16));
    expect(existsSync(storeDir)).toBe(true);
    before = snapshotTree(storeDir);
    const script = join(root, 'killed-writer.mjs');
    writeFileSync(script, KILLED_SECOND_WRITER);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, STORE_DIR: storeDir, WRITER_URL: pathToFileURL(join(REPO_ROOT, 'src/main/engine/store/store-writer.ts')).href },
      timeout: 60_000,
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
  }, 120_000);

  it('leaves a file no manifest names, which verify reports and verify --fix removes', () => {
    const now = snapshotTree(storeDir);
    const extra = Object.keys(now).filter((f) => !(f in before) && f !== '.lock');
    expect(extra).toHaveLength(1);
    expect(extra[0]).toMatch(/^data\/obsm-[0-9a-f]+\.arrow$/);

    const report = cellar(['verify', '--store', 'committed', '--json'], h());
    expect(report.code, report.stderr).toBe(0);
    expect(report.json).toMatchObject({ ok: true, versions: [1], problems: [], garbage: extra, removed: [] });

    const fixed = cellar(['verify', '--store', 'committed', '--fix', '--json'], h());
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.json).toMatchObject({ ok: true, garbage: extra, removed: extra });
    const after = snapshotTree(storeDir);
    delete after['.lock'];
    const expected = { ...before };
    delete expected['.lock'];
    expect(after).toEqual(expected);
  });

  it('the store still opens at its last committed version', () => {
    const versions = cellar(['versions', '--store', 'committed', '--json'], h());
    expect((versions.json as { version: number }[]).map((v) => v.version)).toEqual([1]);
    const q = cellar(['query', '--store', 'committed', '--out', join(root, 'committed.h5ad'), '--json'], h());
    expect(q.code, q.stderr).toBe(0);
    expect(q.json).toMatchObject({ n_obs: 100, n_vars: 30, store: { key: 'committed', version: 1 } });
  });
});
