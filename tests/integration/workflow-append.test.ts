// Issue 4 acceptance, `cellar append` (SPEC §4 "Append", §7): the preflight reports every
// problem of every file in one error and writes nothing; --dry-run prints the plan only;
// --fill-missing fills absent columns with NA; an append writes only new files whose
// size follows the new data, and leaves every existing file byte-for-byte untouched.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, firstLine, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

/**
 * p1, p2: the store (150 cells each, 60 genes; stage is an ordered categorical).
 * bad1: no donor column, n_counts as strings, "x0" twice, "p1c3" already in the store.
 * bad2: "x5" also in bad1, stage ordered with other categories.
 * good: 30 cells, no donor column, 2 new genes, a new cell type, an extra column.
 */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
ad.AnnData.strings_to_categoricals = lambda self, df=None: None
rng = np.random.default_rng(3)
STAGES = ['early', 'mid', 'late']

def make(name, ids, genes, types=('T', 'B'), stages=STAGES, drop=(), n_counts_as_text=False, extra=None):
    n = len(ids)
    X = sp.random(n, len(genes), density=0.2, format='csr', random_state=rng, dtype=np.float32)
    X.data = np.round(X.data * 20 + 1).astype(np.float32)
    obs = pd.DataFrame(index=ids)
    obs['cell_type'] = pd.Categorical(rng.choice(types, n), categories=list(types))
    obs['stage'] = pd.Categorical(rng.choice(stages, n), categories=stages, ordered=True)
    obs['donor'] = rng.choice(['d1', 'd2'], n).astype(object)
    counts = np.asarray(X.sum(1)).ravel().astype(np.float64)
    obs['n_counts'] = counts.astype(str).astype(object) if n_counts_as_text else counts
    obs['batch'] = rng.integers(0, 3, n).astype(np.int64)
    for c in drop:
        del obs[c]
    for k, v in (extra or {}).items():
        obs[k] = v
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes), dtype=np.float32).write_h5ad(os.path.join(out, name))

genes = [f'g{i}' for i in range(60)]
make('p1.h5ad', [f'p1c{i}' for i in range(150)], genes)
make('p2.h5ad', [f'p2c{i}' for i in range(150)], genes)
make('bad1.h5ad', ['x0', 'x1', 'x0', 'p1c3'] + [f'x{i}' for i in range(4, 20)], genes, drop=['donor'], n_counts_as_text=True)
make('bad2.h5ad', ['x5'] + [f'y{i}' for i in range(19)], genes, stages=['early', 'late'])
make('good.h5ad', [f'q{i}' for i in range(30)], genes + ['g60', 'g61'], types=('T', 'NK'), drop=['donor'], extra={'extra_col': np.arange(30)})
print(json.dumps(sorted(os.listdir(out))))
`;

interface ErrorJson {
  error: { code: string; message: string; problems: string[] };
}
interface PlanEntry {
  element: string;
  name: string;
  detail?: string;
}
interface PlanJson {
  plan: { kept: PlanEntry[]; dropped: PlanEntry[]; converted: PlanEntry[]; added: PlanEntry[]; problems: string[]; n_new_obs: number; n_new_vars: number };
}

let root: string;
let home: string;
let inputs: string;
let storeDir: string;
const h = () => ({ home });

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

/** Everything a failed or dry-run append must leave alone. */
function homeState() {
  const list = ok(cellar(['list', '--json'], h()));
  const store = snapshotTree(storeDir);
  delete store['.lock'];
  return { list, store, storage: snapshotTree(join(home, 'storage')) };
}

interface FileFacts {
  size: number;
  mtimeMs: number;
  md5: string;
}
function dataFiles(dir: string): Map<string, FileFacts> {
  const out = new Map<string, FileFacts>();
  for (const name of readdirSync(join(dir, 'data'))) {
    const path = join(dir, 'data', name);
    const st = statSync(path);
    out.set(name, { size: st.size, mtimeMs: st.mtimeMs, md5: createHash('md5').update(readFileSync(path)).digest('hex') });
  }
  return out;
}
const total = (files: Iterable<FileFacts>) => [...files].reduce((n, f) => n + f.size, 0);

beforeAll(() => {
  root = tempDir('wf-append');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  ok(cellar(['import', join(inputs, 'p1.h5ad'), join(inputs, 'p2.h5ad'), '--collection', 'base'], h()));
  const made = ok(cellar(['concat', '--collection', 'base', '--store', 'st', '--json'], h())) as { store: { uid: string } };
  storeDir = join(home, 'stores', made.store.uid.slice(0, 16));
}, 120_000);

afterAll(() => removeDir(root));

describe('the append preflight', () => {
  let before: ReturnType<typeof homeState>;
  let r: CellarResult;
  beforeAll(() => {
    before = homeState();
    r = cellar(['append', '--store', 'st', join(inputs, 'bad1.h5ad'), join(inputs, 'bad2.h5ad'), '--json'], h());
  }, 60_000);

  it('reports every problem of every file in one error', () => {
    expect(r.code, r.stderr).toBe(1);
    const { error } = r.json as ErrorJson;
    expect(error.code).toBe('preflight_failed');
    expect(error.message).toMatch(/cannot be appended to st \(4 problems\)/);
    const expected: [string, RegExp][] = [
      ['missing column', /"donor" in bad1\.h5ad is missing.*--fill-missing/],
      ['dtype clash', /"n_counts" in bad1\.h5ad is string but the store has float64/],
      ['ordered-category clash', /"stage" in bad2\.h5ad must be an ordered categorical with the store's categories \(early, mid, late\)/],
      // Duplicates are summarised in one line: the count and the first ten, with where each is.
      ['duplicates, summarised', /^\d+ obs ids are not unique: .*"x0" twice in bad1\.h5ad.*"p1c3" in the store and bad1\.h5ad.*"x5" in bad1\.h5ad and bad2\.h5ad.*--make-unique/],
    ];
    for (const [what, pattern] of expected) expect(error.problems.some((p) => pattern.test(p)), `${what}: ${pattern} in\n${error.problems.join('\n')}`).toBe(true);
    expect(error.problems).toHaveLength(expected.length);
    // Without a stack, first line the sentence, then every problem (SPEC §5).
    expect(firstLine(r.stderr)).toBe(error.message);
    expect(r.stderr).not.toContain('    at ');
    for (const p of error.problems) expect(r.stderr).toContain(p);
  });

  it('writes nothing: store files and manifests, managed storage and the registry listing are unchanged', () => {
    expect(homeState()).toEqual(before);
  });

  it('--dry-run --json prints the plan only, and writes nothing', () => {
    const dry = cellar(['append', '--store', 'st', join(inputs, 'good.h5ad'), '--fill-missing', '--dry-run', '--json'], h());
    const { plan } = ok(dry) as PlanJson;
    expect(Object.keys(dry.json as object)).toEqual(['plan']);
    expect(plan.problems).toEqual([]);
    expect(plan.n_new_obs).toBe(30);
    expect(plan.n_new_vars).toBe(2);
    expect(plan.added).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ element: 'var', name: 'genes', detail: expect.stringMatching(/2 new genes: g60, g61/) }),
        expect.objectContaining({ element: 'obs', name: 'cells', detail: '30 new cells' }),
        expect.objectContaining({ element: 'obs', name: 'cell_type', detail: expect.stringMatching(/new categories: "NK"/) }),
      ]),
    );
    expect(plan.dropped).toEqual([expect.objectContaining({ element: 'obs', name: 'extra_col' })]);
    expect(plan.converted).toEqual([expect.objectContaining({ element: 'obs', name: 'donor', detail: expect.stringMatching(/filled with NA/) })]);
    expect(plan.kept.map((k) => k.name)).toEqual(expect.arrayContaining(['cell_type', 'stage', 'donor', 'n_counts', 'batch']));
    // Without --fill-missing the same file has one problem: the dry run prints the plan and exits 1.
    const dry2 = cellar(['append', '--store', 'st', join(inputs, 'good.h5ad'), '--dry-run', '--json'], h());
    expect(dry2.code, dry2.stderr).toBe(1);
    const strict = dry2.json as PlanJson & ErrorJson;
    expect(strict.plan.problems).toEqual([expect.stringMatching(/"donor" in good\.h5ad is missing/)]);
    expect(strict.error).toEqual({ code: 'preflight_failed', message: expect.stringMatching(/cannot be appended to st \(1 problem\); this was a dry run/), problems: strict.plan.problems });
    expect(firstLine(dry2.stderr)).toBe(strict.error.message);
    // Without --json the plan goes to stdout, the error to stderr.
    const text = cellar(['append', '--store', 'st', join(inputs, 'good.h5ad'), '--dry-run'], h());
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^Kept:/);
    expect(text.stdout).toMatch(/Problems:\n {2}obs column "donor" in good\.h5ad is missing/);
    expect(firstLine(text.stderr)).toMatch(/cannot be appended to st \(1 problem\)/);
    expect(homeState()).toEqual(before);
  });
});

describe('append --fill-missing', () => {
  let beforeFiles: Map<string, FileFacts>;
  let afterFiles: Map<string, FileFacts>;
  let result: { store: { version: number; n_observations: number; n_vars: number } };

  beforeAll(() => {
    beforeFiles = dataFiles(storeDir);
    result = ok(cellar(['append', '--store', 'st', join(inputs, 'good.h5ad'), '--fill-missing', '--json'], h())) as typeof result;
    afterFiles = dataFiles(storeDir);
  }, 60_000);

  it('makes version 2 with the new cells and genes', () => {
    expect(result.store).toMatchObject({ version: 2, n_observations: 330, n_vars: 62 });
  });

  it('fills the missing column with NA for the new cells only', () => {
    const q = cellar(['query', '--store', 'st', '--obs', 'isna(donor)', '--format', 'json'], h());
    expect(q.code, q.stderr).toBe(0);
    const rows = JSON.parse(q.stdout) as { obs_id: string; donor: string | null; cell_type: string; dataset: number }[];
    expect(rows.map((o) => o.obs_id)).toEqual(Array.from({ length: 30 }, (_, i) => `q${i}`));
    expect(new Set(rows.map((o) => o.donor))).toEqual(new Set([null]));
    expect(new Set(rows.map((o) => o.dataset))).toEqual(new Set([2]));
    expect(new Set(rows.map((o) => o.cell_type))).toEqual(new Set(['T', 'NK']));
  });

  it('leaves every existing data file untouched (same bytes, same mtime)', () => {
    for (const [name, facts] of beforeFiles) expect(afterFiles.get(name), name).toEqual(facts);
  });

  it('writes bytes in proportion to the new data, not to the store', () => {
    const fresh = [...afterFiles].filter(([name]) => !beforeFiles.has(name)).map(([, f]) => f);
    expect(fresh.length).toBeGreaterThan(0);
    const newBytes = total(fresh);
    const oldBytes = total(beforeFiles.values());
    // 30 new cells against 300: the new files are a fraction of the store.
    expect(newBytes).toBeLessThan(0.5 * oldBytes);
    // And no bigger than a store made of that file alone (what ingesting it costs anyway).
    ok(cellar(['import', join(inputs, 'good.h5ad'), '--collection', 'solo'], h()));
    const solo = ok(cellar(['concat', '--collection', 'solo', '--store', 'solo-store', '--json'], h())) as { store: { uid: string } };
    const soloBytes = total(dataFiles(join(home, 'stores', solo.store.uid.slice(0, 16))).values());
    expect(newBytes).toBeLessThan(1.25 * soloBytes);
  });
});
