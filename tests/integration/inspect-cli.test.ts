// `cellar inspect` as a user runs it: the bin, exit codes, one-line errors, --json shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPythonJson } from './helpers/python';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'cellar.mjs');
const home = mkdtempSync(join(tmpdir(), 'cellar-inspect-'));

function cellar(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--home', home], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bad = (name: string) => join(ROOT, 'tests', 'fixtures', 'bad', name);
const good = (name: string) => join(ROOT, 'tests', 'fixtures', 'h5ad', name);

describe('cellar inspect', () => {
  it('prints the SPEC §5 JSON shape for a file written by anndata', () => {
    const r = cellar('inspect', good('kitchen_sink.h5ad'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['n_obs', 'n_vars', 'obs', 'var', 'X', 'layers', 'obsm', 'varm', 'obsp', 'varp', 'uns', 'raw']));
    expect(report.X).toMatchObject({ encoding: expect.stringMatching(/^(csr_matrix|csc_matrix|array)$/), shape: [report.n_obs, report.n_vars] });
    for (const col of [...report.obs, ...report.var]) expect(col.dtype).toMatch(/^(category|string|bool|u?int(8|16|32|64)|float(32|64)|nullable-(int|bool|string))$/);
    expect(report.raw).not.toBeNull();
  });

  it('prints a readable summary without --json', () => {
    const r = cellar('inspect', good('obs_categoricals.h5ad'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/observations × \d+ variables/);
    expect(r.stdout).toMatch(/category \(\d+ .*categories/);
  });

  it('says what X appears to hold, in the text and in the JSON', () => {
    const text = cellar('inspect', good('kitchen_sink.h5ad'));
    expect(text.stdout.split('\n')[2]).toBe('X values: normalised: non-negative, not whole numbers (17 stored values sampled, 0.2877 to 2.639)');
    const json = JSON.parse(cellar('inspect', good('kitchen_sink.h5ad'), '--json').stdout);
    expect(json.X_values).toEqual({ kind: 'normalized', sampled: 17, min: expect.closeTo(0.2876821, 6), max: expect.closeTo(2.6390574, 6) });
    expect(json.obs_preview.rows).toHaveLength(10);
  });

  const cases: [string, RegExp, string][] = [
    ['not_hdf5.h5ad', /is not an HDF5 file/, 'not_hdf5'],
    ['truncated.h5ad', /truncated/, 'not_hdf5|bad_element|io_error'],
    ['no_obs_var.h5ad', /no obs/, 'not_h5ad'],
    ['x_shape_mismatch.h5ad', /X/, 'shape_mismatch'],
    ['codes_out_of_range.h5ad', /obs\/cell_type: categorical codes out of range/, 'bad_element'],
  ];
  for (const [file, message, code] of cases) {
    it(`refuses ${file} with exit 1, one line naming the problem, and a JSON error`, () => {
      const r = cellar('inspect', bad(file));
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const j = cellar('inspect', bad(file), '--json');
      expect(j.code).toBe(1);
      const doc = JSON.parse(j.stdout);
      expect(doc.error.code).toMatch(new RegExp(`^(${code})$`));
      expect(doc.error.message).toBe(lines[0]);
      expect(Array.isArray(doc.error.problems)).toBe(true);
    });
  }

  it('treats usage mistakes as exit 2', () => {
    expect(cellar('inspect').code).toBe(2);
    expect(cellar('inspect', good('one_cell.h5ad'), '--bogus').code).toBe(2);
    expect(cellar('frobnicate').code).toBe(2);
  });

  it('reports a missing file as a user error', () => {
    const r = cellar('inspect', join(home, 'nope.h5ad'));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/nope\.h5ad/);
  });
});

describe('a file whose var strings are damaged', () => {
  // Written by anndata with 3,000 long gene names, so var's index fills several HDF5 global heap
  // collections; the signature of one of the middle ones is broken. obs, the attributes and the
  // first gene names still read (h5py reads var/_index[:2]); the whole index does not.
  const dir = mkdtempSync(join(tmpdir(), 'cellar-var-damaged-'));
  const file = join(dir, 'var-damaged.h5ad');
  const made = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `
import sys, warnings
warnings.filterwarnings("ignore")
import anndata as ad, numpy as np, pandas as pd, scipy.sparse as sp, h5py
obs = pd.DataFrame(index=[f"c{i}" for i in range(3)])
var = pd.DataFrame(index=[f"GENE_{i:05d}_" + "x" * 60 for i in range(3000)])
ad.AnnData(X=sp.csr_matrix(np.ones((3, 3000), dtype=np.float32)), obs=obs, var=var).write_h5ad(sys.argv[1])
b = bytearray(open(sys.argv[1], "rb").read())
heaps = [i for i in range(len(b) - 3) if b[i:i + 4] == b"GCOL"]
assert len(heaps) >= 4, heaps
middle = heaps[len(heaps) // 2]
b[middle:middle + 4] = b"XXXX"
open(sys.argv[1], "wb").write(b)
h = h5py.File(sys.argv[1], "r")
assert list(h["obs/_index"][:]) == [b"c0", b"c1", b"c2"]
assert h["var/_index"][0] == b"GENE_00000_" + b"x" * 60
try:
    h["var/_index"][:]
    print("readable")
except Exception:
    print("damaged")
`,
      file,
    ],
    { encoding: 'utf8' },
  );

  it('is made as described: obs reads, the whole var index does not', () => {
    expect([made.status, made.stdout.trim(), made.stderr.trim()]).toEqual([0, 'damaged', '']);
  });

  it('is refused by inspect with exit 1 and one line naming var/_index', () => {
    const r = cellar('inspect', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('var-damaged.h5ad: var/_index: could not be read: bad global heap collection signature');
  });

  it('is refused by import with the same line, and nothing is registered', () => {
    const before = cellar('list', '--json').stdout;
    const r = cellar('import', file, '--collection', 'damaged');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('var-damaged.h5ad: var/_index: could not be read: bad global heap collection signature');
    const after = cellar('list', '--json').stdout;
    expect(after).toBe(before);
    const list = JSON.parse(after) as { collections: unknown[]; artifacts: unknown[] };
    expect([list.collections, list.artifacts]).toEqual([[], []]);
  });
});

describe('a file that takes longer than the read time limit', () => {
  // uns nested 3,000 groups deep: HDF5 walks every ancestor again at each level, so the read
  // takes minutes. The command reads an .h5ad in its own thread; V8's watchdog must stop it.
  const deep = join(home, 'deep.h5ad');
  beforeAll(() => {
    runPythonJson(
      `import sys, json, numpy as np, h5py, anndata as ad, scipy.sparse as sp
a = ad.AnnData(X=sp.random(5, 4, density=0.5, format='csr', dtype=np.float32, random_state=1))
a.write_h5ad(sys.argv[1])
with h5py.File(sys.argv[1], 'a') as f:
    g = f['uns']
    for i in range(3000):
        g = g.create_group('n')
        g.attrs['encoding-type'] = 'dict'
        g.attrs['encoding-version'] = '0.1.0'
print(json.dumps(True))`,
      [deep],
    );
  });

  it('is stopped at the limit with the time-out message, exit 1, inside HDF5', () => {
    const started = performance.now();
    const r = spawnSync(process.execPath, [BIN, 'inspect', deep, '--home', home], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, CELLAR_READ_TIMEOUT_MS: '1500' }, timeout: 100_000 });
    const took = performance.now() - started;
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`Gave up reading ${deep} after 1.5 s, the read time limit (CELLAR_READ_TIMEOUT_MS, default 120 s). A large file on a slow disk needs a higher limit; a small file that takes this long may be damaged.`);
    expect(took).toBeGreaterThanOrEqual(1500);
    // The whole read takes minutes: stopped by the watchdog (generous for a busy machine).
    expect(took).toBeLessThan(30_000);
  });
});
