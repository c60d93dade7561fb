// Issue 11, deliverable 3: compact and readers agree. `cellar compact` is killed with
// SIGKILL at every step of its work (CELLAR_TEST_CRASH_AT, the steps of COMPACT_STEPS);
// after each kill every version the registry lists reads, the ones compact dropped are
// cleanly retired (no registry row without its manifest), verify says ok, and verify --fix
// removes exactly the leftovers. A reader holding an old version while compact runs keeps
// reading it: compact leaves the files it holds until it is done.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPACT_STEPS, compactStore } from '../../src/main/engine/ops/versioning';
import { openStore } from '../../src/main/engine/store/store-reader';
import { nodeStoreFs, type StoreFs } from '../../src/main/engine/store/io/store-fs';
import { openRegistry } from '../../src/main/registry/registry';
import { cellar, cellarAsync, REPO_ROOT, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { makeSeedInputs, SEED_CELLS } from './helpers/workflow-inputs';

interface VersionRow {
  version: number;
  is_latest: boolean;
  n_observations: number;
  run: { transform: string } | null;
}
interface VerifyJson {
  ok: boolean;
  versions: number[];
  problems: string[];
  garbage: string[];
  removed: string[];
  kept: string[];
}

let root: string;
let home: string;
let files: ReturnType<typeof makeSeedInputs>;
const h = () => ({ home });
const V1_CELLS = SEED_CELLS.s1 + SEED_CELLS.s2;
const V2_CELLS = V1_CELLS + SEED_CELLS.s3;

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

/** A store at version 2 (concat of s1+s2, then s3 appended); returns its folder. */
function twoVersionStore(key: string): string {
  const made = ok(cellar(['concat', '--collection', 'pair', '--store', key, '--json'], h())) as { store: { uid: string } };
  ok(cellar(['append', '--store', key, files.s3, '--json'], h()));
  return join(home, 'stores', made.store.uid.slice(0, 16));
}

function versions(key: string): VersionRow[] {
  return ok(cellar(['versions', '--store', key, '--json'], h())) as VersionRow[];
}

function cellsAt(key: string, version: number): number {
  const q = cellar(['query', '--store', key, '--version', String(version), '--format', 'json'], h());
  expect(q.code, q.stderr).toBe(0);
  return (JSON.parse(q.stdout) as unknown[]).length;
}

function manifests(dir: string): string[] {
  return readdirSync(join(dir, 'manifests')).filter((f) => /^v\d+\.json$/.test(f)).sort();
}

/** The compact run as the registry holds it (read without reconciling). */
function compactRunStatus(key: string): string {
  const registry = openRegistry(home);
  try {
    return registry.listRuns().find((r) => r.transform.name === 'compact' && r.params.store === key)!.status;
  } finally {
    registry.close();
  }
}

beforeAll(() => {
  root = tempDir('compact-crash');
  home = join(root, 'home');
  files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, '--collection', 'pair'], h()));
}, 120_000);

afterAll(() => removeDir(root));

describe('compact killed at each step', () => {
  const beforeCommit = new Set(['mid-copy', 'before-commit']);

  it('names every step the tests kill at', () => {
    expect([...COMPACT_STEPS]).toEqual(['mid-copy', 'before-commit', 'after-commit', 'after-register', 'after-manifests-removed', 'mid-removal', 'after-removal']);
  });

  it.each(COMPACT_STEPS.map((step) => [step]))('at %s: every registry version reads, the dropped ones are retired, verify --fix leaves a clean store', (step) => {
    const key = `k-${step}`;
    const dir = twoVersionStore(key);
    const killed = cellar(['compact', '--store', key, '--yes', '--json'], { home, env: { CELLAR_TEST_CRASH_AT: step } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.stdout).toBe('');

    const rows = versions(key);
    if (beforeCommit.has(step)) {
      // Nothing committed: both versions stay, and the compact run ends failed.
      expect(rows.map((r) => [r.version, r.is_latest, r.n_observations])).toEqual([
        [2, true, V2_CELLS],
        [1, false, V1_CELLS],
      ]);
      expect(cellsAt(key, 1)).toBe(V1_CELLS);
      expect(compactRunStatus(key)).toBe('failed');
    } else {
      // Committed: the compacted version 3 is the only one; 1 and 2 are retired, not broken.
      expect(rows.map((r) => [r.version, r.is_latest, r.n_observations, r.run?.transform])).toEqual([[3, true, V2_CELLS, 'compact']]);
      expect(compactRunStatus(key)).toBe('completed');
      const old = cellar(['query', '--store', key, '--version', '1', '--format', 'json'], h());
      expect(old.code).toBe(1);
      expect(old.stderr).toMatch(/Version 1 of the array store "k-.*" was deleted on /);
    }
    for (const row of rows) expect(cellsAt(key, row.version)).toBe(row.n_observations);

    // verify trusts the kill to have left leftovers only, never a broken version.
    const seen = ok(cellar(['verify', '--store', key, '--json'], h())) as VerifyJson;
    expect(seen).toMatchObject({ ok: true, problems: [], versions: rows.map((r) => r.version).reverse() });
    if (step === 'after-removal') expect(seen.garbage).toEqual([]);
    else expect(seen.garbage.length).toBeGreaterThan(0);
    if (step === 'after-commit' || step === 'after-register') expect(seen.garbage).toEqual(expect.arrayContaining(['manifests/v000001.json', 'manifests/v000002.json']));

    const fixed = ok(cellar(['verify', '--store', key, '--fix', '--json'], h())) as VerifyJson;
    expect(fixed).toMatchObject({ ok: true, problems: [], kept: [] });
    expect(fixed.removed).toEqual(seen.garbage);
    expect(ok(cellar(['verify', '--store', key, '--json'], h()))).toMatchObject({ ok: true, garbage: [] });
    expect(manifests(dir)).toEqual(beforeCommit.has(step) ? ['v000001.json', 'v000002.json'] : ['v000003.json']);
    for (const row of versions(key)) expect(cellsAt(key, row.version)).toBe(row.n_observations);
  });
});

describe('a reader holding an old version while compact runs', () => {
  it('keeps reading it without ENOENT; its files go once it is closed', async () => {
    const key = 'held';
    const dir = twoVersionStore(key);
    const reader = openStore(dir, 1);
    const ids = Uint32Array.from({ length: V1_CELLS }, (_, i) => i);
    const firstHalf = await reader.readXRows('RNA', 'data', ids.subarray(0, 10));

    const compacted = ok(cellar(['compact', '--store', key, '--yes', '--json'], h())) as { store: { version: number }; removed_files: number; deferred: string | null };
    expect(compacted.store.version).toBe(3);
    expect(compacted.removed_files).toBe(0);
    expect(compacted.deferred).toBe(`a reader (pid ${process.pid}) still holds an older version; the next compact or verify --fix removes its files`);
    expect(versions(key).map((r) => r.version)).toEqual([3]);

    // The reader's files are all still there: every row, every obs column reads.
    const all = await reader.readXRows('RNA', 'data', ids);
    expect(Array.from(all.indptr.subarray(0, 11))).toEqual(Array.from(firstHalf.indptr));
    expect(all.indptr[V1_CELLS]).toBeGreaterThan(0);
    expect(reader.obs.column('obs_id')!.kind).toBe('string');
    expect(reader.obs.nRows).toBe(V1_CELLS);

    // While it reads, verify --fix keeps the old files and says why.
    const held = ok(cellar(['verify', '--store', key, '--fix', '--json'], h())) as VerifyJson;
    expect(held.kept).toEqual([expect.stringMatching(new RegExp(`^Kept \\d+ data file\\(s\\) no live version names: a reader \\(pid ${process.pid}\\) may still be reading them`))]);
    expect(held.removed).toEqual([]);
    reader.close();

    const fixed = ok(cellar(['verify', '--store', key, '--fix', '--json'], h())) as VerifyJson;
    expect(fixed).toMatchObject({ ok: true, kept: [] });
    expect(fixed.removed).toEqual(expect.arrayContaining(['manifests/v000001.json', 'manifests/v000002.json']));
    expect(fixed.removed.filter((f) => f.startsWith('data/')).length).toBeGreaterThan(0);
    expect(manifests(dir)).toEqual(['v000003.json']);
    expect(cellsAt(key, 3)).toBe(V2_CELLS);
  });
});

/** Another process: opens version 1, reads ten rows, says so, waits for a line on stdin, then reads every row and obs column. */
const PAUSED_READER = `
const { openStore } = await import(process.env.READER_URL);
const reader = openStore(process.env.STORE_DIR, 1);
const n = reader.nObs;
await reader.readXRows('RNA', 'data', Uint32Array.from({ length: 10 }, (_, i) => i));
process.stdout.write('paused\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
try {
  const all = await reader.readXRows('RNA', 'data', Uint32Array.from({ length: n }, (_, i) => i));
  const ids = reader.obs.column('obs_id');
  process.stdout.write(JSON.stringify({ ok: true, rows: all.indptr.length - 1, nnz: all.indptr[n], ids: ids.values.length }) + '\\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, code: err.code ?? null, message: err.message }) + '\\n');
}
reader.close();
`;

describe('a query in another process reading while compact runs', () => {
  it('reads every row of its version without ENOENT', async () => {
    const key = 'held-by-process';
    const dir = twoVersionStore(key);
    const script = join(root, 'paused-reader.mjs');
    writeFileSync(script, PAUSED_READER);
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, STORE_DIR: dir, READER_URL: pathToFileURL(join(REPO_ROOT, 'src/main/engine/store/store-reader.ts')).href },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    let wake: (() => void) | null = null;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter(Boolean));
      wake?.();
    });
    const nextLine = async (i: number) => {
      while (lines.length <= i) await new Promise<void>((resolve) => (wake = resolve));
      return lines[i]!;
    };
    expect(await nextLine(0)).toBe('paused');

    const compacted = (await cellarAsync(['compact', '--store', key, '--yes', '--json'], h())).json as { store: { version: number }; removed_files: number; deferred: string | null };
    expect(compacted.store.version).toBe(3);
    expect(compacted.deferred).toBe(`a reader (pid ${child.pid}) still holds an older version; the next compact or verify --fix removes its files`);

    child.stdin.end('go\n');
    const done = JSON.parse(await nextLine(1)) as { ok: boolean; rows: number; nnz: number; ids: number };
    await new Promise((resolve) => child.once('exit', resolve));
    expect(done).toMatchObject({ ok: true, rows: V1_CELLS, ids: V1_CELLS });
    expect(done.nnz).toBeGreaterThan(0);

    // The reader is gone: the next compact removes what it held, and only the compacted version is left.
    const again = ok(cellar(['compact', '--store', key, '--yes', '--json'], h())) as { store: { version: number }; removed_files: number; deferred: string | null };
    expect(again).toMatchObject({ store: { version: 4 }, deferred: null });
    expect(again.removed_files).toBeGreaterThan(0);
    expect(manifests(dir)).toEqual(['v000004.json']);
    expect(ok(cellar(['verify', '--store', key, '--json'], h()))).toMatchObject({ ok: true, versions: [4], garbage: [] });
  }, 180_000);
});

describe('a disk that fills up during compact', () => {
  /** node:fs whose n-th write fails like a full disk. */
  function fullAfter(writes: number): StoreFs {
    let count = 0;
    return {
      ...nodeStoreFs,
      write: (fd, bytes) => {
        if (++count === writes) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        nodeStoreFs.write(fd, bytes);
      },
    };
  }

  it.each([[1], [4], [12]])('at write %i: "The disk is full: …" naming the file, and the store and registry are as they were', async (failAt) => {
    const key = `full-${failAt}`;
    const dir = twoVersionStore(key);
    const before = snapshotTree(dir);
    const registry = openRegistry(home);
    try {
      await expect(compactStore({ registry, storeKey: key, fs: fullAfter(failAt) })).rejects.toMatchObject({
        code: 'no_space',
        message: expect.stringMatching(/^The disk is full: could not write .+\.$/),
      });
      const run = registry.listRuns().find((r) => r.transform.name === 'compact' && r.params.store === key)!;
      expect([run.status, run.error]).toEqual(['failed', expect.stringMatching(/^The disk is full: could not write /)]);
    } finally {
      registry.close();
    }
    const after = snapshotTree(dir);
    for (const name of Object.keys(after)) if (name.startsWith('readers/')) delete after[name];
    expect(after).toEqual(before);
    expect(versions(key).map((r) => [r.version, r.n_observations])).toEqual([
      [2, V2_CELLS],
      [1, V1_CELLS],
    ]);
    expect(ok(cellar(['verify', '--store', key, '--json'], h()))).toMatchObject({ ok: true, garbage: [] });
  });
});
