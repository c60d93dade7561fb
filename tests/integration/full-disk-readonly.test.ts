// Issue 11, deliverable 4: read-only commands keep working when no file can grow, as on a
// full disk. SQLite's WAL index (registry.sqlite-shm) must grow to be used, which used to
// fail every command with "Unexpected error: disk I/O error". The full disk is a file-size
// limit of 0 (ulimit -f 0, SIGXFSZ ignored): creating a file works, growing one fails.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, CELLAR_BIN, REPO_ROOT, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { makeSeedInputs, SEED_CELLS } from './helpers/workflow-inputs';

let root: string;
let home: string;
const h = () => ({ home });

/** `cellar ARGS --home HOME` in a process that cannot grow any file. */
function cellarOnFullDisk(args: string[]): CellarResult {
  const quoted = [process.execPath, CELLAR_BIN, ...args, '--home', home].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CELLAR_HOME;
  const r = spawnSync('sh', ['-c', `trap '' XFSZ; ulimit -f 0; exec ${quoted}`], { cwd: REPO_ROOT, encoding: 'utf8', env, timeout: 120_000 });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json };
}

beforeAll(() => {
  root = tempDir('full-disk');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  expect(cellar(['import', files.s1, files.s2, '--collection', 'pair'], h()).code).toBe(0);
  expect(cellar(['concat', '--collection', 'pair', '--store', 'full', '--json'], h()).code).toBe(0);
  // Closed cleanly: the WAL files are gone, so the next open must create and grow them.
  for (const suffix of ['-wal', '-shm']) if (existsSync(join(home, `registry.sqlite${suffix}`))) rmSync(join(home, `registry.sqlite${suffix}`));
}, 120_000);

afterAll(() => removeDir(root));

describe('on a disk where no file can grow', () => {
  it('list answers', () => {
    const r = cellarOnFullDisk(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json as { stores: { key: string; n_observations: number }[] }).stores).toEqual([expect.objectContaining({ key: 'full', n_observations: SEED_CELLS.s1 + SEED_CELLS.s2 })]);
  });

  it('verify answers', () => {
    const r = cellarOnFullDisk(['verify', '--store', 'full', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, versions: [1], problems: [], garbage: [] });
  });

  it('query answers (to stdout)', () => {
    const r = cellarOnFullDisk(['query', '--store', 'full', '--obs', 'dataset == 1', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(SEED_CELLS.s2);
  });

  it('versions answers', () => {
    const r = cellarOnFullDisk(['versions', '--store', 'full', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json as { version: number }[]).map((v) => v.version)).toEqual([1]);
  });
});
