// Crash safety of the writes that compute on a store and commit the result as its next
// version (SPEC §4 commit order), as store-life-crash.test.ts checks append and embed: QC,
// neighbours, UMAP, Leiden clustering, annotate and a selection saved as a column are each
// killed with SIGKILL at every checkpoint of their commit (CELLAR_TEST_CRASH_AT), and UMAP and
// clustering also once the neighbour graph they made first is written ('after-graph'). After
// each kill: the registry lists exactly the manifests on disk, the latest version is the one
// before the write (killed before the commit point) or the new one (after it), verify is
// clean once --fix has removed exactly the dead writer's files, the store opens and reads,
// the dead run ended failed or completed, and running the write again succeeds.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/main/engine/store/store-reader';
import type { StoreDiff } from '../../src/shared/result-types';
import { cellar, REPO_ROOT, removeDir, tempDir } from './helpers/cellar';
import { ok, storeCrashKit, type CrashVerifyJson, type CrashWrite } from './helpers/store-crash';
import { makeSeedInputs, SEED_CELLS } from './helpers/workflow-inputs';

const STORE = 'cells';
const N = SEED_CELLS.s1 + SEED_CELLS.s2;

/** Saves a selection of cells as the obs column "picked" (the desktop's Save selection), with the CLI's crash hook. */
const SAVE_SELECTION = `
const { openRegistry } = await import(process.env.REGISTRY_URL);
const { saveSelectionAsColumn } = await import(process.env.ANNOTATE_URL);
const { crashHookFromEnv } = await import(process.env.HOOK_URL);
const registry = openRegistry(process.env.CELLAR_HOME_DIR);
try {
  const r = await saveSelectionAsColumn({
    registry,
    storeKey: process.env.STORE_KEY,
    column: 'picked',
    groups: [{ label: 'left', joinids: [0, 1, 2, 3] }, { label: 'right', joinids: [100, 101] }],
    restLabel: 'other',
    lineage: { embedding: 'pca' },
    checkpoint: crashHookFromEnv(),
  });
  console.log(JSON.stringify(r));
} finally {
  registry.close();
}
`;

let root: string;
let home: string;
let storeDir: string;
let selectionScript: string;
let labels: string;
const h = () => ({ home });
const { versions, expectRunEnded, crashAndRecover } = storeCrashKit(() => ({ home, store: STORE, storeDir }));

function saveSelection(at: string | undefined): SpawnSyncReturns<string> {
  const url = (path: string) => pathToFileURL(join(REPO_ROOT, path)).href;
  return spawnSync(process.execPath, ['--import', 'tsx', selectionScript], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      CELLAR_HOME: undefined,
      CELLAR_TEST_CRASH_AT: at,
      CELLAR_HOME_DIR: home,
      STORE_KEY: STORE,
      REGISTRY_URL: url('src/main/registry/registry.ts'),
      ANNOTATE_URL: url('src/main/engine/ops/annotate.ts'),
      HOOK_URL: url('src/main/cli/crash-hook.ts'),
    },
  });
}

const QC_COLUMNS = ['total_counts', 'n_genes_by_counts', 'total_counts_mt', 'pct_counts_mt', 'total_counts_ribo', 'pct_counts_ribo'];
const NO_OBSM = { added: [], removed: [] };
const NO_OBSP = { added: [], removed: [], changed: [] };

interface CrashOp {
  name: string;
  /** The run's transform. */
  transform: string;
  /** The cellar command of the write … */
  args?: () => string[];
  /** … or, for a write without one, a script run with CELLAR_TEST_CRASH_AT=at (undefined: to the end). */
  script?: (at: string | undefined) => SpawnSyncReturns<string>;
  /** Start from version 2 (PCA, no graph) again, so that the write makes its graph first. */
  fromBare?: boolean;
  /** Checkpoints before the commit point, with the kinds of data files (obs, obsm, obsp) a kill there leaves, sorted. */
  before: Record<string, string[]>;
  /** What the committed version adds to the one before, as `cellar diff --json` says. */
  adds: Pick<StoreDiff, 'obsm' | 'obsp'> & { obs: string[] };
}

const OPS: CrashOp[] = [
  {
    name: 'qc',
    transform: 'qc',
    args: () => ['qc', '--store', STORE],
    before: { 'before-commit': QC_COLUMNS.map(() => 'obs') },
    adds: { obs: QC_COLUMNS, obsm: NO_OBSM, obsp: NO_OBSP },
  },
  {
    name: 'neighbors',
    transform: 'neighbors',
    args: () => ['neighbors', '--store', STORE, '--k', '10', '--name', 'knn10'],
    before: { 'before-commit': ['obsp', 'obsp'] },
    adds: { obs: [], obsm: NO_OBSM, obsp: { added: ['knn10'], removed: [], changed: [] } },
  },
  {
    name: 'umap (making the graph first)',
    transform: 'umap',
    args: () => ['umap', '--store', STORE, '--epochs', '50'],
    fromBare: true,
    before: { 'after-graph': ['obsp', 'obsp'], 'before-commit': ['obsm', 'obsp', 'obsp'] },
    adds: { obs: [], obsm: { added: ['X_umap'], removed: [] }, obsp: { added: ['neighbors'], removed: [], changed: [] } },
  },
  {
    name: 'cluster (making the graph first)',
    transform: 'cluster',
    args: () => ['cluster', '--store', STORE],
    fromBare: true,
    before: { 'after-graph': ['obsp', 'obsp'], 'before-commit': ['obs', 'obsp', 'obsp'] },
    adds: { obs: ['leiden'], obsm: NO_OBSM, obsp: { added: ['neighbors'], removed: [], changed: [] } },
  },
  {
    name: 'annotate',
    transform: 'annotate',
    args: () => ['annotate', '--store', STORE, '--from', labels],
    before: { 'before-commit': ['obs'] },
    adds: { obs: ['label'], obsm: NO_OBSM, obsp: NO_OBSP },
  },
  {
    name: 'a selection saved as a column',
    transform: 'annotate',
    script: saveSelection,
    before: { 'before-commit': ['obs'] },
    adds: { obs: ['picked'], obsm: NO_OBSM, obsp: NO_OBSP },
  },
];

function writeOf(op: CrashOp): CrashWrite {
  if (op.args) return op.args();
  return {
    transform: op.transform,
    run: (at) => {
      const r = op.script!(at);
      expect(r.signal, `${op.name} was not killed at ${at}: ${r.stderr}`).toBe('SIGKILL');
      expect(r.stdout).toBe('');
    },
  };
}

/** Runs the write to the end; returns the version it made. */
function runToTheEnd(op: CrashOp): number {
  if (op.args) return (ok(cellar([...op.args(), '--json'], h())) as { store: { version: number } }).store.version;
  const r = op.script!(undefined);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { store: { version: number } }).store.version;
}

/** Data files and manifests: what a write adds to a store (no lock, reader leases or hash cache). */
function storeContent(): string[] {
  const out: string[] = [];
  for (const dir of ['data', 'manifests']) out.push(...readdirSync(join(storeDir, dir)).map((f) => `${dir}/${f}`));
  return out.sort();
}

/** The kind of a data file: obs, obsm, obsp… */
const kindOf = (file: string) => /^data\/([a-z]+)-[0-9a-f]+\.arrow$/.exec(file)?.[1] ?? file;

/** verify without --fix: every version sound and nothing left over. */
function expectClean(): void {
  const report = ok(cellar(['verify', '--store', STORE, '--json'], h())) as CrashVerifyJson;
  expect(report).toMatchObject({ ok: true, problems: [], garbage: [], removed: [] });
}

/** The latest version opens and reads: its cells and its obs ids. */
function expectOpens(version: number): void {
  const reader = openStore(storeDir, version);
  try {
    expect(reader.nObs).toBe(N);
    expect(reader.obs.columnNames).toContain('obs_id');
  } finally {
    reader.close();
  }
  const q = cellar(['query', '--store', STORE, '--obs', 'obs_id == "a0"', '--format', 'json'], h());
  expect(q.code, q.stderr).toBe(0);
  expect((JSON.parse(q.stdout) as { obs_id: string }[]).map((o) => o.obs_id)).toEqual(['a0']);
}

beforeAll(() => {
  root = tempDir('cell-ops-crash');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, '--collection', 'pair', '--json'], h()));
  const made = ok(cellar(['concat', '--collection', 'pair', '--store', STORE, '--json'], h())) as { store: { uid: string } };
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
  ok(cellar(['embed', '--store', STORE, '--pca', '5', '--json'], h()));
  labels = join(root, 'labels.csv');
  writeFileSync(labels, 'obs_id,label\na0,x\nb1,y\n');
  selectionScript = join(root, 'save-selection.mjs');
  writeFileSync(selectionScript, SAVE_SELECTION);
}, 180_000);

afterAll(() => removeDir(root));

describe.each(OPS.map((op) => [op.name, op] as const))('%s killed mid-write', (_name, op) => {
  beforeAll(() => {
    if (op.fromBare) ok(cellar(['restore', '--store', STORE, '2', '--json'], h()));
  }, 60_000);

  it.each(Object.entries(op.before))('at %s: the store stays at the version before; verify --fix removes exactly the files the dead write made', (at, kinds) => {
    const base = versions()[0]!;
    const contentBefore = storeContent();
    const { rows, leftovers, run } = crashAndRecover(writeOf(op), at);
    expect(rows[0]!).toMatchObject({ version: base.version, uid: base.uid, is_latest: true });
    expectRunEnded(run, base.uid, null);
    expect(leftovers.map(kindOf).sort()).toEqual(kinds);
    expect(storeContent()).toEqual(contentBefore);
    expectClean();
    expectOpens(base.version);
  });

  it('at after-commit: the next command registers the new version with its run, which completed', () => {
    const base = versions()[0]!;
    const { rows, leftovers, run } = crashAndRecover(writeOf(op), 'after-commit');
    expect(rows.slice(0, 2).map((r) => [r.version, r.is_latest, r.run?.transform, r.run?.uid])).toEqual([
      [base.version + 1, true, run.transform.name, run.uid],
      [base.version, false, base.run?.transform, base.run?.uid],
    ]);
    expectRunEnded(run, base.uid, rows[0]!.uid);
    expect(leftovers).toEqual([]);
    expectClean();
    expectOpens(base.version + 1);
    const d = ok(cellar(['diff', '--store', STORE, String(base.version), String(base.version + 1), '--json'], h())) as StoreDiff;
    expect({ obs: d.obs_columns.added, obsm: d.obsm, obsp: d.obsp }).toEqual(op.adds);
    expect(d.cells).toEqual({ added: 0, removed: 0 });
  });

  it('runs again to the end afterwards, and verify is clean', () => {
    const base = versions()[0]!;
    expect(runToTheEnd(op)).toBe(base.version + 1);
    const rows = versions();
    expect(rows[0]!).toMatchObject({ version: base.version + 1, is_latest: true, run: { transform: op.transform } });
    expect(existsSync(join(storeDir, '.lock'))).toBe(false);
    expectClean();
    expectOpens(base.version + 1);
  });
});
