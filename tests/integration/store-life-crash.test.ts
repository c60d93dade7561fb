// Issue 4 acceptance, crash safety and concurrency of the writes that grow a store
// (SPEC §4 commit order, §7 "a second writer on the same store at the same time"):
// `cellar append` and `cellar embed` are killed with SIGKILL at named points of their
// write (CELLAR_TEST_CRASH_AT); after each kill the store is at its last committed
// version, the registry lists exactly the committed manifests, and `verify --fix`
// removes what the dead writer left. A live writer's lock refuses a second writer with
// a clear message; a dead writer's lock is taken over; and a write that was prepared
// on a version another process has since superseded is refused, not silently merged.
// The killed writer's run ends too: failed when it died before its commit point,
// completed (and linked to its version) when it died after it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { embedStore } from '../../src/main/engine/ops/embed';
import { openStore } from '../../src/main/engine/store/store-reader';
import { openRegistry } from '../../src/main/registry/registry';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { ok, storeCrashKit, type CrashVerifyJson as VerifyJson } from './helpers/store-crash';
import { makeSeedInputs, SEED_CELLS } from './helpers/workflow-inputs';

interface ErrorJson {
  error: { code: string; message: string; problems: string[] };
}

let root: string;
let home: string;
let storeDir: string;
let files: ReturnType<typeof makeSeedInputs>;
const h = () => ({ home });
const { versions, manifestVersions, storeFiles, expectRunEnded, crashAndRecover } = storeCrashKit(() => ({ home, store: 'crash', storeDir }));

function obsCount(): number {
  const q = cellar(['query', '--store', 'crash', '--format', 'json'], h());
  expect(q.code, q.stderr).toBe(0);
  return (JSON.parse(q.stdout) as unknown[]).length;
}

beforeAll(() => {
  root = tempDir('store-crash');
  home = join(root, 'home');
  files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, '--collection', 'pair'], h()));
  const made = ok(cellar(['concat', '--collection', 'pair', '--store', 'crash', '--json'], h())) as { store: { uid: string } };
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
}, 120_000);

afterAll(() => removeDir(root));

const V1_CELLS = SEED_CELLS.s1 + SEED_CELLS.s2;
const V2_CELLS = V1_CELLS + SEED_CELLS.s3;

describe('append killed mid-write', () => {
  it.each([['after-dataset-0'], ['before-commit']])('at %s: the store stays at version 1 and verify --fix removes the new files', (at) => {
    const artifactsBefore = (ok(cellar(['list', '--json'], h())) as { artifacts: unknown[] }).artifacts;
    const { rows, leftovers, run, copies } = crashAndRecover(['append', '--store', 'crash', files.s3], at);
    expect(rows.map((r) => [r.version, r.n_observations])).toEqual([[1, V1_CELLS]]);
    expectRunEnded(run, rows[0]!.uid, null);
    // The copy of s3.h5ad the dead append made in the home went with its run.
    expect(copies).toEqual({ before: [`${run.uid}-0.h5ad`], after: [] });
    expect(leftovers.length).toBeGreaterThan(0);
    for (const f of leftovers) expect(f).toMatch(/^data\//);
    // The appended file was not registered either.
    expect((ok(cellar(['list', '--json'], h())) as { artifacts: unknown[] }).artifacts).toEqual(artifactsBefore);
    expect(obsCount()).toBe(V1_CELLS);
  });

  it('at after-commit: the next command registers version 2 with the append run, and it reads', () => {
    const { rows, leftovers, run, copies } = crashAndRecover(['append', '--store', 'crash', files.s3], 'after-commit');
    expect(rows.map((r) => [r.version, r.n_observations, r.run?.transform])).toEqual([
      [2, V2_CELLS, 'append'],
      [1, V1_CELLS, 'concatenate'],
    ]);
    expect(rows[0]!.run?.uid).toBe(run.uid);
    expectRunEnded(run, rows[1]!.uid, rows[0]!.uid);
    // Committed: the copy of s3.h5ad is the registered artifact's file.
    expect(copies).toEqual({ before: [`${run.uid}-0.h5ad`], after: [`${run.uid}-0.h5ad`] });
    expect(leftovers).toEqual([]);
    expect(obsCount()).toBe(V2_CELLS);
  });
});

describe('embed killed mid-write', () => {
  it('at before-commit: the store stays at version 2; the embedding files are garbage', () => {
    const { rows, leftovers, run } = crashAndRecover(['embed', '--store', 'crash', '--pca', '2'], 'before-commit');
    expect(rows.map((r) => r.version)).toEqual([2, 1]);
    expectRunEnded(run, rows[0]!.uid, null);
    expect(leftovers.some((f) => /^data\/obsm-/.test(f))).toBe(true);
  });

  it('at after-commit: version 3 is registered with the embed run', () => {
    const { rows, leftovers, run } = crashAndRecover(['embed', '--store', 'crash', '--pca', '2'], 'after-commit');
    expect(rows.map((r) => [r.version, r.n_observations, r.run?.transform])).toEqual([
      [3, V2_CELLS, 'embed'],
      [2, V2_CELLS, 'append'],
      [1, V1_CELLS, 'concatenate'],
    ]);
    expectRunEnded(run, rows[1]!.uid, rows[0]!.uid);
    expect(leftovers).toEqual([]);
    const diff = ok(cellar(['diff', '--store', 'crash', '2', '3', '--json'], h())) as { obsm: { added: string[] } };
    expect(diff.obsm.added).toEqual(['pca']);
  });
});

describe('a second writer on the same store', () => {
  let holder: ChildProcess | undefined;
  afterAll(() => {
    holder?.kill('SIGKILL');
  });

  it('is refused while a live process holds the lock, and nothing is written', () => {
    // A live process that is not a Cellar writer stands in for one busy writing.
    holder = spawn('sleep', ['120'], { stdio: 'ignore' });
    expect(holder.pid).toBeGreaterThan(0);
    writeFileSync(join(storeDir, '.lock'), JSON.stringify({ pid: holder.pid, host: hostname(), createdAt: new Date().toISOString() }));
    const before = storeFiles();
    const storageBefore = snapshotTree(join(home, 'storage'));
    for (const args of [
      ['append', '--store', 'crash', files.s4, '--fill-missing'],
      ['embed', '--store', 'crash', '--pca', '2', '--name', 'second'],
      ['annotate', '--store', 'crash', '--from', writeLabels('locked.csv')],
    ]) {
      const r = cellar([...args, '--json'], h());
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
      const { error } = r.json as ErrorJson;
      expect(error.code).toBe('locked');
      expect(error.message).toBe(`The store crash is being written by another process (pid ${holder.pid}).`);
      expect(firstLine(r.stderr)).toBe(error.message);
    }
    expect(storeFiles()).toEqual(before);
    expect(snapshotTree(join(home, 'storage'))).toEqual(storageBefore);
    expect(versions().map((v) => v.version)).toEqual([3, 2, 1]);
    holder.kill('SIGKILL');
  });

  it('takes over the lock of a writer that died', async () => {
    // The store now has a PCA that s4.h5ad cannot have: the preflight says so and how to go on.
    // A dry run whose plan has a blocking problem prints the plan and exits 1.
    const dry = cellar(['append', '--store', 'crash', files.s4, '--dry-run', '--json'], h());
    expect(dry.code, dry.stderr).toBe(1);
    const strict = dry.json as { plan: { problems: string[] } };
    expect(strict.plan.problems).toEqual([expect.stringMatching(/obsm "pca" is missing in s4\.h5ad .*--fill-missing/)]);
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    expect(deadPid).toBeGreaterThan(0);
    writeFileSync(join(storeDir, '.lock'), JSON.stringify({ pid: deadPid, host: hostname(), createdAt: new Date().toISOString() }));
    const r = ok(cellar(['append', '--store', 'crash', files.s4, '--fill-missing', '--json'], h())) as { store: { version: number; n_observations: number } };
    expect(r.store).toEqual(expect.objectContaining({ version: 4, n_observations: V2_CELLS + SEED_CELLS.s4 }));
    expect(existsSync(join(storeDir, '.lock'))).toBe(false);
    // The new cells have NaN rows in the PCA; the old rows are what they were.
    const [before, after] = [openStore(storeDir, 3), openStore(storeDir, 4)];
    try {
      const old = await before.readObsm('RNA', 'pca');
      const now = await after.readObsm('RNA', 'pca');
      expect(now.shape).toEqual([V2_CELLS + SEED_CELLS.s4, 2]);
      const nowValues = Array.from(now.values as ArrayLike<number>, Number);
      expect(nowValues.slice(0, V2_CELLS * 2)).toEqual(Array.from(old.values as ArrayLike<number>, Number));
      expect(nowValues.slice(V2_CELLS * 2).every(Number.isNaN)).toBe(true);
    } finally {
      before.close();
      after.close();
    }
  });

  it('a write prepared on a version another process superseded meanwhile is refused, not merged away', async () => {
    // The PCA is computed from version 4 without the lock; while it runs, another process
    // annotates the store (version 5). Writing the embedding on version 4 would drop that annotation.
    const registry = openRegistry(home);
    let annotate: CellarResult | undefined;
    let error: unknown;
    try {
      await embedStore({
        registry,
        storeKey: 'crash',
        name: 'late',
        pca: { nComponents: 2 },
        onProgress: () => {
          annotate ??= cellar(['annotate', '--store', 'crash', '--from', writeLabels('meanwhile.csv'), '--json'], h());
        },
      });
    } catch (err) {
      error = err;
    } finally {
      registry.close();
    }
    expect(annotate?.code, annotate?.stderr).toBe(0);
    expect(error).toBeInstanceOf(CellarError);
    expect((error as CellarError).code).toBe('locked');
    expect((error as CellarError).message).toMatch(/The store crash changed while the embedding was computed \(another write made version 5\); nothing was written/);
    const rows = versions();
    expect(rows.map((r) => [r.version, r.run?.transform])).toEqual([
      [5, 'annotate'],
      [4, 'append'],
      [3, 'embed'],
      [2, 'append'],
      [1, 'concatenate'],
    ]);
    expect(manifestVersions()).toEqual([5, 4, 3, 2, 1]);
    const q = cellar(['query', '--store', 'crash', '--obs', 'notna(label)', '--format', 'json'], h());
    expect(q.code, q.stderr).toBe(0);
    expect((JSON.parse(q.stdout) as { obs_id: string; label: string }[]).map((o) => [o.obs_id, o.label])).toEqual([
      ['a0', 'x'],
      ['b1', 'y'],
    ]);
    const verify = ok(cellar(['verify', '--store', 'crash', '--json'], h())) as VerifyJson;
    expect(verify).toMatchObject({ ok: true, versions: [1, 2, 3, 4, 5], garbage: [] });
  });
});

function writeLabels(name: string): string {
  const path = join(root, name);
  writeFileSync(path, 'obs_id,label\na0,x\nb1,y\n');
  return path;
}
