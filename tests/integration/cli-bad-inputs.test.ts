// Issue 3 acceptance, SPEC §7 through the CLI: every bad input exits 1 with a
// one-sentence first stderr line naming the problem, no stack trace, the
// {"error": {code, message, problems}} document with --json, and leaves the
// registry and every store exactly as they were. Usage errors exit 2.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellar, firstLine, REPO_ROOT, removeDir, snapshotTree, tempDir, type CellarResult } from './helpers/cellar';
import { runPythonJson } from './helpers/python';

const BAD = join(REPO_ROOT, 'tests', 'fixtures', 'bad');

/** p.h5ad and q.h5ad share three obs ids (cell3, cell5, cell7); fresh.h5ad is unrelated. */
const MAKE_INPUTS = String.raw`
import sys, os, json
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
rng = np.random.default_rng(3)
def make(ids, genes):
    obs = pd.DataFrame(index=ids)
    obs['cell_type'] = pd.Categorical(rng.choice(['T', 'B'], len(ids)))
    obs['n_counts'] = rng.integers(1, 100, len(ids))
    X = sp.random(len(ids), len(genes), density=0.5, format='csr', random_state=rng, dtype=np.float32)
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes), dtype=np.float32)
os.makedirs(out, exist_ok=True)
make([f'cell{i}' for i in range(10)], ['g1', 'g2', 'g3']).write_h5ad(os.path.join(out, 'p.h5ad'))
make(['cell3', 'q1', 'cell5', 'q2', 'cell7'], ['g2', 'g4']).write_h5ad(os.path.join(out, 'q.h5ad'))
make([f'f{i}' for i in range(4)], ['g1']).write_h5ad(os.path.join(out, 'fresh.h5ad'))
print(json.dumps(sorted(os.listdir(out))))
`;

let root: string;
let home: string;
let inputs: string;
let storeDir: string;
let dupConcat: CellarResult;
let listAfterDup: CellarResult;
let storesAfterDup: string[];
let uniqueConcat: CellarResult;
let uniqueObs: { obs_id: string; dataset: number }[];
let listBefore: unknown;
let storeBefore: Record<string, string>;
let listInitial: unknown;
let listAfterImport: unknown;

const h = () => ({ home });
const listJson = () => {
  const r = cellar(['list', '--json'], h());
  expect(r.code, r.stderr).toBe(0);
  return r.json;
};

/** SPEC §5 shape of a user error: exit 1, one first line, no stack, the --json error document. */
function expectUserError(r: CellarResult, code: string, message: RegExp): { code: string; message: string; problems: string[] } {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).not.toMatch(/Unexpected error/);
  const first = firstLine(r.stderr);
  expect(first).toMatch(message);
  const json = r.json as { error: { code: string; message: string; problems: string[] } };
  expect(Object.keys(json)).toEqual(['error']);
  expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'problems']);
  expect(json.error.code).toBe(code);
  // Filter errors add the filter and a caret under the offending position after the sentence.
  expect(json.error.message.split('\n')[0]).toBe(first);
  if (code !== 'bad_filter' && code !== 'unknown_column') expect(json.error.message).toBe(first);
  expect(Array.isArray(json.error.problems)).toBe(true);
  return json.error;
}

beforeAll(() => {
  root = tempDir('cli-bad');
  home = join(root, 'home');
  inputs = join(root, 'in');
  runPythonJson(MAKE_INPUTS, [inputs]);
  listInitial = listJson();
  const imported = cellar(['import', join(inputs, 'p.h5ad'), join(inputs, 'q.h5ad'), '--collection', 'dups', '--json'], h());
  expect(imported.code, imported.stderr).toBe(0);
  listAfterImport = listJson();
  dupConcat = cellar(['concat', '--collection', 'dups', '--store', 'st', '--json'], h());
  listAfterDup = cellar(['list', '--json'], h());
  storesAfterDup = existsSync(join(home, 'stores')) ? readdirSync(join(home, 'stores')) : [];
  uniqueConcat = cellar(['concat', '--collection', 'dups', '--store', 'st', '--make-unique', '--json'], h());
  expect(uniqueConcat.code, uniqueConcat.stderr).toBe(0);
  const q = cellar(['query', '--store', 'st', '--format', 'json'], h());
  expect(q.code, q.stderr).toBe(0);
  uniqueObs = JSON.parse(q.stdout) as { obs_id: string; dataset: number }[];
  const stores = readdirSync(join(home, 'stores'));
  expect(stores).toHaveLength(1);
  storeDir = join(home, 'stores', stores[0]!);
  listBefore = listJson();
  storeBefore = snapshotTree(storeDir);
}, 300_000);

afterAll(() => removeDir(root));

describe('duplicate obs ids', () => {
  it('concat refuses them, listing every duplicate, and writes nothing', () => {
    const error = expectUserError(dupConcat, 'preflight_failed', /^The collection dups cannot be concatenated as it is \(1 problem\)\.$/);
    expect(error.problems).toEqual(['3 obs ids are not unique: "cell3" in p.h5ad and q.h5ad; "cell5" in p.h5ad and q.h5ad; "cell7" in p.h5ad and q.h5ad. Use --make-unique to suffix them.']);
    expect(dupConcat.stderr.split('\n').slice(1, 2)).toEqual(error.problems.map((p) => `  - ${p}`));
    expect((listAfterDup.json as { stores: unknown[] }).stores).toEqual([]);
    expect(listAfterDup.json).toEqual(listAfterImport);
    expect(storesAfterDup).toEqual([]);
  });

  it('--make-unique suffixes the duplicates with the dataset position', () => {
    expect((uniqueConcat.json as { store: { n_observations: number } }).store.n_observations).toBe(15);
    expect(uniqueObs.map((r) => r.obs_id)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `cell${i}`),
      'cell3-1', 'q1', 'cell5-1', 'q2', 'cell7-1',
    ]);
    expect(uniqueObs.map((r) => r.dataset)).toEqual([...Array(10).fill(0), ...Array(5).fill(1)]);
  });
});

describe('files that are not good h5ad are refused and change nothing', () => {
  const cases: [string, string, RegExp][] = [
    ['not_hdf5.h5ad', 'not_hdf5', /^not_hdf5\.h5ad is not an HDF5 file\.$/],
    ['truncated.h5ad', 'bad_element', /^truncated\.h5ad could not be read: it is truncated \(\d+ of \d+ bytes present\)\.$/],
    ['no_obs_var.h5ad', 'not_h5ad', /^no_obs_var\.h5ad is not an AnnData file: it has no obs\/var\.$/],
    ['x_shape_mismatch.h5ad', 'shape_mismatch', /^x_shape_mismatch\.h5ad: X has shape 5 × 4 but obs has 6 rows/],
    ['codes_out_of_range.h5ad', 'bad_element', /^codes_out_of_range\.h5ad: obs\/cell_type: categorical codes out of range/],
  ];
  it.each(cases)('import %s', (file, code, message) => {
    const r = cellar(['import', join(BAD, file), '--collection', 'dups', '--json'], h());
    expectUserError(r, code, message);
  });

  it('a batch with one bad file registers nothing, copies nothing and creates no collection', () => {
    const storageBefore = readdirSync(join(home, 'storage')).sort();
    const r = cellar(['import', join(inputs, 'fresh.h5ad'), join(BAD, 'codes_out_of_range.h5ad'), '--collection', 'newcol', '--json'], h());
    expectUserError(r, 'bad_element', /^codes_out_of_range\.h5ad: obs\/cell_type: categorical codes out of range/);
    expect(readdirSync(join(home, 'storage')).sort()).toEqual(storageBefore);
  });

  it('the registry never saw any of them', () => {
    expect(listJson()).toEqual(listBefore);
    const list = listBefore as { artifacts: { key: string }[]; collections: { key: string; n_artifacts: number }[]; stores: { key: string }[] };
    expect(list.artifacts.map((a) => a.key).sort()).toEqual(['p.h5ad', 'q.h5ad']);
    expect(list.stores.map((a) => a.key)).toEqual(['st']);
    expect(list.collections.map((c) => [c.key, c.n_artifacts])).toEqual([['dups', 2]]);
    expect((listInitial as { artifacts: unknown[] }).artifacts).toEqual([]);
  });
});

describe('bad filters', () => {
  it('a syntax error points at its position', () => {
    const r = cellar(['query', '--store', 'st', '--obs', 'cell_type == "T" and', '--out', join(root, 'never.h5ad'), '--json'], h());
    // Positions are 1-based: the filter is 20 characters long and ends too early.
    const error = expectUserError(r, 'bad_filter', /^Filter syntax error at position 21: expected a condition after 'and'\.$/);
    expect(error.message.split('\n').slice(1)).toEqual(['  cell_type == "T" and', `  ${' '.repeat(20)}^`]);
    expect(r.stderr.split('\n').slice(1, 3)).toEqual(['  cell_type == "T" and', `  ${' '.repeat(20)}^`]);
    expect(existsSync(join(root, 'never.h5ad'))).toBe(false);
  });

  it('an unknown column is named', () => {
    const r = cellar(['query', '--store', 'st', '--obs', 'celltype == "T"', '--out', join(root, 'never.h5ad'), '--json'], h());
    const error = expectUserError(r, 'unknown_column', /^Unknown column "celltype" in filter/);
    expect(error.message.split('\n')[0]).toBe('Unknown column "celltype" in filter (did you mean "cell_type"?); available: cell_type, n_counts, obs_id, dataset, cellar_run_uid.');
    expect(existsSync(join(root, 'never.h5ad'))).toBe(false);
  });

  it('an unknown var column with --format is named too (stdout stays empty)', () => {
    const r = cellar(['query', '--store', 'st', '--var', 'symbol == "X"', '--format', 'csv'], h());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(firstLine(r.stderr)).toMatch(/^Unknown column "symbol" in filter/);
    expect(r.stderr).not.toContain('    at ');
  });
});

describe('usage errors exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /^Unknown command "frobnicate"/],
    ['missing --store', ['concat', '--collection', 'dups'], /^cellar concat needs --collection KEY and --store KEY\.$/],
    ['unknown option', ['query', '--store', 'st', '--format', 'json', '--bogus'], /^Unknown option --bogus for "cellar query"\.$/],
    ['neither --out nor --format', ['query', '--store', 'st'], /^cellar query needs exactly one of --out/],
    ['a flag without its value', ['import', join(BAD, 'not_hdf5.h5ad'), '--collection'], /^Option --collection needs a value\.$/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = cellar([...args, '--json'], h());
    expect(r.code, r.stderr).toBe(2);
    expect(firstLine(r.stderr)).toMatch(message);
    expect(r.stderr).not.toContain('    at ');
    expect((r.json as { error: { code: string } }).error.code).toBe('usage');
  });
});

describe('after all of the above', () => {
  it('the registry listing and every file of the store are exactly as before', () => {
    expect(listJson()).toEqual(listBefore);
    expect(snapshotTree(storeDir)).toEqual(storeBefore);
  });
});

describe('verify', () => {
  it('reports leftovers of an interrupted write, and --fix removes only them', () => {
    writeFileSync(join(storeDir, 'data', 'xyz.arrow'), 'half a file');
    const report = cellar(['verify', '--store', 'st', '--json'], h());
    expect(report.code, report.stderr).toBe(0);
    expect(report.json).toMatchObject({ ok: true, versions: [1], problems: [], garbage: ['data/xyz.arrow'], removed: [] });
    expect(existsSync(join(storeDir, 'data', 'xyz.arrow'))).toBe(true);

    const fixed = cellar(['verify', '--store', 'st', '--fix', '--json'], h());
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.json).toMatchObject({ ok: true, garbage: ['data/xyz.arrow'], removed: ['data/xyz.arrow'] });
    expect(existsSync(join(storeDir, 'data', 'xyz.arrow'))).toBe(false);
    const after = snapshotTree(storeDir);
    delete after['.lock'];
    expect(after).toEqual(storeBefore);
  });

  it('a store file modified by hand fails verification, naming the file', () => {
    const obsFile = readdirSync(join(storeDir, 'data')).find((f) => f.startsWith('obs-'))!;
    const path = join(storeDir, 'data', obsFile);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(path, bytes);
    const r = cellar(['verify', '--store', 'st', '--json'], h());
    const error = expectUserError(r, 'hash_mismatch', /^The store st failed verification \(1 problem\)\.$/);
    expect(error.problems).toEqual([`data/${obsFile} was modified: its checksum does not match the manifest (used by version 1).`]);
    expect(r.stderr.split('\n')[1]).toBe(`  - data/${obsFile} was modified: its checksum does not match the manifest (used by version 1).`);
    // verify changes nothing, not even with a damaged file.
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(listJson()).toEqual(listBefore);
  });
});
