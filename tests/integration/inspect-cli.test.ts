// `cellar inspect` as a user runs it: the bin, exit codes, one-line errors, --json shapes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
