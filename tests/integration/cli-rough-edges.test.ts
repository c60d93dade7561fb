// Issue 10, deliverable 5: the rough edges found on real files, each through the real CLI.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELLAR_BIN, cellar, firstLine, removeDir, REPO_ROOT, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

/**
 * ints: int32 counts; floats: float32 counts (same genes); many: 20,000 cells (for a pipe
 * that closes early); dup: 120 ids that ints also has; scaled: X scaled like
 * pbmc68k_reduced (negative, non-integer); other: 10 cells for a collection member.
 */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(5)
genes = [f'g{i}' for i in range(12)]
def counts(n, dtype):
    m = sp.random(n, len(genes), density=0.4, format='csr', random_state=rng, dtype=np.float32)
    m.data = np.round(m.data * 300 + 1)
    return m.astype(dtype)
def write(name, ids, X):
    obs = pd.DataFrame({'cell_type': pd.Categorical(rng.choice(['T', 'B'], len(ids)))}, index=ids)
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes), dtype=X.dtype).write_h5ad(os.path.join(out, name))
write('ints.h5ad', [f'i{k}' for k in range(150)], counts(150, np.int32))
write('floats.h5ad', [f'f{k}' for k in range(100)], counts(100, np.float32))
write('many.h5ad', [f'cell{k}' for k in range(20000)], counts(20000, np.float32))
write('dup.h5ad', [f'i{k}' for k in range(120)], counts(120, np.int32))
write('other.h5ad', [f'o{k}' for k in range(10)], counts(10, np.float32))
x = rng.normal(size=(80, len(genes))).astype(np.float32)
write('scaled.h5ad', [f's{k}' for k in range(80)], x)
print(json.dumps(sorted(os.listdir(out))))
`;

let root: string;
let home: string;
let inputs: string;
const h = () => ({ home });
const f = (name: string) => join(inputs, name);

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function logLines(): string[] {
  return readFileSync(join(home, 'logs', 'cellar.log'), 'utf8').trim().split('\n');
}

interface PlanEntry {
  element: string;
  name: string;
  detail?: string;
}

beforeAll(() => {
  root = tempDir('rough');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  ok(cellar(['import', f('ints.h5ad'), f('floats.h5ad'), '--collection', 'mixed'], h()));
  ok(cellar(['import', f('many.h5ad'), '--collection', 'many'], h()));
  ok(cellar(['concat', '--collection', 'many', '--store', 'manystore'], h()));
}, 180_000);

afterAll(() => removeDir(root));

describe('X dtype changes', () => {
  it('int32 counts and float32 are listed as converted, and stored as float32 (not float64) with every value exact', () => {
    const dry = ok(cellar(['concat', '--collection', 'mixed', '--store', 'mixedstore', '--dry-run', '--json'], h())) as { plan: { converted: PlanEntry[] } };
    expect(dry.plan.converted).toContainEqual({
      element: 'X',
      name: 'X',
      detail: 'int32 in ints.h5ad, float32 in floats.h5ad → float32 where the integer values are below 65,536 (counts usually are; float32 holds them exactly), else float64; every value is kept exactly',
    });
    ok(cellar(['concat', '--collection', 'mixed', '--store', 'mixedstore'], h()));
    const out = join(root, 'mixed.h5ad');
    ok(cellar(['query', '--store', 'mixedstore', '--out', out], h()));
    const r = runPythonJson<{ dtype: string; equal: boolean }>(
      String.raw`
import sys, json, numpy as np, anndata as ad
e = ad.read_h5ad(sys.argv[1])
a, b = ad.read_h5ad(sys.argv[2]), ad.read_h5ad(sys.argv[3])
ref = np.vstack([a.X.toarray().astype(np.float64), b.X.toarray().astype(np.float64)])
print(json.dumps({'dtype': str(e.X.dtype), 'equal': bool(np.array_equal(e.X.toarray().astype(np.float64), ref))}))
`,
      [out, f('ints.h5ad'), f('floats.h5ad')],
    );
    expect(r).toEqual({ dtype: 'float32', equal: true });
  });
});

describe('plans', () => {
  it('a --dry-run whose plan has blocking problems prints the plan and exits 1; duplicates are one summarised line', () => {
    ok(cellar(['import', f('ints.h5ad'), f('dup.h5ad'), '--collection', 'dups'], h()));
    const r = cellar(['concat', '--collection', 'dups', '--store', 'dupstore', '--dry-run', '--json'], h());
    expect(r.code).toBe(1);
    const json = r.json as { plan: { problems: string[]; kept: PlanEntry[] }; error: { code: string; message: string; problems: string[] } };
    expect(json.plan.kept.length).toBeGreaterThan(0);
    const first10 = Array.from({ length: 10 }, (_, k) => `"i${k}" in ints.h5ad and dup.h5ad`).join('; ');
    expect(json.plan.problems).toEqual([`120 obs ids are not unique: ${first10}; … and 110 more. Use --make-unique to suffix them.`]);
    expect(json.error).toEqual({ code: 'preflight_failed', message: 'The collection dups cannot be concatenated as it is (1 problem); this was a dry run, nothing was written.', problems: json.plan.problems });
    expect(firstLine(r.stderr)).toBe(json.error.message);
    const list = ok(cellar(['list', '--json'], h())) as { stores: { key: string }[] };
    expect(list.stores.map((s) => s.key)).not.toContain('dupstore');
  });
});

describe('a closed stdout', () => {
  it('`cellar query --format csv | head -1` ends quietly with exit 0, and the log says the output was cut short', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CELLAR_BIN}" query --store manystore --format csv --home "${home}" | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CELLAR_HOME: '' },
    });
    expect(r.stdout).toBe('obs_id,cell_type,dataset,cellar_run_uid\n');
    expect(r.stderr).toBe('exit=0\n');
    const mine = logLines().filter((l) => l.includes('query --store manystore --format csv'));
    expect(mine.at(-1)).toMatch(/-> stdout closed by its reader \(EPIPE\): the output was cut short there, as the reader asked; exit 0$/);
  });
});

describe('collections with a member that is gone', () => {
  it('names the member by its key, says how to remove it, and `collection remove` does', () => {
    ok(cellar(['import', f('other.h5ad'), f('floats.h5ad'), '--collection', 'pair'], h()));
    // floats.h5ad is the same file as in "mixed": the same artifact. Delete other.h5ad by force.
    ok(cellar(['delete', 'other.h5ad', '--force'], h()));
    const r = cellar(['concat', '--collection', 'pair', '--store', 'pairstore', '--json'], h());
    expect(r.code).toBe(1);
    const { error } = r.json as { error: { code: string; message: string; problems: string[] } };
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('The collection pair has a member that is gone: other.h5ad.');
    expect(error.problems).toEqual([expect.stringMatching(/^other\.h5ad \(uid \w+\) was deleted on .*; remove it with: cellar collection remove pair other\.h5ad$/)]);
    expect(r.stderr).not.toMatch(/storage\//);

    const missing = cellar(['collection', 'remove', 'pair', 'nope.h5ad'], h());
    expect(missing.code).toBe(1);
    expect(firstLine(missing.stderr)).toBe('The collection "pair" has no member "nope.h5ad"; its members are other.h5ad, floats.h5ad.');
    const removed = ok(cellar(['collection', 'remove', 'pair', 'other.h5ad', '--json'], h())) as { collection: { members: string[] }; removed: { key: string } };
    expect(removed).toEqual(expect.objectContaining({ removed: expect.objectContaining({ key: 'other.h5ad' }), collection: expect.objectContaining({ members: ['floats.h5ad'] }) }));
    const made = ok(cellar(['concat', '--collection', 'pair', '--store', 'pairstore', '--json'], h())) as { store: { n_observations: number } };
    expect(made.store.n_observations).toBe(100);
    expect(cellar(['collection', 'rename', 'pair', 'x'], h()).code).toBe(2);
  });
});

describe('global options', () => {
  it('are accepted before the command', () => {
    const before = cellar(['--home', home, '--json', 'list'], { home: null });
    const after = cellar(['list', '--json'], h());
    expect(before.code, before.stderr).toBe(0);
    expect(before.json).toEqual(after.json);
    const eq = cellar([`--home=${home}`, 'list', '--json'], { home: null });
    expect(eq.json).toEqual(after.json);
  });
});

describe('the read time limit', () => {
  it('names CELLAR_READ_TIMEOUT_MS when it runs out', () => {
    const r = cellar(['inspect', f('many.h5ad')], { home, env: { CELLAR_READ_TIMEOUT_MS: '1' } });
    expect(r.code).toBe(1);
    expect(firstLine(r.stderr)).toMatch(/^Gave up reading .*many\.h5ad after 1 ms, the read time limit \(CELLAR_READ_TIMEOUT_MS, default 120 s\)\. A large file on a slow disk needs a higher limit/);
  });
  it('refuses a value that is not a number as a usage error', () => {
    const r = cellar(['inspect', f('many.h5ad')], { home, env: { CELLAR_READ_TIMEOUT_MS: 'abc' } });
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe('CELLAR_READ_TIMEOUT_MS must be a whole number of milliseconds, at least 1 (got "abc"); unset it for the default of 120 s.');
  });
});

describe('PCA', () => {
  beforeAll(() => {
    ok(cellar(['import', f('scaled.h5ad'), '--collection', 'scaledc'], h()));
    ok(cellar(['concat', '--collection', 'scaledc', '--store', 'scaled'], h()));
  }, 60_000);

  it('--normalize on X that is not counts says it does not apply, and writes nothing', () => {
    const r = cellar(['embed', '--store', 'scaled', '--pca', '3', '--normalize'], h());
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe(
      '--normalize does not apply to layer "data" of scaled: it is not raw counts (it holds values that are not whole numbers), so it was normalized or scaled already. Run without --normalize to use the values as they are, or pick a counts layer with --layer.',
    );
    const versions = ok(cellar(['versions', '--store', 'scaled', '--json'], h())) as unknown[];
    expect(versions).toHaveLength(1);
  });

  it('--normalize on counts still works, and scanpy-style names such as X_pca are accepted', () => {
    const r = ok(cellar(['embed', '--store', 'manystore', '--pca', '2', '--normalize', '--name', 'X_pca', '--json'], h())) as { embedding: { name: string; shape: number[] } };
    expect(r.embedding).toEqual(expect.objectContaining({ name: 'X_pca', shape: [20000, 2] }));
    const plain = ok(cellar(['embed', '--store', 'scaled', '--pca', '3', '--name', 'X_pca', '--json'], h())) as { embedding: { name: string } };
    expect(plain.embedding.name).toBe('X_pca');
  });
});

describe('serve --json', () => {
  it('prints one JSON document, and nothing else on stdout', async () => {
    const child = spawn(process.execPath, [CELLAR_BIN, 'serve', '--json', '--home', home], { cwd: REPO_ROOT, env: { ...process.env, CELLAR_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('serve printed nothing')), 60_000);
      child.stdout.on('data', (d: string) => {
        stdout += d;
        if (stdout.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as { serving: { url: string; host: string; port: number } };
    expect(doc.serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(doc.serving.port).toBeGreaterThan(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  }, 90_000);
});

describe('how NA compares', () => {
  it('query --help and the README say that != is false for NA and name isna()/notna()', () => {
    const help = ok(cellar(['query', '--help'], h())) as undefined;
    expect(help).toBeUndefined();
    const text = cellar(['query', '--help'], h()).stdout;
    expect(text).toMatch(/Missing values \(NA, NaN\) fail every comparison, != included, as in SQL/);
    expect(text).toMatch(/isna\(col\) and notna\(col\)/);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/`!=` is false for NA/);
    expect(readme).toMatch(/isna\(/);
    expect(readme).toMatch(/--name X_pca/);
  });
});
